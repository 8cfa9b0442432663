"""Time partitions on the real PostgreSQL: ensure ahead, the DEFAULT partition, ids unique across partitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Article, EntityMention, ModelOutput
from monitor.storage.partitions import (
    ARTICLES,
    HOUR_AGGREGATES,
    MINUTE_AGGREGATES,
    RANGE_PARENTS,
    ensure_partitions,
    floor_to,
    list_partitions,
)
from monitor.storage.writes import store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture()
def own_database_url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_partitions") as url:
        yield url


def scored(headline: str, published_at: datetime, url: str | None = None) -> tuple[NewsItem, ArticleResult]:
    item = NewsItem(source="reuters", url=url, published_at=published_at, headline=headline)
    result = ArticleResult(topic=5, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.6,
                           sentiment_probs=[0.7, 0.2, 0.1], model_version="v-test",
                           entities=[EntityResult(0, 5, "Apple", "ORG", "AAPL", "negative", -0.6)])
    return item, result


def partition_of(session, table: str, article_id: str) -> str:  # noqa: ANN001
    column = "id" if table == "articles" else "article_id"
    return session.execute(text(f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = :id"),
                           {"id": article_id}).scalar_one()


def test_migration_and_ensure_create_partitions_ahead(own_database_url: str) -> None:
    """Head has day partitions from yesterday to a week ahead (month ones for hours); ensure is idempotent."""
    now = datetime.now(UTC)
    with session_factory(own_database_url).begin() as session:
        connection = session.connection()
        for parent in RANGE_PARENTS:
            ranges = [(p.start, p.end) for p in list_partitions(connection, parent) if not p.is_default]
            assert any(start <= now < end for start, end in ranges), parent.table
            assert any(start <= now + timedelta(days=7) < end for start, end in ranges), parent.table
            assert sum(p.is_default for p in list_partitions(connection, parent)) == 1
        day_ones = [p for p in list_partitions(connection, ARTICLES) if not p.is_default]
        assert all(p.end - p.start == timedelta(days=1) for p in day_ones)
        assert ensure_partitions(connection, now) == []  # nothing left to create
        created = ensure_partitions(connection, now, ahead=timedelta(days=10))
    assert len([name for name in created if name.startswith("partitions.articles_")]) == 3
    assert not [name for name in created if HOUR_AGGREGATES.base in name and now.day < 20]


def test_late_timestamp_lands_in_default_then_moves_to_its_partition(own_database_url: str) -> None:
    factory = session_factory(own_database_url)
    when = floor_to(datetime.now(UTC) - timedelta(days=400), "day") + timedelta(hours=9)
    with factory.begin() as session:
        report = store_scored_batch(session, [scored("Apple recalls old phones", when, url="https://x/late")])
    assert report.inserted_articles == 1
    with factory.begin() as session:
        article_id = session.scalars(select(Article.id)).one()
        assert partition_of(session, "articles", article_id) == "partitions.articles_default"
        assert partition_of(session, "model_outputs", article_id) == "partitions.model_outputs_default"
        # A partition made later for that day takes the default's rows with it (nothing is lost).
        from monitor.storage.partitions import create_partition

        for parent in (ARTICLES, MINUTE_AGGREGATES):
            start = floor_to(when, parent.step)
            create_partition(session.connection(), parent, start, start + timedelta(days=1))
    with factory() as session:
        assert partition_of(session, "articles", article_id) == f"partitions.articles_p{when:%Y%m%d}"
        minute_rows = session.execute(text(
            f"SELECT count(*) FROM partitions.sentiment_aggregates_60_p{when:%Y%m%d}")).scalar_one()
        assert minute_rows > 0
        in_default = session.execute(text("SELECT count(*) FROM partitions.sentiment_aggregates_60_default"))
        assert in_default.scalar_one() == 0


def test_an_id_stays_unique_across_partitions(own_database_url: str) -> None:
    """The same url re-delivered with another published_at (another partition) is a duplicate, not a new row."""
    factory = session_factory(own_database_url)
    first_at = datetime.now(UTC) - timedelta(hours=1)
    with factory.begin() as session:
        first = store_scored_batch(session, [scored("Apple cuts guidance", first_at, url="https://x/1")])
    edited = scored("Apple cuts guidance", first_at - timedelta(days=3), url="https://x/1")
    newer = (edited[0], replace(edited[1], model_version="v-newer"))  # a newer model scores the replay
    with factory.begin() as session:
        again = store_scored_batch(session, [edited])
    with factory.begin() as session:
        rescored = store_scored_batch(session, [newer])
    assert (first.inserted_articles, again.inserted_articles, again.duplicate_articles, again.outputs) == (1, 0, 1, 0)
    assert (rescored.inserted_articles, rescored.outputs, rescored.mentions) == (0, 1, 1)  # v-newer's are new
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
        stored = session.scalars(select(ModelOutput.published_at).where(ModelOutput.model_version == "v-newer")).one()
        assert stored == first_at  # the stored article's time, not the replay's
        assert session.scalar(select(func.count()).select_from(EntityMention)) == 2
        global_articles = session.execute(text(
            "SELECT sum(article_count) FROM sentiment_aggregates WHERE scope_kind = 'global' "
            "AND bucket_seconds = 86400")).scalar_one()
        assert global_articles == 1
