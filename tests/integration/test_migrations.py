"""Alembic migrations up and down on the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from monitor.storage import migrate
from monitor.storage.models import Base

pytestmark = pytest.mark.integration

EXPECTED_TABLES = set(Base.metadata.tables)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrate.upgrade("head", url=empty_database_url)
    assert tables(empty_database_url) == EXPECTED_TABLES
    migrate.downgrade("base", url=empty_database_url)
    assert tables(empty_database_url) == set()
    migrate.upgrade("head", url=empty_database_url)
    assert tables(empty_database_url) == EXPECTED_TABLES


def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations and models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_indexes_for_time_range_queries(database_url: str) -> None:
    engine = create_engine(database_url)
    inspector = inspect(engine)
    mention_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("entity_mentions")}
    output_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("model_outputs")}
    engine.dispose()
    assert ("ticker", "published_at") in mention_indexes
    assert ("topic", "published_at") in output_indexes
