"""Stored throughput counts the articles stored in the last minutes, through the received_at index.

The index comes with migration 0003; without it the count read every article (about 1 s at 10M).
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


def test_stored_throughput_counts_the_articles_stored_in_the_window(seeded_url: str) -> None:
    engine = queries.engine_for.__wrapped__(seeded_url)
    try:
        with engine.begin() as connection:  # 4 articles stored 2 minutes ago, the rest an hour ago
            connection.execute(text("UPDATE articles SET received_at = now() - interval '1 hour'"))
            connection.execute(text("UPDATE articles SET received_at = now() - interval '2 minutes' "
                                    "WHERE id IN (SELECT id FROM articles ORDER BY id LIMIT 4)"))
            indexed = connection.execute(text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'articles' "
                "AND indexname = 'ix_articles_received_at'")).scalar()
    finally:
        engine.dispose()
    result = queries.stored_throughput.__wrapped__(seeded_url, 5)
    assert indexed == 1
    assert result["stored"] == 4 and result["per_minute"] == 4 / 5
    assert result["newest_received_at"] is not None
