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
    # with respect to the article's financial events: "subject" (an event is about it), "source" (the broker
    # of a rating: it gets no borrowed sentiment) or "other"
    role: str = "other"


@dataclass(frozen=True)
class EventResult:
    """One financial event of an article (model.events.taxonomy), as served and stored."""

    type: str  # a key of model.events.taxonomy.EVENT_TYPES
    polarity: int  # -1, 0, 1 for the subject
    subject: str | None  # the company it is about, as written
    subject_ticker: str | None  # its linked ticker, when linking is confident
    source: str | None  # the broker of an analyst action, as written
    origin: str  # "figures" (compared exactly), "pattern" (a labelling rule) or "model" (the events head)
    confidence: float  # 1.0 for figures and patterns; the head's probability of the type otherwise
    detail: str = ""  # "beat", "miss", "in_line", "acquirer", "target", ...
    # figures against estimates: {"metric", "actual", "estimate", "surprise_pct"} each
    figures: list[dict[str, float | str]] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleResult:
    topic: int  # index into model.network.labels.TOPIC_LABELS
    topic_probs: list[float]  # (n_topics,)
    sentiment_label: str
    sentiment_score: float  # p(positive) - p(negative), in [-1, 1]
    sentiment_probs: list[float]  # (3,) negative, neutral, positive
    entities: list[EntityResult] = field(default_factory=list)
    model_version: str = ""
    events: list[EventResult] = field(default_factory=list)
