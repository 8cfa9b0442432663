"""One retraining run: data -> candidate -> evaluation of both models -> gate -> registry + table.

    from monitor.retrain.pipeline import RetrainOptions, run_retraining
    report = run_retraining(RetrainOptions(profile="quick"), settings)

Steps (each prints one line; training shows its own tqdm bar):

1. load the base datasets and split them (model.data.splits.load_corpus);
2. read the analysts' labels from PostgreSQL; they outrank the base data
   (monitor.retrain.labels);
3. train a candidate with the one training loop (model.training.loop.train),
   fine-tuning from the live model unless `from_scratch`;
4. score the candidate and the live model on the same fixed dev slices;
5. score both on recent stored traffic (agreement, labelled accuracy);
6. apply the gate (monitor.retrain.gate), write the candidate to the registry
   with the decision in its metadata, promote it if it passed (workers pick it
   up between batches), and record the decision in `model_versions`.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kernel.settings import Settings
from model.data.examples import Example
from monitor.retrain.evaluate import (
    compare_on_traffic,
    evaluate_model,
    gate_evaluation_sets,
    recent_traffic,
    task_scores,
)
from monitor.retrain.gate import GateDecision, GatePolicy, decide
from monitor.retrain.labels import DEFAULT_ANALYST_WEIGHT, analyst_examples, fetch_label_rows, merge_with_base

log = logging.getLogger(__name__)

# A profile small enough for integration tests (about a minute on 2 CPU cores with the
# 2-layer test model); the real profiles come from model.training.loop.PROFILES.
TINY_PROFILE: dict[str, Any] = dict(max_steps=40, steps_per_epoch=40, dev_cap=60, batch_size=8, lr=3e-4,
                                    warmup_fraction=0.1, max_minutes=None, encoder_layers=2, log_every=10)


@dataclass
class RetrainOptions:
    profile: str = "quick"  # quick | full | tiny
    dry_run: bool = False  # build and count the training set, train nothing
    datasets: tuple[str, ...] | None = None  # None: every catalogued dataset
    dev_fraction: float = 0.1
    eval_cap: int | None = 500  # gate examples per dataset (None: the whole slice)
    traffic_limit: int = 500  # recent stored articles both models score
    analyst_weight: float = DEFAULT_ANALYST_WEIGHT
    from_scratch: bool = False  # False: fine-tune the live model
    max_steps: int | None = None  # override the profile's step count
    shuffle_labels: bool = False  # negative control: the gate must reject a model trained on noise
    policy: GatePolicy = field(default_factory=GatePolicy)
    runs_dir: Path | None = None  # training checkpoints/TensorBoard (None: model.training.loop's default)
    seed: int = 13
    progress: bool = True


@dataclass
class RetrainReport:
    dry_run: bool
    label_counts: dict[str, Any]
    training_examples: dict[str, int]  # dataset -> training examples after the merge ("analyst" included)
    live_version: str | None = None
    candidate_version: str | None = None
    decision: GateDecision | None = None
    live_metrics: dict[str, Any] = field(default_factory=dict)
    candidate_metrics: dict[str, Any] = field(default_factory=dict)
    traffic: dict[str, Any] = field(default_factory=dict)
    data_hashes: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def promoted(self) -> bool:
        return bool(self.decision and self.decision.promote)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["promoted"] = self.promoted
        return data


def train_config(options: RetrainOptions, settings: Settings, init_from: str | None):  # noqa: ANN201
    """The model.training.loop.TrainConfig of a run (tiny: TINY_PROFILE unless the loop defines its own)."""
    from model.training.loop import PROFILES, flat_train_config, profile_config

    overrides: dict[str, Any] = dict(data_dir=settings.data_dir, datasets=options.datasets,
                                     dev_fraction=options.dev_fraction, init_from=init_from,
                                     registry_dir=settings.registry_dir, events_dir=settings.events_dir,
                                     device=settings.device,
                                     seed=options.seed, progress=options.progress, max_steps=options.max_steps,
                                     run_name=f"retrain-{options.profile}")
    if options.runs_dir is not None:
        overrides["runs_dir"] = options.runs_dir
    if options.shuffle_labels:  # the negative control learns from noise alone, not from the event headlines
        overrides["event_headlines"] = False
    if options.profile == "tiny" and "tiny" not in PROFILES:
        values = {**TINY_PROFILE, **{k: v for k, v in overrides.items() if v is not None}}
        if options.max_steps is not None:
            values["steps_per_epoch"] = max(1, options.max_steps)
        return flat_train_config("tiny", **values)
    return profile_config(options.profile, **overrides)


def shuffled(examples: list[Example], seed: int) -> list[Example]:
    """Copies with sentiment and topic labels permuted across examples (keeps the class balance)."""
    rng = random.Random(seed)
    out = list(examples)
    for name in ("sentiment", "topic"):
        indices = [i for i, ex in enumerate(out) if getattr(ex, name) is not None]
        values = [getattr(out[i], name) for i in indices]
        rng.shuffle(values)
        for i, value in zip(indices, values):
            out[i] = replace(out[i], **{name: value})
    return out


def run_retraining(options: RetrainOptions, settings: Settings, sessions: sessionmaker[Session],
                   say: Callable[[str], None] = print) -> RetrainReport:
    """Run the six steps; raise on failure (the caller raises the alert)."""
    from model.data.splits import load_corpus
    from model.serving.registry import live_version

    started = time.monotonic()
    registry_dir = Path(settings.registry_dir)
    live = live_version(registry_dir)

    say(f"[1/6] loading base datasets from {settings.data_dir}")
    corpus = load_corpus(Path(settings.data_dir), names=options.datasets, dev_fraction=options.dev_fraction)
    dev_texts = [ex.text for split in corpus.values() for ex in split.dev]

    say("[2/6] reading analysts' labels from PostgreSQL")
    with sessions() as session:
        labelled = analyst_examples(fetch_label_rows(session), weight=options.analyst_weight)
    merged_corpus = {}
    replaced: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    dropped_examples = 0
    extra = merge_with_base([], labelled.examples, dev_texts).analyst
    held_out = len(labelled.examples) - len(extra)
    for name, split in corpus.items():
        merge = merge_with_base(split.train, extra)
        merged_corpus[name] = replace(split, train=shuffled(merge.base, options.seed) if options.shuffle_labels
                                      else merge.base)
        replaced.update(merge.base_labels_dropped)
        conflicts.update(merge.base_conflicts)
        dropped_examples += merge.base_examples_dropped
    if options.shuffle_labels:
        extra = shuffled(extra, options.seed + 1)
    label_counts = {"used": labelled.counts, "articles": len(extra), "invalid": len(labelled.invalid),
                    "superseded": labelled.superseded, "held_out_in_dev": held_out,
                    "base_labels_replaced": dict(replaced), "base_conflicts": dict(conflicts),
                    "base_examples_dropped": dropped_examples}
    training_examples = {name: len(split.train) for name, split in merged_corpus.items()} | {"analyst": len(extra)}
    data_hashes: dict[str, Any] = {name: dict(split.file_sha256) for name, split in corpus.items()}
    data_hashes["analyst_labels"] = labelled.digest
    say(f"      {sum(labelled.counts.values())} analyst labels on {len(extra)} articles "
        f"({len(labelled.invalid)} unreadable, {held_out} held out: text in a dev set); "
        f"{sum(replaced.values())} base labels replaced, {sum(conflicts.values())} of them conflicting")
    report = RetrainReport(options.dry_run, label_counts, training_examples, live_version=live,
                           data_hashes=data_hashes)
    if options.dry_run:
        say("dry run: nothing trained")
        report.duration_s = time.monotonic() - started
        return report

    from model.serving.predictor import NoLinker, Predictor
    from model.serving.registry import load_model, save_version
    from model.training.loop import train
    from monitor.storage.model_versions import promote_live, record_decision, sync_live

    with sessions.begin() as session:
        sync_live(session, registry_dir)  # the table knows every version and the live one before we judge

    init_from = None if options.from_scratch or live is None else live
    config = train_config(options, settings, init_from)
    say(f"[3/6] training a candidate (profile {config.profile}, {config.max_steps} steps, "
        f"{'fine-tuning ' + init_from if init_from else 'from the pretrained encoder'})")
    result = train(config, corpus=merged_corpus, extra_examples=extra)

    say("[4/6] scoring the candidate and the live model on the same dev slices")
    evaluation = gate_evaluation_sets({n: s.dev for n, s in corpus.items()}, config.dev_cap, options.eval_cap)
    device = "cpu" if settings.device == "auto" else settings.device
    report.candidate_metrics = evaluate_model(result.model, result.tokenizer, evaluation.sets, device)
    live_model = live_tokenizer = None
    if live is not None:
        live_model, live_tokenizer = load_model(registry_dir, live)
        report.live_metrics = evaluate_model(live_model, live_tokenizer, evaluation.sets, device)

    say(f"[5/6] scoring both on up to {options.traffic_limit} recent stored articles")
    candidate_predictor = Predictor(result.model, result.tokenizer, "candidate", _device(device), linker=NoLinker())
    live_predictor = (Predictor(live_model, live_tokenizer, live, _device(device), linker=NoLinker())
                      if live is not None and live_model is not None else None)
    with sessions() as session:
        traffic = recent_traffic(session, options.traffic_limit)
    report.traffic = compare_on_traffic(traffic, live_predictor.predict if live_predictor else None,
                                        candidate_predictor.predict)

    say("[6/6] applying the promotion gate")
    live_scores = task_scores(report.live_metrics) if live is not None else None
    decision = decide(live_scores, task_scores(report.candidate_metrics), options.policy)
    report.decision = decision
    report.duration_s = time.monotonic() - started
    decision_record = {
        "status": decision.status, "reason": decision.reason, "compared_with": live,
        "policy": asdict(options.policy), "target": decision.target, "live_target": decision.live_target,
        "candidate_target": decision.candidate_target, "tasks": [asdict(row) for row in decision.tasks],
        "live_metrics": report.live_metrics, "traffic": report.traffic, "label_counts": label_counts,
        "gate_sets": {name: len(examples) for name, examples in evaluation.sets.items()},
        "gate_overlaps_selection": evaluation.overlaps_selection, "duration_s": round(report.duration_s, 1),
        "shuffle_labels": options.shuffle_labels,
    }
    metadata = {**result.metadata(), "profile": config.profile, "metrics": report.candidate_metrics,
                "data_sha256": data_hashes, "init_from": init_from, "retrain": decision_record}
    version = save_version(registry_dir, result.model, result.tokenizer, metadata,
                           lower_case_words=result.lower_case_words)
    report.candidate_version = version
    if decision.promote:  # registry pointer + model_versions, the one path every promotion takes
        promote_live(registry_dir, version, reason=f"replaced by {version}", sessions=sessions)

    from monitor.retrain.notify import resolve_retrain_failed

    with sessions.begin() as session:
        record_decision(session, version=version, path=registry_dir / version, status=decision.status,
                        reason=decision.reason,
                        metrics={"candidate": task_scores(report.candidate_metrics), "live": live_scores,
                                 "target": {"name": decision.target, "live": decision.live_target,
                                            "candidate": decision.candidate_target},
                                 "per_dataset": {"candidate": report.candidate_metrics, "live": report.live_metrics},
                                 "traffic": report.traffic},
                        data_hashes=data_hashes, label_counts=label_counts, duration_s=round(report.duration_s, 1),
                        compared_with=live)
        sync_live(session, registry_dir, reason=f"replaced by {version}" if decision.promote else None)
        resolve_retrain_failed(session)
    return report


def _device(name: str):  # noqa: ANN202
    import torch

    return torch.device(name)
