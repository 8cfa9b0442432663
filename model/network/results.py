"""What the Predictor returns for one article: the contract between model and stream."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EntityResult:
    start: int  # character offsets into the scored text
    end: int
    text: str
    entity_type: str  # ORG | PER | LOC | MISC | TICKER
    ticker: str | None  # linked ticker symbol, when linking is confident
    sentiment_label: str  # negative | neutral | positive
    sentiment_score: float  # p(positive) - p(negative), in [-1, 1]
    sentiment_probs: list[float] = field(default_factory=list)  # (3,) negative, neutral, positive; [] if unknown


@dataclass(frozen=True)
class ArticleResult:
    topic: int  # index into model.network.labels.TOPIC_LABELS
    topic_probs: list[float]  # (n_topics,)
    sentiment_label: str
    sentiment_score: float  # p(positive) - p(negative), in [-1, 1]
    sentiment_probs: list[float]  # (3,) negative, neutral, positive
    entities: list[EntityResult] = field(default_factory=list)
    model_version: str = ""
