"""One retraining run at a time across machines: a PostgreSQL session advisory lock.

`pg_try_advisory_lock` returns at once (true or false) instead of queueing, so
a second scheduler skips the run rather than running it again later. The lock
belongs to one dedicated connection held for the whole run; PostgreSQL frees it
when that connection closes, so a crashed or killed run cannot leave it stuck.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

RETRAIN_LOCK_NAME = "finsent.retrain"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (the bigint form pg_try_advisory_lock takes)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


@contextmanager
def try_advisory_lock(engine: Engine, name: str = RETRAIN_LOCK_NAME) -> Iterator[bool]:
    """Yield True while holding the named lock, or False at once when another session holds it."""
    key = lock_key(name)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        connection.close()
