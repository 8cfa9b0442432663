"""Joint training of the multi-task model on heterogeneous datasets.

    finsent train --profile quick          # < 10 min on 2 CPU cores, incl. evaluation
    finsent train --profile full           # ~1 h on 2 CPU cores, minutes on a GPU

Every dataset labels only some tasks; each step draws one dataset (temperature
sampling, p_i ~ n_i^(1/T)) and a length-bucketed batch from it, and the model
masks the losses of the tasks that batch does not label. Task losses are
balanced by learned uncertainty weights (or summed, `loss_weighting="equal"`).

`train` is the one training loop; scheduled retraining calls it too, with
`extra_examples` (analysts' labels carry their own Example.weight) and
`init_from` (a registry version to fine-tune). `train_with_pseudo_labels`
runs it twice, filling missing task labels with the first model's confident
predictions in between.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kernel.paths import PROJECT_ROOT
from model.data.casing import lower_case_words
from model.data.examples import EntitySpan, Example
from model.network.collate import EncodedText, collate, encode_example, length_buckets
from model.network.encoders import DEFAULT_ENCODER, encoder_spec
from model.network.features import bio_spans, first_subtoken_mask
from model.network.labels import NER_TAGS
from model.network.modeling import (
    JointModel,
    ModelConfig,
    encoder_source,
    load_tokenizer,
)
from model.network.tasks import EVENT_STATES, get_task
from model.training.evaluation import evaluate_examples, headline_score, predict_labels
from model.training.schedules import layerwise_parameter_groups, warmup_linear_factor

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    profile: str = "quick"
    data_dir: Path | None = None  # the datasets folder (the app passes settings.data_dir)
    datasets: tuple[str, ...] | None = None  # dataset names of model.data.splits; None = all available
    seed: int = 13
    max_steps: int = 500
    steps_per_epoch: int = 250  # an "epoch" here = the interval between dev evaluations and checkpoints
    max_minutes: float | None = None  # wall-clock stop; the run then evaluates once more and ends
    patience: int | None = None  # stop after this many evaluations without a better dev score
    batch_size: int = 32
    lr: float = 1e-4  # small encoders (MiniLM) fine-tune best at ~1e-4, higher than BERT-base's 2-5e-5
    layer_decay: float = 0.9  # per layer downwards; embeddings get lr * 0.9^7 with 6 layers
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    temperature: float = 2.0  # T=1 would starve FiNER-ORD (3k) next to Twitter topic (17k); T=inf is uniform
    dev_fraction: float = 0.1
    dev_cap: int | None = 300  # dev examples per dataset at each evaluation (None = all)
    threads: int | None = 2  # CPU threads; None = leave torch's default
    device: str = "auto"
    # The network to build (encoder, loss weighting "uncertainty" or "equal", label smoothing...).
    # With init_from the version's own config is used; fields set here must then agree with it.
    model: ModelConfig = field(default_factory=ModelConfig)
    runs_dir: Path = PROJECT_ROOT / "runs"  # TensorBoard logs and resumable checkpoints
    run_name: str | None = None  # default: the profile name
    resume: bool = False
    init_from: str | None = None  # registry version to fine-tune from
    registry_dir: Path | None = None  # where init_from lives (the app passes settings.registry_dir)
    progress: bool = True
    log_every: int = 25
    # Distillation (model.training.distillation): a complete soft-label folder or the teacher version whose
    # labels are in <runs_dir>/soft-labels/<version>/ (`finsent models soft-labels` writes them).
    distil_from: str | None = None
    distil_alpha: float = 0.5  # (1 - alpha) * gold loss + alpha * soft loss
    distil_temperature: float = 2.0  # softens teacher and student alike; the soft loss is scaled by T^2
    # The labelled events folder (model.data.events, model.data.judged_events; the app passes settings.events_dir):
    # event_headlines needs it, event_labels reads its judged headlines as gold when it is given.
    events_dir: Path | None = None
    # The judged adverse-event headlines (events_dir, tune split) as one more dataset, and SEntFiN's
    # negative entities weighted `sentfin_negative_weight` (model.training.event_headlines.with_event_headlines):
    # the sentence datasets call factual bad news neutral. On in the quick and full profiles.
    event_headlines: bool = False
    sentfin_negative_weight: float = 1.0
    # Financial events (issue #25, model.training.event_labels): the rules' event labels on the headline-like
    # datasets, and the `tune` half of events_dir's judged headlines as gold. On in the quick and full profiles.
    event_labels: bool = False


ADVERSE_EVENTS: dict[str, Any] = dict(event_headlines=True, sentfin_negative_weight=2.0, event_labels=True)
PROFILES: dict[str, dict[str, Any]] = {
    # 2 CPU cores: ~0.5 s a step at batch 32 -> ~5 min of steps + 2 capped evaluations. The step count decides;
    # the wall-clock stop only guards a slow machine: at 7 min, a make run that shared 2 cores with a CI run
    # trained 331 steps, and its alerts found 27-28 of the 33 dev events, not 29 (docs/alerts.md, "Names the tagger
    # found before").
    "quick": dict(max_steps=500, steps_per_epoch=250, dev_cap=200, max_minutes=12.0, batch_size=32,
                  **ADVERSE_EVENTS),
    # ~1 h on 2 CPU cores; on a GPU the same number of examples takes minutes.
    "full": dict(max_steps=5000, steps_per_epoch=1000, dev_cap=None, max_minutes=None, batch_size=32, patience=3,
                 **ADVERSE_EVENTS),
}


@dataclass
class TrainHooks:
    """What a supervisor (monitor.retrain.background) sees of a run and how it stops one cleanly."""

    on_progress: Callable[[int, int, str, float], None] | None = None  # (step, max_steps, phase, best dev score)
    should_stop: Callable[[], bool] | None = None  # checked before every step: True saves last.pt and stops


class TrainingStopped(Exception):  # noqa: N818 - a requested stop, not an error
    """A stop request was honoured: last.pt holds the run at `step`; `resume=True` continues it."""

    def __init__(self, step: int, checkpoint: Path) -> None:
        super().__init__(f"stopped at step {step}; resume from {checkpoint}")
        self.step, self.checkpoint = step, checkpoint


def _save_atomic(state: Any, path: Path) -> None:
    """torch.save through a temporary file: a process stopped mid-write leaves the previous checkpoint."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    tmp.replace(path)


# Per-encoder defaults a profile takes unless the caller sets them: base-size encoders fine-tune best at
# BERT-base's 2-5e-5, not MiniLM's 1e-4. MiniLM is absent: its values are the profile's own.
ENCODER_DEFAULTS: dict[str, dict[str, Any]] = {"mpnet-base": dict(lr=5e-5)}


def profile_config(profile: str, **overrides: Any) -> TrainConfig:
    """A TrainConfig for a named profile; on CUDA batches are 4x larger and steps 4x fewer.

    A non-default encoder gets its ENCODER_DEFAULTS and its own run folder
    (`<profile>-<encoder>`), so a teacher run never resumes a MiniLM checkpoint;
    a distilled student trains in `<...>-distil`.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown training profile {profile!r} (expected one of: {', '.join(PROFILES)})")
    values = dict(PROFILES[profile])
    encoder = encoder_spec(overrides.get("encoder") or DEFAULT_ENCODER).name
    if encoder != DEFAULT_ENCODER:
        values.update(ENCODER_DEFAULTS.get(encoder, {}))
        values["run_name"] = f"{profile}-{encoder}"
    if overrides.get("distil_from"):  # a student never resumes a gold-only run's checkpoint, nor the reverse
        values["run_name"] = f"{values.get('run_name') or profile}-distil"
    device = overrides.get("device", "auto")
    if (device == "cuda" or (device == "auto" and torch.cuda.is_available())) and "batch_size" not in overrides:
        values["batch_size"] *= 4
        values["max_steps"] = max(1, values["max_steps"] // 4)
        values["steps_per_epoch"] = max(1, values["steps_per_epoch"] // 4)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return flat_train_config(profile, **values)


def flat_train_config(profile: str, **values: Any) -> TrainConfig:
    """A TrainConfig from flat keyword values: ModelConfig's fields (encoder_layers, loss_weighting...)
    go to `config.model`, so callers need not know which object owns a knob."""
    model_fields = {f.name for f in fields(ModelConfig)}
    model_values = {k: values.pop(k) for k in list(values) if k in model_fields}
    return TrainConfig(profile=profile, model=ModelConfig(**model_values), **values)


@dataclass
class TrainResult:
    model: JointModel  # best dev checkpoint, eval mode, on CPU
    tokenizer: Any
    metrics: dict[str, dict[str, dict[str, Any]]]  # dataset -> task -> scores (best evaluation)
    dev_score: float  # mean headline score over (dataset, task)
    steps: int
    duration_s: float
    data_hashes: dict[str, dict[str, str]]
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    # the words its training texts write in lower case (model/data/casing.py), saved with the version
    lower_case_words: frozenset[str] = frozenset()

    def metadata(self) -> dict[str, Any]:
        """What the registry stores about this run (metadata.json)."""
        encoder = (self.config.get("model") or {}).get("encoder", DEFAULT_ENCODER)
        return {"profile": self.config.get("profile"), "encoder": encoder, "metrics": self.metrics,
                "dev_score": self.dev_score,
                "steps": self.steps, "duration_s": round(self.duration_s, 1), "data_sha256": self.data_hashes,
                "train_config": self.config, "history": self.history}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def sampling_probabilities(sizes: dict[str, int], temperature: float) -> dict[str, float]:
    """p_i ~ n_i^(1/T): T=1 proportional to size, larger T flatter."""
    weights = {name: n ** (1.0 / temperature) for name, n in sizes.items() if n > 0}
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


class DatasetBatches:
    """Endless length-bucketed batches of one dataset, tokenised lazily and cached."""

    def __init__(self, examples: list[Example], tokenizer, source_id: int, batch_size: int,  # noqa: ANN001
                 rng: random.Random, max_length: int) -> None:
        self.examples, self.tokenizer, self.source_id = examples, tokenizer, source_id
        self.batch_size, self.rng, self.max_length = batch_size, rng, max_length
        self._cache: dict[int, EncodedText] = {}
        self._batches: Iterator[list[int]] = iter(())

    def _encoded(self, index: int) -> EncodedText:
        if index not in self._cache:
            self._cache[index] = encode_example(self.tokenizer, self.examples[index], self.source_id, self.max_length)
        return self._cache[index]

    def next(self):  # noqa: ANN201
        indices = next(self._batches, None)
        if indices is None:  # one pass done: reshuffle (character length approximates token length)
            self._batches = iter(length_buckets([len(e.text) for e in self.examples], self.batch_size, self.rng))
            indices = next(self._batches)
        return collate([self._encoded(i) for i in indices], pad_id=self.tokenizer.pad_token_id or 0)


def load_training_corpus(config: TrainConfig):  # noqa: ANN201
    """dataset name -> DatasetSplit, from model.data.splits (the data engineer's catalogue)."""
    from model.data.splits import load_corpus

    if config.data_dir is None:
        raise ValueError("TrainConfig.data_dir is not set: pass the datasets folder (the app passes settings.data_dir)")
    return load_corpus(Path(config.data_dir), names=list(config.datasets) if config.datasets else None,
                       dev_fraction=config.dev_fraction)


def resumed_model_config(requested: ModelConfig, state: dict[str, Any]) -> ModelConfig:
    """The network a checkpoint was trained as: event types are only ever appended to the taxonomy, so a run
    started before one was added (its event head has fewer rows) resumes with the types it had, a prefix."""
    weight = state.get("event_head.classifier.weight")
    if weight is None or "events" not in requested.tasks:
        return requested
    n_types = weight.shape[0] // len(EVENT_STATES)
    if n_types == len(requested.event_types):
        return requested
    if n_types > len(requested.event_types):
        raise ValueError(f"the checkpoint's event head has {n_types} types, this code knows "
                         f"{len(requested.event_types)}: resume it with the code that started it")
    return replace(requested, event_types=requested.event_types[:n_types])


def _initial_model(config: TrainConfig) -> tuple[JointModel, Any]:
    if config.init_from:
        from model.serving.registry import load_model

        if config.registry_dir is None:
            raise ValueError("TrainConfig.registry_dir is not set: init_from needs the registry folder")
        model, tokenizer = load_model(Path(config.registry_dir), config.init_from)
        _check_model_config(config.model, model.config, config.init_from)
        return model, tokenizer
    model = JointModel(config.model)
    return model, load_tokenizer(encoder_source(config.model))


def _check_model_config(requested: ModelConfig, loaded: ModelConfig, version: str) -> None:
    """Fine-tuning keeps the version's network: a field asked for (not default) must agree with it."""
    default = ModelConfig()
    clashes = [f"{f.name}={getattr(requested, f.name)!r} (version has {getattr(loaded, f.name)!r})"
               for f in fields(ModelConfig) if f.name != "encoder_config"
               and getattr(requested, f.name) != getattr(default, f.name)
               and getattr(requested, f.name) != getattr(loaded, f.name)]
    if clashes:
        raise ValueError(f"TrainConfig.model disagrees with init_from {version}: {', '.join(clashes)}")


def evaluate_dev(model: JointModel, tokenizer, dev_sets: dict[str, list[Example]], device: torch.device,  # noqa: ANN001
                 batch_size: int = 64) -> tuple[dict[str, dict[str, dict[str, Any]]], float]:
    """Metrics per dataset and task on the dev sets, and their mean headline score."""
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    scores: list[float] = []
    for name, examples in dev_sets.items():
        if not examples:
            continue
        result = evaluate_examples(model, tokenizer, examples, device=device, batch_size=batch_size)
        metrics[name] = {task: {k: v for k, v in m.items() if k not in ("per_class", "per_type")}
                         for task, m in result.items()}
        scores.extend(headline_score(task, m) for task, m in result.items() if get_task(task).in_dev_score)
    return metrics, (sum(scores) / len(scores) if scores else 0.0)


def _data_hashes(corpus: dict, config: TrainConfig) -> dict[str, dict[str, str]]:
    """SHA-256 of every file a run read, per dataset: what a version's metadata says it was trained on."""
    hashes = {name: dict(getattr(split, "file_sha256", {})) for name, split in corpus.items()}
    if config.event_headlines:
        from model.data.events import EVENT_HEADLINES, shown_path

        path = _events_dir(config) / EVENT_HEADLINES
        hashes["event_headlines"] = {shown_path(path): hashlib.sha256(path.read_bytes()).hexdigest()}
    if config.event_labels and (judged := _judged_events(config)) is not None:
        hashes["judged_events"] = {judged.name: hashlib.sha256(judged.read_bytes()).hexdigest()}
    return hashes


def _events_dir(config: TrainConfig) -> Path:
    """The events folder event_headlines reads; a clear error where the caller passed none."""
    if config.events_dir is None:
        raise ValueError("event_headlines=True needs events_dir, the labelled events folder "
                         "(the app passes settings.events_dir, FINSENT_EVENTS_DIR)")
    return Path(config.events_dir)


def _judged_events(config: TrainConfig) -> Path | None:
    """The judged event headlines event_labels trains on as gold; None without an events folder."""
    from model.data.judged_events import JUDGED_EVENTS

    return None if config.events_dir is None else Path(config.events_dir) / JUDGED_EVENTS


def train(config: TrainConfig, corpus: dict | None = None, extra_examples: list[Example] | None = None,
          initial_model: JointModel | None = None, tokenizer=None,  # noqa: ANN001
          hooks: TrainHooks | None = None) -> TrainResult:
    """Train (or fine-tune) the joint model; return the best dev checkpoint and its metrics.

    Raises TrainingStopped when `hooks.should_stop` asks (after saving last.pt).
    """
    hooks = hooks or TrainHooks()
    started = time.monotonic()
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = torch.device("cuda" if config.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    use_bf16 = device.type == "cuda"

    # --- data: one endless batch stream per dataset, dev sets capped -------------------------------
    corpus = corpus if corpus is not None else load_training_corpus(config)
    run_dir = Path(config.runs_dir) / (config.run_name or config.profile)
    saved = None
    if config.resume and (run_dir / "last.pt").is_file():
        saved = torch.load(run_dir / "last.pt", map_location=device, weights_only=False)
        config = replace(config, model=resumed_model_config(config.model, saved["model"]))
    if initial_model is None:
        model, tokenizer = _initial_model(config)
    else:
        model = initial_model
    model.to(device)
    train_sets = {name: split.train for name, split in corpus.items() if split.train}
    if config.event_headlines:
        from model.training.event_headlines import with_event_headlines

        train_sets = with_event_headlines(train_sets, config.sentfin_negative_weight, _events_dir(config))
    if extra_examples:
        train_sets["extra"] = list(extra_examples)
    if not train_sets:
        raise ValueError("no training examples: check FINSENT_DATA_DIR or run `finsent data fetch`")
    # a capped dev set is a seeded sample, not the first rows: some files are sorted by label
    dev_sets = {name: (random.Random(config.seed).sample(split.dev, config.dev_cap)
                       if config.dev_cap and len(split.dev) > config.dev_cap else split.dev)
                for name, split in corpus.items()}
    if config.event_labels and model.config.has_task("events"):
        from model.training.event_labels import with_event_labels

        train_sets = with_event_labels(train_sets, _judged_events(config))
        dev_sets = with_event_labels(dev_sets)  # reported per dataset; not in the dev score (Task.in_dev_score)
    data_rng = random.Random(config.seed)
    soft_labels = None
    if config.distil_from:  # the teacher's soft labels; its unlabelled texts (stream headlines) become a dataset
        from model.training.distillation import DistilBatches, load_soft_labels, unlabelled_examples

        soft_labels = load_soft_labels(config.distil_from, config.runs_dir, model.config.n_topics)
        unlabelled = unlabelled_examples(soft_labels, train_sets, {n: split.dev for n, split in corpus.items()})
        if unlabelled:
            train_sets[unlabelled[0].source] = unlabelled
    streams = {name: DatasetBatches(examples, tokenizer, model.config.source_id(name), config.batch_size,
                                    data_rng, model.config.max_length) if soft_labels is None else
               DistilBatches(examples, tokenizer, model.config.source_id(name), config.batch_size, data_rng,
                             model.config.max_length, soft_labels, model.config.n_topics)
               for name, examples in train_sets.items()}
    probabilities = sampling_probabilities({n: len(e) for n, e in train_sets.items()}, config.temperature)
    names, weights = list(probabilities), list(probabilities.values())

    groups = layerwise_parameter_groups(model, config.lr, config.layer_decay, config.weight_decay)
    optimizer = torch.optim.AdamW(groups, lr=config.lr)
    warmup_steps = math.ceil(config.warmup_fraction * config.max_steps)

    run_dir.mkdir(parents=True, exist_ok=True)
    step, best_score, best_metrics, history, stale = 0, -1.0, {}, [], 0
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, best_score, best_metrics = saved["step"], saved["best_score"], saved["best_metrics"]
        history, stale = saved["history"], saved.get("stale", 0)
        data_rng.setstate(saved["data_rng"])
        torch.set_rng_state(saved["torch_rng"])
        log.info("resumed %s at step %d (best dev score %.4f)", run_dir, step, best_score)
    elif (run_dir / "best.pt").exists():
        (run_dir / "best.pt").unlink()  # a fresh run must not inherit another run's best checkpoint

    from torch.utils.tensorboard import SummaryWriter
    from tqdm.auto import tqdm

    writer = SummaryWriter(str(run_dir / "tensorboard"))
    progress = tqdm(total=config.max_steps, initial=step, desc=f"train[{config.profile}]", disable=not config.progress)
    running: dict[str, list[float]] = {}
    last_evaluated = step
    model.train()

    def checkpoint() -> None:
        _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                      "best_score": best_score, "best_metrics": best_metrics, "history": history,
                      "stale": stale, "data_rng": data_rng.getstate(), "torch_rng": torch.get_rng_state()},
                     run_dir / "last.pt")

    while step < config.max_steps:
        if hooks.should_stop is not None and hooks.should_stop():
            checkpoint()
            progress.close()
            writer.close()
            raise TrainingStopped(step, run_dir / "last.pt")
        # --- schedule: warmup then linear decay, per parameter group (layer-wise LR) ----------------
        factor = warmup_linear_factor(step, warmup_steps, config.max_steps)
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * factor

        # --- forward-backward-update ------------------------------------------------------------------
        name = data_rng.choices(names, weights)[0]
        batch, labels, *soft = streams[name].next()  # a third value, the soft targets, when distilling
        batch = batch.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
            output = model(batch, labels.to(device))
            loss = output.loss
            if soft:
                from model.training.distillation import mix_losses, soft_losses

                distil = soft_losses(model, output, batch, soft[0].to(device), config.distil_temperature)
                loss = mix_losses(output.loss, distil, config.distil_alpha)
                output.losses.update({f"distil_{task}": value for task, value in distil.items()})
        if loss is not None:  # None only for a batch that labels nothing
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        # --- log ----------------------------------------------------------------------------------------
        for task, task_loss in output.losses.items():
            running.setdefault(task, []).append(task_loss.item())
        if loss is not None:
            running.setdefault("total", []).append(loss.item())
        if step % config.log_every == 0:
            means = {task: sum(v) / len(v) for task, v in running.items()}
            for task, value in means.items():
                writer.add_scalar(f"train/loss_{task}", value, step)
            writer.add_scalar("train/lr", config.lr * factor, step)
            for task, s in zip(model.task_weighting.tasks, model.task_weighting.log_variance.tolist()):
                writer.add_scalar(f"train/log_variance_{task}", s, step)
            progress.set_postfix(loss=f"{means.get('total', float('nan')):.3f}")
            running = {}
        progress.update(1)
        if hooks.on_progress is not None:
            hooks.on_progress(step, config.max_steps, "train", best_score)

        # --- stop (time budget) ---------------------------------------------------------------------
        out_of_time = config.max_minutes is not None and time.monotonic() - started > 60 * config.max_minutes

        # --- evaluate/checkpoint ----------------------------------------------------------------------
        if step % config.steps_per_epoch == 0 or step == config.max_steps or out_of_time:
            if hooks.on_progress is not None:
                hooks.on_progress(step, config.max_steps, "evaluate", best_score)
            metrics, score = evaluate_dev(model, tokenizer, dev_sets, device)
            model.train()
            last_evaluated = step
            history.append({"step": step, "dev_score": score, "elapsed_s": round(time.monotonic() - started, 1)})
            writer.add_scalar("dev/score", score, step)
            for dataset, tasks in metrics.items():
                for task, values in tasks.items():
                    writer.add_scalar(f"dev/{dataset}/{task}", headline_score(task, values), step)
            progress.write(f"step {step}: dev score {score:.4f} " + " ".join(
                f"{d}/{t}={headline_score(t, v):.3f}" for d, ts in metrics.items() for t, v in ts.items()))
            if score > best_score:
                best_score, best_metrics, stale = score, metrics, 0
                torch.save(model.state_dict(), run_dir / "best.pt")
            else:
                stale += 1
            checkpoint()
            if hooks.on_progress is not None:
                hooks.on_progress(step, config.max_steps, "train", best_score)

        # --- stop -------------------------------------------------------------------------------------
        if out_of_time or (config.patience is not None and stale >= config.patience):
            log.info("stopping at step %d (%s)", step, "time budget" if out_of_time else "no dev improvement")
            break
    progress.close()
    writer.close()
    if last_evaluated != step or not (run_dir / "best.pt").exists():
        metrics, score = evaluate_dev(model, tokenizer, dev_sets, device)
        if score > best_score:
            best_score, best_metrics = score, metrics
            torch.save(model.state_dict(), run_dir / "best.pt")
    model.load_state_dict(torch.load(run_dir / "best.pt", map_location=device))
    model.to("cpu").eval()
    return TrainResult(
        model=model, tokenizer=tokenizer, metrics=best_metrics, dev_score=best_score, steps=step,
        duration_s=time.monotonic() - started,
        data_hashes=_data_hashes(corpus, config),
        history=history,
        config={k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        lower_case_words=lower_case_words(example.text for examples in train_sets.values() for example in examples),
    )


# --- joint annotation (pseudo-labels) --------------------------------------------------------------

PSEUDO_LABEL_THRESHOLD = 0.9


@torch.inference_mode()
def pseudo_label(model: JointModel, tokenizer, examples: list[Example], threshold: float = PSEUDO_LABEL_THRESHOLD,  # noqa: ANN001
                 device: torch.device | str = "cpu", batch_size: int = 64) -> tuple[list[Example], dict[str, int]]:
    """Copies of `examples` with missing topic/sentiment/entity labels filled where the model is confident.

    Sentiment and topic: max probability >= threshold. Entities: every word's
    tag probability >= threshold (a sentence is tagged fully or not at all,
    since a missing entity would teach "O"). Entity sentiment is not filled.
    """
    from model.network.collate import encode_text

    model.eval().to(device)
    filled = {"topic": 0, "sentiment": 0, "ner": 0}
    out: list[Example] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start:start + batch_size]
        encoded = [encode_text(tokenizer, ex.text, model.config.max_length) for ex in chunk]
        batch, _ = collate(encoded, pad_id=tokenizer.pad_token_id or 0)
        output = model(batch.to(device))
        topic_probs = output.topic_logits.float().softmax(-1).cpu()
        sentiment_probs = output.sentiment_logits.float().softmax(-1).cpu()
        tag_probs = output.ner_logits.float().softmax(-1).cpu()
        for row, (example, item) in enumerate(zip(chunk, encoded)):
            pseudo_labelled: list[str] = []  # the tasks filled in here, in the new example's meta
            new = replace(example, meta={**example.meta, "pseudo_labelled": pseudo_labelled})
            if example.topic is None and float(topic_probs[row].max()) >= threshold:
                new.topic = int(topic_probs[row].argmax())
                pseudo_labelled.append("topic")
                filled["topic"] += 1
            if example.sentiment is None and float(sentiment_probs[row].max()) >= threshold:
                new.sentiment = int(sentiment_probs[row].argmax())
                pseudo_labelled.append("sentiment")
                filled["sentiment"] += 1
            positions = [i for i, first in enumerate(first_subtoken_mask(item.word_ids)) if first]
            if (example.entities is None and positions
                    and float(tag_probs[row, positions].max(-1).values.min()) >= threshold):
                tags = [NER_TAGS[t]
                        for t in model.entity_tagger.decode(output.ner_logits[row, positions].float().cpu())]
                spans = []
                for first, last, entity_type in bio_spans(tags):
                    last_word = item.word_ids[positions[last - 1]]
                    end_token = max(i for i, w in enumerate(item.word_ids) if w == last_word)
                    spans.append(EntitySpan(item.offsets[positions[first]][0], item.offsets[end_token][1], entity_type))
                new.entities = spans
                pseudo_labelled.append("ner")
                filled["ner"] += 1
            out.append(new)
    return out, filled


def compare_metrics(before: dict, after: dict) -> dict[str, dict[str, dict[str, float]]]:
    """dataset -> task -> {before, after, delta} of the headline scores."""
    comparison: dict[str, dict[str, dict[str, float]]] = {}
    for dataset, tasks in after.items():
        for task, values in tasks.items():
            if task in before.get(dataset, {}):
                b, a = headline_score(task, before[dataset][task]), headline_score(task, values)
                comparison.setdefault(dataset, {})[task] = {"before": b, "after": a, "delta": a - b}
    return comparison


def train_with_pseudo_labels(config: TrainConfig, corpus: dict | None = None,
                             extra_examples: list[Example] | None = None,
                             pool_cap: int | None = 3000) -> tuple[TrainResult, dict[str, Any]]:
    """Train, fill missing labels with confident predictions, train again from that model.

    Returns the second result and a report: labels filled per dataset and task,
    and per (dataset, task) whether the second round helped on dev.
    """
    corpus = corpus if corpus is not None else load_training_corpus(config)
    first = train(config, corpus=corpus, extra_examples=extra_examples)
    augmented, filled = {}, {}
    for name, split in corpus.items():
        pool = split.train[:pool_cap] if pool_cap else split.train
        labelled, counts = pseudo_label(first.model, first.tokenizer, pool)
        augmented[name] = replace(split, train=labelled + split.train[len(pool):])
        filled[name] = counts
    second_config = replace(config, run_name=f"{config.run_name or config.profile}-pseudo", resume=False)
    second = train(second_config, corpus=augmented, extra_examples=extra_examples,
                   initial_model=first.model, tokenizer=first.tokenizer)
    report = {"filled": filled, "threshold": PSEUDO_LABEL_THRESHOLD,
              "dev_comparison": compare_metrics(first.metrics, second.metrics),
              "first_round_dev_score": first.dev_score, "second_round_dev_score": second.dev_score}
    return second, report


__all__ = ["TrainConfig", "TrainResult", "TrainHooks", "TrainingStopped", "PROFILES", "profile_config", "train",
           "train_with_pseudo_labels",
           "pseudo_label", "sampling_probabilities", "evaluate_dev", "predict_labels"]
