"""FINSENT_MODEL_BACKEND=auto: the parity verdict, the per-version choice, and the worker's swap to int8."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kernel.settings import load_settings
from model.reports.onnx_bench import TaskParity, serving_agreement
from model.serving.onnx_backend import (
    EXPORT_INFO_FILE,
    ONNX_DIR,
    PARITY_FILE,
    PARITY_THRESHOLD,
    choose_backend,
    needs_parity_report,
    parity_verdict,
    read_parity_report,
    write_parity_report,
)
from model.training.evaluation import TaskPredictions
from monitor.storage.model_versions import REPAIR_COMMAND, compare_live
from monitor.stream.live_model import LiveModel, ServingBackend

PASSING = {"sentiment": 0.985, "topic": 0.975, "ner": 0.99, "entity-sentiment": 0.98, "events": 0.99}


def fake_export(registry: Path, version: str, sha: str = "a" * 64) -> Path:
    """A version folder with just the files the backend choice reads."""
    onnx_dir = registry / version / ONNX_DIR
    onnx_dir.mkdir(parents=True)
    (onnx_dir / EXPORT_INFO_FILE).write_text(json.dumps({"weights_sha256": sha}))
    return onnx_dir


def write_report(onnx_dir: Path, agreement: dict[str, float]) -> None:
    passed, reason = parity_verdict(agreement)
    write_parity_report(onnx_dir, {"passed": passed, "reason": reason, "agreement": agreement})


# --- the verdict ------------------------------------------------------------------------------------

def test_every_task_must_reach_the_threshold_and_the_failure_names_the_task() -> None:
    assert parity_verdict(PASSING)[0]
    passed, reason = parity_verdict({**PASSING, "topic": 0.962})
    assert not passed and reason == f"topic agreement 0.9620 < {PARITY_THRESHOLD}"
    passed, reason = parity_verdict({k: v for k, v in PASSING.items() if k != "ner"})
    assert not passed and "ner" in reason  # an unmeasured task is not a pass


def test_ner_is_judged_by_word_tags_and_tasks_pool_their_datasets_by_size() -> None:
    gold = [["B-ORG", "O", "O", "O"], ["O", "O"]]
    parity = TaskParity(reference=TaskPredictions(gold=gold, predicted=[["B-ORG", "O", "O", "O"], ["O", "O"]]),
                        candidate=TaskPredictions(gold=gold, predicted=[["B-ORG", "O", "B-PER", "O"], ["O", "O"]]))
    row = parity.report("ner")
    assert row["agreement"] == 0.5  # one of two sentences identical
    assert row["token_agreement"] == round(5 / 6, 4) and row["n_tokens"] == 6
    pooled = serving_agreement({
        "conll": {"ner": row},
        "phrasebank": {"sentiment": {"n": 100, "agreement": 1.0}},
        "twitter_sentiment": {"sentiment": {"n": 300, "agreement": 0.96}},
    })
    assert pooled == {"ner": round(5 / 6, 4), "sentiment": 0.97}


# --- the choice ---------------------------------------------------------------------------------------

def test_auto_serves_int8_on_cpu_only_when_the_report_passes(tmp_path: Path) -> None:
    onnx_dir = fake_export(tmp_path, "v1")
    choice = choose_backend("auto", "cpu", tmp_path, "v1")
    assert (choice.backend, choice.pending) == ("torch", True) and "no int8 parity report" in choice.reason
    assert needs_parity_report("auto", "cpu", tmp_path, "v1")

    write_report(onnx_dir, PASSING)
    assert choose_backend("auto", "cpu", tmp_path, "v1").backend == "onnx"
    assert not needs_parity_report("auto", "cpu", tmp_path, "v1")
    assert choose_backend("auto", "cuda", tmp_path, "v1").backend == "torch"  # int8 export is a CPU path
    assert not needs_parity_report("auto", "cuda", tmp_path, "v1")

    write_report(onnx_dir, {**PASSING, "entity-sentiment": 0.95})
    failed = choose_backend("auto", "cpu", tmp_path, "v1")
    assert failed.backend == "torch" and "entity-sentiment agreement 0.9500" in failed.reason


def test_explicit_backends_are_obeyed_and_unknown_ones_refused(tmp_path: Path) -> None:
    fake_export(tmp_path, "v1")
    assert choose_backend("onnx", "cpu", tmp_path, "v1").backend == "onnx"  # no report needed when asked for
    assert choose_backend("torch", "cpu", tmp_path, "v1").backend == "torch"
    with pytest.raises(ValueError, match="auto, torch or onnx"):
        choose_backend("tensorrt", "cpu", tmp_path, "v1")


def test_a_report_for_other_weights_is_ignored(tmp_path: Path) -> None:
    onnx_dir = fake_export(tmp_path, "v1")
    write_report(onnx_dir, PASSING)
    assert read_parity_report(tmp_path, "v1") is not None
    (onnx_dir / EXPORT_INFO_FILE).write_text(json.dumps({"weights_sha256": "b" * 64}))  # re-exported since
    assert read_parity_report(tmp_path, "v1") is None
    assert choose_backend("auto", "cpu", tmp_path, "v1").pending


def test_the_default_backend_is_auto_and_onnx_on_cuda_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel.settings import SettingsError

    monkeypatch.delenv("FINSENT_MODEL_BACKEND", raising=False)
    monkeypatch.delenv("FINSENT_DEVICE", raising=False)
    assert load_settings().model_backend == "auto"
    monkeypatch.setenv("FINSENT_DEVICE", "cuda")
    assert load_settings().model_backend == "auto"  # auto on CUDA means torch
    monkeypatch.setenv("FINSENT_MODEL_BACKEND", "onnx")
    with pytest.raises(SettingsError, match="FINSENT_MODEL_BACKEND"):
        load_settings()


# --- the worker side ----------------------------------------------------------------------------------

class FakeProcess:
    def __init__(self, code: int | None) -> None:
        self.pid, self.code = 4242, code

    def poll(self) -> int | None:
        return self.code


def test_a_version_without_report_is_prepared_once_in_the_background_then_served_int8(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    onnx_dir = fake_export(tmp_path, "v1")
    started: list[str] = []
    serving = ServingBackend(tmp_path, "auto", "cpu",
                             prepare=lambda version: started.append(version) or FakeProcess(None))
    with caplog.at_level(logging.INFO, logger="monitor.stream.live_model"):
        assert serving.backend_for("v1") == "torch"
        assert serving.backend_for("v1") == "torch"
        assert started == ["v1"]  # one background export per version, not one per poll
        write_report(onnx_dir, PASSING)  # the background export finished and passed
        assert serving.backend_for("v1") == "onnx"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # once when the export starts, once when int8 takes over
    assert "in the background (pid 4242)" in messages[0] and "onnx backend" in messages[1]


def test_a_failed_background_export_is_a_warning_and_torch_stays(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    fake_export(tmp_path, "v1")
    serving = ServingBackend(tmp_path, "auto", "cpu", prepare=lambda version: FakeProcess(1))
    with caplog.at_level(logging.INFO, logger="monitor.stream.live_model"):
        assert serving.backend_for("v1") == "torch"
        assert serving.backend_for("v1") == "torch"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "background int8 export of v1 failed (exit 1" in warnings[0]


class FakePredictor:
    def __init__(self, version: str, backend: str) -> None:
        self.version, self.backend = version, backend

    def predict(self, texts: list[str]) -> list:  # noqa: ANN401
        return []


def test_the_live_model_hot_swaps_to_int8_of_the_same_version_and_on_promotion() -> None:
    live = ["v1"]
    backends = {"v1": "torch"}
    loads: list[tuple[str | None, str | None]] = []

    def load(version: str | None, backend: str | None = None) -> FakePredictor:
        loads.append((version, backend))
        return FakePredictor(version or live[0], backend or "torch")

    model = LiveModel(load, lambda: live[0], check_every_s=0, backend_for=lambda version: backends[version])
    model.load_now()
    assert (model.version, model.backend) == ("v1", "torch")

    async def refresh() -> bool:
        with ThreadPoolExecutor(1) as executor:
            return await model.refresh(executor)

    assert not asyncio.run(refresh())  # nothing changed
    backends["v1"] = "onnx"  # its parity report passed
    assert asyncio.run(refresh()) and (model.version, model.backend) == ("v1", "onnx")
    live[0], backends["v2"] = "v2", "onnx"  # a promotion to an already exported version
    assert asyncio.run(refresh()) and (model.version, model.backend) == ("v2", "onnx")
    assert loads == [("v1", "torch"), ("v1", "onnx"), ("v2", "onnx")]


def test_a_backend_switch_that_fails_to_load_keeps_the_model_and_is_not_retried() -> None:
    backends = {"v1": "torch"}
    loads: list[str | None] = []

    def load(version: str | None, backend: str | None = None) -> FakePredictor:
        loads.append(backend)
        if backend == "onnx":
            raise RuntimeError("corrupt export")
        return FakePredictor("v1", "torch")

    model = LiveModel(load, lambda: "v1", check_every_s=0, backend_for=lambda version: backends[version])
    model.load_now()
    backends["v1"] = "onnx"

    async def refresh_twice() -> list[bool]:
        with ThreadPoolExecutor(1) as executor:
            return [await model.refresh(executor), await model.refresh(executor)]

    assert asyncio.run(refresh_twice()) == [False, False]
    assert model.backend == "torch" and loads == ["torch", "onnx"]


# --- one truth for "live" -----------------------------------------------------------------------------

def test_the_live_pointer_and_the_table_must_name_the_same_single_version() -> None:
    assert compare_live("v2", ["v2"]) is None
    assert compare_live(None, []) is None
    mismatch = compare_live("v2", [])
    assert mismatch is not None and mismatch.registry_live == "v2" and mismatch.table_live == ()
    assert "registry says live is v2, model_versions says none" in mismatch.describe()
    assert REPAIR_COMMAND in mismatch.describe()
    assert compare_live("v2", ["v1"]).table_live == ("v1",)  # type: ignore[union-attr]
    assert compare_live("v2", ["v1", "v2"]) is not None  # two live rows is wrong too
    assert compare_live(None, ["v1"]) is not None
    assert PARITY_FILE == "parity.json"
