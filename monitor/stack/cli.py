"""`finsent stack up | down | status`: the local Kafka broker and PostgreSQL."""

from __future__ import annotations

import sys

import click

from kernel.settings import Settings, get_settings
from monitor.stack import kafka, postgres
from monitor.stack.processes import StackError


@click.group()
def stack() -> None:
    """Run a real single-node Kafka (KRaft) and PostgreSQL on 127.0.0.1."""


def _run(step, settings: Settings) -> None:  # noqa: ANN001 - a callable taking settings
    try:
        click.echo(step(settings))
    except StackError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


@stack.command()
@click.option("--only", type=click.Choice(["kafka", "postgres"]), help="Start just one service.")
def up(only: str | None) -> None:
    """Start the services (harmless when they already run)."""
    settings = get_settings()
    if only in (None, "postgres"):
        _run(postgres.start, settings)
    if only in (None, "kafka"):
        _run(kafka.start, settings)


@stack.command()
@click.option("--only", type=click.Choice(["kafka", "postgres"]), help="Stop just one service.")
def down(only: str | None) -> None:
    """Stop the services this state directory started."""
    settings = get_settings()
    if only in (None, "kafka"):
        _run(kafka.stop, settings)
    if only in (None, "postgres"):
        _run(postgres.stop, settings)


@stack.command()
def status() -> None:
    """Say what runs and whether it answers."""
    settings = get_settings()
    _run(kafka.status, settings)
    _run(postgres.status, settings)
