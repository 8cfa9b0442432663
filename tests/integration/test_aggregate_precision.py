"""Day-precision stories on the real PostgreSQL: only in daily buckets, sources united, rebuild reproduces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from model.data.events import CompanyEvent
from model.network.results import ArticleResult, EntityResult
from monitor.alerts.research.backtest import count_first_day_headlines, load_first_day_articles
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Article, SentimentAggregate
from monitor.storage.rebuild import rebuild_aggregates
from monitor.storage.writes import STORY_WINDOW, store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

MIDNIGHT = datetime(2019, 9, 23, tzinfo=UTC)


@pytest.fixture()
def own_database_url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_precision") as url:
        yield url


def scored(headline: str, source: str, precision: str, hour: int = 0,
           at: datetime | None = None) -> tuple[NewsItem, ArticleResult]:
    entity = EntityResult(0, 11, "Thomas Cook", "ORG", None, "negative", -0.9)
    return (NewsItem(source=source, headline=headline, published_at=at or MIDNIGHT.replace(hour=hour),
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


def test_a_headline_a_week_from_its_other_copies_is_news_again_in_the_worker_and_the_rebuild(
        own_database_url: str) -> None:
    """Syndicated copies count once; the same words after STORY_WINDOW ("shares fall" months later, the live
    segment replayed years after its history) count again, and the rebuild counts as the worker did."""
    factory = session_factory(own_database_url)
    copy_next_day = scored("Thomas Cook collapses", "guardian", "minute", at=MIDNIGHT + timedelta(days=1, hours=9))
    a_year_later = scored("Thomas Cook collapses", "reuters", "minute",
                          at=MIDNIGHT + STORY_WINDOW + timedelta(days=365))
    with factory.begin() as session:
        first = store_scored_batch(session, [scored("Thomas Cook collapses", "reuters", "minute", hour=9)])
    with factory.begin() as session:
        copy = store_scored_batch(session, [copy_next_day])
    with factory.begin() as session:
        again = store_scored_batch(session, [a_year_later])
    assert (first.new_stories, copy.new_stories, again.new_stories) == (1, 0, 1)
    with factory.begin() as session:
        stored = rows(session)
    daily = {start: counts[:2] for (kind, key, width, start), counts in stored.items()
             if (kind, key, width) == ("entity", "thomas cook", 86_400)}
    assert daily == {MIDNIGHT: (1, 1), MIDNIGHT + timedelta(days=1): (1, 0),
                     MIDNIGHT + STORY_WINDOW + timedelta(days=365): (1, 1)}  # the year-later copy is news

    with factory.begin() as session:
        report = rebuild_aggregates(session)
    with factory.begin() as session:
        assert rows(session) == stored
    assert (report.articles, report.stories) == (3, 2)


def test_the_backtest_finds_an_events_date_only_headlines_on_its_first_day(own_database_url: str) -> None:
    """first_day_headlines reads the stored articles of the first headline's UTC date, copies counted once."""
    factory = session_factory(own_database_url)
    with factory.begin() as session:
        store_scored_batch(session, [scored("Thomas Cook collapses", "reuters", "day"),
                                     scored("Thomas Cook collapses", "guardian", "day"),  # the same story
                                     scored("Thomas Cook customers stranded", "guardian", "day"),
                                     scored("Thomas Cook shares halted", "cnbc", "minute", hour=23)])
    with factory.begin() as session:
        store_scored_batch(session, [scored("Thomas Cook: the inquiry", "reuters", "day",
                                            at=MIDNIGHT + timedelta(days=1))])  # the next day
    event = CompanyEvent(id="thomas-cook", company="Thomas Cook", aliases=["thomas cook"], polarity="negative",
                         first_headline_at=MIDNIGHT,
                         window={"from": MIDNIGHT - timedelta(days=1), "to": MIDNIGHT + timedelta(days=7)})
    with factory.begin() as session:
        articles = load_first_day_articles(session, [event])
    assert len(articles) == 4
    assert count_first_day_headlines([event], articles) == {"thomas-cook": 3}
