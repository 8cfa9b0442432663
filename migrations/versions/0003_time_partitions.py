"""time partitions: articles, model outputs, entity mentions and aggregates partitioned by time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 09:00:00

Each of the four tables is rebuilt as a partitioned table and its rows copied
across (docs/storage.md, Partitioning): articles, model_outputs and
entity_mentions by RANGE (published_at); sentiment_aggregates by LIST
(bucket_seconds), its minute and hour sub-tables by RANGE (bucket_start).
Rows already stored go to one month-wide partition per month that holds any;
then `ensure_partitions` adds day-wide ones from yesterday to
FINSENT_PARTITIONS_AHEAD. Each range parent gets a DEFAULT partition.

A partitioned table's primary key must hold the partition key, so the keys
gain published_at, and the foreign keys to articles(id) go (nothing unique on
id alone can be declared any more; storage/writes.py keeps ids unique). The
downgrade copies the rows back into plain tables with the old keys and foreign
keys. Both directions copy every row: on a large database they take a while
and need the tables' size again in free disk.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "partitions"
TABLES = ("articles", "model_outputs", "entity_mentions", "sentiment_aggregates")

# Keys and indexes after this migration (as monitor.storage.models declares them) ...
PARTITIONED_KEYS = {
    "articles": ["ALTER TABLE articles ADD CONSTRAINT pk_articles PRIMARY KEY (id, published_at)"],
    "model_outputs": ["ALTER TABLE model_outputs ADD CONSTRAINT pk_model_outputs "
                      "PRIMARY KEY (article_id, model_version, published_at)"],
    "entity_mentions": ["ALTER TABLE entity_mentions ADD CONSTRAINT pk_entity_mentions PRIMARY KEY (id, published_at)",
                        "ALTER TABLE entity_mentions ADD CONSTRAINT uq_entity_mentions_article_span "
                        "UNIQUE (article_id, model_version, start_char, end_char, published_at)"],
    "sentiment_aggregates": ["ALTER TABLE sentiment_aggregates ADD CONSTRAINT pk_sentiment_aggregates "
                             "PRIMARY KEY (scope_kind, scope_key, bucket_seconds, bucket_start)"],
}
# ... and before it (0001).
PLAIN_KEYS = {
    "articles": ["ALTER TABLE articles ADD CONSTRAINT pk_articles PRIMARY KEY (id)"],
    "model_outputs": ["ALTER TABLE model_outputs ADD CONSTRAINT pk_model_outputs "
                      "PRIMARY KEY (article_id, model_version)"],
    "entity_mentions": ["ALTER TABLE entity_mentions ADD CONSTRAINT pk_entity_mentions PRIMARY KEY (id)",
                        "ALTER TABLE entity_mentions ADD CONSTRAINT "
                        "uq_entity_mentions_article_id_model_version_start_char_end_char "
                        "UNIQUE (article_id, model_version, start_char, end_char)"],
    "sentiment_aggregates": PARTITIONED_KEYS["sentiment_aggregates"],
}
INDEXES = {
    "articles": ["CREATE INDEX ix_articles_published_at ON articles (published_at)",
                 "CREATE INDEX ix_articles_source_published_at ON articles (source, published_at)",
                 "CREATE INDEX ix_articles_story_id ON articles (story_id)",
                 "CREATE INDEX ix_articles_tickers ON articles USING gin (tickers)"],
    "model_outputs": ["CREATE INDEX ix_model_outputs_published_at ON model_outputs (published_at)",
                      "CREATE INDEX ix_model_outputs_topic_published_at ON model_outputs (topic, published_at)"],
    "entity_mentions": ["CREATE INDEX ix_entity_mentions_text_published_at ON entity_mentions (text, published_at)",
                        "CREATE INDEX ix_entity_mentions_ticker_published_at "
                        "ON entity_mentions (ticker, published_at)"],
    "sentiment_aggregates": ["CREATE INDEX ix_sentiment_aggregates_bucket "
                             "ON sentiment_aggregates (bucket_seconds, bucket_start)"],
}
# New in 0003: the dashboard's "stored in the last 5 minutes" count scanned every article at 10M
# (about 1 s, docs/dashboard.md); with this index it is an index range scan.
NEW_INDEXES = {"articles": ["CREATE INDEX ix_articles_received_at ON articles (received_at)"]}
FOREIGN_KEYS = {  # name -> (table, column): what 0001 declared, with ON DELETE CASCADE
    "fk_model_outputs_article_id_articles": ("model_outputs", "article_id"),
    "fk_entity_mentions_article_id_articles": ("entity_mentions", "article_id"),
    "fk_analyst_labels_article_id_articles": ("analyst_labels", "article_id"),
}
SEQUENCES = {"entity_mentions": "entity_mentions_id_seq"}


def _months(old: str, key: str, where: str = "TRUE") -> list[datetime]:
    rows = op.get_bind().execute(text(
        f"SELECT DISTINCT date_trunc('month', {key} AT TIME ZONE 'UTC') AS month FROM {old} WHERE {where} ORDER BY 1"))
    return [row.month.replace(tzinfo=UTC) for row in rows]


def _month_partitions(parent: str, base: str, months: list[datetime]) -> None:
    """One month-wide partition per month that holds rows, and the DEFAULT partition."""
    for start in months:
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        op.execute(f"CREATE TABLE {SCHEMA}.{base}_p{start:%Y%m} PARTITION OF {parent} "
                   f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")
    op.execute(f"CREATE TABLE {SCHEMA}.{base}_default PARTITION OF {parent} DEFAULT")


def _move_sequence(table: str, new_owner: str) -> None:
    if table in SEQUENCES:  # the id sequence would be dropped with the table that owns it
        op.execute(f"ALTER SEQUENCE {SEQUENCES[table]} OWNED BY {new_owner}.id")


def upgrade() -> None:
    # Written by hand: autogenerate knows neither partitions nor copying rows.
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    for name in FOREIGN_KEYS:
        op.drop_constraint(name, FOREIGN_KEYS[name][0], type_="foreignkey")
    for table in TABLES:
        old = f"{table}_unpartitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        by = "LIST (bucket_seconds)" if table == "sentiment_aggregates" else "RANGE (published_at)"
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY {by}")
        if table == "sentiment_aggregates":
            for seconds in (60, 3600):
                sub = f"{SCHEMA}.sentiment_aggregates_{seconds}"
                op.execute(f"CREATE TABLE {sub} PARTITION OF sentiment_aggregates FOR VALUES IN ({seconds}) "
                           "PARTITION BY RANGE (bucket_start)")
                _month_partitions(sub, f"sentiment_aggregates_{seconds}",
                                  _months(old, "bucket_start", f"bucket_seconds = {seconds}"))
            op.execute(f"CREATE TABLE {SCHEMA}.sentiment_aggregates_86400 PARTITION OF sentiment_aggregates "
                       "FOR VALUES IN (86400)")
            op.execute(f"CREATE TABLE {SCHEMA}.sentiment_aggregates_default PARTITION OF sentiment_aggregates DEFAULT")
        else:
            _month_partitions(table, table, _months(old, "published_at"))
        op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        _move_sequence(table, table)
        op.execute(f"DROP TABLE {old}")
        for statement in PARTITIONED_KEYS[table] + INDEXES[table] + NEW_INDEXES.get(table, []):
            op.execute(statement)

    from kernel.settings import get_settings
    from monitor.storage.partitions import (
        ARTICLES,
        ENTITY_MENTIONS,
        HOUR_AGGREGATES,
        MINUTE_AGGREGATES,
        MODEL_OUTPUTS,
        ensure_partitions,
    )

    # the parents this revision made (later revisions add their own)
    ensure_partitions(op.get_bind(), ahead=get_settings().partitions_ahead,
                      parents=(ARTICLES, MODEL_OUTPUTS, ENTITY_MENTIONS, MINUTE_AGGREGATES, HOUR_AGGREGATES))


def downgrade() -> None:
    for table in TABLES:
        old = f"{table}_partitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
        op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        _move_sequence(table, table)
        op.execute(f"DROP TABLE {old}")  # and its partitions
        for statement in PLAIN_KEYS[table] + INDEXES[table]:
            op.execute(statement)
    for name, (table, column) in FOREIGN_KEYS.items():
        op.create_foreign_key(name, table, "articles", [column], ["id"], ondelete="CASCADE")
    op.execute(f"DROP SCHEMA {SCHEMA}")
