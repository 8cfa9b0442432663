"""The model card of a registry version, generated from what was measured.

    finsent models card [--version live] [--output docs/model-card.md]

Reads the version's metadata.json (dev metrics per dataset and task, data
SHA-256s, profile, duration, loss weighting, pseudo-label comparison) and the
benchmark reports under reports/ (baselines.json, bench-model.json,
bench-onnx.json, linking.json). Nothing is typed in by hand: rerun the command
after training or benchmarking and the card follows. Every section says which
model version and which report its numbers come from, so a card generated
while a report still describes an older version says so instead of mixing them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model.network.encoders import DEFAULT_ENCODER, ENCODERS

# The project's quality targets (dev numbers), per (dataset, task): the headline
# score must reach the value (accuracy; entity-level F1 for ner).
TARGETS: dict[tuple[str, str], float] = {
    ("phrasebank", "sentiment"): 0.86,
    ("twitter_sentiment", "sentiment"): 0.88,
    ("twitter_topic", "topic"): 0.90,
    ("conll", "ner"): 0.90,
}
DATASET_TITLES: dict[str, str] = {
    "phrasebank": "Financial PhraseBank (50 % agree)", "twitter_sentiment": "Twitter Financial News Sentiment",
    "twitter_topic": "Twitter Financial News Topic", "sentfin": "SEntFiN 1.0", "conll": "CoNLL-2003 eng.testa",
    "finer_ord": "FiNER-ORD val", "fin5": "FIN5 (SEC filings)",
}
BASELINE_TITLES: dict[str, str] = {
    "loughran_mcdonald": "Loughran-McDonald lexicon", "vader": "VADER", "vader_sentence": "VADER sentence label",
    "tfidf_logreg": "TF-IDF + logistic regression", "spacy_en_core_web_sm": "spaCy en_core_web_sm",
}
TASK_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sentiment", "Sentence sentiment (accuracy / macro-F1)", ("phrasebank", "twitter_sentiment")),
    ("topic", "Topic, 20 classes (accuracy / macro-F1)", ("twitter_topic",)),
    ("ner", "Named entities ORG/PER/LOC/MISC (entity-level micro F1, seqeval)", ("conll", "finer_ord", "fin5")),
    ("entity-sentiment", "Entity-level sentiment on gold entity spans (accuracy / macro-F1)", ("sentfin",)),
)


@dataclass
class CardInputs:
    """Everything the card is written from; a missing report is None."""

    version: str
    metadata: dict[str, Any]
    model_config: dict[str, Any]
    live: bool
    baselines: dict[str, Any] | None
    bench_model: dict[str, Any] | None
    bench_onnx: dict[str, Any] | None
    linking: dict[str, Any] | None
    loss_weighting: dict[str, Any] | None = None  # reports/loss-weighting.json (finsent bench loss-weighting)
    bench_model_onnx: dict[str, Any] | None = None  # reports/bench-model-onnx.json (bench model --backend onnx)
    pseudo_label: dict[str, Any] | None = None  # reports/pseudo-label.json (finsent bench pseudo-label)
    # role (teacher / student / gold-only) -> (version, metadata) from the registry, None where not run
    distillation: dict[str, tuple[str, dict[str, Any]] | None] | None = None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def gather_inputs(registry_dir: Path, version_spec: str, reports_dir: Path) -> CardInputs:
    from model.serving.registry import CONFIG_FILE, live_version, load_metadata, resolve_version, version_dir

    version = resolve_version(Path(registry_dir), version_spec)
    config = _read_json(version_dir(Path(registry_dir), version) / CONFIG_FILE) or {}
    return CardInputs(
        version=version, metadata=load_metadata(Path(registry_dir), version), model_config=config,
        live=live_version(Path(registry_dir)) == version,
        baselines=_read_json(reports_dir / "baselines.json"), bench_model=_read_json(reports_dir / "bench-model.json"),
        bench_onnx=_read_json(reports_dir / "bench-onnx.json"), linking=_read_json(reports_dir / "linking.json"),
        loss_weighting=_read_json(reports_dir / "loss-weighting.json"),
        bench_model_onnx=_read_json(reports_dir / "bench-model-onnx.json"),
        pseudo_label=_read_json(reports_dir / "pseudo-label.json"),
        distillation=distillation_versions(Path(registry_dir)),
    )


DISTILLATION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("phrasebank", "sentiment", "PhraseBank"), ("twitter_sentiment", "sentiment", "Twitter sentiment"),
    ("twitter_topic", "topic", "Twitter topic"), ("conll", "ner", "CoNLL"),
)


def distillation_versions(registry_dir: Path) -> dict[str, tuple[str, dict[str, Any]] | None]:
    """The newest teacher (mpnet-base), the newest distilled MiniLM student, a gold-only MiniLM trained with
    the student's profile, steps and seed (the fair comparison; without a student, the newest full-profile
    gold-only MiniLM), and the newest quick-profile MiniLM (what a new install trains without a release);
    None for a role nobody trained."""
    from model.serving.registry import list_versions, load_metadata

    versions = [(info.version, load_metadata(registry_dir, info.version)) for info in list_versions(registry_dir)]
    trained = [(v, m) for v, m in versions if not m.get("init_from") and m.get("train_config")]

    def encoder(meta: dict[str, Any]) -> str:
        return meta.get("encoder") or (meta["train_config"].get("model") or {}).get("encoder") or DEFAULT_ENCODER

    def plan(meta: dict[str, Any]) -> tuple:
        config = meta["train_config"]
        return meta.get("profile"), config.get("max_steps"), config.get("seed")

    teachers = [(v, m) for v, m in trained if encoder(m) == "mpnet-base"]
    students = [(v, m) for v, m in trained if encoder(m) == DEFAULT_ENCODER and m["train_config"].get("distil_from")]
    student = students[-1] if students else None
    minilm_gold = [(v, m) for v, m in trained
                   if encoder(m) == DEFAULT_ENCODER and not m["train_config"].get("distil_from")]
    gold = [(v, m) for v, m in minilm_gold
            if (plan(m) == plan(student[1]) if student is not None else m.get("profile") == "full")]
    quick = [(v, m) for v, m in minilm_gold if m.get("profile") == "quick"]
    return {"teacher": teachers[-1] if teachers else None, "student": student, "gold-only": gold[-1] if gold else None,
            "quick": quick[-1] if quick else None}


def _headline(task: str, metrics: dict[str, Any] | None) -> float | None:
    if not metrics:
        return None
    value = metrics.get("f1" if task == "ner" else "accuracy")
    return float(value) if value is not None else None


def _score(task: str, metrics: dict[str, Any] | None) -> str:
    """'0.8712 / 0.8540 (n=601)': headline score, macro-F1 for classification, and n."""
    if not metrics:
        return "—"
    headline = _headline(task, metrics)
    text = f"{headline:.4f}" if headline is not None else "—"
    if task != "ner" and metrics.get("macro_f1") is not None:
        text += f" / {metrics['macro_f1']:.4f}"
    if metrics.get("n") is not None:
        text += f" (n={metrics['n']})"
    return text


def target_status(dataset: str, task: str, metrics: dict[str, Any] | None) -> str:
    """'met', 'not met' or 'not measured' for a project target; '' where there is no target."""
    target = TARGETS.get((dataset, task))
    if target is None:
        return ""
    score = _headline(task, metrics)
    if score is None:
        return f"≥ {target:.2f}: **not measured**"
    return f"≥ {target:.2f}: **{'met' if score >= target else 'not met'}**"


def _task_table(task: str, datasets: tuple[str, ...], inputs: CardInputs) -> list[str]:
    model_metrics = inputs.metadata.get("metrics", {})
    baseline_metrics = (inputs.baselines or {}).get("metrics", {})
    names: list[str] = []
    for dataset in datasets:
        for name in baseline_metrics.get(dataset, {}).get(task, {}):
            if name not in names:
                names.append(name)
    header = ["dataset (dev)", f"our model `{inputs.version}`", *(BASELINE_TITLES.get(n, n) for n in names), "target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in datasets:
        ours = model_metrics.get(dataset, {}).get(task)
        baselines = baseline_metrics.get(dataset, {}).get(task, {})
        if ours is None and not baselines:
            continue
        row = [DATASET_TITLES.get(dataset, dataset), _score(task, ours)]
        row += [_score(task, baselines.get(name)) for name in names]
        row.append(target_status(dataset, task, ours) or "—")
        lines.append("| " + " | ".join(row) + " |")
    return lines if len(lines) > 2 else ["_No dev numbers for this task in the metadata or the baselines report._"]


def _targets_summary(inputs: CardInputs) -> list[str]:
    metrics = inputs.metadata.get("metrics", {})
    lines = []
    for (dataset, task), target in TARGETS.items():
        ours = metrics.get(dataset, {}).get(task)
        score = _headline(task, ours)
        measured = f"{score:.4f}" if score is not None else "not measured"
        status = target_status(dataset, task, ours).split("**")[1]
        line = f"- {DATASET_TITLES[dataset]} {task}: {measured} against a target of {target:.2f}: **{status}**."
        full_n = _full_dev_size(inputs, dataset, task)
        if ours and full_n and ours.get("n", full_n) < full_n:
            line += f" Measured on {ours['n']} of the {full_n} dev examples."
        line += _cross_check(inputs, dataset, task, score, target)
        lines.append(line)
    return lines


def _full_dev_size(inputs: CardInputs, dataset: str, task: str) -> int | None:
    """The dev split's size, as the baselines report counted it (it always uses the full split)."""
    baselines = (inputs.baselines or {}).get("metrics", {}).get(dataset, {}).get(task, {})
    sizes = [values.get("n") for values in baselines.values() if values.get("n")]
    return max(sizes) if sizes else None


def _cross_check(inputs: CardInputs, dataset: str, task: str, score: float | None, target: float) -> str:
    """A second measurement of the same version (the ONNX bench's torch run on a seeded dev sample), if any.

    The metadata's numbers come from training-time evaluation; when an
    independent run on another sample disagrees about the target, say so.
    """
    onnx = inputs.bench_onnx or {}
    row = onnx.get("parity", {}).get(dataset, {}).get(task)
    if onnx.get("model_version") != inputs.version or not row:
        return ""
    second = row["torch"].get("f1" if task == "ner" else "accuracy")
    text = f" The ONNX bench's torch run on a seeded sample of n={row['n']} measured {second:.4f}"
    if score is not None and (second >= target) != (score >= target):
        return text + ": **the two measurements disagree about this target; do not rely on it.**"
    return text + "."


def training_sessions(history: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """(last evaluated step, wall seconds) per training session of a run.

    `elapsed_s` restarts at each `finsent train --resume`, so a drop in it
    marks where a resumed session began.
    """
    sessions: list[tuple[int, float]] = []
    previous = None
    for entry in history:
        elapsed = float(entry.get("elapsed_s", 0.0))
        if previous is None or elapsed < previous:
            sessions.append((int(entry["step"]), elapsed))
        else:
            sessions[-1] = (int(entry["step"]), elapsed)
        previous = elapsed
    return sessions


def _history_line(history: list[dict[str, Any]]) -> str | None:
    """Dev score at each evaluation, the selected (best) one in bold, and where the run was resumed."""
    if not history:
        return None
    sessions = training_sessions(history)
    best = max(history, key=lambda entry: entry["dev_score"])
    scores = ", ".join(("**{step}: {score:.4f}**" if entry is best else "{step}: {score:.4f}")
                       .format(step=entry["step"], score=entry["dev_score"]) for entry in history)
    line = f"- **Dev score by evaluation** (mean over tasks; the best one is this version): {scores}."
    if len(sessions) > 1:
        resumed = ", ".join(str(step) for step, _ in sessions[:-1])
        total = sum(seconds for _, seconds in sessions)
        line += (f" Trained in {len(sessions)} sessions (resumed from the checkpoint at step {resumed}); "
                 f"about {total / 3600:.1f} h of wall time in all.")
    return line


def _encoder_description(name: str) -> str:
    spec = ENCODERS.get(name)
    return spec.description if spec else "an encoder this code base does not know"


def _model_section(inputs: CardInputs) -> list[str]:
    meta, config = inputs.metadata, inputs.model_config
    encoder = config.get("encoder_config", {})
    encoder_name = config.get("encoder", DEFAULT_ENCODER)  # versions from before the choice were all MiniLM
    train_config = meta.get("train_config", {})
    max_steps = train_config.get("max_steps")
    steps = meta.get("steps")
    lines = [
        f"- **Version**: `{inputs.version}` ({'live' if inputs.live else 'not live'}), "
        f"created {meta.get('created_at', '?')}.",
        f"- **Training profile**: `{meta.get('profile', '?')}`; {steps if steps is not None else '?'} optimiser steps"
        + (f" of {max_steps} planned" if max_steps else "")
        + f"; {meta.get('duration_s', '?')} s wall time (of the last session); seed {train_config.get('seed', '?')}; "
        f"batch {train_config.get('batch_size', '?')}; lr {train_config.get('lr', '?')}.",
        f"- **Loss weighting**: `{config.get('loss_weighting', train_config.get('loss_weighting', '?'))}` "
        "(uncertainty = learned Kendall et al. 2018 task weights; equal = plain sum).",
        f"- **Encoder**: `{encoder_name}`, {_encoder_description(encoder_name)}, here with "
        f"{encoder.get('num_hidden_layers', '?')} layers, "
        f"hidden {encoder.get('hidden_size', '?')}, plus word-shape (casing) embeddings; "
        f"max {config.get('max_length', '?')} "
        "word pieces. Heads: topic (20), sentence sentiment (3, per-source calibration offsets used only in training "
        "and dev scoring), BIO entity tagger with constrained Viterbi, entity sentiment.",
    ]
    history_line = _history_line(meta.get("history") or [])
    if history_line:
        lines.append(history_line)
    if isinstance(steps, int) and isinstance(max_steps, int) and steps < max_steps:
        trained = "a barely trained model" if steps < max_steps / 4 else "a run cut short"
        lines.append(f"- **Caution**: this version stopped after {steps} of {max_steps} planned steps (time budget); "
                     f"its numbers are those of {trained}, not of what the architecture can reach.")
    dev_cap = train_config.get("dev_cap")
    if dev_cap:
        lines.append(f"- The model's dev numbers were computed on at most {dev_cap} examples per dataset "
                     "(the profile's cap, a seeded sample); the baselines use the full dev splits. "
                     "Compare the n in each cell.")
    return lines


def _distillation_section(rows: dict[str, tuple[str, dict[str, Any]] | None] | None) -> list[str]:
    """Teacher, student and gold-only MiniLM on the same dev sets; "not run" where no such version exists."""
    head = ("| role | version | encoder | steps | seed | "
            + " | ".join(title for _, _, title in DISTILLATION_COLUMNS) + " |")
    lines = ["Teacher: `finsent train --encoder mpnet-base`; student: MiniLM with `--distil-from TEACHER` "
             "(gold labels plus the teacher's soft labels, KL at temperature T scaled by T², mixed by alpha); "
             "gold-only: MiniLM with the student's profile, steps and seed (without a student, the full profile); "
             "quick: the quick profile a new install trains without a release. Dev headline scores.", "", head,
             "|" + "---|" * (5 + len(DISTILLATION_COLUMNS))]
    for role in ("teacher", "student", "gold-only", "quick"):
        found = (rows or {}).get(role)
        if found is None:
            lines.append(f"| {role} | not run | | | | " + " | ".join("not run" for _ in DISTILLATION_COLUMNS) + " |")
            continue
        version, meta = found
        config = meta.get("train_config", {})
        encoder = meta.get("encoder") or (config.get("model") or {}).get("encoder") or DEFAULT_ENCODER
        scores = [_headline(task, meta.get("metrics", {}).get(dataset, {}).get(task))
                  for dataset, task, _ in DISTILLATION_COLUMNS]
        lines.append(f"| {role} | `{version}` | {encoder} | {meta.get('steps', '?')} | {config.get('seed', '?')} | "
                     + " | ".join("-" if score is None else f"{score:.4f}" for score in scores) + " |")
    return lines


def _pseudo_label_section(meta: dict[str, Any]) -> list[str]:
    report = meta.get("pseudo_labels")
    if not report:
        return ["Not used for this version (`finsent train --pseudo-label` adds it)."]
    lines = [f"Confidence threshold {report.get('threshold', '?')}. Dev headline score before → after the "
             "second round on pseudo-labelled data:", "",
             "| dataset | task | before | after | delta |", "|---|---|---|---|---|"]
    for dataset, tasks in report.get("dev_comparison", {}).items():
        for task, values in tasks.items():
            lines.append(f"| {dataset} | {task} | {values['before']:.4f} | {values['after']:.4f} "
                         f"| {values['delta']:+.4f} |")
    return lines


def _delta_table(deltas: dict[str, Any], before: str, after: str) -> list[str]:
    lines = [f"| dataset | task | {before} | {after} | delta |", "|---|---|---|---|---|"]
    for dataset, tasks in deltas.items():
        for task, values in tasks.items():
            lines.append(f"| {dataset} | {task} | {values['before']:.3f} | {values['after']:.3f} "
                         f"| {values['delta']:+.3f} |")
    return lines


def _ablation_section(inputs: CardInputs) -> list[str]:
    """What the training choices buy, from the quick-profile ablations (same seed, steps and data per arm)."""
    lines: list[str] = []
    weighting = inputs.loss_weighting
    if weighting:
        runs = weighting["runs"]
        lines += [f"**Task-loss balancing** (`finsent bench loss-weighting`, {weighting['steps']} steps per arm, "
                  f"quick-profile dev samples): mean dev score uncertainty weighting "
                  f"{runs['uncertainty']['dev_score']:.4f} vs equal weights {runs['equal']['dev_score']:.4f}.", "",
                  *_delta_table(weighting["per_task_delta"], "equal", "uncertainty"), ""]
    else:
        lines += ["_Task-loss balancing not measured: run `finsent bench loss-weighting --json`._", ""]
    pseudo = inputs.pseudo_label
    if pseudo:
        filled = sum(n for tasks in pseudo["filled"].values() for n in tasks.values())
        annotator = pseudo["first"].get("version", "a first round of the same steps")
        lines += [f"**Joint annotation** (`finsent bench pseudo-label`, annotator {annotator}, "
                  f"{filled} labels filled at p >= {pseudo['threshold']}, {pseudo['steps_per_round']} steps per "
                  "round): a second round on pseudo-labelled data "
                  f"({pseudo['with_pseudo_labels']['dev_score']:.4f}) against the same extra steps on the original "
                  f"data ({pseudo['control']['dev_score']:.4f}).", "",
                  *_delta_table(pseudo["per_task_delta"], "control", "pseudo-labels"), ""]
    else:
        lines += ["_Joint annotation not measured: run `finsent bench pseudo-label --json`._", ""]
    lines.append("Differences of a few points are within the noise of 200-example dev samples and one seed.")
    return lines


def _report_note(report: dict[str, Any] | None, version: str) -> str:
    measured = (report or {}).get("model_version")
    if measured and measured != version:
        return f" (measured on version `{measured}`, not on `{version}`: rerun the benchmark for this version)"
    return ""


def _speed_section(inputs: CardInputs) -> list[str]:
    lines = ["| measurement | value | source |", "|---|---|---|"]
    bench = inputs.bench_model
    if bench:
        note = _report_note(bench, inputs.version)
        lines += [
            f"| joint model, full Predictor ({bench.get('device')}, {bench.get('threads')} threads) | "
            f"{bench.get('joint_seq_per_s')} seq/s{note} | reports/bench-model.json |",
            f"| three single-task BERT-base models, same batches | {bench.get('three_bert_base_seq_per_s')} seq/s | "
            "reports/bench-model.json |",
            f"| speed ratio joint / three BERT-base | {bench.get('ratio')}x | reports/bench-model.json |",
            *([f"| same, our model as int8 ONNX Runtime | {onnx['joint_seq_per_s']} seq/s vs "
               f"{onnx['three_bert_base_seq_per_s']} seq/s: {onnx['ratio']}x | reports/bench-model-onnx.json |"]
              if (onnx := inputs.bench_model_onnx) else []),
            f"| parameters joint / three BERT-base | {bench.get('joint_params_m')} M / "
            f"{bench.get('baseline_params_m')} M "
            "| reports/bench-model.json |",
        ]
    onnx = inputs.bench_onnx
    if onnx:
        note = _report_note(onnx, inputs.version)
        lines += [
            f"| torch fp32 CPU, {onnx.get('threads')} thread(s) | {onnx.get('torch_seq_per_s')} seq/s{note} | "
            "reports/bench-onnx.json |",
            f"| ONNX Runtime int8 CPU, same threads | {onnx.get('onnx_int8_seq_per_s')} seq/s "
            f"({onnx.get('speedup')}x) | reports/bench-onnx.json |",
            f"| weights on disk fp32 / int8 | {onnx.get('torch_weights_mb')} MB / {onnx.get('onnx_int8_mb')} MB | "
            "reports/bench-onnx.json |",
        ]
    if len(lines) == 2:
        return ["_No benchmark reports yet: run `finsent bench model --json` and `finsent bench onnx --json`._"]
    lines += ["", "Timings come from one run each of the commands named in the reports, on the machine that wrote "
              "them (the `threads` in each report); they vary by a few per cent between runs, so compare "
              "ratios measured in one run, not figures from different runs."]
    if onnx:
        lines += ["", "**int8 parity with torch** (same dev batches; agreement of predicted labels, for NER of the "
                  "whole tag sequence of a sentence; largest absolute difference of any class probability):", "",
                  "| dataset | task | n | agreement | max abs prob diff | torch score | int8 score |",
                  "|---|---|---|---|---|---|---|"]
        for dataset, tasks in onnx.get("parity", {}).items():
            for task, row in tasks.items():
                key = "f1" if task == "ner" else "accuracy"
                lines.append(f"| {dataset} | {task} | {row['n']} | {row['agreement']:.4f} | "
                             f"{row['max_abs_prob_diff']:.4f} | {row['torch'][key]:.4f} | {row['onnx'][key]:.4f} |")
    return lines


def _linking_section(linking: dict[str, Any] | None) -> list[str]:
    if not linking:
        return ["_No linking report: run `finsent bench linking --json`._"]
    return [f"Entity → ticker linking on a hand-checked sample of {linking.get('entities')} entity spans in real "
            f"headlines (gold spans, so this measures linking alone): precision **{linking.get('precision')}**, "
            f"recall **{linking.get('recall')}** ({linking.get('correct')} correct of {linking.get('gold_linked')} "
            "linkable; reports/linking.json)."]


# the project's own labelled files (tests/fixtures/events/README.md says how each was made)
OWN_FILES_LICENCE = ("the project's own: headlines of the stream corpora judged by reading "
                     "(tests/fixtures/events/README.md); the headlines keep their publishers' terms")
OWN_FILES = ("event_headlines", "judged_events")


def _data_section(meta: dict[str, Any]) -> list[str]:
    from model.data.catalogue import DATASETS

    lines = ["| dataset | licence | file (SHA-256, first 12 hex) |", "|---|---|---|"]
    for dataset, files in meta.get("data_sha256", {}).items():
        licence = (DATASETS[dataset].licence if dataset in DATASETS
                   else OWN_FILES_LICENCE if dataset in OWN_FILES else "not recorded")
        cells = "<br>".join(f"`{path}` {sha[:12]}" for path, sha in files.items())
        lines.append(f"| {dataset} | {licence} | {cells} |")
    if len(lines) == 2:
        return ["_The metadata records no data hashes._"]
    return lines + ["", "Several training sets are non-commercial (PhraseBank CC BY-NC-SA 3.0, FiNER-ORD CC BY-NC 4.0) "
                    "or research-only (CoNLL-2003 Reuters text, FIN5 without a stated licence). A model trained on "
                    "them inherits those restrictions: use it for research and evaluation; retrain on commercially "
                    "licensed data (e.g. only the MIT-licensed Twitter and SEntFiN sets) before any commercial use."]


def render_model_card(inputs: CardInputs, generated_at: datetime | None = None) -> str:
    """The card as Markdown."""
    generated_at = generated_at or datetime.now(UTC)
    baselines = inputs.baselines
    out = [
        f"# Model card: finsent joint model `{inputs.version}`",
        "",
        f"_Generated by `finsent models card --version {inputs.version}` on {generated_at:%Y-%m-%d %H:%M} UTC from the "
        "version's metadata.json and reports/*.json. Do not edit by hand: regenerate it._",
        "",
        "## Model",
        "",
        *_model_section(inputs),
        "",
        "## Intended use",
        "",
        "Streaming monitoring of English financial news headlines and short posts: topic, sentence sentiment, named "
        "entities linked to tickers and the sentiment toward each entity, aggregated over time for analysts and alert "
        "rules. Outputs are signals for a human to look at, not trading advice and not input to automated trading.",
        "",
        "## Targets (dev splits)",
        "",
        *_targets_summary(inputs),
        "",
        "All numbers below are **dev** numbers: splits carved deterministically from the training files "
        "(CoNLL eng.testa and FiNER-ORD val are the official dev files). "
        "The withheld official test sets were not used.",
        "",
        "## Results against baselines",
        "",
        ("Baselines from reports/baselines.json (" + str(baselines.get("created_at", "?")) + "): scored by the same "
         "metric code (model.training.evaluation) on the same dev splits. Lexicon neutral bands and the TF-IDF "
         "regularisation were chosen on train splits only." if baselines else
         "_No baselines report: run `finsent bench baselines --json`._"),
        "",
    ]
    for task, title, datasets in TASK_SECTIONS:
        out += [f"### {title}", "", *_task_table(task, datasets, inputs), ""]
    out += ["Cells: headline score / macro-F1 (n = dev examples; entities for entity sentiment). FiNER-ORD labels "
            "only PER/LOC/ORG, so MISC predictions count as false positives for every system.", ""]
    out += ["## Speed", "", *_speed_section(inputs), "", "## Entity linking", "", *_linking_section(inputs.linking), "",
            "## Pseudo-labels", "", *_pseudo_label_section(inputs.metadata), "",
            "## Teacher, student, gold-only and quick", "", *_distillation_section(inputs.distillation), "",
            "## Ablations", "", *_ablation_section(inputs), "",
            "## Training data and licences", "", *_data_section(inputs.metadata), "",
            "## Limitations", "",
            "- English only; trained on headlines, tweets and short news sentences (max 128 word pieces): long "
            "articles are truncated.",
            "- Sentiment datasets disagree on conventions (PhraseBank's investor view vs Twitter's bullish/bearish); "
            "inference uses the shared calibration row, which matches no single dataset exactly.",
            "- Tweets from 2020-2022 and news from 2009-2020: new companies, products and events are unseen; topic "
            "classes are imbalanced (IPO has 44 training rows).",
            "- NER tags ORG/PER/LOC/MISC; tickers come from rules and a gazetteer (see the linking precision/recall), "
            "not from the network.",
            "- Scores are on dev splits of public datasets; performance on the live news stream is not measured here.",
            ""]
    return "\n".join(out)


def write_model_card(registry_dir: Path, version_spec: str, reports_dir: Path, output: Path) -> Path:
    """Render the card of `version_spec` and write it atomically to `output`."""
    text = render_model_card(gather_inputs(registry_dir, version_spec, reports_dir))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, output)
    return output
