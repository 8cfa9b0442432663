"""Scores of a JointModel on labelled Examples, per task.

Used by training (dev splits, every epoch) and by `finsent evaluate`:

    finsent evaluate --model live --task sentiment --format phrasebank --path FILE --json

Classification tasks (topic, sentiment, entity-sentiment) report accuracy and
macro-F1 (scikit-learn); NER reports entity-level micro precision/recall/F1
over words (seqeval, CoNLL style). Entity sentiment is scored on the gold
entity spans, so it measures the sentiment head, not the tagger. Events report
per-type precision/recall/F1 of finding the type, their macro-F1 over types,
and the polarity accuracy where gold and prediction agree on the type. Which
tasks exist and how each is judged comes from model/network/tasks.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from kernel.reports import write_json_report
from model.data.examples import Example
from model.network.collate import EncodedText, collate, encode_example, length_buckets
from model.network.features import IGNORE_INDEX
from model.network.labels import NER_TAGS
from model.network.tasks import EVENT_STATES, TASK_SLUGS, TASKS, Task, get_task, tasks_named

TASK_NAMES: tuple[str, ...] = TASK_SLUGS


@dataclass
class TaskPredictions:
    """Gold and predicted labels of one task, aligned."""

    gold: list = field(default_factory=list)  # ints, or per-sentence tag lists for ner
    predicted: list = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)  # max probability (classification tasks)


def labels_task(example: Example, task: Task) -> bool:
    """Whether the example labels the task (an entity-level task needs at least one labelled entity)."""
    value = getattr(example, task.example_field)
    return bool(value) if task.level == "entity" else value is not None


def tasks_of(examples: list[Example]) -> set[str]:
    """The tasks (slugs) at least one example labels."""
    return {task.slug for task in TASKS if any(labels_task(example, task) for example in examples)}


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
    model_tasks = tasks_named(config.tasks)
    for indices in length_buckets([len(e.input_ids) for e in encoded], batch_size):
        items = [encoded[i] for i in indices]
        batch, labels = collate(items, pad_id=tokenizer.pad_token_id or 0)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            output = model(batch.to(device))
        for task in model_tasks:
            logits, gold = output.logits[task.name], labels.target(task.name)
            if task.level == "token":
                for row, item in enumerate(items):
                    if item.ner_tags is not None:
                        _collect_ner(results[task.slug], model, item, logits[row, :len(item.input_ids)])
            elif task.level == "event_type":
                _collect_event_rows(results[task.slug], gold, logits)
            else:
                _collect_classification(results[task.slug], gold.reshape(-1), logits.reshape(-1, logits.shape[-1]))
    return results


def _collect_classification(target: TaskPredictions, gold: torch.Tensor, logits: torch.Tensor) -> None:
    valid = gold != IGNORE_INDEX
    if not bool(valid.any()):
        return
    probs = logits.float().softmax(-1).cpu()[valid.cpu()]
    target.gold.extend(gold[valid].tolist())
    target.predicted.extend(probs.argmax(-1).tolist())
    target.confidence.extend(probs.max(-1).values.tolist())


def _collect_event_rows(target: TaskPredictions, gold: torch.Tensor, logits: torch.Tensor) -> None:
    """One row of EVENT_STATES ids per event-labelled text: (B, n_types) gold, (B, n_types, 4) logits."""
    labelled = (gold != IGNORE_INDEX).all(-1).cpu()
    if not bool(labelled.any()):
        return
    target.gold.extend(gold.cpu()[labelled].tolist())
    target.predicted.extend(logits.float().argmax(-1).cpu()[labelled].tolist())


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


def event_metrics(gold: list[list[int]], predicted: list[list[int]],
                  type_names: tuple[str, ...]) -> dict[str, Any]:
    """Per event type: precision / recall / F1 of finding it; macro-F1 over the types that occur in gold;
    polarity accuracy over the (text, type) pairs both call present."""
    absent = EVENT_STATES.index("absent")
    per_type: dict[str, dict[str, float]] = {}
    agree = both = 0
    for slot, name in enumerate(type_names):
        pairs = [(g[slot], p[slot]) for g, p in zip(gold, predicted)]
        hits = [(g, p) for g, p in pairs if g != absent and p != absent]
        n_gold = sum(g != absent for g, _ in pairs)
        n_predicted = sum(p != absent for _, p in pairs)
        precision = len(hits) / n_predicted if n_predicted else 0.0
        recall = len(hits) / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_type[name] = {"precision": precision, "recall": recall, "f1": f1, "support": n_gold,
                          "predicted": n_predicted}
        both += len(hits)
        agree += sum(g == p for g, p in hits)
    occurring = [m["f1"] for m in per_type.values() if m["support"]]
    return {"macro_f1": sum(occurring) / len(occurring) if occurring else 0.0,
            "polarity_accuracy": agree / both if both else 0.0, "n": len(gold), "per_type": per_type}


def task_metrics(task_slug: str, predictions: TaskPredictions,
                 event_types: tuple[str, ...] | None = None) -> dict[str, Any]:
    task = get_task(task_slug)
    if task.level == "token":
        return ner_metrics(predictions.gold, predictions.predicted)
    if task.level == "event_type":
        from model.network.tasks import EVENT_TYPE_NAMES

        return event_metrics(predictions.gold, predictions.predicted, event_types or EVENT_TYPE_NAMES)
    return classification_metrics(predictions.gold, predictions.predicted, task.labels)


def evaluate_examples(model, tokenizer, examples: list[Example], tasks: set[str] | None = None,  # noqa: ANN001
                      device: torch.device | str = "cpu", batch_size: int = 64) -> dict[str, dict[str, Any]]:
    """Metrics per task for the tasks the examples label (or the given subset)."""
    predictions = predict_labels(model, tokenizer, examples, device, batch_size)
    wanted = tasks_of(examples) if tasks is None else tasks
    return {task: task_metrics(task, predictions[task], model.config.event_types)
            for task in wanted if predictions[task].gold}


def headline_score(task: str, metrics: dict[str, Any]) -> float:
    """The one number a task is judged by (model.network.tasks.Task.metric): entity F1 for ner,
    macro-F1 over types for events, accuracy otherwise."""
    return float(metrics[get_task(task).metric])


def save_confusion_matrix(task: str, predictions: TaskPredictions, path: Path) -> Path:
    """Confusion-matrix PNG (for ner: over word-level tags)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    spec = get_task(task)
    if spec.level == "token":
        gold = [tag for sentence in predictions.gold for tag in sentence]
        predicted = [tag for sentence in predictions.predicted for tag in sentence]
        names = [t for t in NER_TAGS if t in set(gold) | set(predicted)]
    else:
        all_names = spec.labels
        if spec.level == "event_type":  # one row of type slots per text: count every slot
            predictions = TaskPredictions([s for row in predictions.gold for s in row],
                                          [s for row in predictions.predicted for s in row])
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
