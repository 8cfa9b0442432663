"""Training ablations behind the model card's claims (run by `finsent bench`, finsent/bench_commands.py).

    finsent bench loss-weighting --json   # uncertainty weighting vs equal weights, same seed/steps/data
    finsent bench pseudo-label --json     # joint annotation vs the same extra steps without it

Both use the quick profile with a fixed step count (not the wall-clock cap),
so the arms see exactly the same number of examples whatever the machine's
load; dev numbers are on the capped, seeded dev samples of the quick profile.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from model.training.loop import (
    PSEUDO_LABEL_THRESHOLD,
    TrainResult,
    compare_metrics,
    load_training_corpus,
    profile_config,
    pseudo_label,
    train,
)


def _summary(result: TrainResult) -> dict[str, Any]:
    return {"steps": result.steps, "dev_score": round(result.dev_score, 4), "duration_s": round(result.duration_s, 1),
            "metrics": {d: {t: {k: v for k, v in m.items() if isinstance(v, int | float)} for t, m in ts.items()}
                        for d, ts in result.metrics.items()}}


def _config(run_name: str, steps: int, threads: int, data_dir: Path, events_dir: Path,  # noqa: ANN202
            **overrides: Any):
    return profile_config("quick", data_dir=data_dir, events_dir=events_dir, max_steps=steps, max_minutes=600,
                          run_name=run_name, threads=threads, seed=13, **overrides)


def loss_weighting_ablation(steps: int, threads: int, data_dir: Path, events_dir: Path) -> dict[str, Any]:
    """Train the quick profile twice, changing only how task losses are balanced."""
    runs = {mode: _summary(train(_config(f"ablation-{mode}", steps, threads, data_dir, events_dir,
                                         loss_weighting=mode)))
            for mode in ("uncertainty", "equal")}
    return {"experiment": "loss-weighting", "steps": steps, "runs": runs,
            "per_task_delta": compare_metrics(runs["equal"]["metrics"], runs["uncertainty"]["metrics"])}


def pseudo_label_ablation(steps: int, threads: int, pool_per_dataset: int, data_dir: Path, registry_dir: Path,
                          events_dir: Path, annotator: str | None = None) -> dict[str, Any]:
    """An annotator model, then the same number of extra steps with and without pseudo-labels (the control).

    The annotator is a first training round of `steps` steps, or a registry
    version (`annotator`): an undertrained first round is rarely confident
    enough (p >= threshold) to fill anything, which measures nothing.
    """
    config = _config("ablation-pseudo-first", steps, threads, data_dir, events_dir)
    corpus = load_training_corpus(config)
    if annotator is None:
        first = train(config, corpus=corpus)
        model, tokenizer, first_summary = first.model, first.tokenizer, _summary(first)
    else:
        from model.serving.registry import load_model, resolve_version

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
