"""The background training run on the real PostgreSQL, a temporary registry and a tiny model.

SIGTERM mid-run -> stopped with last.pt saved -> the next run resumes from that
step, finishes, and the gate promotes the candidate over the random-headed live
model (registry, metadata and model_versions agree) -> a third run has nothing
to do.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from kernel.settings import load_settings
from monitor.retrain.background import read_progress, run_background
from monitor.storage.db import session_factory
from monitor.storage.models import ModelVersion
from tests.databases import scratch_database
from tests.integration.test_retrain import DATASETS, fixture_data_dir

pytestmark = pytest.mark.integration

# event_labels off: the judged event headlines would take a share of a 60-step run's batches, and this test
# is about stopping, resuming and the gate, which needs the candidate to beat random heads on the fixtures
TINY = dict(datasets=DATASETS, dev_fraction=0.3, encoder_layers=2, batch_size=8, lr=3e-4, warmup_fraction=0.1,
            max_steps=60, steps_per_epoch=20, dev_cap=20, log_every=10, patience=None, device="cpu",
            event_labels=False)


def sigterm_when(path: Path, step: int, timeout_s: float = 300) -> threading.Thread:
    """SIGTERM this process once the progress file reports `step` (as make run's cleanup would)."""

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            progress = read_progress(path)
            if progress is not None and progress.step >= step:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture()
def database_url(database_server_url: str) -> Iterator[str]:
    """A database of its own: the run records model versions that other tests' counts must not see."""
    with scratch_database(database_server_url, "finsent_background") as url:
        yield url


def test_stop_resume_gate_promote_then_nothing_to_do(database_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from model.serving.registry import live_version, load_metadata
    from model.testing import make_tiny_model
    from monitor.retrain import background

    # a real `make run` on this machine may be training its own run folder: not this test's business
    monkeypatch.setattr(background, "other_background_runs", lambda: [])
    monkeypatch.setattr(background, "other_trainers", lambda profile: [])

    registry_dir = tmp_path / "models"
    first = make_tiny_model(registry_dir, promote=True)
    settings = load_settings(database_url=database_url, registry_dir=registry_dir, data_dir=fixture_data_dir(tmp_path),
                             state_dir=tmp_path / "state", device="cpu")
    progress_file = tmp_path / "state" / "training" / "background.json"
    runs = tmp_path / "runs"
    lines: list[str] = []

    watcher = sigterm_when(progress_file, 5)
    stopped = run_background(settings, runs_dir=runs, say=lines.append, train_overrides=TINY)
    watcher.join(timeout=5)
    assert stopped.state == "stopped", lines
    checkpoint = torch.load(runs / "full" / "last.pt", weights_only=False)
    assert 5 <= checkpoint["step"] == stopped.step < 60
    assert live_version(registry_dir) == first  # nothing judged yet

    final = run_background(settings, runs_dir=runs, say=lines.append, train_overrides=TINY)
    assert final.state == "promoted", (final, lines)
    assert final.step == 60 and final.candidate_version == live_version(registry_dir)
    metadata = load_metadata(registry_dir, final.candidate_version)
    assert metadata["profile"] == "full" and metadata["retrain"]["background"] is True
    assert metadata["retrain"]["compared_with"] == first and metadata["retrain"]["status"] == "promoted"
    # resumed, not restarted
    assert metadata["steps"] == 60 and [h["step"] for h in metadata["history"]] == [20, 40, 60]
    with session_factory(database_url)() as session:
        rows = {row.version: row for row in session.scalars(select(ModelVersion))}
    assert rows[final.candidate_version].is_live and rows[final.candidate_version].status == "promoted"
    assert rows[first].status == "retired"
    assert read_progress(progress_file).state == "promoted"

    again = run_background(settings, runs_dir=runs, say=lines.append, train_overrides=TINY)
    assert again.state == "skipped" and "already a full-profile" in again.message
