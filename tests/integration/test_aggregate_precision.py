"""Day-precision stories on the real PostgreSQL: only in daily buckets, sources united, rebuild reproduces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Article, SentimentAggregate
from monitor.storage.rebuild import rebuild_aggregates
from monitor.storage.writes import store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

MIDNIGHT = datetime(2019, 9, 23, tzinfo=UTC)


@pytest.fixture()
def own_database_url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_precision") as url:
        yield url


def scored(headline: str, source: str, precision: str, hour: int = 0) -> tuple[NewsItem, ArticleResult]:
    entity = EntityResult(0, 11, "Thomas Cook", "ORG", None, "negative", -0.9)
    return (NewsItem(source=source, headline=headline, published_at=MIDNIGHT.replace(hour=hour),
                     published_precision=precision),
            ArticleResult(topic=2, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.8,
                          sentiment_probs=[0.8, 0.1, 0.1], entities=[entity], model_version="v-test"))


def rows(session) -> dict:  # noqa: ANN001
    return {(r.scope_kind, r.scope_key, r.bucket_seconds, r.bucket_start):
            (r.article_count, r.story_count, r.negative_count, tuple(r.sources))
            for r in session.scalars(select(SentimentAggregate))}


def test_day_precision_only_in_daily_buckets_and_rebuild_reproduces_them(own_database_url: str) -> None:
    factory = session_factory(own_database_url)
    with factory.begin() as session:
        store_scored_batch(session, [scored("Thomas Cook collapses", "reuters", "day"),
                                     scored("Thomas Cook customers stranded", "guardian", "day")])
    with factory.begin() as session:
        store_scored_batch(session, [scored("Thomas Cook shares halted", "cnbc", "minute", hour=7)])
    with factory.begin() as session:
        stored = rows(session)
        assert session.scalars(select(Article.published_precision).order_by(Article.source)).all() == \
            ["minute", "day", "day"]  # cnbc, guardian, reuters
    daily = stored[("entity", "thomas cook", 86_400, MIDNIGHT)]
    assert daily == (3, 3, 3, ("cnbc", "guardian", "reuters"))
    assert ("entity", "thomas cook", 3600, MIDNIGHT) not in stored  # nothing piles up at midnight
    assert stored[("entity", "thomas cook", 3600, MIDNIGHT.replace(hour=7))][:3] == (1, 1, 1)

    with factory.begin() as session:
        report = rebuild_aggregates(session)
    with factory.begin() as session:
        assert rows(session) == stored
    assert (report.articles, report.stories) == (3, 3)

    with factory.begin() as session:
        rebuild_aggregates(session, ignore_precision=True)  # the old behaviour, for before/after backtests
    with factory.begin() as session:
        assert rows(session)[("entity", "thomas cook", 3600, MIDNIGHT)][:3] == (2, 2, 2)
