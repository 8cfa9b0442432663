"""Run every baseline on the dev splits and write reports/baselines.json.

    finsent bench baselines [--json]

Datasets and the task each baseline is scored on:

| dataset | task | baselines |
|---|---|---|
| phrasebank, twitter_sentiment | sentiment | loughran_mcdonald (band from train), vader |
| sentfin | entity-sentiment | vader_sentence (the sentence's VADER label for every entity) |
| twitter_topic | topic | tfidf_logreg (fit on train) |
| conll (eng.testa), finer_ord (val) | ner | spacy_en_core_web_sm |

Metrics come from `model.training.evaluation` (accuracy / macro-F1, seqeval entity F1),
the same functions the joint model's dev numbers come from, and the report is
keyed like a version's metadata.json: metrics[dataset][task][baseline].
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kernel.paths import PROJECT_ROOT
from kernel.reports import write_json_report
from model.data.splits import DatasetSplit
from model.network.labels import SENTIMENT_LABELS, TOPIC_LABELS
from model.reports.baselines import lexicon
from model.training.evaluation import classification_metrics, ner_metrics

REPORT_PATH = PROJECT_ROOT / "reports" / "baselines.json"
SENTIMENT_DATASETS = ("phrasebank", "twitter_sentiment")
ENTITY_SENTIMENT_DATASETS = ("sentfin",)
TOPIC_DATASETS = ("twitter_topic",)
NER_DATASETS = ("conll", "finer_ord")
DATASETS = SENTIMENT_DATASETS + ENTITY_SENTIMENT_DATASETS + TOPIC_DATASETS + NER_DATASETS


def _bar(items, desc: str, progress: bool):  # noqa: ANN001, ANN202
    return tqdm(items, desc=desc, disable=not progress, leave=False)


def sentiment_baselines(split: DatasetSplit, progress: bool = True) -> dict[str, dict[str, Any]]:
    """Loughran-McDonald (neutral band chosen on train) and VADER on a sentiment dataset's dev split."""
    train = [e for e in split.train if e.sentiment is not None]
    dev = [e for e in split.dev if e.sentiment is not None]
    train_scores = [lexicon.lm_polarity(e.text) for e in _bar(train, f"{split.name} LM train", progress)]
    band = lexicon.choose_neutral_band(train_scores, [e.sentiment for e in train if e.sentiment is not None])
    gold = [e.sentiment for e in dev if e.sentiment is not None]
    lm_predicted = [lexicon.label_from_score(lexicon.lm_polarity(e.text), band)
                    for e in _bar(dev, f"{split.name} LM dev", progress)]
    vader_predicted = [lexicon.vader_label(e.text) for e in _bar(dev, f"{split.name} VADER dev", progress)]
    return {
        "loughran_mcdonald": {**classification_metrics(gold, lm_predicted, SENTIMENT_LABELS),
                              "neutral_band": band, "band_chosen_on": f"train (n={len(train)})"},
        "vader": {**classification_metrics(gold, vader_predicted, SENTIMENT_LABELS),
                  "thresholds": lexicon.VADER_THRESHOLD},
    }


def entity_sentiment_baseline(split: DatasetSplit, progress: bool = True) -> dict[str, dict[str, Any]]:
    """Every entity of a headline gets the headline's VADER label."""
    gold, predicted = [], []
    for example in _bar(split.dev, f"{split.name} VADER entities", progress):
        if not example.entity_sentiments:
            continue
        label = lexicon.vader_label(example.text)
        for target in example.entity_sentiments:
            gold.append(target.sentiment)
            predicted.append(label)
    return {"vader_sentence": classification_metrics(gold, predicted, SENTIMENT_LABELS)}


def topic_baseline(split: DatasetSplit) -> dict[str, dict[str, Any]]:
    from model.reports.baselines.topic import fit_topic_baseline

    pipeline, chosen_c, validation = fit_topic_baseline(split.train)
    dev = [e for e in split.dev if e.topic is not None]
    predicted = [int(p) for p in pipeline.predict([e.text for e in dev])]
    gold = [e.topic for e in dev if e.topic is not None]
    return {"tfidf_logreg": {**classification_metrics(gold, predicted, TOPIC_LABELS),
                             "C": chosen_c, "validation_accuracy_by_C": {str(c): s for c, s in validation.items()}}}


def ner_baseline(split: DatasetSplit, tokenizer, progress: bool = True) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    """spaCy entities as BIO over the joint model's scored words, scored by seqeval."""
    from model.network.collate import encode_example
    from model.reports.baselines.spacy_ner import gold_word_tags, spacy_spans, word_tags

    dev = [e for e in split.dev if e.entities is not None]
    encoded = [encode_example(tokenizer, e) for e in dev]
    gold, predicted = [], []
    spans = spacy_spans(e.text for e in dev)
    for item, item_spans in zip(_bar(encoded, f"{split.name} spaCy", progress), spans):
        gold.append(gold_word_tags(item))
        predicted.append(word_tags(item, item_spans))
    return {"spacy_en_core_web_sm": ner_metrics(gold, predicted)}


def run_baselines(corpus: dict[str, DatasetSplit], tokenizer=None,  # noqa: ANN001
                  progress: bool = True) -> dict[str, Any]:
    """Every baseline whose dataset is in `corpus`; the full report (see module docstring)."""
    started = time.perf_counter()
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    for name in _bar([n for n in DATASETS if n in corpus], "baselines", progress):
        split = corpus[name]
        if name in SENTIMENT_DATASETS:
            metrics[name] = {"sentiment": sentiment_baselines(split, progress)}
        elif name in ENTITY_SENTIMENT_DATASETS:
            metrics[name] = {"entity-sentiment": entity_sentiment_baseline(split, progress)}
        elif name in TOPIC_DATASETS:
            metrics[name] = {"topic": topic_baseline(split)}
        else:
            if tokenizer is None:
                from model.network.modeling import default_encoder_path, load_tokenizer

                tokenizer = load_tokenizer(default_encoder_path())
            metrics[name] = {"ner": ner_baseline(split, tokenizer, progress)}
    return {
        "bench": "baselines",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": "dev (official dev file where one exists, else the hash-carved dev split; never test sets)",
        "metrics": metrics,
        "missing_datasets": [n for n in DATASETS if n not in corpus],
        "data_sha256": {name: corpus[name].file_sha256 for name in metrics},
        "duration_s": round(time.perf_counter() - started, 1),
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The report without per-class tables: what the JSON line prints."""
    def headline(values: dict[str, Any]) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()
                if k not in ("per_class", "validation_accuracy_by_C", "band_chosen_on")}

    return {**{k: v for k, v in report.items() if k not in ("metrics", "data_sha256", "split")},
            "metrics": {dataset: {task: {name: headline(values) for name, values in baselines.items()}
                                  for task, baselines in tasks.items()}
                        for dataset, tasks in report["metrics"].items()}}


def write_report(report: dict[str, Any], path: Path = REPORT_PATH) -> Path:
    return write_json_report(report, path)
