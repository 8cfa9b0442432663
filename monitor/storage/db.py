"""Engines and sessions. Functions elsewhere take a Session; callers own the transaction.

The database URL comes in as an argument: the commands and the worker read
FINSENT_DATABASE_URL (settings.database_url) and pass it down.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for url (the commands pass settings.database_url) that checks connections before use."""
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    """A cached sessionmaker per URL; use as `with session_factory(url).begin() as session:`."""
    return sessionmaker(make_engine(url), expire_on_commit=False)
