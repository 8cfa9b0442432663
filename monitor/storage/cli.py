"""`finsent db upgrade | downgrade | current | rebuild-aggregates`: migrations and aggregate rebuilds."""

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


@db.command("rebuild-aggregates")
@click.option("--model-version", default=None, help="Whose outputs to aggregate (default: the version with the most).")
@click.option("--entity-sentiment", type=click.Choice(["entity", "article"]), default="article", show_default=True,
              help="Which sentiment entity scope keys count with: the entity-sentiment head's or the article's "
                   "(the worker's choice; tickers always use the entity's).")
@click.option("--ignore-precision", is_flag=True,
              help="Put date-only articles in minute and hour buckets too (the behaviour before migration 0002).")
def rebuild_aggregates(model_version: str | None, entity_sentiment: str, ignore_precision: bool) -> None:
    """Recompute sentiment_aggregates from stored articles, outputs and mentions (replaces all rows)."""
    import time

    from monitor.storage.db import session_factory
    from monitor.storage.rebuild import rebuild_aggregates as rebuild

    began = time.perf_counter()
    with session_factory().begin() as session:
        report = rebuild(session, model_version, entity_sentiment, ignore_precision)  # type: ignore[arg-type]
    click.echo(f"{report.articles} articles ({report.stories} stories) of {report.model_version}: "
               f"{report.rows} aggregate row updates in {time.perf_counter() - began:.0f} s")
