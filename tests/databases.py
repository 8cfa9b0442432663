"""Throw-away PostgreSQL databases for tests, on the real server `make test` starts."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ProgrammingError


@contextmanager
def scratch_database(server_url: str, prefix: str, migrated: bool = True) -> Iterator[str]:
    """Create a uniquely named database (migrated to head unless told not to), drop it afterwards."""
    from monitor.storage import migrate

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            migrate.upgrade("head", url=url)
        yield url
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: Engine, name: str, attempts: int = 30) -> None:
    """DROP DATABASE ... WITH (FORCE), retried while an autovacuum worker is in the database.

    FORCE terminates the test's own leftover connections, but PostgreSQL refuses to terminate an
    autovacuum worker for a non-superuser ("must be a member of the role whose process is being
    terminated"); the worker ends within moments (the partitioned tables give it plenty to analyse).
    """
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError as error:
            if "pg_signal_backend" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5)
