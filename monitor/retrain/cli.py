"""`finsent retrain` and `finsent scheduler`: retrain on demand or on a cron schedule.

    finsent retrain --profile quick            # train, judge against the live model, maybe promote
    finsent retrain --dry-run                  # only build and count the training set
    finsent scheduler --cron "0 3 * * *"       # run retraining every night at 03:00 UTC
    finsent scheduler --once                   # one run now, unless another scheduler is running one

Both end with one JSON object on the last line of stdout. A failed run exits 1
and raises the `retrain_failed` alert through the alert webhooks. See
docs/retraining.md.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import click

from kernel.settings import Settings, get_settings
from monitor.retrain.gate import MEAN_TARGET, GatePolicy
from monitor.retrain.pipeline import RetrainOptions, RetrainReport, run_retraining
from monitor.retrain.schedule import DEFAULT_CRON, CronError, check_cron, run_schedule

log = logging.getLogger(__name__)

PROFILES = ("quick", "full", "tiny")


def _say(line: str) -> None:
    click.echo(line, err=True)  # progress on stderr; stdout keeps the summary and the JSON line


def retrain_options(function):  # noqa: ANN001, ANN201
    """The options `retrain` and `scheduler` share (a scheduled run is a retrain run)."""
    options = [
        click.option("--profile", type=click.Choice(PROFILES), default="quick", show_default=True,
                     help="Training profile: quick (minutes on CPU), full (about an hour on CPU), tiny (tests)."),
        click.option("--dataset", "datasets", multiple=True,
                     help="Base dataset to use (repeatable); default: every catalogued dataset."),
        click.option("--target", default=MEAN_TARGET, show_default=True,
                     help="Gate target: 'mean' of the per-task scores, or one task (topic, sentiment, ner, "
                          "entity-sentiment)."),
        click.option("--tolerance", type=click.FloatRange(0, 1), default=0.01, show_default=True,
                     help="Largest allowed drop of any task's score."),
        click.option("--min-improvement", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                     help="The target must rise by more than this."),
        click.option("--dev-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
                     show_default=True, help="Dev share of datasets without an official dev file."),
        click.option("--eval-cap", type=click.IntRange(1), default=500, show_default=True,
                     help="Gate examples per dataset."),
        click.option("--traffic-limit", type=click.IntRange(0), default=500, show_default=True,
                     help="Recent stored articles both models score."),
        click.option("--analyst-weight", type=click.FloatRange(0, min_open=True), default=3.0, show_default=True,
                     help="Loss weight of an analyst's label relative to a base example."),
        click.option("--from-scratch", is_flag=True, help="Train from the pretrained encoder, not the live model."),
        click.option("--max-steps", type=click.IntRange(0), default=None, help="Override the profile's steps."),
        click.option("--shuffle-labels", is_flag=True, hidden=True,
                     help="Negative control: train on permuted labels; the gate must reject the result."),
        click.option("--no-progress", is_flag=True, help="No progress bar (logs, CI)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def build_options(profile: str, datasets: tuple[str, ...], target: str, tolerance: float, min_improvement: float,
                  dev_fraction: float, eval_cap: int, traffic_limit: int, analyst_weight: float, from_scratch: bool,
                  max_steps: int | None, shuffle_labels: bool, no_progress: bool,
                  dry_run: bool = False) -> RetrainOptions:
    return RetrainOptions(profile=profile, dry_run=dry_run, datasets=datasets or None, dev_fraction=dev_fraction,
                          eval_cap=eval_cap,
                          traffic_limit=traffic_limit, analyst_weight=analyst_weight, from_scratch=from_scratch,
                          max_steps=max_steps, shuffle_labels=shuffle_labels, progress=not no_progress,
                          policy=GatePolicy(target=target, tolerance=tolerance, min_improvement=min_improvement))


def report_line(report: RetrainReport) -> dict[str, Any]:
    """The JSON summary of a run (last line of stdout)."""
    decision = report.decision
    return {"dry_run": report.dry_run, "live_version": report.live_version,
            "candidate_version": report.candidate_version, "promoted": report.promoted,
            "status": decision.status if decision else None, "reason": decision.reason if decision else None,
            "live_target": decision.live_target if decision else None,
            "candidate_target": decision.candidate_target if decision else None,
            "label_counts": report.label_counts, "training_examples": report.training_examples,
            "traffic": report.traffic, "duration_s": round(report.duration_s, 1)}


def alert_failure(settings: Settings, error: BaseException, details: dict[str, Any]) -> None:
    """Raise the retrain_failed alert; never let a second failure hide the first."""
    from monitor.retrain.notify import raise_retrain_failed
    from monitor.storage.db import session_factory

    rules = None
    try:
        from monitor.alerts.rules.parse import load_rules

        rules = load_rules(settings.alert_rules)
    except Exception as rules_error:  # noqa: BLE001 - the alert row is still worth writing
        log.error("cannot read alert rules %s (%s): the alert is stored but no webhook is queued",
                  settings.alert_rules, rules_error)
    try:
        with session_factory(settings.database_url).begin() as session:
            alert_id, queued = raise_retrain_failed(session, rules, f"{type(error).__name__}: {error}",
                                                    {**details, "traceback": traceback.format_exc()[-4000:]})
        _say(f"raised alert retrain_failed (id {alert_id}, {queued} webhook(s) queued)")
    except Exception:  # noqa: BLE001
        log.exception("could not raise the retrain_failed alert")


def execute(options: RetrainOptions, settings: Settings) -> tuple[int, dict[str, Any]]:
    """Run retraining once: (exit code, JSON summary); alert on failure."""
    from monitor.retrain.summary import summary_table
    from monitor.storage.db import session_factory

    try:
        report = run_retraining(options, settings, session_factory(settings.database_url), say=_say)
    except Exception as error:  # noqa: BLE001 - any failure must alert
        log.exception("retraining failed")
        alert_failure(settings, error, {"profile": options.profile})
        return 1, {"failed": True, "error": f"{type(error).__name__}: {error}"}
    if report.decision is not None:
        click.echo(summary_table(report.decision, report.candidate_version))
    return 0, report_line(report)


@click.command()
@retrain_options
@click.option("--dry-run", is_flag=True, help="Build and count the training set; train and change nothing.")
def retrain(dry_run: bool, **values: Any) -> None:
    """Retrain on the base data plus analysts' labels; promote the candidate only if it is better."""
    settings = get_settings()
    code, line = execute(build_options(dry_run=dry_run, **values), settings)
    click.echo(json.dumps(line, default=str))
    sys.exit(code)


def scheduled_run(options: RetrainOptions, settings: Settings, fire_time: datetime | None) -> dict[str, Any]:
    """One scheduled run under the cluster-wide lock: ran, skipped (lock held elsewhere) or failed."""
    from monitor.retrain.lock import try_advisory_lock
    from monitor.storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        with try_advisory_lock(engine) as acquired:
            if not acquired:
                _say("skipped: another scheduler holds the retraining lock")
                return {"outcome": "skipped", "fire_time": fire_time}
            _say(f"lock acquired; retraining (due {fire_time.isoformat() if fire_time else 'now'})")
            code, line = execute(options, settings)
            return {"outcome": "ran" if code == 0 else "failed", "fire_time": fire_time, **line}
    finally:
        engine.dispose()


@click.command()
@click.option("--cron", default=DEFAULT_CRON, show_default=True,
              help="When to retrain, as a 5-field cron expression in UTC.")
@click.option("--once", is_flag=True, help="Run once now (unless another scheduler holds the lock) and exit.")
@retrain_options
def scheduler(cron: str, once: bool, **values: Any) -> None:
    """Retrain on a cron schedule; one run at a time across machines (PostgreSQL advisory lock)."""
    try:
        check_cron(cron)
    except CronError as error:
        raise click.BadParameter(str(error), param_hint="--cron") from None
    settings = get_settings()
    options = build_options(**values)
    if once:
        outcome = scheduled_run(options, settings, None)
        click.echo(json.dumps(outcome, default=str))
        sys.exit(1 if outcome["outcome"] == "failed" else 0)

    stopping = False

    def stop(signum: int, frame: object) -> None:  # noqa: ARG001
        nonlocal stopping
        stopping = True
        _say("stopping after the current run")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _say(f"scheduler: retraining on {cron!r} (UTC); Ctrl-C to stop")
    runs = run_schedule(cron, lambda fire: click.echo(json.dumps(scheduled_run(options, settings, fire), default=str)),
                        now=lambda: datetime.now(UTC), sleep=time.sleep, should_stop=lambda: stopping)
    _say(f"scheduler stopped after {runs} run(s)")
