"""Run Alembic migrations programmatically, against the database whose URL is passed in
(`finsent db` passes settings.database_url)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from kernel.paths import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> Config:
    """Alembic config pointing at `migrations/`, for the database at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(revision: str = "head", *, url: str) -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str = "-1", *, url: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current(*, url: str) -> None:
    command.current(alembic_config(url), verbose=False)
