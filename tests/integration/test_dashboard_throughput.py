"""Stored throughput reads the same figures with or without an index on articles(received_at).

Without the index the dashboard reads the table once (one FILTER aggregate); with it, two short
index range scans (`queries.received_at_indexed` picks). Both must count the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from dashboards import queries
from tests.databases import scratch_database
from tests.integration.dashboard_seeding import seed_dashboard_data

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded_url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_test_dash_throughput") as url:
        seed_dashboard_data(url)
        yield url


def throughput(url: str) -> dict:
    queries.received_at_indexed.clear()
    result = queries.stored_throughput.__wrapped__(url, 5)
    return {key: result[key] for key in ("stored", "per_minute", "newest_received_at")}


def test_the_indexed_and_the_scanning_query_count_the_same(seeded_url: str) -> None:
    engine = queries.engine_for.__wrapped__(seeded_url)
    with engine.begin() as connection:  # 4 articles stored 2 minutes ago, the rest an hour ago
        connection.execute(text("UPDATE articles SET received_at = now() - interval '1 hour'"))
        connection.execute(text("UPDATE articles SET received_at = now() - interval '2 minutes' "
                                "WHERE id IN (SELECT id FROM articles ORDER BY id LIMIT 4)"))
    scanned = throughput(seeded_url)
    assert not queries.received_at_indexed.__wrapped__(seeded_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE INDEX ix_test_articles_received_at ON articles (received_at)"))
    try:
        assert queries.received_at_indexed.__wrapped__(seeded_url)
        indexed = throughput(seeded_url)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_test_articles_received_at"))
        engine.dispose()
        queries.received_at_indexed.clear()
    assert scanned == indexed
    assert scanned["stored"] == 4 and scanned["per_minute"] == 4 / 5
