"""Analysts' corrections as training examples, and how they outrank the base datasets.

Rows of `analyst_labels` (joined to `articles` for the headline the spans point
into) become one `Example` per article, with `source="analyst"` (the shared
sentiment calibration row, the one inference uses) and a higher loss weight.
When an article was corrected several times for a task, the newest correction
wins. A label that cannot be read is skipped and counted, naming the label id
and the field, so one bad row does not stop a nightly run.

`merge_with_base` applies "labels outrank base data": a base example whose
normalised text an analyst labelled loses its label for each task the analyst
labelled (whether it conflicts or agrees: the analyst's example already
carries it, with more weight); a base example left with no label is dropped.
Analysts' examples whose text is in a fixed evaluation (dev) set are held
out, so the evaluation stays honest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.data.examples import EntitySentiment, EntitySpan, Example
from model.data.splits import normalise_text
from model.network.labels import ENTITY_TYPES, SENTIMENT_LABELS, TOPIC_LABELS
from monitor.storage.models import AnalystLabel, Article

log = logging.getLogger(__name__)

ANALYST_SOURCE = "analyst"
DEFAULT_ANALYST_WEIGHT = 3.0  # one correction counts as much as three base examples
# The Example field a label task sets (entities also set entity sentiments when given).
TASK_FIELDS: dict[str, tuple[str, ...]] = {
    "sentiment": ("sentiment",),
    "topic": ("topic",),
    "entities": ("entities", "entity_sentiments"),
    "entity-sentiment": ("entity_sentiments",),
}


class LabelError(ValueError):
    """An analyst label that cannot become a training example; the message names label id and field."""


@dataclass(frozen=True)
class LabelRow:
    """One analyst_labels row with its article's headline (the text its spans point into)."""

    label_id: int
    article_id: str
    task: str
    label: dict[str, Any]
    created_at: datetime
    headline: str


@dataclass
class AnalystExamples:
    examples: list[Example]
    counts: dict[str, int]  # labels used per task
    invalid: list[str] = field(default_factory=list)  # one message per skipped label
    superseded: int = 0  # older corrections of the same article and task
    digest: str = ""  # SHA-256 over the labels used: part of the candidate's data hashes


@dataclass
class MergeReport:
    base: list[Example]  # base training examples after the merge
    analyst: list[Example]  # the analysts' examples to train on (those in an evaluation set held out)
    base_labels_dropped: Counter[str]  # task -> base labels an analyst's label replaced
    base_conflicts: Counter[str]  # of those, labels that disagreed with the analyst
    base_examples_dropped: int  # base examples left with no label
    analyst_held_out: int  # analysts' examples whose text is in an evaluation set


def fetch_label_rows(session: Session, since: datetime | None = None) -> list[LabelRow]:
    """All analyst labels (or those created since `since`), oldest first, with their headlines."""
    statement = (select(AnalystLabel.id, AnalystLabel.article_id, AnalystLabel.task, AnalystLabel.label,
                        AnalystLabel.created_at, Article.headline)
                 .join(Article, Article.id == AnalystLabel.article_id)
                 .order_by(AnalystLabel.created_at, AnalystLabel.id))
    if since is not None:
        statement = statement.where(AnalystLabel.created_at >= since)
    return [LabelRow(*row) for row in session.execute(statement)]


def _sentiment_index(value: object, where: str) -> int:
    if value not in SENTIMENT_LABELS:
        raise LabelError(f"{where}: expected one of {', '.join(SENTIMENT_LABELS)}, got {value!r}")
    return SENTIMENT_LABELS.index(value)


def _spans(row: LabelRow, with_types: bool) -> tuple[list[EntitySpan], list[EntitySentiment]]:
    where = f"analyst label {row.label_id} ({row.task})"
    items = row.label.get("entities")
    if not isinstance(items, list):
        raise LabelError(f"{where}: field 'entities' must be a list, got {items!r}")
    spans, sentiments = [], []
    for index, item in enumerate(items):
        field_name = f"{where}: entities[{index}]"
        if not isinstance(item, dict):
            raise LabelError(f"{field_name}: expected an object, got {item!r}")
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(row.headline)):
            raise LabelError(f"{field_name}: start/end {start!r}/{end!r} are not a span of the "
                             f"{len(row.headline)}-character headline")
        if "text" in item and row.headline[start:end] != item["text"]:
            raise LabelError(f"{field_name}: text {item['text']!r} does not match the headline at "
                             f"{start}:{end} ({row.headline[start:end]!r})")
        if with_types:
            if item.get("type") not in ENTITY_TYPES:
                raise LabelError(f"{field_name}.type: expected one of {', '.join(ENTITY_TYPES)}, "
                                 f"got {item.get('type')!r}")
            spans.append(EntitySpan(start, end, item["type"]))
        if item.get("sentiment") is not None or not with_types:
            sentiments.append(EntitySentiment(start, end, _sentiment_index(item.get("sentiment"),
                                                                           f"{field_name}.sentiment")))
    return spans, sentiments


def label_fields(row: LabelRow) -> dict[str, Any]:
    """The Example fields one label sets, e.g. {"sentiment": 0}; LabelError when unreadable."""
    where = f"analyst label {row.label_id} ({row.task})"
    if row.task == "sentiment":
        return {"sentiment": _sentiment_index(row.label.get("sentiment"), f"{where}: field 'sentiment'")}
    if row.task == "topic":
        topic = row.label.get("topic")
        if not isinstance(topic, int) or isinstance(topic, bool) or not 0 <= topic < len(TOPIC_LABELS):
            raise LabelError(f"{where}: field 'topic' must be a topic id in 0..{len(TOPIC_LABELS) - 1}, "
                             f"got {topic!r}")
        return {"topic": topic}
    if row.task == "entities":
        spans, sentiments = _spans(row, with_types=True)
        return {"entities": spans, "entity_sentiments": sentiments}
    if row.task == "entity-sentiment":
        _, sentiments = _spans(row, with_types=False)
        return {"entity_sentiments": sentiments}
    raise LabelError(f"{where}: field 'task' must be one of {', '.join(TASK_FIELDS)}, got {row.task!r}")


def analyst_examples(rows: Iterable[LabelRow], weight: float = DEFAULT_ANALYST_WEIGHT) -> AnalystExamples:
    """One weighted Example per labelled article; the newest label per (article, task) wins."""
    newest: dict[tuple[str, str], LabelRow] = {}
    superseded = 0
    for row in sorted(rows, key=lambda r: (r.created_at, r.label_id)):
        superseded += (row.article_id, row.task) in newest
        newest[(row.article_id, row.task)] = row
    by_article: dict[str, dict[str, Any]] = {}
    headlines: dict[str, str] = {}
    tasks: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    invalid: list[str] = []
    digest = hashlib.sha256()
    # "entities" before "entity-sentiment": an explicit entity-sentiment label overrides the sentiments in it.
    order = list(TASK_FIELDS)
    for (article_id, task), row in sorted(newest.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1])
                                                                              if kv[0][1] in order else 99)):
        try:
            fields = label_fields(row)
        except LabelError as error:
            log.warning("skipping %s", error)
            invalid.append(str(error))
            continue
        by_article.setdefault(article_id, {}).update(fields)
        headlines[article_id] = row.headline
        tasks.setdefault(article_id, []).append(task)
        counts[task] += 1
        digest.update(json.dumps([row.label_id, article_id, task, row.label], sort_keys=True, default=str).encode())
    examples = [Example(text=headlines[a], source=ANALYST_SOURCE, weight=weight,
                        meta={"article_id": a, "analyst_tasks": tasks[a]}, **fields)
                for a, fields in by_article.items()]
    return AnalystExamples(examples, dict(counts), invalid, superseded, digest.hexdigest())


def _labelled_fields(example: Example) -> set[str]:
    return {name for name in ("sentiment", "topic", "entities", "entity_sentiments")
            if getattr(example, name) is not None}


def merge_with_base(base: Sequence[Example], analyst: Sequence[Example],
                    evaluation_texts: Iterable[str] = ()) -> MergeReport:
    """Base training examples with the analysts' examples outranking them (see the module docstring)."""
    held_out = {normalise_text(text) for text in evaluation_texts}
    kept_analyst = [ex for ex in analyst if normalise_text(ex.text) not in held_out]
    by_text = {normalise_text(ex.text): ex for ex in kept_analyst}
    dropped: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    merged: list[Example] = []
    examples_dropped = 0
    for example in base:
        override = by_text.get(normalise_text(example.text)) if by_text else None
        if override is None:
            merged.append(example)
            continue
        clear: dict[str, Any] = {}  # labelled field -> None, for dataclasses.replace
        for name in _labelled_fields(override) & _labelled_fields(example):
            clear[name] = None
            dropped[name] += 1
            if getattr(example, name) != getattr(override, name):
                conflicts[name] += 1
        remaining = replace(example, **clear)
        if _labelled_fields(remaining):
            merged.append(remaining)
        else:
            examples_dropped += 1
    return MergeReport(merged, kept_analyst, dropped, conflicts, examples_dropped, len(analyst) - len(kept_analyst))
