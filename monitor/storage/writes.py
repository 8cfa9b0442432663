"""Store a scored batch: articles, model outputs, entity mentions, financial events and aggregates.

Everything is an idempotent upsert inside the caller's transaction, so the
stream worker can commit Kafka offsets only after this commits, and a batch
re-delivered after a crash changes nothing: an article already stored is
neither stored again nor counted again in the aggregates.

articles is partitioned by published_at, so its key is (id, published_at) and
PostgreSQL cannot make `id` alone unique. A re-delivered message has the same
id and published_at, so the key alone makes re-delivery idempotent. Beyond
that, under a transaction lock per id, the ids already stored within
DEDUPE_WINDOW of the batch's times are looked up before the insert: an item
whose id is stored there (an RSS item whose pubDate was edited: same url, same
id) is a duplicate and keeps the stored published_at for its outputs and
mentions. The window bounds the lookup to the partitions near the batch
(docs/storage.md, Keys and exactly-once).

A story (the same normalised headline from any source) counts once in the
aggregates, at its first stored copy; a copy counts again only when no other
copy is stored within STORY_WINDOW of it. Syndicated copies come within hours
or days, while the same words weeks later are news again: "Boeing shares fall"
in March and in October, or a slice of history replayed as live years after it
was stored (`finsent ingest live-segment`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import ColumnClause, Table, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from model.network.results import ArticleResult, EventResult
from monitor.contract import NewsItem
from monitor.storage.aggregates import (
    RETELLING_WINDOW,
    AggregateDelta,
    AggregateKey,
    EventTellings,
    MentionSentiment,
    accumulate,
    article_scopes,
    entity_key,
    event_sentiment,
    reads_as_market_news,
)
from monitor.storage.known_names import KnownNames
from monitor.storage.models import Article, ArticleEvent, Base, EntityMention, ModelOutput, SentimentAggregate


class ScoredPair(NamedTuple):
    """One item and what the model said about it: what the stream worker hands storage (and publishes)."""

    item: NewsItem
    result: ArticleResult


@dataclass(frozen=True)
class StoreReport:
    inserted_articles: int  # new article rows
    duplicate_articles: int  # already stored (re-delivery, replay) or repeated in the batch
    new_stories: int  # articles that open a story: no copy of their headline within STORY_WINDOW
    outputs: int  # model output rows written
    mentions: int  # entity mention rows written
    events: int = 0  # article event rows written
    # (headline, the tagger's (text, type) names) of each inserted article in publication order, for
    # KnownNames.observe once the transaction has committed
    inserted_names: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


def store_scored_batch(
    session: Session,
    items: Sequence[ScoredPair],
    sector_of: Callable[[str], str | None] | None = None,
    known_names: KnownNames | None = None,
) -> StoreReport:
    """Upsert one scored batch; the caller owns the transaction (`with factory.begin()`).

    With `known_names`, an inserted article also counts toward the known names its tagger missed
    (monitor/storage/known_names.py); the caller teaches it the batch after the commit.
    """
    unique: dict[str, ScoredPair] = {}
    # Sorted by id: concurrent workers touch rows in one order, so they cannot deadlock.
    for pair in sorted(items, key=lambda pair: pair[0].id or ""):
        unique.setdefault(pair[0].id or "", pair)
    if not unique:
        return StoreReport(0, len(items), 0, 0, 0)

    # Statements run with a list of parameter sets (SQLAlchemy's "insertmanyvalues"):
    # compiled once and cached, batched into multi-row INSERTs under the bind limit.
    # They insert into the Tables, not the ORM classes: the ORM's bulk insert splits a
    # batch into one statement per run of rows with the same non-NULL columns (a
    # mention without ticker next to one with: ~30 round trips per batch instead of 1).
    stored_at = _stored_published_at(session, [item for item, _ in unique.values()])
    new_rows = [_article_row(item) for item, _ in unique.values() if item.id not in stored_at]
    inserted_ids = set(session.scalars(
        insert(_table(Article)).on_conflict_do_nothing(index_elements=["id", "published_at"]).returning(Article.id),
        new_rows,
    )) if new_rows else set()
    inserted = [unique[article_id] for article_id in unique if article_id in inserted_ids]
    new_story_ids = _new_story_ids(session, inserted)

    output_rows = [_output_row(item, result, stored_at.get(item.id or "", item.published_at))
                   for item, result in unique.values()]
    written_outputs = session.scalars(
        insert(_table(ModelOutput)).on_conflict_do_nothing().returning(ModelOutput.article_id), output_rows
    ).all()
    scored_now = set(written_outputs)
    mention_rows = [
        _mention_row(item, result, entity, stored_at.get(item.id or "", item.published_at))
        for item, result in unique.values()
        if item.id in scored_now
        for entity in result.entities
    ]
    mention_count = 0
    if mention_rows:
        mention_count = len(session.scalars(
            insert(_table(EntityMention)).on_conflict_do_nothing().returning(EntityMention.id), mention_rows
        ).all())

    event_rows = [
        _event_row(item, result, ordinal, event, stored_at.get(item.id or "", item.published_at))
        for item, result in unique.values()
        if item.id in scored_now
        for ordinal, event in enumerate(result.events)
    ]
    event_count = 0
    if event_rows:
        event_count = len(session.scalars(
            insert(_table(ArticleEvent)).on_conflict_do_nothing().returning(ArticleEvent.ordinal), event_rows
        ).all())

    deltas: dict[AggregateKey, AggregateDelta] = {}
    in_order = sorted(inserted, key=lambda pair: (pair[0].published_at, pair[0].id or ""))
    tellings = _earlier_tellings(session, in_order)
    for item, result in in_order:
        article_mentions = [MentionSentiment(e.text, e.ticker, e.sentiment_label, e.sentiment_score, e.entity_type,
                                             e.role) for e in result.entities]
        if known_names is not None:
            article_mentions += known_names.recall(
                item.headline, article_mentions, result.sentiment_label, result.sentiment_score
            )
        scopes = article_scopes(item.source, result.topic, result.sentiment_label, result.sentiment_score,
                                item.tickers, article_mentions, sector_of,
                                events=tellings.first_tellings(
                                    [event_sentiment(e.subject, e.type, e.polarity, e.figures, e.detail, e.source)
                                     for e in result.events if e.subject], item.published_at),
                                market_news=reads_as_market_news(item.headline))
        accumulate(deltas, item.published_at, scopes, new_story=item.id in new_story_ids,
                   precision=item.published_precision, source=item.source)
    upsert_aggregates(session, deltas)

    return StoreReport(
        inserted_articles=len(inserted),
        duplicate_articles=len(items) - len(inserted),
        new_stories=len(new_story_ids),
        outputs=len(written_outputs),
        mentions=mention_count,
        events=event_count,
        inserted_names=tuple((item.headline, tuple((e.text, e.entity_type) for e in result.entities))
                             for item, result in in_order),
    )


def _table(model: type[Base]) -> Table:
    """The model's Table: the statements here insert into it (SQLAlchemy types `__table__` as any FromClause)."""
    return cast(Table, model.__table__)


def _article_row(item: NewsItem) -> dict[str, object]:
    return {
        "id": item.id, "story_id": item.story_id, "source": item.source, "url": item.url,
        "published_at": item.published_at, "published_precision": item.published_precision,
        "headline": item.headline, "body": item.body,
        "tickers": item.tickers, "language": item.language, "content_hash": item.content_hash,
    }


def _output_row(item: NewsItem, result: ArticleResult, published_at: datetime) -> dict[str, object]:
    return {
        "article_id": item.id, "model_version": result.model_version, "published_at": published_at,
        "topic": result.topic, "topic_probs": result.topic_probs, "sentiment_label": result.sentiment_label,
        "sentiment_score": result.sentiment_score, "sentiment_probs": result.sentiment_probs,
    }


def _mention_row(item: NewsItem, result: ArticleResult, entity,  # noqa: ANN001
                 published_at: datetime) -> dict[str, object]:
    return {
        "article_id": item.id, "model_version": result.model_version, "published_at": published_at,
        "start_char": entity.start, "end_char": entity.end, "text": entity.text[:500],
        "entity_type": entity.entity_type, "ticker": entity.ticker,
        "sentiment_label": entity.sentiment_label, "sentiment_score": entity.sentiment_score,
        "role": entity.role,
    }


def _event_row(item: NewsItem, result: ArticleResult, ordinal: int, event: EventResult,
               published_at: datetime) -> dict[str, object]:
    return {
        "article_id": item.id, "model_version": result.model_version, "published_at": published_at,
        "ordinal": ordinal, "event_type": event.type, "polarity": event.polarity,
        "subject": event.subject[:500] if event.subject else None,
        "subject_key": entity_key(event.subject) if event.subject else None,  # as the `event` scope keys it
        "subject_ticker": event.subject_ticker, "source": event.source[:500] if event.source else None,
        "origin": event.origin, "confidence": event.confidence, "detail": event.detail[:32],
        "figures": event.figures,
    }


ARTICLE_ID_LOCKS = 15  # the advisory-lock class of article ids (two-int keys: apart from the story locks)
# How far from the batch's times a stored copy of an id is looked for: ~15 day partitions instead of
# all of them (the look-up's cost grows with the partitions it visits; docs/storage.md has figures).
DEDUPE_WINDOW = timedelta(days=7)
# How close two copies of a headline must be to be one story (module docstring).
STORY_WINDOW = timedelta(days=7)


def _stored_published_at(session: Session, items: list[NewsItem]) -> dict[str, datetime]:
    """published_at of the items' ids already stored near their times, looked up under a lock per id.

    The lock makes two workers storing one id at once take turns: the second
    then sees the first's committed row (READ COMMITTED reads anew per statement).
    Locks are taken in key order before any story lock, so they cannot deadlock.
    """
    ids = [item.id or "" for item in items]
    earliest = min(item.published_at for item in items) - DEDUPE_WINDOW
    latest = max(item.published_at for item in items) + DEDUPE_WINDOW
    session.execute(
        text("SELECT pg_advisory_xact_lock(:lock_class, key) FROM "
             "(SELECT DISTINCT hashtext(id) AS key FROM unnest(CAST(:ids AS text[])) AS t(id) ORDER BY 1) AS ordered"),
        {"lock_class": ARTICLE_ID_LOCKS, "ids": ids},
    )
    rows = session.execute(select(Article.id, Article.published_at).where(
        Article.id.in_(ids), Article.published_at >= earliest, Article.published_at <= latest))
    return {row.id: row.published_at for row in rows}


def _earlier_tellings(session: Session, inserted: list[ScoredPair]) -> EventTellings:
    """The events stored for other articles within RETELLING_WINDOW before the batch's, about its companies."""
    keys = sorted({key for _, result in inserted for e in result.events if e.subject
                   and (key := entity_key(e.subject)) is not None})
    if not keys:
        return EventTellings()
    earliest = min(item.published_at for item, _ in inserted) - RETELLING_WINDOW
    latest = max(item.published_at for item, _ in inserted)
    rows = session.execute(select(ArticleEvent.subject, ArticleEvent.event_type, ArticleEvent.polarity,
                                  ArticleEvent.figures, ArticleEvent.detail, ArticleEvent.source,
                                  ArticleEvent.published_at).where(
        ArticleEvent.subject_key.in_(keys), ArticleEvent.published_at > earliest,
        ArticleEvent.published_at <= latest, ArticleEvent.article_id.not_in([item.id for item, _ in inserted])))
    return EventTellings((event_sentiment(row.subject, row.event_type, row.polarity, row.figures, row.detail,
                                          row.source), row.published_at) for row in rows)


def _new_story_ids(session: Session, inserted: list[ScoredPair]) -> set[str]:
    """Ids of inserted articles that open a story: no other copy of their headline within STORY_WINDOW.

    Serialised per story with a transaction-scoped advisory lock, so two
    workers storing copies of one story at once cannot both count it.
    """
    if not inserted:
        return set()
    story_ids = sorted({item.story_id for item, _ in inserted})
    # One round trip; the sorted subquery makes workers take the locks in one order (no deadlock).
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(story_id, 0)) "
             "FROM (SELECT unnest(CAST(:story_ids AS text[])) AS story_id ORDER BY 1) AS ordered"),
        {"story_ids": story_ids},
    )
    inserted_ids = [item.id for item, _ in inserted]
    earliest = min(item.published_at for item, _ in inserted) - STORY_WINDOW
    latest = max(item.published_at for item, _ in inserted) + STORY_WINDOW
    copies: dict[str, list[datetime]] = {}
    for story_id, published_at in session.execute(
            select(Article.story_id, Article.published_at).where(
                Article.story_id.in_(story_ids), Article.id.not_in(inserted_ids),
                Article.published_at >= earliest, Article.published_at <= latest)):
        copies.setdefault(story_id, []).append(published_at)
    opening: set[str] = set()
    for item, _ in inserted:
        near = copies.setdefault(item.story_id, [])
        if not any(abs(item.published_at - other) < STORY_WINDOW for other in near):
            opening.add(item.id or "")
        near.append(item.published_at)
    return opening


def upsert_aggregates(session: Session, deltas: dict[AggregateKey, AggregateDelta]) -> None:
    """Add deltas to their aggregate rows (created when missing); counters add up, sources unite."""
    if not deltas:
        return
    rows = [
        {"scope_kind": kind, "scope_key": key, "bucket_seconds": seconds, "bucket_start": start,
         **vars(delta), "sources": sorted(delta.sources)}
        for (kind, key, seconds, start), delta in sorted(deltas.items(), key=lambda kv: kv[0])
    ]
    counters = ("article_count", "story_count", "negative_count", "neutral_count", "positive_count",
                "score_sum", "score_sq_sum")
    statement = insert(_table(SentimentAggregate))
    # The union of the stored and the new sources, sorted (a handful of names per bucket).
    sources: ColumnClause[list[str]] = literal_column(
        "ARRAY(SELECT DISTINCT s FROM unnest(sentiment_aggregates.sources || excluded.sources) AS t(s) ORDER BY 1)")
    # RETURNING makes SQLAlchemy send multi-row INSERTs (insertmanyvalues); without it an ON CONFLICT
    # DO UPDATE runs as psycopg2 executemany, one round trip per row (~1,000 per batch of 64 articles).
    # Safe here: each key appears once in `rows`, so no row is updated twice by one statement.
    session.execute(statement.on_conflict_do_update(
        index_elements=["scope_kind", "scope_key", "bucket_seconds", "bucket_start"],
        set_={**{name: getattr(SentimentAggregate, name) + getattr(statement.excluded, name) for name in counters},
              "sources": sources},
    ).returning(SentimentAggregate.bucket_seconds), rows).all()
