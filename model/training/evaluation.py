"""Scores of a JointModel on labelled Examples, per task.

Used by training (dev splits, every epoch) and by `finsent evaluate`:

    finsent evaluate --model live --task sentiment --format phrasebank --path FILE --json

Classification tasks (topic, sentiment, entity-sentiment) report accuracy and
macro-F1 (scikit-learn); NER reports entity-level micro precision/recall/F1
over words (seqeval, CoNLL style). Entity sentiment is scored on the gold
entity spans, so it measures the sentiment head, not the tagger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.network.collate import EncodedText, collate, encode_example, length_buckets
from model.data.examples import Example
from model.network.features import IGNORE_INDEX
from model.network.labels import NER_TAGS, SENTIMENT_LABELS, TOPIC_LABELS
from finsent.reports import write_json_report

TASK_NAMES: tuple[str, ...] = ("topic", "sentiment", "ner", "entity-sentiment")


@dataclass
class TaskPredictions:
    """Gold and predicted labels of one task, aligned."""

    gold: list = field(default_factory=list)  # ints, or per-sentence tag lists for ner
    predicted: list = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)  # max probability (classification tasks)


def tasks_of(examples: list[Example]) -> set[str]:
    """The tasks at least one example labels."""
    tasks = set()
    for example in examples:
        if example.topic is not None:
            tasks.add("topic")
        if example.sentiment is not None:
            tasks.add("sentiment")
        if example.entities is not None:
            tasks.add("ner")
        if example.entity_sentiments:
            tasks.add("entity-sentiment")
    return tasks


@torch.inference_mode()
def predict_labels(model, tokenizer, examples: list[Example], device: torch.device | str = "cpu",  # noqa: ANN001
                   batch_size: int = 64, use_source_offsets: bool = True) -> dict[str, TaskPredictions]:
    """Run the model once over `examples`; collect gold/predicted pairs for every labelled task.

    With `use_source_offsets`, each example's dataset calibration row is applied
    to sentiment (its dev numbers are then comparable to single-dataset models).
    """
    model.eval()
    device = torch.device(device)
    config = model.config
    encoded = [encode_example(tokenizer, ex, config.source_id(ex.source) if use_source_offsets else 0,
                              config.max_length) for ex in examples]
    results = {task: TaskPredictions() for task in TASK_NAMES}
    for indices in length_buckets([len(e.input_ids) for e in encoded], batch_size):
        items = [encoded[i] for i in indices]
        batch, labels = collate(items, pad_id=tokenizer.pad_token_id or 0)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            output = model(batch.to(device))
        _collect_classification(results["topic"], labels.topic, output.topic_logits)
        _collect_classification(results["sentiment"], labels.sentiment, output.sentiment_logits)
        _collect_classification(results["entity-sentiment"], labels.entity_sentiment.reshape(-1),
                                output.entity_sentiment_logits.reshape(-1, output.entity_sentiment_logits.shape[-1]))
        for row, item in enumerate(items):
            if item.ner_tags is not None:
                _collect_ner(results["ner"], model, item, output.ner_logits[row, :len(item.input_ids)])
    return results


def _collect_classification(target: TaskPredictions, gold: torch.Tensor, logits: torch.Tensor) -> None:
    valid = gold != IGNORE_INDEX
    if not bool(valid.any()):
        return
    probs = logits.float().softmax(-1).cpu()[valid.cpu()]
    target.gold.extend(gold[valid].tolist())
    target.predicted.extend(probs.argmax(-1).tolist())
    target.confidence.extend(probs.max(-1).values.tolist())


def _collect_ner(target: TaskPredictions, model, item: EncodedText, logits: torch.Tensor) -> None:  # noqa: ANN001
    positions = [i for i, first in enumerate(item.label_positions) if first]
    target.gold.append([NER_TAGS[item.ner_tags[i]] for i in positions])  # type: ignore[index]
    target.predicted.append([NER_TAGS[t] for t in model.entity_tagger.decode(logits[positions].float().cpu())])


def _plain(value: Any) -> Any:
    """numpy scalars inside scikit-learn/seqeval reports -> Python numbers, so the report is JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def classification_metrics(gold: list[int], predicted: list[int], names: tuple[str, ...]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    present = sorted(set(gold) | set(predicted))
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, labels=present, average="macro", zero_division=0)),
        "n": len(gold),
        "per_class": _plain(classification_report(gold, predicted, labels=present,
                                                  target_names=[names[i] for i in present],
                                                  output_dict=True, zero_division=0)),
    }


def ner_metrics(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    return {
        "f1": float(f1_score(gold, predicted, zero_division=0)),
        "precision": float(precision_score(gold, predicted, zero_division=0)),
        "recall": float(recall_score(gold, predicted, zero_division=0)),
        "n": len(gold),
        "per_class": _plain(classification_report(gold, predicted, output_dict=True, zero_division=0)),
    }


def task_metrics(task: str, predictions: TaskPredictions) -> dict[str, Any]:
    if task == "ner":
        return ner_metrics(predictions.gold, predictions.predicted)
    names = TOPIC_LABELS if task == "topic" else SENTIMENT_LABELS
    return classification_metrics(predictions.gold, predictions.predicted, names)


def evaluate_examples(model, tokenizer, examples: list[Example], tasks: set[str] | None = None,  # noqa: ANN001
                      device: torch.device | str = "cpu", batch_size: int = 64) -> dict[str, dict[str, Any]]:
    """Metrics per task for the tasks the examples label (or the given subset)."""
    predictions = predict_labels(model, tokenizer, examples, device, batch_size)
    wanted = tasks_of(examples) if tasks is None else tasks
    return {task: task_metrics(task, predictions[task]) for task in wanted if predictions[task].gold}


def headline_score(task: str, metrics: dict[str, Any]) -> float:
    """The one number a task is judged by: entity F1 for ner, accuracy otherwise."""
    return float(metrics["f1"] if task == "ner" else metrics["accuracy"])


def save_confusion_matrix(task: str, predictions: TaskPredictions, path: Path) -> Path:
    """Confusion-matrix PNG (for ner: over word-level tags)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    if task == "ner":
        gold = [tag for sentence in predictions.gold for tag in sentence]
        predicted = [tag for sentence in predictions.predicted for tag in sentence]
        names = [t for t in NER_TAGS if t in set(gold) | set(predicted)]
    else:
        all_names = TOPIC_LABELS if task == "topic" else SENTIMENT_LABELS
        present = sorted(set(predictions.gold) | set(predictions.predicted))
        gold = [all_names[i] for i in predictions.gold]
        predicted = [all_names[i] for i in predictions.predicted]
        names = [all_names[i] for i in present]
    size = max(5.0, 0.45 * len(names) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(gold, predicted, labels=names, ax=axes, xticks_rotation="vertical",
                                            colorbar=False)
    axes.set_title(f"{task} confusion matrix")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_report(report: dict[str, Any], path: Path) -> Path:
    return write_json_report(report, path)
