"""Training ablations behind the model card's claims, as benchmark commands.

    finsent bench loss-weighting --json   # uncertainty weighting vs equal weights, same seed/steps/data
    finsent bench pseudo-label --json     # joint annotation vs the same extra steps without it

Both use the quick profile with a fixed step count (not the wall-clock cap),
so the arms see exactly the same number of examples whatever the machine's
load; dev numbers are on the capped, seeded dev samples of the quick profile.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import replace
from typing import Any

import click

from model.training import (
    PSEUDO_LABEL_THRESHOLD,
    TrainResult,
    compare_metrics,
    load_training_corpus,
    profile_config,
    pseudo_label,
    train,
)
from monitor.reports import write_json_report
from monitor.settings import get_settings


def _summary(result: TrainResult) -> dict[str, Any]:
    return {"steps": result.steps, "dev_score": round(result.dev_score, 4), "duration_s": round(result.duration_s, 1),
            "metrics": {d: {t: {k: v for k, v in m.items() if isinstance(v, int | float)} for t, m in ts.items()}
                        for d, ts in result.metrics.items()}}


def _config(run_name: str, steps: int, threads: int, **overrides: Any):  # noqa: ANN202
    return profile_config("quick", data_dir=get_settings().data_dir, max_steps=steps, max_minutes=600,
                          run_name=run_name, threads=threads, seed=13, **overrides)


def loss_weighting_ablation(steps: int, threads: int) -> dict[str, Any]:
    """Train the quick profile twice, changing only how task losses are balanced."""
    runs = {mode: _summary(train(_config(f"ablation-{mode}", steps, threads, loss_weighting=mode)))
            for mode in ("uncertainty", "equal")}
    return {"experiment": "loss-weighting", "steps": steps, "runs": runs,
            "per_task_delta": compare_metrics(runs["equal"]["metrics"], runs["uncertainty"]["metrics"])}


def pseudo_label_ablation(steps: int, threads: int, pool_per_dataset: int,
                          annotator: str | None = None) -> dict[str, Any]:
    """An annotator model, then the same number of extra steps with and without pseudo-labels (the control).

    The annotator is a first training round of `steps` steps, or a registry
    version (`annotator`): an undertrained first round is rarely confident
    enough (p >= threshold) to fill anything, which measures nothing.
    """
    config = _config("ablation-pseudo-first", steps, threads)
    corpus = load_training_corpus(config)
    if annotator is None:
        first = train(config, corpus=corpus)
        model, tokenizer, first_summary = first.model, first.tokenizer, _summary(first)
    else:
        from model.registry import load_model, resolve_version

        registry_dir = get_settings().registry_dir
        annotator = resolve_version(registry_dir, annotator)
        model, tokenizer = load_model(registry_dir, annotator)
        first_summary = {"version": annotator}
    augmented, filled = {}, {}
    for name, split in corpus.items():
        pool = split.train[:pool_per_dataset]
        labelled, filled[name] = pseudo_label(model, tokenizer, pool)
        augmented[name] = replace(split, train=labelled + split.train[len(pool):])
    with_pseudo = train(replace(config, run_name="ablation-pseudo-second"), corpus=augmented,
                        initial_model=copy.deepcopy(model), tokenizer=tokenizer)
    control = train(replace(config, run_name="ablation-pseudo-control"), corpus=corpus,
                    initial_model=copy.deepcopy(model), tokenizer=tokenizer)
    return {"experiment": "pseudo-label", "steps_per_round": steps, "threshold": PSEUDO_LABEL_THRESHOLD,
            "filled": filled, "first": first_summary, "with_pseudo_labels": _summary(with_pseudo),
            "control": _summary(control),
            "per_task_delta": compare_metrics(control.metrics, with_pseudo.metrics)}


@click.command("loss-weighting")
@click.option("--steps", type=int, default=200, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def loss_weighting_command(steps: int, threads: int, as_json: bool) -> None:
    """Uncertainty weighting vs equal task weights (reports/loss-weighting.json)."""
    started = time.monotonic()
    report = loss_weighting_ablation(steps, threads) | {"duration_s": round(time.monotonic() - started, 1)}
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
    started = time.monotonic()
    report = pseudo_label_ablation(steps, threads, pool, annotator) | {
        "duration_s": round(time.monotonic() - started, 1)}
    path = write_json_report(report, "pseudo-label.json")
    if not as_json:
        click.echo(f"report: {path}")
    click.echo(json.dumps({"with_pseudo_labels": report["with_pseudo_labels"]["dev_score"],
                           "control": report["control"]["dev_score"], "report": str(path)}))
