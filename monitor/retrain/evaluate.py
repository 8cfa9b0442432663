"""Judge a candidate and the live model on the same data: fixed dev sets and recent traffic.

Dev sets: the gate scores both models on the same slice of each dataset's dev
split. Training picks its best checkpoint on the first `selection_cap` dev
examples, so where a dev split is large enough the gate uses the examples
after those (a slice the candidate was not selected on); otherwise the whole
dev split, flagged `overlaps_selection` in the record.

Traffic: the most recent stored articles, scored by both models: how often
they agree (sentiment label, topic), and where an analyst labelled the
article, each model's accuracy. Analysts' labels are also training data, so
the candidate's traffic accuracy is optimistic; it is reported, not gated on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.data.examples import Example
from model.network.labels import SENTIMENT_LABELS
from model.network.results import ArticleResult
from monitor.storage.models import AnalystLabel, Article, ModelOutput

MIN_UNSEEN_DEV = 50  # fewer unseen dev examples than this: gate on the whole dev split instead


@dataclass
class EvaluationSets:
    sets: dict[str, list[Example]]  # dataset -> the examples both models are scored on
    overlaps_selection: list[str]  # datasets whose gate slice overlaps the checkpoint-selection slice


def gate_evaluation_sets(dev_splits: Mapping[str, Sequence[Example]], selection_cap: int | None,
                         eval_cap: int | None) -> EvaluationSets:
    """Per dataset, the fixed dev slice the gate scores (see the module docstring)."""
    sets: dict[str, list[Example]] = {}
    overlapping: list[str] = []
    for name, dev in dev_splits.items():
        unseen = list(dev[selection_cap:]) if selection_cap else []
        chosen = unseen if len(unseen) >= MIN_UNSEEN_DEV else list(dev)
        if chosen is not unseen and dev:
            overlapping.append(name)
        if chosen:
            sets[name] = chosen[:eval_cap] if eval_cap else chosen
    return EvaluationSets(sets, overlapping)


def task_scores(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, float]:
    """dataset -> task -> metrics  =>  task -> mean headline score over the datasets that label it."""
    from model.training.evaluation import headline_score

    per_task: dict[str, list[float]] = {}
    for tasks in metrics.values():
        for task, values in tasks.items():
            per_task.setdefault(task, []).append(headline_score(task, dict(values)))
    return {task: fmean(values) for task, values in sorted(per_task.items())}


def evaluate_model(model, tokenizer, sets: Mapping[str, list[Example]], device: str = "cpu"  # noqa: ANN001
                   ) -> dict[str, dict[str, dict[str, Any]]]:
    """dataset -> task -> metrics of one model (model.training.loop.evaluate_dev, the loop's own evaluation)."""
    import torch

    from model.training.loop import evaluate_dev

    metrics, _ = evaluate_dev(model, tokenizer, dict(sets), torch.device(device))
    return metrics


# --- recent traffic ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrafficArticle:
    article_id: str
    headline: str
    labels: dict[str, Any] = field(default_factory=dict)  # task -> analyst's label (sentiment name, topic id)


def recent_traffic(session: Session, limit: int) -> list[TrafficArticle]:
    """The `limit` most recently published scored articles, with their newest sentiment/topic labels."""
    rows = session.execute(
        select(Article.id, Article.headline)
        .where(select(ModelOutput.article_id).where(ModelOutput.article_id == Article.id).exists())
        .order_by(Article.published_at.desc(), Article.id).limit(limit)).all()
    if not rows:
        return []
    labels: dict[str, dict[str, Any]] = {}
    for article_id, task, label in session.execute(
            select(AnalystLabel.article_id, AnalystLabel.task, AnalystLabel.label)
            .where(AnalystLabel.article_id.in_([r.id for r in rows]), AnalystLabel.task.in_(["sentiment", "topic"]))
            .order_by(AnalystLabel.created_at, AnalystLabel.id)):
        value = label.get(task)
        if (task == "sentiment" and value in SENTIMENT_LABELS) or (task == "topic" and isinstance(value, int)):
            labels.setdefault(article_id, {})[task] = value  # newest wins (ordered oldest first)
    return [TrafficArticle(r.id, r.headline, labels.get(r.id, {})) for r in rows]


def compare_on_traffic(traffic: Sequence[TrafficArticle], live: Callable[[list[str]], list[ArticleResult]] | None,
                       candidate: Callable[[list[str]], list[ArticleResult]]) -> dict[str, Any]:
    """Agreement between the two models and their accuracy on the analyst-labelled part of `traffic`."""
    if not traffic:
        return {"articles": 0}
    texts = [t.headline for t in traffic]
    new = candidate(texts)
    old = live(texts) if live is not None else None
    report: dict[str, Any] = {"articles": len(traffic)}
    if old is not None:
        report["sentiment_agreement"] = fmean(a.sentiment_label == b.sentiment_label for a, b in zip(old, new))
        report["topic_agreement"] = fmean(a.topic == b.topic for a, b in zip(old, new))
    for task, predicted_of in (("sentiment", lambda r: r.sentiment_label), ("topic", lambda r: r.topic)):
        labelled = [i for i, t in enumerate(traffic) if task in t.labels]
        if not labelled:
            continue
        report[f"{task}_labelled"] = len(labelled)
        report[f"{task}_accuracy_candidate"] = fmean(predicted_of(new[i]) == traffic[i].labels[task] for i in labelled)
        if old is not None:
            report[f"{task}_accuracy_live"] = fmean(predicted_of(old[i]) == traffic[i].labels[task] for i in labelled)
    return report
