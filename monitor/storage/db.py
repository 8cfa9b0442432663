"""Engines and sessions. Functions elsewhere take a Session; callers own the transaction."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from kernel.settings import get_settings


def make_engine(url: str | None = None, **kwargs: object) -> Engine:
    """An engine for url (default: FINSENT_DATABASE_URL) that checks connections before use."""
    return create_engine(url or get_settings().database_url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A cached sessionmaker per URL; use as `with session_factory().begin() as session:`."""
    return sessionmaker(make_engine(url), expire_on_commit=False)
