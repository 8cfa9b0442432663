"""Roll finer aggregate buckets up into coarser ones, for the buckets that lack them.

The worker writes every article's minute, hour and day buckets in the same
transaction (storage/writes.py), so the coarser levels are already maintained
incrementally, batch by batch. What can lack a coarser row is history written
before a level existed (daily buckets came with migration 0002) or loaded by
hand. Retention calls `roll_up_missing` on the range it is about to drop, so
no count leaves the database with the finer level: a coarser bucket that
exists is left alone (it already counts everything, including date-only
articles that only the daily level holds); one that is missing is made from
the finer rows. Each run reads only the newly expired range.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

COUNTERS = ("article_count", "story_count", "negative_count", "neutral_count", "positive_count")
SUMS = ("score_sum", "score_sq_sum")

_ROLL_UP = text(f"""
    WITH fine AS (
        SELECT scope_kind, scope_key, sources, {", ".join(COUNTERS + SUMS)},
               to_timestamp(floor(extract(epoch FROM bucket_start) / :coarse) * :coarse) AS coarse_start
        FROM sentiment_aggregates
        WHERE bucket_seconds = :fine AND bucket_start < :before
    ), merged_sources AS (
        SELECT scope_kind, scope_key, coarse_start, array_agg(DISTINCT source ORDER BY source) AS sources
        FROM fine, unnest(fine.sources) AS source GROUP BY 1, 2, 3
    )
    INSERT INTO sentiment_aggregates (scope_kind, scope_key, bucket_seconds, bucket_start,
                                      {", ".join(COUNTERS + SUMS)}, sources)
    SELECT f.scope_kind, f.scope_key, :coarse, f.coarse_start,
           {", ".join(f"sum(f.{c})::int" for c in COUNTERS)}, {", ".join(f"sum(f.{s})" for s in SUMS)},
           coalesce(m.sources, '{{}}')
    FROM fine f LEFT JOIN merged_sources m USING (scope_kind, scope_key, coarse_start)
    GROUP BY f.scope_kind, f.scope_key, f.coarse_start, m.sources
    ON CONFLICT (scope_kind, scope_key, bucket_seconds, bucket_start) DO NOTHING
""")


def roll_up_missing(connection: Connection, fine_seconds: int, coarse_seconds: int, before: datetime) -> int:
    """Make the missing coarse buckets before `before` from the fine ones; return how many were made.

    `before` must be a multiple of coarse_seconds (a UTC day or month start), so no
    coarse bucket is made from part of its fine rows. The caller owns the transaction.
    """
    if coarse_seconds % fine_seconds or int(before.timestamp()) % coarse_seconds:
        raise ValueError(f"before={before.isoformat()} must start a {coarse_seconds} s bucket, "
                         f"and {coarse_seconds} must be a multiple of {fine_seconds}")
    result = connection.execute(_ROLL_UP, {"fine": fine_seconds, "coarse": coarse_seconds, "before": before})
    return result.rowcount
