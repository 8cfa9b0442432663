"""Retention on the real PostgreSQL: expired partitions dropped, counts kept at the coarser level,
labelled and alert-cited articles still readable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Alert, AnalystLabel
from monitor.storage.partitions import (
    ARTICLES,
    ENTITY_MENTIONS,
    MINUTE_AGGREGATES,
    MODEL_OUTPUTS,
    RANGE_PARENTS,
    create_partition,
    floor_to,
    list_partitions,
)
from monitor.storage.retention import RetentionPolicy, apply_retention, plan_retention
from monitor.storage.writes import store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
OLD_DAY = floor_to(NOW - timedelta(days=100), "day")  # past every raw retention: its partitions go
MINUTE_OLD_DAY = floor_to(NOW - timedelta(days=40), "day")  # past the minute retention only
POLICY = RetentionPolicy(articles=timedelta(days=90), mentions=timedelta(days=90),
                         minute_aggregates=timedelta(days=30), hourly_aggregates=timedelta(days=730),
                         daily_aggregates=None)
COUNTS = "sum(article_count), sum(story_count), sum(negative_count), sum(score_sum)"


def scored(n: int, published_at: datetime) -> tuple[NewsItem, ArticleResult]:
    item = NewsItem(source=("reuters", "cnbc")[n % 2], url=f"https://x/{published_at:%Y%m%d}/{n}",
                    published_at=published_at + timedelta(minutes=7 * n),
                    headline=f"Boeing story {n} {published_at:%x}")
    result = ArticleResult(topic=3, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.5,
                           sentiment_probs=[0.7, 0.2, 0.1], entities=[], model_version="v-test")
    return item, result


@pytest.fixture()
def seeded_url(database_server_url: str) -> Iterator[str]:
    """Articles 100 and 40 days old and today; a label and an alert citing two of the old ones."""
    with scratch_database(database_server_url, "finsent_retention") as url:
        factory = session_factory(url)
        with factory.begin() as session:
            for parent in (ARTICLES, MODEL_OUTPUTS, ENTITY_MENTIONS, MINUTE_AGGREGATES):
                for day in (OLD_DAY, MINUTE_OLD_DAY):
                    create_partition(session.connection(), parent, day, day + timedelta(days=1))
            store_scored_batch(session, [scored(n, day) for day in (OLD_DAY, MINUTE_OLD_DAY, NOW - timedelta(hours=3))
                                         for n in range(4)])
            # A late item: 95 days old, no partition of its own, so in the DEFAULT partition.
            store_scored_batch(session, [scored(9, OLD_DAY + timedelta(days=5))])
            # Legacy minute rows (written before hour and day buckets existed): only a roll-up keeps them.
            session.execute(text(
                "INSERT INTO sentiment_aggregates (scope_kind, scope_key, bucket_seconds, bucket_start, article_count, "
                "story_count, negative_count, score_sum, score_sq_sum, sources) VALUES "
                "('source', 'legacy', 60, :a, 2, 2, 1, -0.5, 0.25, '{a}'), "
                "('source', 'legacy', 60, :b, 3, 1, 1, -0.25, 0.0625, '{b}')"),
                {"a": MINUTE_OLD_DAY + timedelta(hours=5, minutes=1),
                 "b": MINUTE_OLD_DAY + timedelta(hours=5, minutes=30)})
            ids = [row.id for row in session.execute(text(
                "SELECT id FROM articles WHERE published_at < :t ORDER BY published_at LIMIT 2"),
                {"t": OLD_DAY + timedelta(days=1)})]
            session.add(AnalystLabel(article_id=ids[0], task="sentiment", label={"sentiment": "neutral"}, author="ana"))
            session.add(Alert(fingerprint="f1", rule_name="burst", status="resolved", severity="warning", labels={},
                              annotations={}, starts_at=OLD_DAY, evidence={"top_articles": [
                                  {"id": ids[1], "headline": "cited", "sentiment_score": -0.5}]}))
        yield url


def totals(connection: Connection, seconds: int, before: datetime, scope: str = "global") -> tuple:
    return tuple(connection.execute(text(
        f"SELECT {COUNTS} FROM sentiment_aggregates WHERE scope_kind = :scope AND bucket_seconds = :s "
        "AND bucket_start < :before"), {"scope": scope, "s": seconds, "before": before}).one())


def test_retention_drops_partitions_keeps_coarser_counts_labels_and_evidence(seeded_url: str) -> None:
    factory = session_factory(seeded_url)
    minute_cutoff = floor_to(NOW - timedelta(days=30), "day")
    with factory() as session:
        connection = session.connection()
        hours_before = totals(connection, 3600, minute_cutoff)
        days_before = totals(connection, 86_400, minute_cutoff)
        minutes_before = totals(connection, 60, minute_cutoff)
        plan = plan_retention(connection, POLICY, NOW)  # the dry run: nothing changes
        session.rollback()

    dropped = {p.name: p.rows for p in plan.partitions}
    minute_days = [f"partitions.sentiment_aggregates_60_p{day:%Y%m%d}" for day in (OLD_DAY, MINUTE_OLD_DAY)]
    assert set(dropped) == {f"partitions.{table}_p{OLD_DAY:%Y%m%d}" for table in
                            ("articles", "model_outputs", "entity_mentions")} | set(minute_days)
    assert dropped[f"partitions.articles_p{OLD_DAY:%Y%m%d}"] == 4
    assert dropped[f"partitions.entity_mentions_p{OLD_DAY:%Y%m%d}"] == 0  # the items named no entity
    assert all(dropped[name] > 0 for name in minute_days)
    late = {r.table: r.rows for r in plan.row_deletes}
    assert late["partitions.articles_default"] == 1 and late["partitions.model_outputs_default"] == 1
    assert plan.pinned_articles == 2
    with factory() as session:  # the dry run left everything in place
        assert session.execute(text("SELECT count(*) FROM articles")).scalar_one() == 13

    with factory.begin() as session:
        report = apply_retention(session.connection(), plan)
    assert sorted(report.dropped_partitions) == sorted(dropped)
    assert report.kept_pinned_rows == 4  # 2 articles and their 2 outputs (they had no mentions)
    assert report.rolled_up["60->3600"] == 1  # the legacy scope's hour; the worker's hours already existed

    with factory() as session:
        connection = session.connection()
        names = {p.name for parent in RANGE_PARENTS for p in list_partitions(connection, parent)}
        assert not names & set(dropped)
        # Raw rows: today's 4 and the 40-day-old 4 stay; of the old ones only the labelled and the cited.
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar_one() == 4 + 4 + 2
        assert connection.execute(text("SELECT count(*) FROM model_outputs")).scalar_one() == 4 + 4 + 2
        # Minute buckets before the cutoff are gone; hours and days hold the same counts as before.
        assert totals(connection, 60, minute_cutoff) == (None, None, None, None)
        assert minutes_before[0] == 9
        assert totals(connection, 3600, minute_cutoff) == hours_before
        assert totals(connection, 86_400, minute_cutoff) == days_before
        assert totals(connection, 3600, minute_cutoff, "source")[0] == hours_before[0] + 5  # legacy rolled up
        legacy_hour = connection.execute(text(
            "SELECT article_count, story_count, sources FROM sentiment_aggregates WHERE scope_key = 'legacy' "
            "AND bucket_seconds = 3600")).one()
        assert tuple(legacy_hour) == (5, 3, ["a", "b"])
        # The label and the alert's evidence still find their article (and headline).
        labelled = connection.execute(text(
            "SELECT a.headline FROM analyst_labels l JOIN articles a ON a.id = l.article_id")).scalars().all()
        cited = connection.execute(text(
            "SELECT a.headline FROM alerts, jsonb_array_elements(evidence -> 'top_articles') e "
            "JOIN articles a ON a.id = e ->> 'id'")).scalars().all()
        assert len(labelled) == 1 and labelled[0].startswith("Boeing story")
        assert len(cited) == 1 and cited[0].startswith("Boeing story")

    with factory.begin() as session:  # a second run finds nothing more to do
        again = plan_retention(session.connection(), POLICY, NOW)
    assert again.partitions == [] and again.row_deletes == []
