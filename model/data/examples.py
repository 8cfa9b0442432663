"""The one normalised training/evaluation example that every loader produces.

Each dataset labels only some tasks; a task's field is None when the dataset
does not label it, and the training loss for that task is masked out.
Entities are character spans over `text` (the original, cased text), so the
tokenizer's offsets can turn them into BIO tags for any encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EntitySpan:
    start: int  # character offset in Example.text, inclusive
    end: int  # exclusive
    label: str  # ORG | PER | LOC | MISC


@dataclass(frozen=True)
class EntitySentiment:
    start: int
    end: int
    sentiment: int  # index into model.network.labels.SENTIMENT_LABELS


@dataclass
class Example:
    text: str
    source: str  # dataset name, e.g. "phrasebank", "twitter_sentiment", "conll"
    sentiment: int | None = None  # index into SENTIMENT_LABELS
    topic: int | None = None  # index into TOPIC_LABELS
    entities: list[EntitySpan] | None = None  # None: not NER-labelled; []: labelled, no entity
    entity_sentiments: list[EntitySentiment] | None = None
    # financial events: event type -> polarity for its subject (-1, 0, 1); None: not event-labelled,
    # {}: labelled, no event (every type absent). Labels come from model/events (parser and patterns).
    events: dict[str, int] | None = None
    weight: float = 1.0  # per-example loss weight (e.g. analysts' labels outrank base data)
    meta: dict[str, object] = field(default_factory=dict)
