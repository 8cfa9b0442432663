"""`finsent db upgrade | downgrade | current | rebuild-aggregates | partitions | retention`.

Migrations, aggregate rebuilds, time partitions and retention (docs/storage.md). Each command reads the
settings (FINSENT_DATABASE_URL, ...) and passes the values into monitor.storage.
"""

from __future__ import annotations

import click

from kernel.settings import Settings, get_settings
from monitor.storage import migrate


@click.group()
def db() -> None:
    """Database schema migrations (Alembic, in migrations/)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate up to REVISION (default: head)."""
    migrate.upgrade(revision, url=get_settings().database_url)
    click.echo(f"database at {revision}")


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (default: one step; `base` drops everything)."""
    migrate.downgrade(revision, url=get_settings().database_url)
    click.echo(f"database downgraded to {revision}")


@db.command()
def current() -> None:
    """Print the current revision."""
    migrate.current(url=get_settings().database_url)


@db.command("rebuild-aggregates")
@click.option("--model-version", default=None, help="Whose outputs to aggregate (default: the version with the most).")
@click.option("--entity-sentiment", type=click.Choice(["entity", "article"]), default="article", show_default=True,
              help="Which sentiment entity scope keys count with: the entity-sentiment head's or the article's "
                   "(the worker's choice; tickers always use the entity's).")
@click.option("--ignore-precision", is_flag=True,
              help="Put date-only articles in minute and hour buckets too (the behaviour before migration 0002).")
@click.option("--without-known-names", is_flag=True,
              help="Count only the names the tagger found, not known names it missed (monitor/storage/known_names.py).")
def rebuild_aggregates(model_version: str | None, entity_sentiment: str, ignore_precision: bool,
                       without_known_names: bool) -> None:
    """Recompute sentiment_aggregates from stored articles, outputs and mentions (replaces all rows)."""
    import time

    from model.serving.registry import RegistryError, load_lower_case_words
    from monitor.storage.db import session_factory
    from monitor.storage.rebuild import newest_complete_version
    from monitor.storage.rebuild import rebuild_aggregates as rebuild

    settings = get_settings()
    began = time.perf_counter()
    with session_factory(settings.database_url).begin() as session:
        version = model_version or newest_complete_version(session)
        try:  # names in title-case headlines are read with the version's casing table, as its worker did
            casing = load_lower_case_words(settings.registry_dir, version)
        except RegistryError:
            casing = frozenset()
            click.echo(f"{version} is not in the model registry: names completed without its casing table", err=True)
        report = rebuild(session, version, entity_sentiment, ignore_precision,  # type: ignore[arg-type]
                         lower_case_words=casing, known_names=not without_known_names)
    click.echo(f"{report.articles} articles ({report.stories} stories) of {report.model_version}: "
               f"{report.rows} aggregate row updates in {time.perf_counter() - began:.0f} s")


@db.group()
def partitions() -> None:
    """Time partitions of articles, outputs, mentions and aggregates (docs/storage.md)."""


@partitions.command()
@click.option("--ahead", default=None, metavar="DURATION",
              help="How far ahead to create partitions, e.g. 7d (default: FINSENT_PARTITIONS_AHEAD).")
def ensure(ahead: str | None) -> None:
    """Create the missing partitions from yesterday to now + AHEAD (idempotent; the worker runs it at start)."""
    from kernel.settings import parse_duration
    from monitor.storage.db import session_factory
    from monitor.storage.partitions import ensure_partitions

    settings = get_settings()
    try:
        span = parse_duration(ahead) if ahead is not None else settings.partitions_ahead
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--ahead") from None
    if span is None:
        raise click.BadParameter("a partition look-ahead is a finite duration, e.g. 7d", param_hint="--ahead")
    with session_factory(settings.database_url).begin() as session:
        created = ensure_partitions(session.connection(), ahead=span)
    click.echo("\n".join(created) if created else "all partitions exist")


@partitions.command("list")
def list_() -> None:
    """Print each partition: its range and its rows as of the last ANALYZE (-1: never analysed)."""
    from monitor.storage.db import session_factory
    from monitor.storage.partitions import RANGE_PARENTS, list_partitions

    with session_factory(get_settings().database_url).begin() as session:
        for parent in RANGE_PARENTS:
            for p in list_partitions(session.connection(), parent):
                bounds = "DEFAULT" if p.is_default else f"{p.start:%Y-%m-%d} .. {p.end:%Y-%m-%d}"
                click.echo(f"{parent.table:40} {p.name:55} {bounds:24} {p.rows_estimate:>10}")


@db.command()
@click.option("--dry-run", is_flag=True, help="Show what would go (partitions, rows) and change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and report) as JSON.")
@click.option("--every", default=None, metavar="DURATION",
              help="Run again every DURATION (e.g. 1h) until stopped: the deployment's retention job.")
def retention(dry_run: bool, as_json: bool, every: str | None) -> None:
    """Drop partitions older than the FINSENT_RETENTION_* settings, keeping coarser roll-ups and pinned articles."""
    import signal
    import threading

    from kernel.settings import parse_duration

    try:
        interval = parse_duration(every) if every is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--every") from None
    if every is not None and (interval is None or interval.total_seconds() < 60):
        raise click.BadParameter("the interval is a finite duration of at least 1m, e.g. 1h", param_hint="--every")
    settings = get_settings()
    if interval is None:
        _retention_once(settings, dry_run, as_json)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():  # one run, then wait; a stop signal ends the wait, never a run
        _retention_once(settings, dry_run, as_json)
        stop.wait(interval.total_seconds())


def _retention_once(settings: Settings, dry_run: bool, as_json: bool) -> None:
    """One retention pass: partitions made ahead, then the plan, applied in one transaction unless a dry run."""
    import json
    from dataclasses import asdict

    from monitor.storage.db import session_factory
    from monitor.storage.partitions import ensure_partitions
    from monitor.storage.retention import RetentionPolicy, apply_retention, plan_retention

    factory = session_factory(settings.database_url)
    if not dry_run:
        with factory.begin() as session:
            ensure_partitions(session.connection(), ahead=settings.partitions_ahead)
    with factory() as session:  # a dry run ends without commit: closing rolls back
        plan = plan_retention(session.connection(), RetentionPolicy.from_settings(settings))
        report = None
        if not dry_run:
            report = apply_retention(session.connection(), plan)
            session.commit()
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "plan": plan.as_dict(),
                               "report": asdict(report) if report else None}, indent=2))
        return
    for table, cutoff in plan.cutoffs.items():
        click.echo(f"{table}: {'kept for ever' if cutoff is None else 'rows before ' + cutoff + ' go'}")
    for p in plan.partitions:
        click.echo(f"  {'would drop' if dry_run else 'dropped'} {p.name} [{p.start:%Y-%m-%d}, {p.end:%Y-%m-%d}): "
                   f"{'~' if p.rows_estimated else ''}{p.rows} rows")
    for r in plan.row_deletes:
        click.echo(f"  {'would delete' if dry_run else 'deleted'} {r.rows} rows of {r.table} "
                   f"before {r.before:%Y-%m-%d}")
    click.echo(f"{plan.pinned_articles} labelled or cited articles are kept"
               + (f"; {report.kept_pinned_rows} of their rows moved out of dropped partitions, "
                  f"roll-ups made: {report.rolled_up}" if report else ""))
