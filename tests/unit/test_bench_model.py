"""`finsent bench model`: both ratios in the report, the baselines batched like the Predictor, and an
ONNX Runtime session that leaves the process's CPU affinity and torch threads alone. No timing assertions."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from model.reports.bench import bench_model, time_side, token_batches, write_bench_report
from model.serving.onnx_backend import make_session
from model.serving.predictor import Predictor
from model.testing import make_tiny_model

TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}
HEADLINES = [
    "Apple beats estimates while Intel misses",
    "Fed holds rates",
    "Shares of Tesla Inc fell 5% in New York on Monday after the delivery report disappointed analysts",
    "Goldman Sachs upgrades Nvidia to buy",
    "Oil prices climb as OPEC cuts output",
    "Microsoft to acquire gaming studio for $2 billion",
    "Pfizer drug fails late-stage trial",
    "Walmart raises full-year guidance",
    "Boeing shares slide after new safety probe",
    "Amazon Q3 EPS $1.20 vs $1.10 est",
]
SIDE_FIELDS = {"seq_per_s", "wall_s", "cpu_s", "cores_used", "torch_threads"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    registry = root / "models"
    make_tiny_model(registry, encoder_layers=1)
    stream = root / "data" / "stream"
    stream.mkdir(parents=True)
    with (stream / "financial_headlines_stream.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["headline"])
        writer.writeheader()
        writer.writerows({"headline": h} for h in HEADLINES)
    return registry, root / "data"


def test_report_has_both_ratios_and_names_the_one_in_ratio(setup: tuple[Path, Path], tmp_path: Path) -> None:
    registry, data_dir = setup
    threads = torch.get_num_threads()
    result = bench_model(registry, data_dir, n=8, batch_size=4, backend="onnx", baseline_config=TINY_BERT)
    assert result["ratio_kind"] == "int8" and result["ratio"] == result["ratio_int8"]
    assert result["ratio_fp32"] > 0 and result["ratio_int8"] > 0 and result["int8_skipped"] is None
    for kind in ("fp32", "int8"):
        side = result[kind]
        assert SIDE_FIELDS <= set(side["joint"]) and SIDE_FIELDS <= set(side["three_bert_base"])
        assert side["joint_seq_per_s"] == side["joint"]["seq_per_s"]
        assert result[f"ratio_{kind}"] == round(side["joint_seq_per_s"] / side["three_bert_base_seq_per_s"], 2)
        # the whole Predictor (decoding, linking, events) is reported beside the model-against-model ratio
        assert SIDE_FIELDS <= set(side["joint_predictor"])
        assert side["predictor_ratio"] == round(side["joint_predictor"]["seq_per_s"]
                                                / side["three_bert_base_seq_per_s"], 2)
    # same threads on both sides of each comparison
    assert result["fp32"]["joint"]["torch_threads"] == result["fp32"]["three_bert_base"]["torch_threads"] \
        == result["threads"]
    assert result["int8"]["joint"]["ort_intra_op_threads"] == result["int8"]["three_bert_base"][
        "ort_intra_op_threads"] == result["threads"]
    assert result["int8"]["baseline_int8_mb"] > 0
    assert result["joint_seq_per_s"] == result["int8"]["joint_seq_per_s"]  # compat fields: the named side
    assert {"n", "batch_size", "batches_per_pass", "threads", "model_version", "peak_rss_mb"} <= set(result)
    assert result["n"] == 8 and result["batches_per_pass"] == 2
    path = write_bench_report(result, tmp_path)
    assert path.name == "bench-model-onnx.json" and json.loads(path.read_text())["ratio_kind"] == "int8"
    torch.set_num_threads(threads)


def test_baselines_get_the_predictors_batches(setup: tuple[Path, Path]) -> None:
    registry, _ = setup
    predictor = Predictor.load(registry, device="cpu")
    seen: list[list[str]] = []
    original = predictor._predict_batch
    predictor._predict_batch = lambda items: seen.append([i.text for i in items]) or original(items)  # type: ignore[method-assign]
    predictor.predict(HEADLINES, batch_size=3)
    batches = token_batches(predictor.tokenizer, HEADLINES, 3, predictor.max_length)
    assert [[HEADLINES[i] for i in indices] for indices, _, _ in batches] == seen
    for _, input_ids, mask in batches:  # padded to the longest text of the batch, like collate
        assert input_ids.shape == mask.shape and mask.sum(1).max() == input_ids.shape[1]


def test_an_onnx_session_leaves_affinity_and_torch_threads_alone(tmp_path: Path) -> None:
    path = tmp_path / "linear.onnx"
    torch.onnx.export(torch.nn.Linear(8, 2).eval(), (torch.zeros(2, 8),), str(path), input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    affinity, threads = os.sched_getaffinity(0), torch.get_num_threads()
    session = make_session(path, max(2, len(affinity)))
    session.run(None, {"x": np.zeros((3, 8), dtype=np.float32)})
    assert os.sched_getaffinity(0) == affinity
    assert torch.get_num_threads() == threads


def test_each_side_sets_its_own_torch_threads() -> None:
    """Predictor.load(backend="onnx") puts torch on one thread process-wide; a side timed afterwards must
    not inherit that (the cause of the fp32 baseline running on one core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    side = time_side(lambda batch: None, ["a", "b"], ["a"], torch.device("cpu"), 2)
    assert side["torch_threads"] == 2 and side["seq_per_s"] > 0
    torch.set_num_threads(threads)
