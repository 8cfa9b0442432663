"""The background training run of `make run`: the full profile, resumed, at low priority, then the gate.

    nice -n 19 finsent background-train          # what scripts/run-monitor.sh starts
    finsent background-train --status            # the progress file as JSON

`make run` serves the quick model within minutes; this run then trains the
full profile (model.training.loop.PROFILES) while the worker scores, resuming
runs/full/last.pt, on `FINSENT_BACKGROUND_THREADS` threads (default 1) at
nice 19, so the worker keeps the CPU. SIGTERM or SIGINT (make run's cleanup)
stops it at the next step, after saving last.pt; the next `make run` resumes
it. When the run ends the candidate goes through the retraining gate
(monitor.retrain.gate: promoted only if better, no task dropping beyond the
tolerance); a promoted version is what workers hot-swap to.

Nothing is trained when the live model is already a full-profile model, or
when a full-profile version was judged already (promoted or rejected), or with
FINSENT_BACKGROUND_TRAINING=0. A `finsent train --profile full` someone
started by hand on the same run folder is waited for, then resumed (which
finds it complete and goes straight to the gate).

Progress (profile, state, step, max_steps, best dev score, ETA, updated_at,
pid) is written atomically to <state_dir>/training/background.json, read by
the dashboard's Model page through `read_progress`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from kernel.settings import Settings, get_settings
from monitor.retrain.gate import GateDecision, GatePolicy, decide
from monitor.stack.processes import pid_alive

log = logging.getLogger(__name__)

PROFILE = "full"
PROGRESS_FILE = Path("training") / "background.json"
BACKGROUND_DEV_CAP = 300  # dev examples per dataset at each evaluation: keeps one under a minute on 1 thread,
#                           so a stop request waits little, and leaves later dev examples unseen for the gate
GATE_EVAL_CAP = 500  # gate examples per dataset (as `finsent retrain`)
WRITE_EVERY_S = 5.0  # progress file writes while training (every step would be wasteful)
STATES = ("starting", "waiting", "training", "evaluating", "gating", "promoted", "rejected", "stopped",
          "skipped", "failed", "off")


@dataclass
class BackgroundProgress:
    """The progress file's content; `state` is one of STATES."""

    profile: str
    state: str
    step: int = 0
    max_steps: int = 0
    best_dev_score: float | None = None
    eta_s: float | None = None  # upper bound: patience may stop the run earlier
    message: str = ""
    live_version: str | None = None
    candidate_version: str | None = None
    pid: int = field(default_factory=os.getpid)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    updated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def running(self) -> bool:
        """Whether the writing process is still alive (a killed run leaves a stale 'training' file)."""
        return self.state in ("starting", "waiting", "training", "evaluating", "gating") and pid_alive(self.pid)


def progress_path(settings: Settings) -> Path:
    return Path(settings.state_dir) / PROGRESS_FILE


def write_progress(path: Path, progress: BackgroundProgress) -> None:
    """Write atomically (temporary file + rename): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    progress.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(progress), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def read_progress(path: Path) -> BackgroundProgress | None:
    """The last progress written, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        known = set(BackgroundProgress.__dataclass_fields__)
        return BackgroundProgress(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None


class StepRate:
    """Seconds per step measured over this session (not the resumed part), for an ETA."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first: tuple[int, float] | None = None

    def eta_s(self, step: int, max_steps: int) -> float | None:
        now = self._clock()
        if self._first is None:
            self._first = (step, now)
            return None
        steps, seconds = step - self._first[0], now - self._first[1]
        return round((max_steps - step) * seconds / steps, 1) if steps > 0 else None


def skip_reason(live_profile: str | None, judged_full_versions: list[str]) -> str | None:
    """Why no background run is needed, or None when one is."""
    if live_profile == PROFILE:
        return "the live model is already a full-profile model"
    if judged_full_versions:
        return f"full-profile version {judged_full_versions[-1]} was already judged by the gate"
    return None


def registry_state(registry_dir: Path) -> tuple[str | None, str | None, list[str]]:
    """(live version, its profile, full-profile versions the gate judged or that were made live)."""
    from model.serving.registry import list_versions, load_metadata

    versions = list_versions(registry_dir)
    live = next((v for v in versions if v.live), None)
    judged = []
    for info in versions:
        if info.profile != PROFILE:
            continue
        if info.live or "retrain" in load_metadata(registry_dir, info.version):
            judged.append(info.version)
    return (live.version if live else None), (live.profile if live else None), judged


def _processes(matches: Callable[[list[str]], bool], own_pid: int | None = None) -> list[int]:
    """Pids of other processes of this checkout whose argv `matches` (Linux /proc; elsewhere none are found).

    Only processes working in the same directory count: another clone on the machine trains into its
    own runs/ folder, so its trainer is no reason to skip ours.
    """
    here = Path.cwd().resolve()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if int(entry.name) == (own_pid or os.getpid()) or not matches(argv):
            continue
        try:
            if (entry / "cwd").resolve() != here:
                continue
        except OSError:
            pass  # cannot tell where it works: count it, as skipping a run is the safe mistake
        pids.append(int(entry.name))
    return sorted(pids)


def other_trainers(profile: str, own_pid: int | None = None) -> list[int]:
    """Pids of `finsent train --profile <profile>` processes (started by hand, they hold no lock)."""
    def matches(argv: list[str]) -> bool:
        return "train" in argv and (f"--profile={profile}" in argv or any(
            a == "--profile" and b == profile for a, b in zip(argv, argv[1:])))

    return _processes(matches, own_pid)


def other_background_runs(own_pid: int | None = None) -> list[int]:
    """Pids of other `finsent background-train` runs (not `--status`): one run folder, one trainer."""
    return _processes(lambda argv: "background-train" in argv and "--status" not in argv, own_pid)


@dataclass
class GateOutcome:
    version: str
    decision: GateDecision


def gate_candidate(result: Any, corpus: dict[str, Any], dev_cap: int | None, settings: Settings,
                   say: Callable[[str], None]) -> GateOutcome:
    """Score candidate and live model on the same held-out dev slices, save the candidate, promote if better.

    The same gate as `finsent retrain` (steps 4 and 6 of monitor.retrain.pipeline), without analysts'
    labels or traffic: a first run has neither.
    """
    from model.serving.registry import live_version, load_model, save_version
    from monitor.retrain.evaluate import evaluate_model, gate_evaluation_sets, task_scores
    from monitor.storage.db import session_factory
    from monitor.storage.model_versions import promote_live, record_decision, sync_live

    registry_dir = Path(settings.registry_dir)
    live = live_version(registry_dir)
    evaluation = gate_evaluation_sets({n: s.dev for n, s in corpus.items()}, dev_cap, GATE_EVAL_CAP)
    say(f"gate: scoring the candidate{' and ' + live if live else ''} on {sum(map(len, evaluation.sets.values()))} "
        "dev examples")
    candidate_metrics = evaluate_model(result.model, result.tokenizer, evaluation.sets, "cpu")
    live_metrics: dict[str, Any] = {}
    if live is not None:
        live_model, live_tokenizer = load_model(registry_dir, live)
        live_metrics = evaluate_model(live_model, live_tokenizer, evaluation.sets, "cpu")
    policy = GatePolicy()
    live_scores = task_scores(live_metrics) if live is not None else None
    decision = decide(live_scores, task_scores(candidate_metrics), policy)
    record = {"status": decision.status, "reason": decision.reason, "compared_with": live, "policy": asdict(policy),
              "target": decision.target, "live_target": decision.live_target,
              "candidate_target": decision.candidate_target, "tasks": [asdict(row) for row in decision.tasks],
              "live_metrics": live_metrics, "gate_sets": {n: len(e) for n, e in evaluation.sets.items()},
              "gate_overlaps_selection": evaluation.overlaps_selection, "background": True}
    metadata = {**result.metadata(), "profile": PROFILE, "metrics": candidate_metrics, "retrain": record}
    version = save_version(registry_dir, result.model, result.tokenizer, metadata,
                           lower_case_words=result.lower_case_words)
    say(f"gate: {decision.reason}")
    try:
        with session_factory(settings.database_url).begin() as session:
            sync_live(session, registry_dir)
            record_decision(session, version=version, path=registry_dir / version, status=decision.status,
                            reason=decision.reason, metrics={"candidate": task_scores(candidate_metrics),
                                                             "live": live_scores},
                            data_hashes=result.data_hashes, label_counts={}, duration_s=round(result.duration_s, 1),
                            compared_with=live)
    except Exception as error:  # noqa: BLE001 - the registry is the source of truth; the table catches up
        log.warning("model_versions not updated (%s)", error)
    if decision.promote:
        promote_live(registry_dir, version, reason=f"replaced by background {PROFILE} run {version}",
                     database_url=settings.database_url)
    return GateOutcome(version, decision)


def run_background(settings: Settings, runs_dir: Path | None = None, max_steps: int | None = None,
                   poll_s: float = 60.0, say: Callable[[str], None] = print,
                   train_overrides: dict[str, Any] | None = None) -> BackgroundProgress:
    """Train, stop on request (SIGTERM/SIGINT), or gate; returns the final progress (also in the progress file).

    `train_overrides` replace TrainConfig fields (tests use a 2-layer encoder and a few steps).
    """
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _run(settings, runs_dir, max_steps, poll_s, say, train_overrides)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(settings: Settings, runs_dir: Path | None, max_steps: int | None, poll_s: float,
         say: Callable[[str], None], train_overrides: dict[str, Any] | None) -> BackgroundProgress:
    from model.training.loop import TrainHooks, TrainingStopped, load_training_corpus, profile_config, train

    path = progress_path(settings)
    registry_dir = Path(settings.registry_dir)
    progress = BackgroundProgress(profile=PROFILE, state="starting")
    stop = {"requested": False}

    def request_stop(signum: int, frame: object) -> None:  # noqa: ARG001
        stop["requested"] = True
        say(f"signal {signum}: saving a checkpoint and stopping")

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def finish(state: str, message: str) -> BackgroundProgress:
        progress.state, progress.message, progress.eta_s = state, message, None
        write_progress(path, progress)
        say(f"background training {state}: {message}")
        return progress

    if not settings.background_training:
        return finish("off", "FINSENT_BACKGROUND_TRAINING=0")
    if running := other_background_runs():  # its progress file is its own: leave it alone
        say(f"background training: pid {running[0]} is already running it; nothing to do")
        return read_progress(path) or BackgroundProgress(profile=PROFILE, state="skipped")
    while (others := other_trainers(PROFILE)) and not stop["requested"]:
        progress.state = "waiting"
        progress.message = f"pid {others[0]} is training the {PROFILE} profile; resuming its run when it ends"
        write_progress(path, progress)
        time.sleep(poll_s)
    if stop["requested"]:
        return finish("stopped", "stopped while waiting")
    live, live_profile, judged = registry_state(registry_dir)
    progress.live_version = live
    reason = skip_reason(live_profile, judged)
    if reason:
        return finish("skipped", reason)

    overrides: dict[str, Any] = dict(data_dir=settings.data_dir, device=settings.device, resume=True,
                                     threads=settings.background_threads, dev_cap=BACKGROUND_DEV_CAP,
                                     max_steps=max_steps, progress=False, registry_dir=settings.registry_dir,
                                     events_dir=settings.events_dir)
    if runs_dir is not None:
        overrides["runs_dir"] = runs_dir
    config = profile_config(PROFILE, **{**overrides, **(train_overrides or {})})
    rate = StepRate()
    last_write = [0.0]

    def on_progress(step: int, total: int, phase: str, best: float) -> None:
        progress.step, progress.max_steps = step, total
        progress.best_dev_score = round(best, 4) if best >= 0 else None
        progress.eta_s = rate.eta_s(step, total)
        progress.state = "evaluating" if phase == "evaluate" else "training"
        progress.message = ""
        if phase != "train" or time.monotonic() - last_write[0] >= WRITE_EVERY_S:
            write_progress(path, progress)
            last_write[0] = time.monotonic()

    progress.state, progress.max_steps = "training", config.max_steps
    write_progress(path, progress)
    say(f"background training: profile {PROFILE}, {config.max_steps} steps, {config.threads} thread(s), "
        f"resuming {Path(config.runs_dir) / PROFILE / 'last.pt'} if present")
    corpus = load_training_corpus(config)
    try:
        result = train(config, corpus=corpus, hooks=TrainHooks(on_progress=on_progress,
                                                               should_stop=lambda: stop["requested"]))
    except TrainingStopped as stopped:
        progress.step = stopped.step
        return finish("stopped", f"checkpoint saved at step {stopped.step}; the next `make run` resumes it")
    progress.state, progress.step, progress.eta_s = "gating", result.steps, None
    progress.best_dev_score = round(result.dev_score, 4)
    write_progress(path, progress)
    outcome = gate_candidate(result, corpus, config.dev_cap, settings, say)
    progress.candidate_version = outcome.version
    return finish(outcome.decision.status, outcome.decision.reason)


@click.command("background-train")
@click.option("--status", "show_status", is_flag=True, help="Print the progress file as JSON and exit.")
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Override the profile's steps (tests).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Checkpoints folder (default: runs/ in the checkout).")
def background_train(show_status: bool, max_steps: int | None, runs_dir: Path | None) -> None:
    """Train the full profile in the background (resumable), then promote it only if it is better."""
    settings = get_settings()
    if show_status:
        progress = read_progress(progress_path(settings))
        click.echo(json.dumps(asdict(progress) | {"running": progress.running} if progress else None))
        return
    try:
        final = run_background(settings, runs_dir=runs_dir, max_steps=max_steps,
                               say=lambda line: click.echo(line, err=True))
    except Exception as error:
        path = progress_path(settings)
        last = read_progress(path) or BackgroundProgress(profile=PROFILE, state="failed")
        write_progress(path, replace(last, state="failed", message=f"{type(error).__name__}: {error}",
                                     pid=os.getpid()))
        raise
    click.echo(json.dumps(asdict(final)))
