"""Shared fixtures.

Integration tests (marked `integration`) talk to the real Kafka broker and
PostgreSQL that `make test` starts with `finsent stack up`. Each test run gets
its own throw-away database, migrated with the project's Alembic migrations.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from kernel.settings import Settings, load_settings
from tests.databases import scratch_database


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: Settings) -> str:
    """The bootstrap servers of the running broker; fails loudly when it does not answer."""
    from monitor.stack.kafka import broker_answers

    if not broker_answers(settings.kafka_bootstrap_servers, timeout_s=10):
        pytest.fail(f"no Kafka broker answers at {settings.kafka_bootstrap_servers}: "
                    "run the tests with `make test` (it starts one) or `finsent stack up`")
    return settings.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def database_server_url(settings: Settings) -> str:
    from monitor.stack.postgres import database_answers

    if not database_answers(settings.database_url):
        pytest.fail(f"no PostgreSQL answers at {make_url(settings.database_url).render_as_string()}: "
                    "run the tests with `make test` (it starts one) or `finsent stack up`")
    return settings.database_url


@pytest.fixture(scope="session")
def empty_database_url(database_server_url: str) -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at the end."""
    with scratch_database(database_server_url, "finsent_test", migrated=False) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(empty_database_url: str) -> str:
    """A test database migrated to head with the project's migrations."""
    from monitor.storage import migrate

    migrate.upgrade("head", url=empty_database_url)
    return empty_database_url


@pytest.fixture()
def unique_topic() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"
