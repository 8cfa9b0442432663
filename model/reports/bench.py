"""Throughput of the joint model against three single-task BERT-base models.

    finsent bench model [--device cpu|cuda] [--n 512] [--json]

Both sides score the same real headlines (`<data_dir>/stream/financial_headlines_stream.csv`)
on the same machine in one run, with the same tokenizer, batch size and
length-sorted dynamic padding. The joint side is the full `Predictor.predict`
(tokenisation, one encoder pass, BIO decoding, entity sentiment, linking); the
baseline is three BERT-base-sized encoders (12 layers, hidden 768, random
weights: only timing matters) with a topic, a sentiment and a token head,
i.e. what running one fine-tuned BERT-base per task would cost. The last
printed line is one JSON object; the same object is written to
reports/bench-model.json.
"""

from __future__ import annotations

import csv
import resource
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import BertConfig, BertModel

from model.network.collate import length_buckets
from model.network.labels import NER_TAGS, TOPIC_LABELS
from model.serving.predictor import Predictor, available_cores, resolve_device
from finsent.reports import REPORTS_DIR, write_json_report

from finsent.paths import PROJECT_ROOT
HEADLINES_FILE = Path("stream") / "financial_headlines_stream.csv"


def read_headlines(data_dir: Path, n: int) -> list[str]:
    """`n` headlines spread evenly over the file (all sources and years, not just the first rows)."""
    path = Path(data_dir) / HEADLINES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: headline file missing; set FINSENT_DATA_DIR or run `finsent data fetch`")
    with path.open(encoding="utf-8", newline="") as handle:
        headlines = [row["headline"] for row in csv.DictReader(handle) if row.get("headline")]
    step = max(1, len(headlines) // n)
    return headlines[::step][:n]


class SingleTaskBert(nn.Module):
    """One BERT-base-sized encoder with one head: the per-task baseline."""

    def __init__(self, n_outputs: int, token_level: bool) -> None:
        super().__init__()
        config = BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
        self.bert = BertModel(config, add_pooling_layer=True)
        self.head = nn.Linear(768, n_outputs)
        self.token_level = token_level

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        states = output.last_hidden_state if self.token_level else output.pooler_output
        return self.head(states).argmax(-1)


def _baseline_pass(models: list[SingleTaskBert], tokenizer, texts: list[str], batch_size: int,  # noqa: ANN001
                   device: torch.device) -> None:
    lengths = [len(t) for t in texts]
    for model in models:  # each task model tokenises and runs on its own, as separate services would
        for indices in length_buckets(lengths, batch_size):
            encoded = tokenizer([texts[i] for i in indices], padding=True, truncation=True, max_length=128,
                                return_tensors="pt").to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                model(encoded["input_ids"], encoded["attention_mask"]).cpu()


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_model(registry_dir: Path, data_dir: Path, device: str = "cpu", n: int = 512,
                batch_size: int | None = None, backend: str = "torch") -> dict[str, Any]:
    """Sequences per second of both sides; see the module docstring.

    backend="onnx" times our CPU serving path (the int8 ONNX Runtime export of
    the version) against the same fp32 torch BERT-base baselines.
    """
    target = resolve_device(device)
    threads = available_cores()
    torch.set_num_threads(threads)
    texts = read_headlines(data_dir, n)
    batch_size = batch_size or (256 if target.type == "cuda" else 32)
    from model.serving.registry import latest_version, live_version

    version = live_version(registry_dir) or latest_version(registry_dir)
    if version is None:  # timing does not depend on the weights: an untrained model is just as fast
        from model.network.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer

        predictor = Predictor(JointModel(ModelConfig()), load_tokenizer(default_encoder_path()), "untrained", target)
    else:
        predictor = Predictor.load(registry_dir, version, device=target.type, backend=backend)
    predictor.batch_size = batch_size

    predictor.predict(texts[:batch_size])  # warm-up: first-call allocations, kernel selection
    _synchronise(target)
    started = time.perf_counter()
    predictor.predict(texts)
    _synchronise(target)
    joint_s = time.perf_counter() - started

    torch.manual_seed(0)
    baselines = [SingleTaskBert(len(TOPIC_LABELS), False), SingleTaskBert(3, False),
                 SingleTaskBert(len(NER_TAGS), True)]
    baselines = [m.to(target).eval() for m in baselines]
    with torch.inference_mode():
        _baseline_pass(baselines, predictor.tokenizer, texts[:batch_size], batch_size, target)
        _synchronise(target)
        started = time.perf_counter()
        _baseline_pass(baselines, predictor.tokenizer, texts, batch_size, target)
        _synchronise(target)
        baseline_s = time.perf_counter() - started

    joint_rate, baseline_rate = len(texts) / joint_s, len(texts) / baseline_s
    return {
        "joint_seq_per_s": round(joint_rate, 2),
        "three_bert_base_seq_per_s": round(baseline_rate, 2),
        "ratio": round(joint_rate / baseline_rate, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "n": len(texts),
        "batch_size": batch_size,
        "device": target.type,
        "backend": backend,
        "threads": threads,
        "model_version": predictor.version,
        "joint_params_m": round(predictor.model.num_parameters() / 1e6, 1),
        "baseline_params_m": round(sum(sum(p.numel() for p in m.parameters()) for m in baselines) / 1e6, 1),
    }


def write_bench_report(result: dict[str, Any], reports_dir: Path = REPORTS_DIR) -> Path:
    """reports/bench-model.json for the torch path, bench-model-onnx.json for the int8 export."""
    name = "bench-model.json" if result.get("backend", "torch") == "torch" else "bench-model-onnx.json"
    return write_json_report(result, reports_dir / name)
