"""The least-privilege PostgreSQL role the dashboard connects as.

The dashboard reads every table but writes only three things: analyst_labels
rows, silences rows, and the acknowledgement columns of alerts (plus
updated_at, which the ORM bumps on every alert update). `finsent dashboard
grant-role` applies these statements; `--print` shows them to hand to a DBA.
Role names and passwords are quoted by psycopg2.sql, never pasted into SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from psycopg2 import sql
from sqlalchemy import Connection

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Psycopg2Connection

DEFAULT_ROLE = "finsent_dashboard"
READ_TABLES = ("articles", "model_outputs", "entity_mentions", "sentiment_aggregates", "alert_rule_states", "alerts",
               "silences", "webhook_deliveries", "model_versions", "analyst_labels")
INSERT_TABLES = ("analyst_labels", "silences")
ALERT_UPDATE_COLUMNS = ("acknowledged_by", "acknowledged_at", "updated_at")


def grant_statements(role: str, database: str, password: str | None = None,
                     create: bool = True) -> list[sql.Composed]:
    """CREATE ROLE (when asked) and the GRANTs, as psycopg2 Composed statements."""
    who = sql.Identifier(role)
    statements: list[sql.Composed] = []
    if create:
        statements.append(sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) "
            "THEN CREATE ROLE {who} LOGIN; END IF; END $$").format(name=sql.Literal(role), who=who))
    if password is not None:
        statements.append(sql.SQL("ALTER ROLE {} PASSWORD {}").format(who, sql.Literal(password)))
    statements += [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), who),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who),
        sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(", ").join(map(sql.Identifier, READ_TABLES)), who),
        sql.SQL("GRANT INSERT ON {} TO {}").format(sql.SQL(", ").join(map(sql.Identifier, INSERT_TABLES)), who),
        sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
            sql.SQL(", ").join(sql.Identifier(f"{table}_id_seq") for table in INSERT_TABLES), who),
        sql.SQL("GRANT UPDATE ({}) ON alerts TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, ALERT_UPDATE_COLUMNS)), who),
    ]
    return statements


def revoke_statements(role: str, database: str) -> list[sql.Composed]:
    """Undo grant_statements, so the role owns and holds nothing and `DROP ROLE` succeeds."""
    who = sql.Identifier(role)
    tables = sql.SQL(", ").join(map(sql.Identifier, READ_TABLES))
    return [
        sql.SQL("REVOKE ALL ON {} FROM {}").format(tables, who),
        sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(f"{table}_id_seq") for table in INSERT_TABLES), who),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(who),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(database), who),
    ]


def _psycopg2(connection: Connection) -> Psycopg2Connection:
    """The psycopg2 connection under a SQLAlchemy one (SQLAlchemy types it as any DBAPI connection)."""
    return cast("Psycopg2Connection", connection.connection.dbapi_connection)


def render(statements: list[sql.Composed], connection: Connection) -> str:
    """The statements as SQL text (quoting needs a live psycopg2 connection)."""
    raw = _psycopg2(connection)
    return "\n".join(statement.as_string(raw) + ";" for statement in statements)


def apply(statements: list[sql.Composed], connection: Connection) -> None:
    """Execute the statements on connection (the caller commits)."""
    raw = _psycopg2(connection)
    with raw.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
