"""Migration 0003 up and down on a database holding data: every row survives both ways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from monitor.storage import migrate
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

TABLES = ("articles", "model_outputs", "entity_mentions", "sentiment_aggregates", "analyst_labels", "alerts")
# Months apart (and one now), so the rows land in several partitions.
TIMES = [datetime(2019, 3, 4, 10, 5, tzinfo=UTC), datetime(2020, 7, 31, 23, 59, tzinfo=UTC),
         datetime.now(UTC) - timedelta(minutes=5)]


@pytest.fixture()
def database_at_0002(database_server_url: str) -> Iterator[str]:
    """A database migrated to 0002 and filled through plain SQL, as that schema was written."""
    with scratch_database(database_server_url, "finsent_migrate", migrated=False) as url:
        migrate.upgrade("0002", url=url)
        engine = create_engine(url)
        with engine.begin() as connection:
            for n, when in enumerate(TIMES * 3):
                params = {"id": f"a{n}", "at": when + timedelta(hours=n)}
                connection.execute(text(
                    "INSERT INTO articles (id, story_id, source, published_at, headline, content_hash) "
                    "VALUES (:id, :id, 'reuters', :at, 'Headline ' || :id, 'h')"), params)
                connection.execute(text(
                    "INSERT INTO model_outputs (article_id, model_version, published_at, topic, topic_probs, "
                    "sentiment_label, sentiment_score, sentiment_probs) "
                    "VALUES (:id, 'v1', :at, 1, '{0.5,0.5}', 'negative', -0.5, '{0.7,0.2,0.1}')"), params)
                connection.execute(text(
                    "INSERT INTO entity_mentions (article_id, model_version, published_at, start_char, end_char, text, "
                    "entity_type, sentiment_label, sentiment_score) "
                    "VALUES (:id, 'v1', :at, 0, 4, 'Ford', 'ORG', 'negative', -0.5)"), params)
                for seconds in (60, 3600, 86_400):
                    connection.execute(text(
                        "INSERT INTO sentiment_aggregates (scope_kind, scope_key, bucket_seconds, bucket_start, "
                        "article_count) VALUES ('global', 'all', :s, to_timestamp(floor(extract(epoch FROM "
                        "CAST(:at AS timestamptz)) / :s) * :s), 1) ON CONFLICT DO NOTHING"), {**params, "s": seconds})
            connection.execute(text("INSERT INTO analyst_labels (article_id, task, label, author) "
                                    "VALUES ('a0', 'sentiment', '{}', 'ana')"))
            connection.execute(text("INSERT INTO alerts (fingerprint, rule_name, status, severity, labels, "
                                    "annotations, evidence, starts_at) VALUES ('f', 'r', 'firing', 'warning', '{}', "
                                    "'{}', '{\"top_articles\": [{\"id\": \"a1\"}]}', now())"))
        engine.dispose()
        yield url


def snapshot(url: str) -> dict[str, object]:
    """Row counts and a content digest per table, and whether articles is partitioned."""
    engine = create_engine(url)
    with engine.connect() as connection:
        state: dict[str, object] = {
            table: connection.execute(text(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")).one()
            for table in TABLES}
        state["partitioned"] = connection.execute(text(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = 'public.articles'::regclass")).scalar_one()
        state["partitions"] = connection.execute(text(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.articles'::regclass")).scalar_one()
    engine.dispose()
    return state


def test_upgrade_and_downgrade_keep_every_row(database_at_0002: str) -> None:
    before = snapshot(database_at_0002)
    assert before["partitioned"] is False and before["articles"][0] == 9  # type: ignore[index]

    migrate.upgrade("0003", url=database_at_0002)
    after = snapshot(database_at_0002)
    assert after["partitioned"] is True
    assert {t: after[t] for t in TABLES} == {t: before[t] for t in TABLES}  # same counts, same content
    assert after["partitions"] >= 3 + 1  # type: ignore[operator]  # a month per month of rows, and the default
    engine = create_engine(database_at_0002)
    with engine.begin() as connection:
        in_default = connection.execute(text("SELECT count(*) FROM partitions.articles_default")).scalar_one()
        # The id sequence survived the copy: a new mention gets the next id.
        next_id = connection.execute(text(
            "INSERT INTO entity_mentions (article_id, model_version, published_at, start_char, end_char, text, "
            "entity_type, sentiment_label, sentiment_score) VALUES ('a0', 'v2', :at, 0, 4, 'Ford', 'ORG', "
            "'neutral', 0) RETURNING id"), {"at": TIMES[0]}).scalar_one()
        connection.execute(text("DELETE FROM entity_mentions WHERE model_version = 'v2'"))
    engine.dispose()
    assert in_default == 0 and next_id == 10

    migrate.downgrade("0002", url=database_at_0002)
    back = snapshot(database_at_0002)
    assert back["partitioned"] is False
    assert {t: back[t] for t in TABLES} == {t: before[t] for t in TABLES}  # same rows, same content
    engine = create_engine(database_at_0002)
    with engine.connect() as connection:
        foreign_keys = connection.execute(text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'public.articles'::regclass")
        ).scalar_one()
        schema_gone = connection.execute(text(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'partitions'")).scalar_one() == 0
    engine.dispose()
    assert foreign_keys == 3 and schema_gone

    migrate.upgrade("0003", url=database_at_0002)  # and up again
    assert {t: snapshot(database_at_0002)[t] for t in TABLES} == {t: before[t] for t in TABLES}
    migrate.upgrade("head", url=database_at_0002)  # later revisions add columns and tables, never drop rows
    assert {t: snapshot(database_at_0002)[t][0] for t in TABLES} == {t: before[t][0] for t in TABLES}
