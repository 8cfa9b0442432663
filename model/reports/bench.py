"""Throughput of the joint model against three single-task BERT-base models, like for like.

    finsent bench model [--device cpu|cuda] [--n 512] [--batch-size N] [--backend torch|onnx] [--json]

Both sides score the same real headlines (`<data_dir>/stream/financial_headlines_stream.csv`)
on the same machine in one run, with the same tokenizer, max length, batch
size and length buckets (`model.serving.predictor.inference_batches` on token
counts, each batch padded to its longest text). Model against model: the
joint side tokenises (with the offsets and word shapes its inputs need) and
runs the joint model, every head's logits; the baseline is three
BERT-base-sized encoders (12 layers, hidden 768, random weights: only timing
matters) with a topic, a sentiment and a token head, i.e. what running one
fine-tuned BERT-base per task would cost; each of the three tokenises and
batches on its own, as separate services would. What the ratios leave out,
on both sides, is the work after the logits (BIO decoding, entity linking,
the event parser and patterns, sentiment steering): the full
`Predictor.predict` of the joint model is timed too (`joint_predictor`), so
that cost is in the report, not in the ratio (the baseline has none of it to
compare with).

Two comparisons, each side timed alone (after a one-batch warm-up) with the
same threads:

- fp32: the joint model in torch fp32 vs the three BERT-base in torch fp32
  (`torch.set_num_threads(threads)` for both);
- int8: the joint model's int8 ONNX Runtime export (the serving path) vs the
  three BERT-base exported to ONNX and quantised the same way
  (`model.serving.onnx_backend.quantize_int8`, into a temp folder, once per
  run), run by the same `make_session` with `threads` intra-op threads (and
  torch on one thread, as in serving). CPU only: skipped on CUDA.

Each side reports its wall and CPU time (`cores_used` = CPU / wall): the
fp32 baseline once ran on one core after the int8 side had been loaded
(docs/model.md, "Speed"). `ratio` is `ratio_int8` with `--backend onnx`,
else `ratio_fp32`; `ratio_kind` names which. The last printed line is one
JSON object; the same object is written to reports/bench-model.json
(bench-model-onnx.json with --backend onnx).
"""

from __future__ import annotations

import csv
import gc
import resource
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import BertConfig, BertModel

from kernel.reports import REPORTS_DIR, write_json_report
from model.network.labels import NER_TAGS, TOPIC_LABELS
from model.serving.predictor import Predictor, available_cores, inference_batches, resolve_device

HEADLINES_FILE = Path("stream") / "financial_headlines_stream.csv"
BERT_BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}


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
    """One BERT-base-sized encoder with one head: the per-task baseline (`config`: smaller, for tests)."""

    def __init__(self, n_outputs: int, token_level: bool, config: dict[str, int] | None = None) -> None:
        super().__init__()
        self.bert = BertModel(BertConfig(**(config or BERT_BASE)), add_pooling_layer=True)
        self.head = nn.Linear(self.bert.config.hidden_size, n_outputs)
        self.token_level = token_level

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        states = output.last_hidden_state if self.token_level else output.pooler_output
        return self.head(states).argmax(-1)


def make_baselines(config: dict[str, int] | None = None) -> list[SingleTaskBert]:
    """Topic, sentiment and NER models, seeded (the weights do not matter, the sizes do)."""
    torch.manual_seed(0)
    return [SingleTaskBert(len(TOPIC_LABELS), False, config).eval(), SingleTaskBert(3, False, config).eval(),
            SingleTaskBert(len(NER_TAGS), True, config).eval()]


def token_batches(tokenizer, texts: list[str], batch_size: int,  # noqa: ANN001
                  max_length: int) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
    """(indices, input_ids, attention_mask) per batch, batched as the Predictor batches (same helper, same
    token counts), each padded to its longest text."""
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    pad_id = tokenizer.pad_token_id or 0
    batches = []
    for indices in inference_batches([len(row) for row in ids], batch_size):
        width = max(len(ids[i]) for i in indices)
        input_ids = np.full((len(indices), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(indices), width), dtype=np.int64)
        for row, i in enumerate(indices):
            input_ids[row, :len(ids[i])] = ids[i]
            mask[row, :len(ids[i])] = 1
        batches.append((indices, input_ids, mask))
    return batches


def _fp32_baseline_pass(models: list[SingleTaskBert], tokenizer, texts: list[str], batch_size: int,  # noqa: ANN001
                        max_length: int, device: torch.device) -> None:
    with torch.inference_mode():
        for model in models:  # each task model tokenises and runs on its own, as separate services would
            for _, input_ids, mask in token_batches(tokenizer, texts, batch_size, max_length):
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    model(torch.from_numpy(input_ids).to(device), torch.from_numpy(mask).to(device)).cpu()


def _joint_model_pass(joint: Predictor, texts: list[str]) -> None:
    """Tokenise as the Predictor does (offsets, word shapes) and run the joint model: every head's logits, no
    decoding after them (the baselines have none)."""
    for _, items in joint.batches(texts):
        joint.forward(items)


def _int8_baseline_pass(sessions: list, tokenizer, texts: list[str], batch_size: int,  # noqa: ANN001
                        max_length: int) -> None:
    for session in sessions:
        for _, input_ids, mask in token_batches(tokenizer, texts, batch_size, max_length):
            session.run(None, {"input_ids": input_ids, "attention_mask": mask})


def export_baseline_int8(model: SingleTaskBert, target_dir: Path, name: str) -> Path:
    """`name`.int8.onnx in `target_dir`: exported like the joint model's article graph (opset, eager
    attention, dynamic batch and sequence axes) and quantised by the same `quantize_int8`."""
    from model.serving.onnx_backend import OPSET, OnnxExportError, quantize_int8

    target_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = target_dir / f"{name}.fp32.onnx"
    input_ids = torch.tensor([[101, 7592, 2088, 2003, 2204, 1012, 102]] * 2)
    mask = torch.ones_like(input_ids)
    mask[1, 5:] = 0
    config = model.bert.config
    previous_attention = getattr(config, "_attn_implementation", None)
    config._attn_implementation = "eager"
    axes = {0: "batch", 1: "sequence"}
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            torch.onnx.export(model.eval(), (input_ids, mask), str(fp32_path),
                              input_names=["input_ids", "attention_mask"], output_names=["labels"],
                              opset_version=OPSET, dynamo=False,
                              dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                            "labels": axes if model.token_level else {0: "batch"}})
    except Exception as error:  # noqa: BLE001 - the exporter raises many types; name the step
        raise OnnxExportError(f"torch.onnx.export of baseline {name} failed: {error}") from error
    finally:
        config._attn_implementation = previous_attention
    int8_path = quantize_int8(fp32_path, target_dir / f"{name}.int8.onnx")
    fp32_path.unlink()
    return int8_path


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_side(run: Callable[[list[str]], Any], texts: list[str], warm_up: list[str], device: torch.device,
              torch_threads: int, **extra: Any) -> dict[str, Any]:
    """Sequences/s of `run(texts)` after `run(warm_up)`, with its wall and CPU time.

    Sets torch's thread count itself: loading the int8 Predictor leaves torch on one thread
    (Predictor.load(backend="onnx") does so for serving), and that setting is process-wide.
    """
    torch.set_num_threads(torch_threads)
    run(warm_up)
    _synchronise(device)
    cpu_started, started = time.process_time(), time.perf_counter()
    run(texts)
    _synchronise(device)
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seq_per_s": round(len(texts) / wall_s, 2), "wall_s": round(wall_s, 2), "cpu_s": round(cpu_s, 2),
            "cores_used": round(cpu_s / wall_s, 2), "torch_threads": torch.get_num_threads(), **extra}


def _untrained():  # noqa: ANN202
    from model.network.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer

    return JointModel(ModelConfig()).eval(), load_tokenizer(default_encoder_path())


def _joint_predictor(registry_dir: Path, version: str | None, backend: str, target: torch.device, threads: int,
                     batch_size: int, tmp: Path) -> Predictor:
    if version is not None:
        predictor = Predictor.load(registry_dir, version, device=target.type, backend=backend, threads=threads)
    else:  # timing does not depend on the weights: an untrained model is just as fast
        model, tokenizer = _untrained()
        if backend == "onnx":
            from model.serving.onnx_backend import OnnxJointModel, export_onnx

            export_onnx(model, tmp / "joint")
            model = OnnxJointModel(tmp / "joint", model.config, model.num_parameters(), threads)
            target = torch.device("cpu")
        predictor = Predictor(model, tokenizer, "untrained", target)
    predictor.batch_size = batch_size
    return predictor


def bench_model(registry_dir: Path, data_dir: Path, device: str = "cpu", n: int = 512,
                batch_size: int | None = None, backend: str = "torch",
                baseline_config: dict[str, int] | None = None) -> dict[str, Any]:
    """Both comparisons (fp32 and int8) in one run; see the module docstring.

    `backend` only picks which ratio is `ratio` (onnx: int8, torch: fp32).
    `baseline_config`: BertConfig sizes of the baselines (default BERT-base; tests pass a tiny one).
    """
    from model.serving.onnx_backend import make_session
    from model.serving.registry import latest_version, live_version

    target = resolve_device(device)
    if backend == "onnx" and target.type != "cpu":
        raise RuntimeError("the int8 ONNX comparison runs on CPU only; use --backend torch with --device cuda")
    threads = available_cores()
    texts = read_headlines(data_dir, n)
    batch_size = batch_size or (256 if target.type == "cuda" else 32)
    warm_up = texts[:batch_size]
    version = live_version(registry_dir) or latest_version(registry_dir)

    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp_name:
        tmp = Path(tmp_name)
        joint = _joint_predictor(registry_dir, version, "torch", target, threads, batch_size, tmp)
        tokenizer, max_length, model_version = joint.tokenizer, joint.max_length, joint.version
        joint_params = joint.model.num_parameters()
        n_batches = len(token_batches(tokenizer, texts, batch_size, max_length))
        fp32: dict[str, Any] = {
            "joint": time_side(lambda batch: _joint_model_pass(joint, batch), texts, warm_up, target, threads),
            "joint_predictor": time_side(joint.predict, texts, warm_up, target, threads)}
        del joint
        gc.collect()

        baselines = [m.to(target) for m in make_baselines(baseline_config)]
        baseline_params = sum(sum(p.numel() for p in m.parameters()) for m in baselines)
        fp32["three_bert_base"] = time_side(
            lambda batch: _fp32_baseline_pass(baselines, tokenizer, batch, batch_size, max_length, target),
            texts, warm_up, target, threads)

        int8: dict[str, Any] | None = None
        if target.type == "cpu":
            started = time.perf_counter()
            paths = [export_baseline_int8(m.cpu(), tmp / "baselines", name)
                     for m, name in zip(baselines, ("topic", "sentiment", "ner"), strict=True)]
            export_s = time.perf_counter() - started
            del baselines
            gc.collect()
            sessions = [make_session(path, threads) for path in paths]
            int8 = {"three_bert_base": time_side(
                lambda batch: _int8_baseline_pass(sessions, tokenizer, batch, batch_size, max_length),
                texts, warm_up, target, 1, ort_intra_op_threads=threads),
                "baseline_export_s": round(export_s, 1),
                "baseline_int8_mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1)}
            del sessions
            gc.collect()
            joint = _joint_predictor(registry_dir, version, "onnx", target, threads, batch_size, tmp)
            int8["joint"] = time_side(lambda batch: _joint_model_pass(joint, batch), texts, warm_up, target, 1,
                                      ort_intra_op_threads=threads)
            int8["joint_predictor"] = time_side(joint.predict, texts, warm_up, target, 1,
                                                ort_intra_op_threads=threads)
            del joint
        else:
            del baselines

    def ratio(side: dict[str, Any] | None) -> float | None:
        return round(side["joint"]["seq_per_s"] / side["three_bert_base"]["seq_per_s"], 2) if side else None

    for side in (fp32, int8):
        if side:
            side["joint_seq_per_s"] = side["joint"]["seq_per_s"]
            side["three_bert_base_seq_per_s"] = side["three_bert_base"]["seq_per_s"]
            # the whole Predictor.predict (decoding, linking, events) against the baselines' logits alone
            side["predictor_ratio"] = round(side["joint_predictor"]["seq_per_s"] / side["three_bert_base_seq_per_s"], 2)
    kind = "int8" if backend == "onnx" else "fp32"
    chosen = int8 if kind == "int8" else fp32
    assert chosen is not None  # int8 is measured on CPU, the only device the onnx backend runs on (checked above)
    return {
        "ratio": ratio(chosen),
        "ratio_kind": kind,
        "ratio_fp32": ratio(fp32),
        "ratio_int8": ratio(int8),
        # the `ratio_kind` side's rates, under the names earlier reports used
        "joint_seq_per_s": chosen["joint_seq_per_s"],
        "three_bert_base_seq_per_s": chosen["three_bert_base_seq_per_s"],
        "fp32": fp32,
        "int8": int8,
        "int8_skipped": None if int8 else "int8 ONNX Runtime runs on CPU only",
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "n": len(texts),
        "batch_size": batch_size,
        "batches_per_pass": n_batches,
        "max_length": max_length,
        "device": target.type,
        "backend": backend,
        "threads": threads,
        "model_version": model_version,
        "joint_params_m": round(joint_params / 1e6, 1),
        "baseline_params_m": round(baseline_params / 1e6, 1),
    }


def write_bench_report(result: dict[str, Any], reports_dir: Path = REPORTS_DIR) -> Path:
    """reports/bench-model.json for the torch path, bench-model-onnx.json for the int8 export."""
    name = "bench-model.json" if result.get("backend", "torch") == "torch" else "bench-model-onnx.json"
    return write_json_report(result, reports_dir / name)
