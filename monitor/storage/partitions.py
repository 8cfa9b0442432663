"""Time partitions of the big tables: which exist, and creating them ahead of time.

    finsent db partitions ensure [--ahead 7d]     # the worker runs it at start, retention before it runs
    finsent db partitions list

articles, model_outputs, entity_mentions and article_events are range-partitioned by
published_at; sentiment_aggregates is list-partitioned by bucket_seconds, its
minute and hour sub-tables range-partitioned by bucket_start (the daily one is
one table: it is kept for ever). Day-wide partitions for the first four and
the minute aggregates, month-wide for the hour aggregates. Partitions live in
the `partitions` schema, so the application's schema lists only the tables the
models declare.

Why ahead of time: creating a partition takes a lock on its parent, and the
write path must never wait on one. Every range parent has a DEFAULT partition,
so a row whose time has no partition (a late, replayed or odd timestamp) is
stored there, never lost; creating a partition moves the default's rows of its
range into it first (PostgreSQL refuses to attach otherwise).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

SCHEMA = "partitions"
Step = Literal["day", "month"]
LOCK_TIMEOUT = "5s"  # a busy parent makes ensure fail and be retried later, never stalls writers for long


@dataclass(frozen=True)
class RangeParent:
    """A table (or sub-table) partitioned by a time range."""

    table: str  # qualified name: public parent or the aggregates' sub-table in SCHEMA
    key: str  # the partition key column
    step: Step  # the width of the partitions `ensure` creates
    retention: str  # the Settings field (without "retention_") saying how long its rows stay
    pin_column: str | None = None  # the article id column: labelled/alerted articles survive retention

    @property
    def base(self) -> str:
        """The unqualified name partitions are named after."""
        return self.table.rpartition(".")[2]

    @property
    def default(self) -> str:
        return f"{SCHEMA}.{self.base}_default"


ARTICLES = RangeParent("public.articles", "published_at", "day", "articles", "id")
MODEL_OUTPUTS = RangeParent("public.model_outputs", "published_at", "day", "articles", "article_id")
ENTITY_MENTIONS = RangeParent("public.entity_mentions", "published_at", "day", "mentions", "article_id")
MINUTE_AGGREGATES = RangeParent(f"{SCHEMA}.sentiment_aggregates_60", "bucket_start", "day", "minute_aggregates")
HOUR_AGGREGATES = RangeParent(f"{SCHEMA}.sentiment_aggregates_3600", "bucket_start", "month", "hourly_aggregates")
DAY_AGGREGATES = f"{SCHEMA}.sentiment_aggregates_86400"  # not range-partitioned: one row per scope and day
ARTICLE_EVENTS = RangeParent("public.article_events", "published_at", "day", "articles", "article_id")
RANGE_PARENTS: tuple[RangeParent, ...] = (ARTICLES, MODEL_OUTPUTS, ENTITY_MENTIONS, ARTICLE_EVENTS, MINUTE_AGGREGATES,
                                          HOUR_AGGREGATES)

class PartitionsMissing(RuntimeError):
    """The database is not partitioned yet: the code is newer than its schema."""


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    parent: RangeParent
    name: str  # qualified
    start: datetime | None  # None for the default partition
    end: datetime | None
    rows_estimate: int  # pg_class.reltuples: as of the last ANALYZE (-1: never analysed)

    @property
    def is_default(self) -> bool:
        return self.start is None


def floor_to(ts: datetime, step: Step) -> datetime:
    """The start of the day or month (UTC) holding ts."""
    ts = ts.astimezone(UTC)
    day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1) if step == "month" else day


def next_start(start: datetime, step: Step) -> datetime:
    if step == "day":
        return start + timedelta(days=1)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def partition_name(parent: RangeParent, start: datetime, step: Step) -> str:
    """partitions.articles_p20260105 (a day) or partitions.sentiment_aggregates_3600_p202601 (a month)."""
    return f"{SCHEMA}.{parent.base}_p{start.strftime('%Y%m%d' if step == 'day' else '%Y%m')}"


def _utc_session(connection: Connection) -> None:
    # Bounds are printed in the session's time zone; UTC makes them parse the same everywhere.
    connection.execute(text("SET LOCAL TimeZone = 'UTC'"))


def list_partitions(connection: Connection, parent: RangeParent) -> list[Partition]:
    """The partitions of one parent, default first, then by start."""
    _utc_session(connection)
    rows = connection.execute(text(
        "SELECT n.nspname || '.' || c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, "
        "c.reltuples::bigint AS rows FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = CAST(:parent AS regclass)"),
        {"parent": parent.table}).all()
    partitions = []
    for row in rows:
        match = _BOUND.search(row.bound)
        if row.bound == "DEFAULT" or match is None:
            partitions.append(Partition(parent, row.name, None, None, int(row.rows)))
        else:
            start, end = (datetime.fromisoformat(value).astimezone(UTC) for value in match.groups())
            partitions.append(Partition(parent, row.name, start, end, int(row.rows)))
    return sorted(partitions, key=lambda p: (p.start is not None, p.start or datetime.min.replace(tzinfo=UTC)))


def wanted_ranges(parent: RangeParent, now: datetime, ahead: timedelta) -> list[tuple[datetime, datetime]]:
    """The ranges that should exist: from the day (or month) before now to now + ahead."""
    start = floor_to(floor_to(now, parent.step) - timedelta(seconds=1), parent.step)
    last = floor_to(now + ahead, parent.step)
    ranges = []
    while start <= last:
        end = next_start(start, parent.step)
        ranges.append((start, end))
        start = end
    return ranges


def create_partition(connection: Connection, parent: RangeParent, start: datetime, end: datetime) -> str:
    """Create the partition [start, end) of parent, moving the default partition's rows of that range into it."""
    name = partition_name(parent, start, parent.step)
    bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    in_range = f"{parent.key} >= :start AND {parent.key} < :end"
    params = {"start": start, "end": end}
    stray = connection.execute(text(f"SELECT EXISTS (SELECT 1 FROM {parent.default} WHERE {in_range})"),
                               params).scalar()
    if not stray:
        connection.execute(text(f"CREATE TABLE {name} PARTITION OF {parent.table} FOR VALUES {bounds}"))
        return name
    # The default holds rows of this range: PostgreSQL refuses the new partition until they leave it.
    connection.execute(text(f"CREATE TABLE {name} (LIKE {parent.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    connection.execute(text(f"WITH moved AS (DELETE FROM {parent.default} WHERE {in_range} RETURNING *) "
                            f"INSERT INTO {name} SELECT * FROM moved"), params)
    connection.execute(text(f"ALTER TABLE {parent.table} ATTACH PARTITION {name} FOR VALUES {bounds}"))
    return name


def _overlaps(existing: list[Partition], start: datetime, end: datetime) -> bool:
    return any(p.start is not None and p.end is not None and p.start < end and start < p.end for p in existing)


def ensure_partitions(connection: Connection, now: datetime | None = None,
                      ahead: timedelta = timedelta(days=7),
                      parents: tuple[RangeParent, ...] = RANGE_PARENTS) -> list[str]:
    """Create every missing partition from the day (month) before now to now + ahead; return their names.

    Idempotent; a range already covered, wholly or in part (a month-wide partition
    made by migration 0003), is left alone. The caller owns the transaction. A migration
    passes the `parents` its schema has (0003 predates article_events).
    """
    now = now or datetime.now(UTC)
    if connection.execute(text("SELECT to_regclass(:name)"), {"name": ARTICLES.default}).scalar() is None:
        raise PartitionsMissing("the database has no time partitions (it predates migration 0003): "
                                "run `finsent db upgrade`")
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    created = []
    for parent in parents:
        existing = list_partitions(connection, parent)
        for start, end in wanted_ranges(parent, now, ahead):
            if not _overlaps(existing, start, end):
                created.append(create_partition(connection, parent, start, end))
    if created:
        log.info("created %d partitions: %s .. %s", len(created), created[0], created[-1])
    return created


def ensure_ahead(url: str, ahead: timedelta) -> list[str]:
    """ensure_partitions in a transaction of its own, for long-running processes (the worker passes
    settings.database_url and settings.partitions_ahead).

    A failure (a parent locked past LOCK_TIMEOUT, the database away) is logged, not
    raised: until the next try, rows of a missing range wait in the DEFAULT partition.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.storage.db import session_factory

    try:
        with session_factory(url).begin() as session:
            return ensure_partitions(session.connection(), ahead=ahead)
    except SQLAlchemyError as error:
        log.warning("could not create partitions ahead (rows go to the DEFAULT partitions meanwhile): %s", error)
        return []
