"""ONNX int8 backend: export into the registry version, caching, parity with torch, Predictor backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model.network.collate import collate, encode_text
from model.serving.onnx_backend import (
    ENTITY_FILE,
    EXPORT_INFO_FILE,
    MODEL_FILE,
    ONNX_DIR,
    OnnxJointModel,
    ensure_onnx_export,
)
from model.serving.registry import load_model
from model.testing import make_tiny_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "baselines"
TEXTS = [
    "Apple beats estimates while Intel misses",
    "Fed holds rates",
    "Shares of Tesla Inc fell 5% in New York on Monday after the delivery report disappointed analysts",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    registry = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    version = make_tiny_model(registry, encoder_layers=1)
    ensure_onnx_export(registry, version)
    return registry, version


@pytest.fixture(scope="module")
def both_models(exported: tuple[Path, str]):  # noqa: ANN201
    registry, version = exported
    model, tokenizer = load_model(registry, version)
    onnx_model = OnnxJointModel(registry / version / ONNX_DIR, model.config, model.num_parameters(), threads=1)
    return model, onnx_model, tokenizer


def test_export_lands_complete_in_the_version_folder(exported: tuple[Path, str]) -> None:
    registry, version = exported
    folder = registry / version / ONNX_DIR
    assert (folder / MODEL_FILE).stat().st_size > 0 and (folder / ENTITY_FILE).stat().st_size > 0
    info = json.loads((folder / EXPORT_INFO_FILE).read_text())
    assert info["opset"] == 17 and len(info["weights_sha256"]) == 64
    assert not [p.name for p in (registry / version).iterdir() if p.name.startswith(".")]  # no temp folders left
    # int8 weights: smaller than the fp32 safetensors it came from
    assert (folder / MODEL_FILE).stat().st_size < (registry / version / "model.safetensors").stat().st_size


def test_export_is_cached_and_rebuilt_when_stale(exported: tuple[Path, str]) -> None:
    registry, version = exported
    folder = registry / version / ONNX_DIR
    before = (folder / MODEL_FILE).stat().st_mtime_ns
    assert ensure_onnx_export(registry, version) == folder
    assert (folder / MODEL_FILE).stat().st_mtime_ns == before
    info = json.loads((folder / EXPORT_INFO_FILE).read_text())
    (folder / EXPORT_INFO_FILE).write_text(json.dumps({**info, "weights_sha256": "0" * 64}))
    ensure_onnx_export(registry, version)
    assert json.loads((folder / EXPORT_INFO_FILE).read_text())["weights_sha256"] == info["weights_sha256"]
    assert (folder / MODEL_FILE).stat().st_mtime_ns != before


def test_the_quantiser_says_nothing_at_info_level(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """onnxruntime logs every tensor it does not quantise on the root logger; `make run` showed them all."""
    import logging

    from model.serving.onnx_backend import export_onnx

    torch.manual_seed(0)
    model, _ = load_model(tmp_path, make_tiny_model(tmp_path, encoder_layers=1))
    with caplog.at_level(logging.INFO):
        export_onnx(model, tmp_path / "onnx")
    assert (tmp_path / "onnx" / MODEL_FILE).is_file()
    assert not [r.getMessage() for r in caplog.records if "onnxruntime" in r.pathname and r.levelno < logging.WARNING]
    assert not logging.getLogger().filters  # the filter is gone once the export is done


@pytest.mark.parametrize("texts", [TEXTS[:1], TEXTS], ids=["batch-1", "batch-3-mixed-lengths"])
def test_int8_outputs_match_torch_on_dynamic_shapes(both_models, texts: list[str]) -> None:  # noqa: ANN001
    model, onnx_model, tokenizer = both_models
    batch, _ = collate([encode_text(tokenizer, t) for t in texts])
    batch.entity_token_mask = torch.zeros(len(texts), 2, batch.input_ids.shape[1])
    batch.entity_token_mask[:, 0, 1:3] = 1.0
    batch.entity_token_mask[:, 1, 2:4] = 1.0
    with torch.inference_mode():
        reference, candidate = model(batch), onnx_model(batch)
    for name in ("topic_logits", "sentiment_logits", "ner_logits", "entity_sentiment_logits"):
        ref, cand = getattr(reference, name), getattr(candidate, name)
        assert ref.shape == cand.shape, name
        assert float((ref.softmax(-1) - cand.softmax(-1)).abs().max()) < 0.05, name
    # int8 weights move each sentence vector a little, not its direction
    assert float(torch.nn.functional.cosine_similarity(reference.pooled, candidate.pooled).min()) > 0.98


def test_bench_parity_reports_agreement_per_task(both_models) -> None:  # noqa: ANN001
    from model.data.loaders import load
    from model.data.splits import DatasetSplit
    from model.reports.onnx_bench import compare_on_dataset

    model, onnx_model, tokenizer = both_models
    for fmt, file, task in (("phrasebank", "phrasebank_dev.csv", "sentiment"), ("conll", "conll_dev.txt", "ner"),
                            ("sentfin", "sentfin_dev.csv", "entity-sentiment")):
        split = DatasetSplit(fmt, frozenset({task}), [], load(fmt, FIXTURES / file), {})
        row = compare_on_dataset(model, onnx_model, tokenizer, split, task, progress=False).report(task)
        assert row["n"] == {"sentiment": 4, "ner": 3, "entity-sentiment": 5}[task]
        assert 0.0 <= row["agreement"] <= 1.0 and row["max_abs_prob_diff"] < 0.05
        assert set(row["torch"]) == set(row["onnx"])


def test_predictor_onnx_backend_returns_the_torch_results(exported: tuple[Path, str]) -> None:
    from model.serving.predictor import NoLinker, Predictor

    registry, version = exported
    onnx_predictor = Predictor.load(registry, version, backend="onnx", linker=NoLinker(), threads=1)
    torch_predictor = Predictor.load(registry, version, device="cpu", linker=NoLinker(), threads=1)
    assert isinstance(onnx_predictor.model, OnnxJointModel) and onnx_predictor.version == version
    for ours, reference in zip(onnx_predictor.predict(TEXTS), torch_predictor.predict(TEXTS), strict=True):
        assert len(ours.topic_probs) == len(reference.topic_probs)
        assert max(abs(a - b) for a, b in zip(ours.sentiment_probs, reference.sentiment_probs)) < 0.05
        assert all(0 <= e.start < e.end for e in ours.entities)


def test_predictor_rejects_unknown_backends_and_onnx_on_cuda(exported: tuple[Path, str]) -> None:
    from model.serving.predictor import Predictor

    registry, version = exported
    with pytest.raises(ValueError, match="backend must be"):
        Predictor.load(registry, version, backend="tensorrt")
    with pytest.raises(ValueError, match="CPU only"):
        Predictor.load(registry, version, device="cuda", backend="onnx")


def test_the_worker_loads_the_onnx_backend_when_configured(exported: tuple[Path, str]) -> None:
    from monitor.stream.live_model import registry_loader

    registry, _ = exported  # make_tiny_model promoted it: it is the live version
    load, live_version = registry_loader(registry, "cpu", backend="onnx")
    predictor = load(None)
    assert isinstance(predictor.model, OnnxJointModel) and predictor.version == live_version()
    assert len(predictor.predict(TEXTS)) == len(TEXTS)


def test_the_serving_check_without_dev_data_fails_and_says_where_it_looked(exported: tuple[Path, str],
                                                                           tmp_path: Path) -> None:
    from model.reports.onnx_bench import prepare_serving
    from model.serving.onnx_backend import choose_backend, read_parity_report

    registry, version = exported
    report = prepare_serving(registry, tmp_path / "no-data", version, limit=8, threads=1)
    assert not report["passed"] and "FINSENT_DATA_DIR" in report["reason"]
    assert read_parity_report(registry, version)["reason"] == report["reason"]  # saved next to the export
    assert choose_backend("auto", "cpu", registry, version).backend == "torch"


@pytest.mark.skipif(not (Path(__file__).resolve().parents[3] / "shared" / "datasets" / "ner").is_dir(),
                    reason="needs the shared datasets")
def test_the_serving_check_measures_every_task_on_dev_samples(exported: tuple[Path, str], tmp_path: Path) -> None:
    from model.reports.onnx_bench import prepare_serving
    from model.serving.onnx_backend import PARITY_TASKS, choose_backend, read_parity_report

    registry, version = exported
    data_dir = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    report = prepare_serving(registry, data_dir, version, limit=12, threads=1)
    assert set(report["agreement"]) == set(PARITY_TASKS)
    assert all(0.0 <= value <= 1.0 for value in report["agreement"].values())
    ner_rows = [tasks["ner"] for tasks in report["datasets"].values() if "ner" in tasks]
    assert ner_rows and all(row["n_tokens"] >= row["n"] for row in ner_rows)  # judged per word, not per sentence
    assert report["passed"] == all(value >= report["threshold"] for value in report["agreement"].values())
    assert read_parity_report(registry, version)["agreement"] == report["agreement"]
    assert choose_backend("auto", "cpu", registry, version).backend == ("onnx" if report["passed"] else "torch")


def test_the_worker_hot_swaps_between_int8_versions(tmp_path: Path) -> None:
    """auto on CPU: a promoted version with a passing report is served int8 after the swap, like the first."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from model.serving.onnx_backend import ONNX_DIR, PARITY_TASKS, parity_verdict, write_parity_report
    from model.serving.registry import promote
    from monitor.stream.live_model import LiveModel

    registry = tmp_path / "models"
    first = make_tiny_model(registry, encoder_layers=1)
    second = make_tiny_model(registry, promote=False, encoder_layers=1, seed=1)
    for version in (first, second):  # exported and judged (the verdict written by hand: not under test here)
        ensure_onnx_export(registry, version)
        agreement = {task: 1.0 for task in PARITY_TASKS}
        write_parity_report(registry / version / ONNX_DIR, {"passed": parity_verdict(agreement)[0],
                                                            "reason": "test", "agreement": agreement})
    model = LiveModel.from_registry(registry, "cpu", "auto", check_every_s=0)
    model.load_now()
    assert (model.version, model.backend) == (first, "onnx")
    assert isinstance(model.predictor.model, OnnxJointModel)
    promote(registry, second)

    async def refresh() -> bool:
        with ThreadPoolExecutor(1) as executor:
            return await model.refresh(executor)

    assert asyncio.run(refresh())
    assert (model.version, model.backend) == (second, "onnx")
    assert isinstance(model.predictor.model, OnnxJointModel)
    assert [r.model_version for r in model.predictor.predict(TEXTS)] == [second] * len(TEXTS)
