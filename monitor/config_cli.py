"""`finsent config`: print the effective settings, so users can see what a process will use."""

from __future__ import annotations

import json

import click

from kernel.settings import get_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def config(as_json: bool) -> None:
    """Show every setting with its environment variable and current value."""
    settings = get_settings()
    values = json.loads(settings.model_dump_json())
    if as_json:
        click.echo(json.dumps(values))
        return
    for field, value in values.items():
        click.echo(f"FINSENT_{field.upper():<28} {value}")
