"""The finsent_dashboard role on the real PostgreSQL: reads everything, writes only what the dashboard writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from psycopg2 import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from dashboards import actions, grants
from tests.integration.dashboard_seeding import SeededDashboard, seed_dashboard_data

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded(database_url: str) -> SeededDashboard:
    return seed_dashboard_data(database_url)


@pytest.fixture()
def dashboard_role_url(database_url: str, seeded: SeededDashboard) -> Iterator[str]:
    """A uniquely named dashboard role (roles are cluster-wide), granted on the test database, dropped after."""
    role = f"finsent_dashboard_test_{uuid.uuid4().hex[:8]}"
    owner = create_engine(database_url)
    with owner.begin() as connection:
        grants.apply(grants.grant_statements(role, make_url(database_url).database or ""), connection)
    yield make_url(database_url).set(username=role, password=None).render_as_string(hide_password=False)
    with owner.begin() as connection:
        grants.apply([*grants.revoke_statements(role, make_url(database_url).database or ""),
                      sql.SQL("DROP ROLE {}").format(sql.Identifier(role))], connection)
    owner.dispose()


def test_the_role_can_do_what_the_dashboard_does(dashboard_role_url: str, seeded: SeededDashboard) -> None:
    engine = create_engine(dashboard_role_url)
    try:
        with Session(engine) as session, session.begin():
            assert session.execute(text("SELECT count(*) FROM sentiment_aggregates")).scalar_one() > 0
            actions.create_silence(session, {"ticker": "AAPL"}, timedelta(hours=1), "role-test")
            actions.acknowledge_alert(session, seeded.firing_alert_id, "role-test")
            actions.record_label(session, seeded.article_id, "sentiment", actions.sentiment_label("neutral", None),
                                 "role-test")
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", [
    "INSERT INTO articles (id, story_id, source, published_at, headline, content_hash) "
    "VALUES ('x', 'x', 'x', now(), 'x', 'x')",
    "UPDATE alerts SET status = 'resolved'",
    "DELETE FROM silences",
    "UPDATE sentiment_aggregates SET article_count = 0",
])
def test_the_role_cannot_change_anything_else(dashboard_role_url: str, statement: str) -> None:
    engine = create_engine(dashboard_role_url)
    try:
        with engine.begin() as connection, pytest.raises(ProgrammingError, match="permission denied"):
            connection.execute(text(statement))
    finally:
        engine.dispose()


def test_the_sql_can_be_printed_for_a_dba(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            printed = grants.render(grants.grant_statements("finsent_dashboard", "finsent", "pa'ss"), connection)
    finally:
        engine.dispose()
    assert "ALTER ROLE \"finsent_dashboard\" PASSWORD 'pa''ss';" in printed  # quoted by psycopg2, not pasted
    assert 'GRANT UPDATE ("acknowledged_by", "acknowledged_at", "updated_at") ON alerts' in printed
