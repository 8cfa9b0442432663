"""Background training: clean stop and resume of the real loop, the progress file, and the run's decisions."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from kernel.settings import load_settings
from model.data.examples import Example
from model.data.splits import DatasetSplit
from model.network.modeling import ModelConfig
from model.training.loop import TrainConfig, TrainHooks, TrainingStopped, train
from monitor.retrain import background
from monitor.retrain.background import (
    BackgroundProgress,
    StepRate,
    other_background_runs,
    other_trainers,
    read_progress,
    registry_state,
    run_background,
    skip_reason,
    write_progress,
)
from monitor.retrain.gate import GateDecision


def small_corpus() -> dict[str, DatasetSplit]:
    rng = random.Random(0)
    words = ["profit", "loss", "rose", "fell", "sales", "growth", "cut", "jobs"]
    examples = [Example(" ".join(rng.choices(words, k=6)), "phrasebank", sentiment=rng.randrange(3))
                for _ in range(24)]
    return {"phrasebank": DatasetSplit("phrasebank", frozenset({"sentiment"}), examples[:20], examples[20:],
                                       {"f": "0"})}


def test_a_stop_request_saves_last_pt_and_resume_continues_from_there(tmp_path: Path) -> None:
    config = TrainConfig(profile="test", max_steps=6, steps_per_epoch=2, batch_size=4,
                         model=ModelConfig(encoder_layers=1), runs_dir=tmp_path, progress=False, threads=None)
    seen: list[tuple[int, str]] = []
    hooks = TrainHooks(on_progress=lambda step, total, phase, best: seen.append((step, phase)),
                       should_stop=lambda: len([s for s in seen if s[1] == "train"]) >= 4)
    with pytest.raises(TrainingStopped) as stopped:
        train(config, corpus=small_corpus(), hooks=hooks)
    assert stopped.value.step == 3  # steps 1, 2 (+ its evaluation), 3: four "train" reports
    assert (2, "evaluate") in seen
    checkpoint = torch.load(tmp_path / "test" / "last.pt", weights_only=False)
    assert checkpoint["step"] == 3 and [h["step"] for h in checkpoint["history"]] == [2]
    assert not list((tmp_path / "test").glob(".*.tmp"))  # written through a temporary file
    resumed = train(TrainConfig(**{**config.__dict__, "resume": True}), corpus=small_corpus())
    assert resumed.steps == 6 and [h["step"] for h in resumed.history] == [2, 4, 6]


def test_progress_file_round_trip_and_a_dead_writer_is_not_running(tmp_path: Path) -> None:
    path = tmp_path / "training" / "background.json"
    write_progress(path, BackgroundProgress(profile="full", state="training", step=120, max_steps=5000,
                                            best_dev_score=0.71, eta_s=3600.0))
    progress = read_progress(path)
    assert progress is not None and (progress.step, progress.max_steps, progress.best_dev_score) == (120, 5000, 0.71)
    assert progress.running  # this process wrote it
    assert [p.name for p in path.parent.iterdir()] == ["background.json"]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": int(dead.stdout)}))
    assert not read_progress(path).running
    path.write_text("{not json")
    assert read_progress(path) is None
    assert read_progress(tmp_path / "missing.json") is None


def test_eta_comes_from_this_sessions_step_rate() -> None:
    now = [100.0]
    rate = StepRate(clock=lambda: now[0])
    assert rate.eta_s(1000, 5000) is None  # resumed at step 1000: no rate yet
    now[0] += 50.0
    assert rate.eta_s(1010, 5000) == pytest.approx(3990 * 5.0)


def write_version(registry: Path, version: str, profile: str, retrain: bool = False) -> None:
    (registry / version).mkdir(parents=True)
    metadata = {"version": version, "profile": profile, **({"retrain": {"status": "rejected"}} if retrain else {})}
    (registry / version / "metadata.json").write_text(json.dumps(metadata))


def test_nothing_to_train_once_a_full_model_is_live_or_judged(tmp_path: Path) -> None:
    write_version(tmp_path, "v1", "quick")
    (tmp_path / "LIVE").write_text("v1")
    assert registry_state(tmp_path) == ("v1", "quick", [])
    assert skip_reason("quick", []) is None
    write_version(tmp_path, "v2", "full")  # trained by hand, never judged: the background run resumes and judges
    assert registry_state(tmp_path)[2] == []
    write_version(tmp_path, "v3", "full", retrain=True)
    assert registry_state(tmp_path)[2] == ["v3"]
    assert "already judged" in skip_reason("quick", ["v3"])
    assert "already a full-profile" in skip_reason("full", [])


def test_a_second_background_run_leaves_the_first_one_alone(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    path = settings.state_dir / "training" / "background.json"
    write_progress(path, BackgroundProgress(profile="full", state="training", step=40, max_steps=5000, pid=4242))
    monkeypatch.setattr(background, "other_background_runs", lambda: [4242])
    result = run_background(settings, say=lambda line: None)
    assert (result.pid, result.step) == (4242, 40)
    assert read_progress(path).pid == 4242  # its progress file untouched


def test_a_hand_started_full_training_is_seen() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "train", "--profile", "full"])
    try:
        deadline = time.monotonic() + 10
        while sleeper.pid not in other_trainers("full") and time.monotonic() < deadline:
            time.sleep(0.1)  # until the child has exec'd: before that /proc shows our own command line
        assert sleeper.pid in other_trainers("full")
        assert sleeper.pid not in other_trainers("quick")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_trainer_of_another_checkout_is_not_ours(tmp_path: Path) -> None:
    """Two clones on one machine each train into their own runs/: only this checkout's run blocks ours."""
    command = [sys.executable, "-c", "import time; time.sleep(30)", "background-train"]
    elsewhere = subprocess.Popen(command, cwd=tmp_path)
    here = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while here.pid not in other_background_runs() and time.monotonic() < deadline:
            time.sleep(0.1)  # until the child has exec'd
        assert here.pid in other_background_runs()
        assert elsewhere.pid not in other_background_runs()
    finally:
        for child in (elsewhere, here):
            child.kill()
            child.wait()


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(state_dir=tmp_path / "state", registry_dir=tmp_path / "models", data_dir=tmp_path / "data")


def fake_training(monkeypatch: pytest.MonkeyPatch, sigterm_at: int | None = None) -> list[TrainConfig]:
    """Replace the loop by 10 reported steps (SIGTERM delivered at `sigterm_at`); the configs it got.

    Signal handlers are recorded, not installed, so pytest keeps its own.
    """
    import model.training.loop

    configs: list[TrainConfig] = []
    handlers: dict[int, object] = {}

    def fake_train(config: TrainConfig, corpus=None, hooks: TrainHooks | None = None, **_):  # noqa: ANN001
        configs.append(config)
        for step in range(1, 11):
            if hooks.should_stop():
                raise TrainingStopped(step - 1, Path("last.pt"))
            hooks.on_progress(step, 10, "train", 0.5)
            if step == sigterm_at:
                handlers[signal.SIGTERM](signal.SIGTERM, None)
        return SimpleNamespace(steps=10, dev_score=0.75)

    monkeypatch.setattr(background.signal, "signal", lambda signum, handler: handlers.__setitem__(signum, handler))
    monkeypatch.setattr(model.training.loop, "train", fake_train)
    monkeypatch.setattr(model.training.loop, "load_training_corpus", lambda config: {})
    monkeypatch.setattr(background, "other_trainers", lambda profile: [])
    monkeypatch.setattr(background, "other_background_runs", lambda: [])
    return configs


def test_finished_run_goes_through_the_gate(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    configs = fake_training(monkeypatch)
    decision = GateDecision(True, "promoted: target mean improved by +0.0500", "mean", 0.70, 0.75)
    monkeypatch.setattr(background, "gate_candidate",
                        lambda result, corpus, dev_cap, s, say: background.GateOutcome("v9", decision))
    final = run_background(settings, say=lambda line: None)
    assert (final.state, final.candidate_version, final.step) == ("promoted", "v9", 10)
    assert configs[0].profile == "full" and configs[0].resume and configs[0].threads == 1
    written = read_progress(settings.state_dir / "training" / "background.json")
    assert written.state == "promoted" and "improved" in written.message


def test_sigterm_ends_in_the_stopped_state_without_judging(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_training(monkeypatch, sigterm_at=3)
    monkeypatch.setattr(background, "gate_candidate", lambda *a: pytest.fail("a stopped run is not judged"))
    final = run_background(settings, say=lambda line: None)
    assert final.state == "stopped" and final.step == 3 and "resumes" in final.message
    assert read_progress(settings.state_dir / "training" / "background.json").state == "stopped"


def test_turned_off_by_the_setting(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, background_training=False)
    assert run_background(settings, say=lambda line: None).state == "off"


def test_models_ensure_trains_the_full_profile_where_there_is_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from finsent.model_commands import first_profile

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert first_profile("auto") == "full" and first_profile("cuda") == "full"
    assert first_profile("cpu") == "quick"  # FINSENT_DEVICE=cpu on a GPU host: quick, then the background run
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert first_profile("auto") == "quick"
