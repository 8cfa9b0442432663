"""Parity and speed of the int8 ONNX Runtime backend against the torch model.

    finsent bench onnx [--limit N] [--n 512] [--threads N] [--json]

Parity: both backends score the same dev examples (the same batches, with each
dataset's sentiment calibration row, as the dev numbers are computed), and
the report gives per dataset and task the agreement rate of the predicted
labels (sentiment, topic, entity sentiment; for NER the whole decoded tag
sequence of a sentence must match), the largest absolute difference of any
class probability, and each backend's own dev metric. Speed: the full
`Predictor.predict` of both backends on real stream headlines, same threads,
same batches, after a warm-up. The last printed line is one JSON object; the
full report is written to reports/bench-onnx.json.

The serving check (`prepare_serving`, run by `finsent models export` and
`finsent models ensure`) reuses the same comparison on a seeded sample of
each dev split and writes `<version>/onnx/parity.json`: per task the label
agreement pooled over its datasets, where NER counts word-level tags (a
sentence of 30 words with one differing tag is 29/30 agreement, not a miss;
the whole-sentence rate is kept beside it). FINSENT_MODEL_BACKEND=auto serves
the export only when every task reaches model.serving.onnx_backend.PARITY_THRESHOLD.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from kernel.paths import PROJECT_ROOT
from kernel.reports import write_json_report
from model.data.examples import Example
from model.data.splits import DatasetSplit
from model.network.collate import collate, encode_example, length_buckets
from model.network.features import IGNORE_INDEX
from model.network.labels import NER_TAGS
from model.training.evaluation import TaskPredictions, task_metrics

REPORT_PATH = PROJECT_ROOT / "reports" / "bench-onnx.json"
# dataset -> the task the parity check reads from it
PARITY_LIMIT = 600  # dev examples per dataset for the serving check: ~1 min on 2 cores, +-0.01 at 0.97
# (dataset, task slug): events are compared on the topic tweets (earnings, analyst and deal news) whether or
# not a text is event-labelled: the check is agreement between backends, not accuracy
PARITY_TASKS: tuple[tuple[str, str], ...] = (
    ("phrasebank", "sentiment"), ("twitter_sentiment", "sentiment"), ("twitter_topic", "topic"), ("conll", "ner"),
    ("finer_ord", "ner"), ("sentfin", "entity-sentiment"), ("twitter_topic", "events"))


@dataclass
class TaskParity:
    """Both backends' predictions of one task on one dataset, and how far apart their probabilities are."""

    reference: TaskPredictions = field(default_factory=TaskPredictions)  # torch
    candidate: TaskPredictions = field(default_factory=TaskPredictions)  # onnx
    max_abs_prob_diff: float = 0.0

    def report(self, task: str) -> dict[str, Any]:
        pairs = list(zip(self.reference.predicted, self.candidate.predicted))
        agreement = sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0
        headline = {"ner": ("f1", "precision", "recall"), "events": ()}.get(task, ("accuracy", "macro_f1"))
        scores = {}
        for name, predictions in (("torch", self.reference), ("onnx", self.candidate)):
            if headline:  # events: no gold here, only the two backends' agreement
                metrics = task_metrics(task, predictions)
                scores[name] = {k: round(metrics[k], 4) for k in headline}
        extra = {}
        if task == "ner":  # word-level tags: what the serving check compares for NER
            tokens = [(a, b) for ref, cand in pairs for a, b in zip(ref, cand, strict=True)]
            extra["token_agreement"] = round(sum(a == b for a, b in tokens) / len(tokens), 4) if tokens else 0.0
            extra["n_tokens"] = len(tokens)
        return {"n": len(pairs), "agreement": round(agreement, 4), **extra,
                "max_abs_prob_diff": round(self.max_abs_prob_diff, 5),
                **scores}


def version_parity_tasks(config) -> list[tuple[str, str]]:  # noqa: ANN001 - a ModelConfig
    """The (dataset, task) pairs of PARITY_TASKS for the tasks this version has."""
    from model.serving.onnx_backend import parity_tasks

    wanted = set(parity_tasks(config))
    return [(name, task) for name, task in PARITY_TASKS if task in wanted]


def _sample(examples: Sequence[Example], limit: int | None) -> list[Example]:
    """Up to `limit` examples, a seeded sample (dev files can be sorted by label)."""
    if limit is None or len(examples) <= limit:
        return list(examples)
    return random.Random(0).sample(list(examples), limit)


def _classification(parity: TaskParity, gold: torch.Tensor, reference: torch.Tensor, candidate: torch.Tensor) -> None:
    valid = gold != IGNORE_INDEX
    if not bool(valid.any()):
        return
    p_ref, p_cand = reference.float().softmax(-1)[valid], candidate.float().softmax(-1)[valid]
    parity.max_abs_prob_diff = max(parity.max_abs_prob_diff, float((p_ref - p_cand).abs().max()))
    for target, probs in ((parity.reference, p_ref), (parity.candidate, p_cand)):
        target.gold.extend(gold[valid].tolist())
        target.predicted.extend(probs.argmax(-1).tolist())


def _event_rows(parity: TaskParity, reference: torch.Tensor, candidate: torch.Tensor) -> None:
    """Events: a text agrees when both backends give every event-type slot the same state."""
    p_ref, p_cand = reference.float().softmax(-1), candidate.float().softmax(-1)  # (B, K, 4)
    parity.max_abs_prob_diff = max(parity.max_abs_prob_diff, float((p_ref - p_cand).abs().max()))
    for target, probs in ((parity.reference, p_ref), (parity.candidate, p_cand)):
        rows = probs.argmax(-1).tolist()
        target.gold.extend(rows)
        target.predicted.extend(rows)


@torch.inference_mode()
def compare_on_dataset(torch_model, onnx_model, tokenizer, split: DatasetSplit, task: str,  # noqa: ANN001
                       limit: int | None = None, batch_size: int = 32, progress: bool = True) -> TaskParity:
    """Run both backends over one dataset's dev split, batch by identical batch."""
    examples = _sample(split.dev, limit)
    config = torch_model.config
    encoded = [encode_example(tokenizer, e, config.source_id(e.source), config.max_length) for e in examples]
    parity = TaskParity()
    batches = length_buckets([len(e.input_ids) for e in encoded], batch_size)
    for indices in tqdm(batches, desc=f"parity {split.name}", disable=not progress, leave=False):
        items = [encoded[i] for i in indices]
        batch, labels = collate(items, pad_id=tokenizer.pad_token_id or 0)
        reference, candidate = torch_model(batch), onnx_model(batch)
        if task == "events":
            _event_rows(parity, reference.event_logits, candidate.event_logits)
        elif task == "topic":
            _classification(parity, labels.topic, reference.topic_logits, candidate.topic_logits)
        elif task == "sentiment":
            _classification(parity, labels.sentiment, reference.sentiment_logits, candidate.sentiment_logits)
        elif task == "entity-sentiment":
            _classification(parity, labels.entity_sentiment.reshape(-1),
                            reference.entity_sentiment_logits.reshape(-1, 3),
                            candidate.entity_sentiment_logits.reshape(-1, 3))
        else:
            for row, item in enumerate(items):
                if item.ner_tags is None:
                    continue
                positions = [i for i, first in enumerate(item.label_positions) if first]
                gold = [NER_TAGS[item.ner_tags[i]] for i in positions]
                logits_ref = reference.ner_logits[row, positions].float()
                logits_cand = candidate.ner_logits[row, positions].float()
                if positions:
                    diff = (logits_ref.softmax(-1) - logits_cand.softmax(-1)).abs().max()
                    parity.max_abs_prob_diff = max(parity.max_abs_prob_diff, float(diff))
                for target, model, logits in ((parity.reference, torch_model, logits_ref),
                                              (parity.candidate, onnx_model, logits_cand)):
                    target.gold.append(gold)
                    target.predicted.append([NER_TAGS[t] for t in model.entity_tagger.decode(logits)])
    return parity


def time_predictor(predictor, texts: list[str], batch_size: int) -> float:  # noqa: ANN001
    """Sequences per second of the full Predictor.predict, after a one-batch warm-up."""
    predictor.predict(texts[:batch_size], batch_size=batch_size)
    started = time.perf_counter()
    predictor.predict(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def bench_onnx(registry_dir: Path, data_dir: Path, version: str | None = None,
               corpus: dict[str, DatasetSplit] | None = None, limit: int | None = None, n: int = 512,
               batch_size: int = 32, threads: int = 1, progress: bool = True) -> dict[str, Any]:
    """Export (if needed) the version, compare the backends on the dev sets, time both; the full report."""
    from model.data.splits import available_datasets, load_corpus
    from model.reports.bench import read_headlines
    from model.serving.onnx_backend import MODEL_FILE, OnnxJointModel, ensure_onnx_export
    from model.serving.predictor import Predictor, default_linker
    from model.serving.registry import WEIGHTS_FILE, load_model, resolve_version, version_dir

    torch.set_num_threads(threads)
    version = resolve_version(Path(registry_dir), version)
    torch_model, tokenizer = load_model(Path(registry_dir), version)
    export_started = time.perf_counter()
    onnx_dir = ensure_onnx_export(Path(registry_dir), version, torch_model)
    export_s = time.perf_counter() - export_started
    onnx_model = OnnxJointModel(onnx_dir, torch_model.config, torch_model.num_parameters(), threads)
    if corpus is None:
        present = {d.name for d in available_datasets(Path(data_dir))}
        corpus = load_corpus(Path(data_dir), sorted({name for name, _ in PARITY_TASKS if name in present}))

    parity: dict[str, dict[str, Any]] = {}
    by_task: dict[str, list[tuple[int, float, float]]] = {}
    for name, task in version_parity_tasks(torch_model.config):
        if name not in corpus:
            continue
        result = compare_on_dataset(torch_model, onnx_model, tokenizer, corpus[name], task, limit, batch_size, progress)
        parity.setdefault(name, {})[task] = result.report(task)
        row = parity[name][task]
        by_task.setdefault(task, []).append((row["n"], row["agreement"], row["max_abs_prob_diff"]))

    texts = read_headlines(Path(data_dir), n)
    linker = default_linker()
    torch_predictor = Predictor(torch_model, tokenizer, version, torch.device("cpu"), linker=linker)
    onnx_predictor = Predictor(onnx_model, tokenizer, version, torch.device("cpu"), linker=linker)
    torch_rate = time_predictor(torch_predictor, texts, batch_size)
    onnx_rate = time_predictor(onnx_predictor, texts, batch_size)
    path = version_dir(Path(registry_dir), version)
    return {
        "bench": "onnx",
        "model_version": version,
        "agreement": {task: round(sum(n * a for n, a, _ in rows) / max(1, sum(n for n, _, _ in rows)), 4)
                      for task, rows in by_task.items()},
        "max_abs_prob_diff": round(max([d for rows in by_task.values() for _, _, d in rows] + [0.0]), 5),
        "torch_seq_per_s": round(torch_rate, 2),
        "onnx_int8_seq_per_s": round(onnx_rate, 2),
        "speedup": round(onnx_rate / torch_rate, 2),
        "n_headlines": len(texts),
        "batch_size": batch_size,
        "threads": threads,
        "torch_weights_mb": round((path / WEIGHTS_FILE).stat().st_size / 1e6, 1),
        "onnx_int8_mb": round((onnx_dir / MODEL_FILE).stat().st_size / 1e6, 1),
        "export_s": round(export_s, 1),
        "dev_limit_per_dataset": limit,
        "parity": parity,
    }


def write_report(report: dict[str, Any], path: Path = REPORT_PATH) -> Path:
    return write_json_report(report, path)


def serving_agreement(parity: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Per task, the agreement the serving check judges, pooled over datasets weighted by size: label
    agreement for sentence-level tasks and entity sentiment, word-level tag agreement for NER."""
    pooled: dict[str, list[tuple[int, float]]] = {}
    for tasks in parity.values():
        for task, row in tasks.items():
            weight, value = ((row["n_tokens"], row["token_agreement"]) if task == "ner"
                             else (row["n"], row["agreement"]))
            if weight:
                pooled.setdefault(task, []).append((weight, value))
    return {task: round(sum(w * v for w, v in rows) / sum(w for w, _ in rows), 4) for task, rows in pooled.items()}


def prepare_serving(registry_dir: Path, data_dir: Path, version: str, limit: int = PARITY_LIMIT,
                    threads: int | None = None) -> dict[str, Any]:
    """Export `version` to int8 (if not yet), compare it with torch on dev samples, and save the verdict
    as `<version>/onnx/parity.json` (what FINSENT_MODEL_BACKEND=auto reads). Returns the report."""
    from datetime import UTC, datetime

    from model.data.splits import available_datasets, load_corpus
    from model.serving.onnx_backend import (
        PARITY_THRESHOLD,
        OnnxJointModel,
        ensure_onnx_export,
        parity_tasks,
        parity_verdict,
        write_parity_report,
    )
    from model.serving.predictor import available_cores
    from model.serving.registry import load_model

    threads = threads or available_cores()
    torch.set_num_threads(threads)
    started = time.perf_counter()
    torch_model, tokenizer = load_model(Path(registry_dir), version)
    onnx_dir = ensure_onnx_export(Path(registry_dir), version, torch_model)
    onnx_model = OnnxJointModel(onnx_dir, torch_model.config, torch_model.num_parameters(), threads)
    present = {d.name for d in available_datasets(Path(data_dir))} if Path(data_dir).is_dir() else set()
    corpus = (load_corpus(Path(data_dir), sorted({name for name, _ in PARITY_TASKS if name in present}))
              if present else {})
    parity: dict[str, dict[str, Any]] = {}
    for name, task in version_parity_tasks(torch_model.config):
        if name in corpus:
            parity.setdefault(name, {})[task] = compare_on_dataset(
                torch_model, onnx_model, tokenizer, corpus[name], task, limit, progress=False).report(task)
    agreement = serving_agreement(parity)
    passed, reason = parity_verdict(agreement, required=parity_tasks(torch_model.config))
    if not corpus:
        reason = f"no dev data in {data_dir} (FINSENT_DATA_DIR) to check the export against torch"
    report = {"model_version": version, "passed": passed, "reason": reason, "threshold": PARITY_THRESHOLD,
              "agreement": agreement,
              "measure": "label agreement with torch per task; NER: word-level BIO tags (whole sentences in "
                         "datasets.*.ner.agreement)",
              "limit_per_dataset": limit, "datasets": parity, "duration_s": round(time.perf_counter() - started, 1),
              "created_at": datetime.now(UTC).isoformat()}
    write_parity_report(onnx_dir, report)
    return report
