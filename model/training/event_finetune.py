"""Fine-tune a registry version so it sees adverse company events (issue #13).

    python -m model.training.event_finetune run --from live [--steps 400] [--weight 2] [--repeat 4]
    python -m model.training.event_finetune compare PARENT CHILD      # PhraseBank/Twitter/SEntFiN dev accuracy

(the folders: `--registry-dir` / `--data-dir` / `--events-dir` before the subcommand, or FINSENT_REGISTRY_DIR /
FINSENT_DATA_DIR / FINSENT_EVENTS_DIR)

The sentence-sentiment training sets call factual bad news ("X collapses",
"X files for bankruptcy") neutral far more often than a risk analyst would.
This continues training a version (`model.training.loop.train`, `init_from`) on
the usual corpus plus, as `extra_examples`, the `tune` half of the judged
event headlines (the events folder's event_headlines.csv, as
model.data.events.tune_event_examples loads them), labelled for
the sentence and for the named company's span, with a loss weight; SEntFiN
training headlines with a negative entity get a higher weight too. The
`eval` half is never trained on: `finsent bench events --model VERSION`
measures the result there, and the version's metadata keeps the dev metrics
so PhraseBank/Twitter accuracy can be compared with the parent's.
The new version is saved unpromoted.

The same recipe (model.training.event_headlines) is part of every training profile,
so `make run`'s quick model and the retraining job's candidates see adverse
events from the start; this command remains for versions trained before it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from model.data.events import EVENT_HEADLINES, shown_path, tune_event_examples
from model.data.examples import Example
from model.network.labels import SENTIMENT_LABELS
from model.training.event_headlines import EVENT_REPEAT, EVENT_WEIGHT, upweight_negative_entities


def finetune(registry_dir: Path, data_dir: Path, events_dir: Path, version: str, steps: int, weight: float,
             sentfin_negative_weight: float, lr: float, max_minutes: float | None, repeat: int = 1,
             seed: int = 13) -> tuple[str, dict[str, Any]]:
    """Train from `version` with the event examples; save the result unpromoted; return (new version, summary).

    `repeat` lists the event examples that many times: datasets are drawn with
    p ~ sqrt(size), so ~170 headlines would otherwise be a batch in 50.
    """
    from model.serving.registry import load_metadata, save_version
    from model.training.loop import load_training_corpus, profile_config, train

    extra = tune_event_examples(events_dir, weight) * repeat
    config = profile_config("quick", init_from=version, registry_dir=Path(registry_dir), data_dir=Path(data_dir),
                            events_dir=Path(events_dir),
                            max_steps=steps,
                            steps_per_epoch=steps, lr=lr, max_minutes=max_minutes, seed=seed,
                            run_name="event-finetune", device="cpu", event_headlines=False)  # its own, below
    corpus = load_training_corpus(config)
    if "sentfin" in corpus and sentfin_negative_weight != 1.0:
        corpus["sentfin"] = replace(corpus["sentfin"],
                                    train=upweight_negative_entities(corpus["sentfin"].train, sentfin_negative_weight))
    result = train(config, corpus=corpus, extra_examples=extra)
    parent = load_metadata(Path(registry_dir), version)
    summary = {"init_from": version, "steps": result.steps, "extra_examples": len(extra) // max(repeat, 1),
               "extra_with_company_span": sum(ex.entity_sentiments is not None for ex in extra) // max(repeat, 1),
               "repeat": repeat, "weight": weight, "sentfin_negative_weight": sentfin_negative_weight, "lr": lr,
               "trained_on": f"{shown_path(Path(events_dir) / EVENT_HEADLINES)} split=tune"}
    metadata = {**result.metadata(), "init_from": version, "event_finetune": summary,
                "parent_metrics": parent.get("metrics", {}),
                "note": (f"{version} fine-tuned on the tune event headlines" if extra else
                         f"{version} trained on for the same steps without event headlines (control)")
                + " (python -m model.training.event_finetune run)"}
    new_version = save_version(Path(registry_dir), result.model, result.tokenizer, metadata,
                               lower_case_words=result.lower_case_words)
    return new_version, {**summary, "version": new_version, "dev_score": round(result.dev_score, 4),
                         "duration_s": round(result.duration_s, 1)}


def dev_sentiment_metrics(registry_dir: Path, data_dir: Path, version: str,
                          names: tuple[str, ...] = ("phrasebank", "twitter_sentiment", "sentfin")) -> dict[str, Any]:
    """Accuracy / macro-F1 of a version on the full dev splits of the sentiment datasets (training's own carving)."""
    from model.data.splits import load_corpus
    from model.serving.registry import load_metadata, load_model
    from model.training.evaluation import evaluate_examples

    corpus = load_corpus(Path(data_dir), names=list(names))
    model, tokenizer = load_model(Path(registry_dir), version)
    threshold = (load_metadata(Path(registry_dir), version).get("decision") or {}).get("entity_negative_threshold")
    report: dict[str, Any] = {}
    for name, split in corpus.items():
        metrics = evaluate_examples(model, tokenizer, split.dev)
        report[name] = {task: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()
                               if k in ("accuracy", "macro_f1", "n")} for task, m in metrics.items()}
        if "entity-sentiment" in report[name]:  # as served: shared source row and the version's decision rule
            gold, probs = entity_sentiment_probs(model, tokenizer, split.dev)
            report[name]["entity-sentiment"]["served_accuracy"] = threshold_accuracy(gold, probs, threshold)
            report[name]["entity-sentiment"]["entity_negative_threshold"] = threshold
    return report


def entity_sentiment_probs(model, tokenizer, examples: list[Example], batch_size: int = 64):  # noqa: ANN001, ANN201
    """(gold, (negative, neutral, positive) probabilities) of every gold entity span, as served (shared source row)."""
    import torch

    from model.network.collate import collate, encode_example, length_buckets
    from model.network.features import IGNORE_INDEX

    encoded = [encode_example(tokenizer, ex, 0, model.config.max_length) for ex in examples]
    gold: list[int] = []
    probs: list[list[float]] = []
    with torch.inference_mode():
        for indices in length_buckets([len(e.input_ids) for e in encoded], batch_size):
            batch, labels = collate([encoded[i] for i in indices], pad_id=tokenizer.pad_token_id or 0)
            logits = model(batch).entity_sentiment_logits
            flat_gold = labels.entity_sentiment.reshape(-1)
            valid = flat_gold != IGNORE_INDEX
            gold += flat_gold[valid].tolist()
            probs += logits.reshape(-1, logits.shape[-1]).float().softmax(-1)[valid].tolist()
    return gold, probs


def threshold_accuracy(gold: list[int], probs: list[list[float]], threshold: float | None) -> float:
    """Accuracy of the served decision rule (model.serving.predictor.decide_sentiment) on gold entity labels."""
    from model.serving.predictor import decide_sentiment

    hits = sum(SENTIMENT_LABELS[g] == decide_sentiment(p, threshold) for g, p in zip(gold, probs))
    return round(hits / len(gold), 4) if gold else 0.0


@click.group()
@click.option("--registry-dir", type=click.Path(path_type=Path, file_okay=False), envvar="FINSENT_REGISTRY_DIR",
              required=True, help="Model registry folder (env FINSENT_REGISTRY_DIR).")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), envvar="FINSENT_DATA_DIR",
              required=True, help="Training datasets folder (env FINSENT_DATA_DIR).")
@click.option("--events-dir", type=click.Path(path_type=Path, file_okay=False), envvar="FINSENT_EVENTS_DIR",
              required=True, help="Labelled events folder: dev_events.yaml, event_headlines.csv "
                                  "(env FINSENT_EVENTS_DIR).")
@click.pass_context
def cli(ctx: click.Context, registry_dir: Path, data_dir: Path, events_dir: Path) -> None:
    """Fine-tune on the event headlines, and compare versions on the sentiment dev splits.

    The folders are options (model/ reads no app settings); `finsent config` shows the app's values.
    """
    ctx.obj = {"registry_dir": registry_dir, "data_dir": data_dir, "events_dir": events_dir}


@cli.command("run")
@click.option("--from", "model_spec", default="live", show_default=True, help="live, latest or a version id.")
@click.option("--steps", type=int, default=400, show_default=True)
@click.option("--weight", type=float, default=EVENT_WEIGHT, show_default=True,
              help="Loss weight of the event headlines.")
@click.option("--repeat", type=int, default=EVENT_REPEAT, show_default=True,
              help="Times the event headlines are listed (0: none, a control run with the same steps).")
@click.option("--sentfin-negative-weight", type=float, default=2.0, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option("--max-minutes", type=float, default=15.0, show_default=True)
@click.pass_obj
def run(obj: dict[str, Path], model_spec: str, steps: int, weight: float, repeat: int, sentfin_negative_weight: float,
        lr: float, max_minutes: float) -> None:
    """Fine-tune a version on the tune event headlines; print one JSON line with the new (unpromoted) version."""
    from model.serving.registry import RegistryError, resolve_version

    registry_dir = obj["registry_dir"]
    try:
        version = resolve_version(registry_dir, model_spec)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None
    _, summary = finetune(registry_dir, obj["data_dir"], obj["events_dir"], version, steps, weight,
                          sentfin_negative_weight, lr, max_minutes, repeat)
    click.echo(json.dumps(summary))


@cli.command("compare")
@click.argument("versions", nargs=-1, required=True)
@click.pass_obj
def compare(obj: dict[str, Path], versions: tuple[str, ...]) -> None:
    """PhraseBank, Twitter sentiment and SEntFiN dev accuracy of each version; one JSON line."""
    from model.serving.registry import RegistryError, resolve_version

    registry_dir = obj["registry_dir"]
    try:
        resolved = [resolve_version(registry_dir, v) for v in versions]
    except RegistryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps({v: dev_sentiment_metrics(registry_dir, obj["data_dir"], v) for v in resolved}))


if __name__ == "__main__":
    cli()
