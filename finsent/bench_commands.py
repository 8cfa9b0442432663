"""`finsent bench` commands that read settings: event headlines and the training ablations.

Why here and not in model/: model/ is a library that takes paths as
arguments; this module reads the settings (registry, data folder) and passes
them in. Heavy imports happen inside the commands so `finsent --help` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

# re-exported: finsent/model_commands.py registers it as `finsent bench scaleout`
from benchmarks.scaleout import scaleout as scaleout_command  # noqa: F401
from kernel.reports import write_json_report
from kernel.settings import get_settings


@click.command("events")
@click.option("--model", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default="torch", show_default=True)
@click.option("--fit-threshold", is_flag=True,
              help="Also fit the entity negative threshold on the tune split and report it on eval.")
@click.option("--save-version", is_flag=True,
              help="With --fit-threshold: write a new (unpromoted) registry version carrying the threshold.")
@click.option("--max-sentfin-drop", type=float, default=0.01, show_default=True,
              help="With --fit-threshold: veto thresholds that cost more SEntFiN dev entity accuracy than this "
                   "(negative: no guard).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
def events_command(model_spec: str, backend: str, fit_threshold: bool, save_version: bool, max_sentfin_drop: float,
                   as_json: bool) -> None:
    """Negative recall/precision on judged event headlines (tests/fixtures/events); writes reports/bench-events-*."""
    from model.data.errors import DatasetMissingError
    from model.data.events import DEV_EVENTS, EVENT_HEADLINES, EventsFileError
    from model.reports.event_bench import bench_events, save_calibrated_version, summary_line
    from model.serving.predictor import Predictor
    from model.serving.registry import RegistryError

    if save_version and not fit_threshold:
        raise click.UsageError("--save-version needs --fit-threshold")
    registry_dir = Path(get_settings().registry_dir)
    headlines_path = Path(get_settings().events_dir) / EVENT_HEADLINES
    try:
        predictor = Predictor.load(registry_dir, model_spec, device="cpu", backend=backend)
        guard_dir = Path(get_settings().data_dir) if fit_threshold and max_sentfin_drop >= 0 else None
        report = bench_events(predictor, Path(get_settings().events_dir) / DEV_EVENTS, headlines_path,
                              fit_threshold=fit_threshold, guard_data_dir=guard_dir,
                              max_sentfin_drop=max_sentfin_drop, registry_dir=registry_dir)
    except (RegistryError, EventsFileError, DatasetMissingError) as error:
        raise click.ClickException(str(error)) from None
    report["backend"] = backend
    if save_version and report["fitted"]["entity_negative_threshold"] is None:
        raise click.ClickException("argmax is the best decision rule on tune (within the SEntFiN guard): "
                                   "no threshold to save")
    if save_version:
        report["saved_version"] = save_calibrated_version(
            registry_dir, predictor.version, report["fitted"]["entity_negative_threshold"], report, headlines_path)
    suffix = "" if backend == "torch" else f"-{backend}"
    path = write_json_report(report, f"bench-events-{predictor.version}{suffix}.json")
    if not as_json:
        click.echo(summary_line(report))
        if "saved_version" in report:
            saved = report["saved_version"]
            click.echo(f"saved {saved} (not live: `finsent models promote {saved}`)")
        click.echo(f"report: {path}")
    click.echo(json.dumps({**report, "report": str(path)}))
    sys.stdout.flush()


@click.command("loss-weighting")
@click.option("--steps", type=int, default=200, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def loss_weighting_command(steps: int, threads: int, as_json: bool) -> None:
    """Uncertainty weighting vs equal task weights (reports/loss-weighting.json)."""
    from model.training.experiments import loss_weighting_ablation

    started = time.monotonic()
    settings = get_settings()
    report = loss_weighting_ablation(steps, threads, Path(settings.data_dir), Path(settings.events_dir)) | {
        "duration_s": round(time.monotonic() - started, 1)}
    path = write_json_report(report, "loss-weighting.json")
    if not as_json:
        click.echo(f"report: {path}")
    click.echo(json.dumps({m: r["dev_score"] for m, r in report["runs"].items()} | {"report": str(path)}))


@click.command("pseudo-label")
@click.option("--steps", type=int, default=120, show_default=True, help="Steps per training round.")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--pool", type=int, default=1500, show_default=True, help="Train examples per dataset to annotate.")
@click.option("--annotator", default=None, help="Registry version (or live/latest) that annotates; "
              "default: a first training round of --steps.")
@click.option("--json", "as_json", is_flag=True)
def pseudo_label_command(steps: int, threads: int, pool: int, annotator: str | None, as_json: bool) -> None:
    """Joint annotation vs the same extra training without it (reports/pseudo-label.json)."""
    from model.training.experiments import pseudo_label_ablation

    started = time.monotonic()
    settings = get_settings()
    report = pseudo_label_ablation(steps, threads, pool, Path(settings.data_dir), Path(settings.registry_dir),
                                   Path(settings.events_dir), annotator) | {
        "duration_s": round(time.monotonic() - started, 1)}
    path = write_json_report(report, "pseudo-label.json")
    if not as_json:
        click.echo(f"report: {path}")
    click.echo(json.dumps({"with_pseudo_labels": report["with_pseudo_labels"]["dev_score"],
                           "control": report["control"]["dev_score"], "report": str(path)}))


@click.command("event-types")
@click.option("--model", "model_spec", default="live", show_default=True,
              help="`rules` (the parser and patterns alone), `live`, `latest` or a registry version (the served "
                   "Predictor: rules, events head, entities).")
@click.option("--split", type=click.Choice(["eval", "tune"]), default="eval", show_default=True,
              help="Half of the judged headlines to score on; fit anything on tune only.")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default="torch", show_default=True)
@click.option("--stored/--no-stored", default=True, show_default=True,
              help="Also check stored sentiment against figures vs estimates in PostgreSQL (skipped if unreachable).")
@click.option("--fit-head-threshold", is_flag=True,
              help="Fit the events head's threshold on the tune split (best macro F1; above 1: the rules alone) "
                   "and save it as a new version (a copy with decision.event_head_threshold; not promoted).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
def event_types_command(model_spec: str, split: str, backend: str, stored: bool, fit_head_threshold: bool,
                        as_json: bool) -> None:
    """Financial events per type (precision/recall/F1), subject accuracy, broker-as-subject errors on the judged
    headlines, and the stored sentiment's agreement with figures vs estimates; writes reports/bench-event-types-*."""
    from model.data.judged_events import JUDGED_EVENTS, JudgedEventsFileError, load_judged_events
    from model.reports.event_types_bench import bench_event_types, summary_line
    from model.reports.event_types_bench import fit_head_threshold as fit

    settings = get_settings()
    if fit_head_threshold and model_spec == "rules":
        raise click.UsageError("--fit-head-threshold needs a model version (--model), not the rules")
    try:
        judged = load_judged_events(Path(settings.events_dir) / JUDGED_EVENTS)
        extract, name, predictor = _event_extractor(model_spec, backend, Path(settings.registry_dir))
        fitted = fit(judged, predictor, extract) if fit_head_threshold else None
        report = bench_event_types(judged, extract, split)
    except JudgedEventsFileError as error:
        raise click.ClickException(str(error)) from None
    report["extractor"] = name
    if fitted is not None:
        from model.serving.registry import save_with_decision

        fitted["version"] = save_with_decision(
            Path(settings.registry_dir), name, fitted,
            f"{name} with an events head threshold of {fitted['event_head_threshold']} "
            "(finsent bench event-types --fit-head-threshold)")
        report["fitted"] = fitted
        click.echo(f"fitted event_head_threshold {fitted['event_head_threshold']} on tune: new version "
                   f"{fitted['version']}", err=True)
    if stored:
        report["stored_estimate_agreement"] = _stored_estimate_agreement(settings.database_url)
    path = write_json_report(report, f"bench-event-types-{name}.json")
    if not as_json:
        click.echo(summary_line(report))
        agreement = report.get("stored_estimate_agreement") or {}
        if agreement.get("agreement") is not None:
            click.echo(f"stored sentiment vs figures: {agreement['agreement']:.3f} on "
                       f"{agreement['estimate_headlines']} estimate headlines ({agreement['model_version']})")
        click.echo(f"report: {path}")
    click.echo(json.dumps({**report, "report": str(path)}))
    sys.stdout.flush()


def _event_extractor(model_spec: str, backend: str, registry_dir: Path):  # noqa: ANN202
    """(texts -> events per text, its name, the Predictor or None): the rules alone, or a version's Predictor."""
    if model_spec == "rules":
        from model.events.extract import extract_events

        return (lambda texts: [extract_events(text) for text in texts]), "rules", None
    from model.events.taxonomy import FinancialEvent
    from model.serving.predictor import Predictor
    from model.serving.registry import RegistryError

    try:
        predictor = Predictor.load(registry_dir, model_spec, device="cpu", backend=backend)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None

    def served(texts: list[str]) -> list[list[FinancialEvent]]:
        return [[FinancialEvent(type=e.type, polarity=e.polarity, subject=e.subject, source=e.source,
                                confidence=e.confidence, detail=e.detail) for e in result.events]
                for result in predictor.predict(texts)]

    return served, predictor.version, predictor


def _stored_estimate_agreement(database_url: str) -> dict:
    """The stored sentiment of the version that scored most of the history on its figures-vs-estimate
    headlines, or `agreement: None` with the reason when the database cannot be read."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from model.reports.event_types_bench import estimate_agreement
    from monitor.storage.db import make_engine

    query = text("SELECT a.headline, o.sentiment_label FROM articles a JOIN model_outputs o "
                 "ON o.article_id = a.id AND o.published_at = a.published_at "
                 "WHERE o.model_version = :version AND a.headline ~* '\\m(ests?|estimates?|consensus)\\M'")
    try:
        engine = make_engine(database_url, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            version = connection.execute(text(
                "SELECT model_version FROM model_outputs GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
            if version is None:
                return {"agreement": None, "reason": "no stored model outputs"}
            rows = connection.execute(query, {"version": version}).all()
        engine.dispose()
    except SQLAlchemyError as error:
        return {"agreement": None, "reason": f"database not readable: {type(error).__name__}"}
    return {"model_version": version, **estimate_agreement((row.headline, row.sentiment_label) for row in rows)}
