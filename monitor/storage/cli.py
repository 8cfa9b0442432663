"""`finsent db upgrade | downgrade | current`: Alembic migrations on a live database."""

from __future__ import annotations

import click

from monitor.storage import migrate


@click.group()
def db() -> None:
    """Database schema migrations (Alembic, in migrations/)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate up to REVISION (default: head)."""
    migrate.upgrade(revision)
    click.echo(f"database at {revision}")


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (default: one step; `base` drops everything)."""
    migrate.downgrade(revision)
    click.echo(f"database downgraded to {revision}")


@db.command()
def current() -> None:
    """Print the current revision."""
    migrate.current()
