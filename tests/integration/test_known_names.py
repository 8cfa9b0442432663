"""Known names on the real PostgreSQL: a name tagged before counts where the tagger missed it, a worker
started later knows it from the store, and a rebuild counts as the worker did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from model.network.results import ArticleResult, EntityResult
from monitor.alerts.rules.parse import load_rules
from monitor.alerts.rules.store import top_articles
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.known_names import known_names_from_store
from monitor.storage.models import SentimentAggregate
from monitor.storage.rebuild import rebuild_aggregates
from monitor.stream.store import store_once
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

DAY = datetime(2018, 1, 15, tzinfo=UTC)


@pytest.fixture()
def own_database_url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_known_names") as url:
        yield url


def scored(headline: str, at: datetime, tagged: bool) -> tuple[NewsItem, ArticleResult]:
    entities = [EntityResult(0, 9, "Carillion", "ORG", None, "negative", -0.8)] if tagged else []
    return (NewsItem(source="guardian", headline=headline, published_at=at, published_precision="day"),
            ArticleResult(topic=2, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.7,
                          sentiment_probs=[0.7, 0.2, 0.1], entities=entities, model_version="v-test"))


def carillion_daily(session) -> dict[datetime, int]:  # noqa: ANN001
    return {row.bucket_start: row.story_count for row in session.scalars(
        select(SentimentAggregate).where(SentimentAggregate.scope_kind == "entity",
                                         SentimentAggregate.scope_key == "carillion",
                                         SentimentAggregate.bucket_seconds == 86_400))}


def test_a_missed_name_counts_once_known_from_the_store_and_in_a_rebuild(own_database_url: str) -> None:
    factory = session_factory(own_database_url)
    with factory() as session:
        names = known_names_from_store(session)  # an empty database: nothing known
    assert not names.tagged
    before = [scored("Carillion shares slump on a profit warning", DAY - timedelta(days=9), tagged=True),
              scored("Carillion chief quits as the outsourcer's debts mount", DAY - timedelta(days=5), tagged=True)]
    report = store_once(factory, before, known_names=names)
    assert report.inserted_articles == 2 and names.is_known("carillion")  # learned after the commit

    day_one = [scored("Carillion in crisis as outsourcing operation crumbles under debt", DAY, tagged=False),
               scored("Carillion crisis looms for government as time runs out for a deal", DAY, tagged=False)]
    store_once(factory, day_one, known_names=names)
    store_once(factory, day_one, known_names=names)  # re-delivered: neither counted nor learned again
    assert names.tagged["carillion"] == 2
    daily_rule = next(r for r in load_rules("monitor/alerts/rules.example.yaml").rules
                      if r.scope.kind == "entity" and r.window == timedelta(days=1))
    with factory() as session:
        assert carillion_daily(session)[DAY] == 2  # the tagger found neither
        evidence = top_articles(session, daily_rule, "carillion", DAY, DAY + timedelta(days=1), lambda _: None)
        restarted = known_names_from_store(session)
    assert sorted(a["headline"] for a in evidence) == sorted(item.headline for item, _ in day_one)  # an alert's top
    assert (restarted.tagged["carillion"], restarted.is_known("carillion")) == (2, True)

    with factory.begin() as session:
        worker_counts = carillion_daily(session)
        rebuild_aggregates(session, "v-test")
    with factory() as session:
        assert carillion_daily(session) == worker_counts
    with factory.begin() as session:
        rebuild_aggregates(session, "v-test", known_names=False)
    with factory() as session:
        assert DAY not in carillion_daily(session)
