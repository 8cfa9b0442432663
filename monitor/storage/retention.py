"""Retention: old data leaves by whole partitions, its counts stay at the coarser level.

    finsent db retention --dry-run     # what would go: partitions, their rows
    finsent db retention               # do it

How long each kind stays is set per kind (FINSENT_RETENTION_ARTICLES, _MENTIONS,
_MINUTE_AGGREGATES, _HOURLY_AGGREGATES, _DAILY_AGGREGATES; docs/storage.md).
A partition goes when all of its range is older than its kind's cutoff (now
minus the retention, floored to the partition width), by DROP TABLE: no row
deletes on the tables the worker writes. Before minute or hour partitions go,
the coarser buckets they lack are rolled up (rollups.py), so charts over old
ranges keep their counts. Articles that an analyst labelled or that an alert
cites as evidence stay, with their outputs and mentions: they are copied into
the parent's DEFAULT partition (which holds no range) before their partition
is dropped, so labels and evidence still find their headline. Old rows in a
DEFAULT partition (late timestamps) go by row delete; it is small.

Everything happens in the caller's transaction, drops last, so a crash leaves
either the old state or the new one and writers wait only for the drops.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from kernel.settings import Settings
from monitor.storage.partitions import (
    DAY_AGGREGATES,
    HOUR_AGGREGATES,
    LOCK_TIMEOUT,
    MINUTE_AGGREGATES,
    RANGE_PARENTS,
    Partition,
    RangeParent,
    floor_to,
    list_partitions,
)
from monitor.storage.rollups import roll_up_missing

# Article ids that must outlive retention: analysts' labels and alerts' evidence point at them.
PINNED_ARTICLE_IDS = """
    SELECT article_id AS id FROM analyst_labels
    UNION
    SELECT coalesce(cited.value ->> 'id', cited.value #>> '{}') FROM alerts,
        LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(alerts.evidence -> 'top_articles') = 'array'
                                     THEN alerts.evidence -> 'top_articles' ELSE '[]'::jsonb END) AS cited
"""
ROLL_UPS = {MINUTE_AGGREGATES: (60, 3600), HOUR_AGGREGATES: (3600, 86_400)}  # level -> (its width, into)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data stays; None = for ever."""

    articles: timedelta | None  # articles and their model outputs
    mentions: timedelta | None
    minute_aggregates: timedelta | None
    hourly_aggregates: timedelta | None
    daily_aggregates: timedelta | None

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(settings.retention_articles, settings.retention_mentions, settings.retention_minute_aggregates,
                   settings.retention_hourly_aggregates, settings.retention_daily_aggregates)

    def cutoff(self, kind: str, now: datetime, step: str) -> datetime | None:
        """Rows before this instant expire: now - retention, floored to a partition (day or month) start."""
        keep: timedelta | None = getattr(self, kind)
        return None if keep is None else floor_to(now - keep, step)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpiredPartition:
    table: str  # the parent
    name: str
    start: datetime
    end: datetime
    rows: int
    rows_estimated: bool  # from the planner's statistics (pg_class.reltuples), not counted


@dataclass(frozen=True)
class ExpiredRows:
    """Rows of a table that leave by row delete: a DEFAULT partition's old rows, or old daily buckets."""

    table: str
    before: datetime
    rows: int


@dataclass
class RetentionPlan:
    now: datetime
    cutoffs: dict[str, str | None]  # table -> rows before this go (ISO 8601), None: kept for ever
    partitions: list[ExpiredPartition] = field(default_factory=list)
    row_deletes: list[ExpiredRows] = field(default_factory=list)
    pinned_articles: int = 0  # labelled or cited articles, kept

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "cutoffs": self.cutoffs, "pinned_articles": self.pinned_articles,
                "partitions": [{**asdict(p), "start": p.start.isoformat(), "end": p.end.isoformat()}
                               for p in self.partitions],
                "row_deletes": [{**asdict(r), "before": r.before.isoformat()} for r in self.row_deletes],
                "rows": sum(p.rows for p in self.partitions) + sum(r.rows for r in self.row_deletes)}


@dataclass(frozen=True)
class RetentionReport:
    dropped_partitions: list[str]
    deleted_rows: int  # by row delete (defaults, daily buckets)
    kept_pinned_rows: int  # rows of dropped partitions copied into the default (labelled/cited articles)
    rolled_up: dict[str, int]  # coarser buckets made from expiring finer ones, per level


def _not_pinned(parent: RangeParent) -> str:
    return f" AND {parent.pin_column} NOT IN (SELECT id FROM ({PINNED_ARTICLE_IDS}) AS pinned)" \
        if parent.pin_column else ""


def _rows(connection: Connection, partition: Partition) -> tuple[int, bool]:
    if partition.rows_estimate >= 0:
        return partition.rows_estimate, True
    return int(connection.execute(text(f"SELECT count(*) FROM {partition.name}")).scalar_one()), False


def plan_retention(connection: Connection, policy: RetentionPolicy, now: datetime | None = None) -> RetentionPlan:
    """What retention would remove now: whole partitions, and rows of DEFAULT partitions and daily buckets."""
    now = now or datetime.now(UTC)
    plan = RetentionPlan(now=now, cutoffs={})
    for parent in RANGE_PARENTS:
        cutoff = policy.cutoff(parent.retention, now, parent.step)
        plan.cutoffs[parent.table] = cutoff.isoformat() if cutoff else None
        if cutoff is None:
            continue
        for partition in list_partitions(connection, parent):
            if partition.is_default:
                rows = connection.execute(text(f"SELECT count(*) FROM {partition.name} WHERE {parent.key} < :cutoff"
                                               + _not_pinned(parent)), {"cutoff": cutoff}).scalar_one()
                if rows:
                    plan.row_deletes.append(ExpiredRows(partition.name, cutoff, int(rows)))
            elif partition.end is not None and partition.start is not None and partition.end <= cutoff:
                rows, estimated = _rows(connection, partition)
                plan.partitions.append(ExpiredPartition(parent.table, partition.name, partition.start,
                                                        partition.end, rows, estimated))
    daily_cutoff = policy.cutoff("daily_aggregates", now, "day")
    plan.cutoffs[DAY_AGGREGATES] = daily_cutoff.isoformat() if daily_cutoff else None
    if daily_cutoff is not None:
        rows = connection.execute(text(f"SELECT count(*) FROM {DAY_AGGREGATES} WHERE bucket_start < :cutoff"),
                                  {"cutoff": daily_cutoff}).scalar_one()
        if rows:
            plan.row_deletes.append(ExpiredRows(DAY_AGGREGATES, daily_cutoff, int(rows)))
    plan.pinned_articles = int(connection.execute(
        text(f"SELECT count(*) FROM ({PINNED_ARTICLE_IDS}) AS pinned")).scalar_one())
    return plan


def apply_retention(connection: Connection, plan: RetentionPlan) -> RetentionReport:
    """Carry out a plan (from plan_retention in the same transaction): roll up, delete, then drop.

    The caller owns the transaction; it commits all of it or none. A parent busy for
    longer than LOCK_TIMEOUT fails the run (retry later) instead of queueing writers behind it.
    """
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    rolled_up: dict[str, int] = {}
    for parent, (fine, coarse) in ROLL_UPS.items():  # minute -> hour first: hour -> day then sees them
        cutoff = plan.cutoffs.get(parent.table)
        if cutoff is not None:
            rolled_up[f"{fine}->{coarse}"] = roll_up_missing(connection, fine, coarse, datetime.fromisoformat(cutoff))

    deleted = 0
    for stale in plan.row_deletes:
        owner = next((p for p in RANGE_PARENTS if p.default == stale.table), None)
        key, pinned = (owner.key, _not_pinned(owner)) if owner else ("bucket_start", "")
        deleted += connection.execute(text(f"DELETE FROM {stale.table} WHERE {key} < :cutoff{pinned}"),
                                      {"cutoff": stale.before}).rowcount

    kept = 0
    for expired in plan.partitions:
        parent = next(p for p in RANGE_PARENTS if p.table == expired.table)
        if parent.pin_column:
            # Detached, its range belongs to no partition: the pinned rows land in the DEFAULT one.
            connection.execute(text(f"ALTER TABLE {parent.table} DETACH PARTITION {expired.name}"))
            kept += connection.execute(text(
                f"INSERT INTO {parent.table} SELECT * FROM {expired.name} "
                f"WHERE {parent.pin_column} IN (SELECT id FROM ({PINNED_ARTICLE_IDS}) AS pinned)")).rowcount
        connection.execute(text(f"DROP TABLE {expired.name}"))
    return RetentionReport([p.name for p in plan.partitions], deleted, kept, rolled_up)

