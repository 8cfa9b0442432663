"""`finsent data`: fetch the public datasets and report what the loaders read from them.

    finsent data list                       # the catalogue: formats, tasks, licences
    finsent data fetch [--include-noncommercial] [--data-dir DIR] [--only NAME]
    finsent data stats [--data-dir DIR] [--only NAME]   # train/dev counts as JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _data_dir(value: Path | None) -> Path:
    from kernel.settings import get_settings

    return value if value is not None else get_settings().data_dir


@click.group()
def data() -> None:
    """Datasets: list, fetch, count."""


@data.command("list")
def list_datasets() -> None:
    """Show the catalogued datasets."""
    from model.data.catalogue import CATALOGUE

    for dataset in CATALOGUE:
        usage = "commercial use allowed" if dataset.commercial_use else "non-commercial / research"
        click.echo(f"{dataset.name:18} {dataset.format:18} {','.join(sorted(dataset.tasks)):17} "
                   f"{dataset.licence} [{usage}]")


@data.command()
@click.option("--include-noncommercial", is_flag=True,
              help="Also fetch non-commercial and research-only datasets (their licences are printed).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Target directory (default: FINSENT_DATA_DIR).")
@click.option("--only", "names", multiple=True, metavar="NAME", help="Fetch only this dataset (repeatable).")
def fetch(include_noncommercial: bool, data_dir: Path | None, names: tuple[str, ...]) -> None:
    """Download the public datasets, resumably, and verify their checksums."""
    from model.data.catalogue import CATALOGUE, get_dataset
    from model.data.fetch import ChecksumMismatchError, FetchError
    from model.data.fetch import fetch as fetch_datasets

    try:
        datasets = [get_dataset(name) for name in names] if names else list(CATALOGUE)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--only") from None
    try:
        results = fetch_datasets(datasets, _data_dir(data_dir), include_noncommercial=include_noncommercial,
                                 echo=click.echo, progress=sys.stderr.isatty())
    except (ChecksumMismatchError, FetchError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    unverified = [r.path for r in results if r.path and not r.verified]
    if unverified:
        click.echo(f"{len(unverified)} file(s) could not be verified: {', '.join(unverified)}")


@data.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: FINSENT_DATA_DIR).")
@click.option("--only", "names", multiple=True, metavar="NAME", help="Count only this dataset (repeatable).")
def stats(data_dir: Path | None, names: tuple[str, ...]) -> None:
    """Load the datasets, split them, and print train/dev example counts as JSON."""
    from model.data.errors import DataFormatError, DatasetMissingError
    from model.data.splits import corpus_counts, load_corpus

    try:
        corpus = load_corpus(_data_dir(data_dir), names or None)
    except (DataFormatError, DatasetMissingError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(json.dumps(corpus_counts(corpus)))
