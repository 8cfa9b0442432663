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

from finsent.reports import write_json_report
from finsent.settings import get_settings
from monitor.stream.scaleout_bench import scaleout as scaleout_command  # `finsent bench scaleout`


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
    from model.reports.event_bench import (
        EventsFileError,
        bench_events,
        save_calibrated_version,
        summary_line,
    )
    from model.serving.predictor import Predictor
    from model.serving.registry import RegistryError

    if save_version and not fit_threshold:
        raise click.UsageError("--save-version needs --fit-threshold")
    registry_dir = Path(get_settings().registry_dir)
    try:
        predictor = Predictor.load(registry_dir, model_spec, device="cpu", backend=backend)
        guard_dir = Path(get_settings().data_dir) if fit_threshold and max_sentfin_drop >= 0 else None
        report = bench_events(predictor, fit_threshold=fit_threshold, guard_data_dir=guard_dir,
                              max_sentfin_drop=max_sentfin_drop, registry_dir=registry_dir)
    except (RegistryError, EventsFileError, DatasetMissingError) as error:
        raise click.ClickException(str(error)) from None
    report["backend"] = backend
    if save_version and report["fitted"]["entity_negative_threshold"] is None:
        raise click.ClickException("argmax is the best decision rule on tune (within the SEntFiN guard): "
                                   "no threshold to save")
    if save_version:
        report["saved_version"] = save_calibrated_version(
            registry_dir, predictor.version, report["fitted"]["entity_negative_threshold"], report)
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
    report = loss_weighting_ablation(steps, threads, Path(get_settings().data_dir)) | {
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
                                   annotator) | {
        "duration_s": round(time.monotonic() - started, 1)}
    path = write_json_report(report, "pseudo-label.json")
    if not as_json:
        click.echo(f"report: {path}")
    click.echo(json.dumps({"with_pseudo_labels": report["with_pseudo_labels"]["dev_score"],
                           "control": report["control"]["dev_score"], "report": str(path)}))
