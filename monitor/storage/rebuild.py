"""Recompute sentiment_aggregates from the stored articles, model outputs and entity mentions.

    finsent db rebuild-aggregates                          # as the worker would have written them
    finsent db rebuild-aggregates --entity-sentiment article --ignore-precision

The worker builds aggregates as it stores each batch; this rebuilds them from
the rows, for a database written before an aggregate change (daily buckets,
day precision, sources) and to measure choices with `finsent alerts
backtest` on the same scored history: `--entity-sentiment entity|article`
chooses which sentiment `entity` scope keys count with (tickers always count
with the entity's; the worker's choice is aggregates.ENTITY_KEYS_SENTIMENT),
`--ignore-precision` puts every article in minute and hour buckets (the old
behaviour: date-only stories at midnight). A story counts at its first
article in publication order and again only after STORY_WINDOW without a
copy, as in the worker (monitor/storage/writes.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from model.network.spans import complete_tagged
from monitor.contract import model_text
from monitor.storage.aggregates import (
    ENTITY_KEYS_SENTIMENT,
    AggregateDelta,
    AggregateKey,
    EntitySentiment,
    EventSentiment,
    EventTellings,
    MentionSentiment,
    accumulate,
    article_scopes,
    event_sentiment,
    reads_as_market_news,
)
from monitor.storage.known_names import KnownNames
from monitor.storage.models import Article, ArticleEvent, EntityMention, ModelOutput, SentimentAggregate
from monitor.storage.writes import STORY_WINDOW, upsert_aggregates


@dataclass(frozen=True)
class RebuildReport:
    model_version: str
    articles: int
    stories: int
    rows: int


def newest_complete_version(session: Session) -> str:
    """The model version with the most outputs (the one that scored the history)."""
    row = session.execute(select(ModelOutput.model_version, func.count()).group_by(ModelOutput.model_version)
                          .order_by(func.count().desc()).limit(1)).first()
    if row is None:
        raise ValueError("no model outputs stored: nothing to aggregate")
    return str(row[0])


def _articles(session: Session, version: str, chunk: int) -> Iterator[list[Row[Any]]]:
    query = (select(Article.id, Article.story_id, Article.source, Article.published_at, Article.published_precision,
                    Article.tickers, Article.headline, Article.body, ModelOutput.topic, ModelOutput.sentiment_label,
                    ModelOutput.sentiment_score)
             .join(ModelOutput, ModelOutput.article_id == Article.id)
             .where(ModelOutput.model_version == version)
             .order_by(Article.published_at, Article.id))
    rows = session.execute(query.execution_options(yield_per=chunk))
    while batch := rows.fetchmany(chunk):
        yield list(batch)


def _completed_mentions(text: str, mentions: Sequence[Any],
                        lower_case_words: frozenset[str] = frozenset()) -> list[MentionSentiment]:
    """Stored mentions with their names (and types) completed as the predictor now completes them.

    Why: mentions stored by an older predictor hold cut names ("Kraft" of "Kraft Heinz") and the place
    type of a name's first word ("British" of "British Steel"); a rebuild counts them on the keys and
    scopes a new worker would (model/network/spans.py). Cashtag/ticker mentions are kept as they are.
    """
    named = [m for m in mentions if m.entity_type != "TICKER" and m.end_char <= len(text)]
    names = complete_tagged(text, [(m.start_char, m.end_char, m.entity_type) for m in named], lower_case_words)
    completed = dict(zip((id(m) for m in named), names, strict=True))
    result = []
    for m in mentions:
        if id(m) not in completed:
            result.append(MentionSentiment(m.text, m.ticker, m.sentiment_label, m.sentiment_score, m.entity_type,
                                           m.role))
        elif (name := completed[id(m)]) is not None:
            start, end, entity_type = name
            result.append(MentionSentiment(text[start:end], m.ticker, m.sentiment_label, m.sentiment_score,
                                           entity_type, m.role))
    return result


def rebuild_aggregates(session: Session, model_version: str | None = None,
                       entity_sentiment: EntitySentiment = ENTITY_KEYS_SENTIMENT, ignore_precision: bool = False,
                       sector_of: Callable[[str], str | None] | None = None, chunk: int = 5000,
                       lower_case_words: frozenset[str] = frozenset(), known_names: bool = True) -> RebuildReport:
    """Delete and recompute every aggregate row from one model version's outputs (caller owns the transaction).

    `lower_case_words` is the version's casing table (registry.load_lower_case_words), as its predictor
    used it on title-case headlines. `known_names` also counts each article toward the names the tagger
    found in the articles before it (monitor/storage/known_names.py), as the worker does; the worker
    learns a batch at a time, the rebuild an article at a time.
    """
    version = model_version or newest_complete_version(session)
    session.execute(delete(SentimentAggregate))
    last_copy: dict[str, datetime] = {}  # story -> its latest copy so far (articles come in time order)
    tellings = EventTellings()  # events told so far: a retelling within a day adds nothing (as the worker)
    names = KnownNames() if known_names else None
    articles = rows = stories = 0
    for batch in _articles(session, version, chunk):
        ids = [row.id for row in batch]
        stored: dict[str, list[Any]] = defaultdict(list)
        for m in session.execute(select(EntityMention.article_id, EntityMention.text, EntityMention.ticker,
                                        EntityMention.sentiment_label, EntityMention.sentiment_score,
                                        EntityMention.start_char, EntityMention.end_char, EntityMention.entity_type,
                                        EntityMention.role)
                                 .where(EntityMention.article_id.in_(ids), EntityMention.model_version == version)
                                 .order_by(EntityMention.article_id, EntityMention.start_char)):
            stored[m.article_id].append(m)
        events: dict[str, list[EventSentiment]] = defaultdict(list)
        for e in session.execute(select(ArticleEvent.article_id, ArticleEvent.subject, ArticleEvent.event_type,
                                        ArticleEvent.polarity, ArticleEvent.figures, ArticleEvent.detail,
                                        ArticleEvent.source)
                                 .where(ArticleEvent.article_id.in_(ids), ArticleEvent.model_version == version,
                                        ArticleEvent.subject.is_not(None))
                                 .order_by(ArticleEvent.article_id, ArticleEvent.ordinal)):
            events[e.article_id].append(event_sentiment(e.subject, e.event_type, e.polarity, e.figures, e.detail,
                                                        e.source))
        deltas: dict[AggregateKey, AggregateDelta] = {}
        for row in batch:
            mentions = _completed_mentions(model_text(row.headline, row.body), stored.get(row.id, []),
                                           lower_case_words)
            if names is not None:
                recalled = names.recall(row.headline, mentions, row.sentiment_label, row.sentiment_score)
                names.observe(row.headline, [(m.text, m.entity_type) for m in mentions])
                mentions += recalled
            scopes = article_scopes(row.source, row.topic, row.sentiment_label, row.sentiment_score, row.tickers,
                                    mentions, sector_of, entity_keys=entity_sentiment,
                                    events=tellings.first_tellings(events.get(row.id, []), row.published_at),
                                    market_news=reads_as_market_news(row.headline))
            previous = last_copy.get(row.story_id)
            new_story = previous is None or row.published_at - previous >= STORY_WINDOW
            last_copy[row.story_id] = row.published_at
            stories += new_story
            accumulate(deltas, row.published_at, scopes, new_story=new_story,
                       precision="minute" if ignore_precision else row.published_precision, source=row.source)
        upsert_aggregates(session, deltas)
        articles += len(batch)
        rows += len(deltas)
    return RebuildReport(model_version=version, articles=articles, stories=stories, rows=rows)
