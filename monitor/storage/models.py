"""The PostgreSQL schema as SQLAlchemy 2.0 typed models.

Migrations in `migrations/` are generated from these classes and edited by
hand. Indexes follow the queries that the dashboard and the alert rules make:
time ranges per ticker, topic, source, and per aggregate scope.

articles, model_outputs, entity_mentions and article_events are range-partitioned by
published_at, sentiment_aggregates by bucket size then bucket_start
(monitor/storage/partitions.py, docs/storage.md). A partitioned table's keys
must hold its partition key, so their primary keys include published_at and
there are no foreign keys to articles: an article id is unique because
writes.py looks it up before inserting, under a per-id lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can drop/alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: Timestamp}


class Article(Base):
    """One news item as received. `id` is stable across replays (see the message contract).

    The key is (id, published_at), the partition key included; `id` alone is unique
    too, kept so by store_scored_batch (a re-delivered id keeps its first published_at).
    """

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    story_id: Mapped[str] = mapped_column(String(64), index=True)  # same normalised headline -> same story
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(primary_key=True)  # the partition key
    # minute | day | month: how much of published_at is known (monitor/contract.py).
    published_precision: Mapped[str] = mapped_column(String(8), server_default="minute")
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    tickers: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default="{}")
    language: Mapped[str] = mapped_column(String(8), server_default="en")
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_source_published_at", "source", "published_at"),
        Index("ix_articles_tickers", "tickers", postgresql_using="gin"),
        Index("ix_articles_received_at", "received_at"),  # the dashboard's stored throughput
        {"postgresql_partition_by": "RANGE (published_at)"},
    )


class ModelOutput(Base):
    """Article-level predictions of one model version."""

    __tablename__ = "model_outputs"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Copied from the article: time-range queries stay on one index, and it is the partition key.
    published_at: Mapped[datetime] = mapped_column(primary_key=True)
    topic: Mapped[int] = mapped_column(SmallInteger)
    topic_probs: Mapped[list[float]] = mapped_column(ARRAY(Float))
    sentiment_label: Mapped[str] = mapped_column(String(8))  # negative | neutral | positive
    sentiment_score: Mapped[float] = mapped_column(Float)  # in [-1, 1]
    sentiment_probs: Mapped[list[float]] = mapped_column(ARRAY(Float))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_model_outputs_topic_published_at", "topic", "published_at"),
        Index("ix_model_outputs_published_at", "published_at"),
        {"postgresql_partition_by": "RANGE (published_at)"},
    )


class EntityMention(Base):
    """A named entity found in an article, its linked ticker and the sentiment toward it."""

    __tablename__ = "entity_mentions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(primary_key=True)  # the partition key
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(String(8))  # ORG | PER | LOC | MISC | TICKER
    ticker: Mapped[str | None] = mapped_column(String(16))
    sentiment_label: Mapped[str] = mapped_column(String(8))
    sentiment_score: Mapped[float] = mapped_column(Float)
    # subject | source | other: what the mention is to the article's events (a broker is a source)
    role: Mapped[str] = mapped_column(String(8), server_default="other")

    __table_args__ = (
        UniqueConstraint("article_id", "model_version", "start_char", "end_char", "published_at",
                         name="uq_entity_mentions_article_span"),
        Index("ix_entity_mentions_ticker_published_at", "ticker", "published_at"),
        Index("ix_entity_mentions_text_published_at", "text", "published_at"),
        {"postgresql_partition_by": "RANGE (published_at)"},
    )


class ArticleEvent(Base):
    """A financial event of an article (model.events.taxonomy): its type, the company it is about and the
    polarity for that company, where it came from (figures, a pattern, the events head) and the figures."""

    __tablename__ = "article_events"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(primary_key=True)  # the partition key
    ordinal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # its place among the article's events
    event_type: Mapped[str] = mapped_column(String(32))
    polarity: Mapped[int] = mapped_column(SmallInteger)  # -1, 0, 1 for the subject
    subject: Mapped[str | None] = mapped_column(Text)  # as written
    subject_key: Mapped[str | None] = mapped_column(String(128))  # entity_key(subject): the event scope's key
    subject_ticker: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(Text)  # the broker of an analyst action
    origin: Mapped[str] = mapped_column(String(8))  # figures | pattern | model
    confidence: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(32), server_default="")
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")

    __table_args__ = (
        Index("ix_article_events_type_published_at", "event_type", "published_at"),
        Index("ix_article_events_subject_key_published_at", "subject_key", "published_at"),
        Index("ix_article_events_subject_ticker_published_at", "subject_ticker", "published_at"),
        {"postgresql_partition_by": "RANGE (published_at)"},
    )


class SentimentAggregate(Base):
    """Counts and score sums per scope and time bucket: what charts and alert rules read.

    scope_kind is one of global, ticker, entity, place, topic, source, sector. Buckets
    are 60 s, 3600 s and 86400 s wide; a day-precision article counts only in
    the daily bucket (its time of day is unknown).
    """

    __tablename__ = "sentiment_aggregates"

    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket_seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    article_count: Mapped[int] = mapped_column(Integer, server_default="0")
    story_count: Mapped[int] = mapped_column(Integer, server_default="0")
    negative_count: Mapped[int] = mapped_column(Integer, server_default="0")
    neutral_count: Mapped[int] = mapped_column(Integer, server_default="0")
    positive_count: Mapped[int] = mapped_column(Integer, server_default="0")
    score_sum: Mapped[float] = mapped_column(Float, server_default="0")
    score_sq_sum: Mapped[float] = mapped_column(Float, server_default="0")
    # Distinct sources of the bucket's articles: alert rules ask for more than one outlet.
    sources: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")

    __table_args__ = (Index("ix_sentiment_aggregates_bucket", "bucket_seconds", "bucket_start"),
                      # one sub-table per bucket size, minute and hour ones by range (partitions.py)
                      {"postgresql_partition_by": "LIST (bucket_seconds)"})


class AlertRuleState(Base):
    """Per rule and series (fingerprint): where the alert lifecycle stands between evaluations."""

    __tablename__ = "alert_rule_states"

    rule_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # inactive | pending | firing
    labels: Mapped[dict[str, Any]]
    active_since: Mapped[datetime | None]
    held_at: Mapped[datetime | None]  # while firing: when the condition last held (the rule's keep_firing_for)
    last_evaluated_at: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    detector_state: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")  # EWMA/CUSUM memory


class Alert(Base):
    """One alert episode (pending -> firing -> resolved) with its evidence."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule_name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # pending | firing | resolved
    severity: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    evidence: Mapped[dict[str, Any]]  # value, baseline, z-score, top article ids
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_alerts_status_starts_at", "status", "starts_at"),
        Index("ix_alerts_fingerprint", "fingerprint"),
    )


class Silence(Base):
    """Mutes alerts whose labels match, between starts_at and ends_at (data, not config)."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    matchers: Mapped[dict[str, Any]]  # {"label": "value"} equality matchers
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)


class AlertGroup(Base):
    """A notification group (route x group labels): what its receiver was last told, and when."""

    __tablename__ = "alert_groups"

    receiver: Mapped[str] = mapped_column(String(128), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    group_labels: Mapped[dict[str, Any]]
    first_seen_at: Mapped[datetime]
    last_notified_at: Mapped[datetime | None]
    notified: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")  # fingerprint -> status sent


class WebhookDelivery(Base):
    """Transactional outbox: one notification to one receiver, retried until delivered or dead."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    receiver: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)


class ModelVersion(Base):
    """A model in the registry and every promotion decision about it."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    status: Mapped[str] = mapped_column(String(16))  # candidate | promoted | rejected | retired
    is_live: Mapped[bool] = mapped_column(Boolean, server_default="false")
    path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    data_hashes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    decision_reason: Mapped[str | None] = mapped_column(Text)
    promoted_at: Mapped[datetime | None]
    # Written by scheduled retraining (monitor/storage/model_versions.py): the live version the
    # candidate was judged against, the analysts' labels it trained on, and how long it took.
    compared_with: Mapped[str | None] = mapped_column(String(64))
    label_counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    duration_s: Mapped[float | None] = mapped_column(Float)


class AnalystLabel(Base):
    """An analyst's correction of an article's sentiment, topic or entities, for retraining.

    No foreign key (articles is partitioned): retention keeps every labelled article
    (monitor/storage/retention.py), so a label always finds its headline.
    """

    __tablename__ = "analyst_labels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(24))  # sentiment | topic | entities | entity-sentiment
    label: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_analyst_labels_article_id_task", "article_id", "task"),
                      Index("ix_analyst_labels_created_at", "created_at"))
