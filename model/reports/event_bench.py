"""Does the model see adverse company events? Negative recall/precision on judged event headlines.

    finsent bench events [--model live] [--json]                  # measure a registry version
    finsent bench events --fit-threshold [--save-version]         # fit the entity negative threshold on `tune`

Issue #13: headlines like "'Dreams have been crushed': wedding in ruins as
Thomas Cook collapses" came out neutral, so entity and ticker alerts stayed
quiet on real collapses. The events folder's `event_headlines.csv` (model.data.events) holds
~330 corpus headlines, each judged for the company it names (negative = bad
news for that company), split `tune` / `eval` by event. This module scores
them with the Predictor (the serving path: same decision rule, same entity
spans) and reports, per split:

- `sentence`: the headline-level sentiment head (what the global, source and
  topic scopes count);
- `entity`: the entity-sentiment head on the predicted span of the named
  company (what the entity and linked-ticker scopes count), on the headlines
  where the tagger found the company (`coverage` says how many);
- `company`: what a company's scope sees for each headline: the entity label
  when the company was found, else the sentence label.

The entity decision rule can be calibrated: a negative threshold `t` on
p(negative) (negative iff p_neg >= t, else the larger of neutral/positive),
fitted on `tune` only to maximise negative F1, measured on `eval`, and stored
in a new registry version's metadata (`decision.entity_negative_threshold`),
which the Predictor applies to entity sentiments (model.serving.predictor). The event
headlines are mostly bad news, so a threshold fitted on them alone over-calls
negative on ordinary news: a threshold is only allowed if SEntFiN dev entity
accuracy (as served) drops by at most `--max-sentfin-drop`, and argmax wins
when no allowed threshold beats it on tune (then nothing is saved).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.data.events import (
    SPLITS,
    CompanyEvent,
    EventsFileError,
    JudgedHeadline,
    aliases_of,
    load_event_headlines,
    load_events,
    shown_path,
)
from model.network.labels import SENTIMENT_LABELS
from model.network.results import ArticleResult, EntityResult

THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05 .. 0.95


def expected_splits(rows: Sequence[JudgedHeadline], events: dict[str, CompanyEvent]) -> dict[str, str]:
    """The rule `split` was made by: group -> tune/eval.

    A group is an event id, or `other:<company>` for news outside any event.
    Within each kind (negative events, positive controls, other news) the
    groups are sorted by SHA-256 of their name and alternate tune, eval, ...:
    one event's headlines stay on one side, the sides stay the same size, and
    the assignment depends on neither file order nor anyone's choice.
    """
    groups = sorted({group_of(r) for r in rows})
    sides: dict[str, str] = {}
    for kind in ("negative", "positive", "other"):
        members = [g for g in groups if (events[g].polarity if g in events else "other") == kind]
        members.sort(key=lambda g: hashlib.sha256(g.encode("utf-8")).hexdigest())
        sides.update({g: SPLITS[i % 2] for i, g in enumerate(members)})
    return sides


def group_of(row: JudgedHeadline) -> str:
    return row.event_id or "other:" + row.company.lower()


def company_entity(result: ArticleResult, aliases: Iterable[str]) -> EntityResult | None:
    """The predicted entity that names the company (equal, or one contains the other), if any."""
    names = [a for a in aliases if a]
    for entity in result.entities:
        text = entity.text.lower().strip(" '\u2019s")
        if len(text) < 2:
            continue
        if any(text == a or a in text or (len(text) >= 4 and text in a) for a in names):
            return entity
    return None


def decide(probs: Sequence[float], negative_threshold: float | None) -> str:
    """The serving decision rule (model.serving.predictor.decide_sentiment), for probabilities kept from one pass."""
    from model.serving.predictor import decide_sentiment

    return decide_sentiment(list(probs), negative_threshold)


def negative_metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Negative-class recall, precision and F1, accuracy and the 3x3 confusion matrix (rows gold)."""
    pairs = list(zip(gold, predicted))
    tp = sum(g == p == "negative" for g, p in pairs)
    gold_neg = sum(g == "negative" for g in gold)
    pred_neg = sum(p == "negative" for p in predicted)
    recall = tp / gold_neg if gold_neg else 0.0
    precision = tp / pred_neg if pred_neg else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    matrix = [[sum(g == a and p == b for g, p in pairs) for b in SENTIMENT_LABELS] for a in SENTIMENT_LABELS]
    return {"n": len(pairs), "negative_support": gold_neg, "predicted_negative": pred_neg,
            "negative_recall": round(recall, 4), "negative_precision": round(precision, 4),
            "negative_f1": round(f1, 4),
            "accuracy": round(sum(g == p for g, p in pairs) / len(pairs), 4) if pairs else 0.0,
            "confusion_matrix": {"labels": list(SENTIMENT_LABELS), "rows_gold_cols_predicted": matrix}}


@dataclass(frozen=True)
class Scored:
    row: JudgedHeadline
    sentence_probs: list[float]
    entity_probs: list[float] | None  # None: the tagger did not find the company


def score_headlines(predictor, rows: Sequence[JudgedHeadline],  # noqa: ANN001
                    events: dict[str, CompanyEvent]) -> list[Scored]:
    """One Predictor pass; keeps the probabilities so decision rules can be compared without rescoring."""
    results = predictor.predict([r.headline for r in rows])
    scored = []
    for row, result in zip(rows, results):
        entity = company_entity(result, aliases_of(row, events))
        entity_probs = None
        if entity is not None:
            entity_probs = _entity_probs(entity)
        scored.append(Scored(row, list(result.sentiment_probs), entity_probs))
    return scored


def _entity_probs(entity: EntityResult) -> list[float]:
    probs = getattr(entity, "sentiment_probs", None)
    if probs is None:
        raise RuntimeError("EntityResult has no sentiment_probs: "
                           "model.network.results/model.serving.predictor are out of date")
    return list(probs)


def evaluate(scored: Sequence[Scored], split: str | None, entity_threshold: float | None = None,
             sentence_threshold: float | None = None) -> dict[str, Any]:
    """Metrics of the three views (sentence, entity, company) on one split (None: all rows)."""
    chosen = [s for s in scored if split is None or s.row.split == split]
    gold = [s.row.label for s in chosen]
    sentence = [decide(s.sentence_probs, sentence_threshold) for s in chosen]
    with_entity = [s for s in chosen if s.entity_probs is not None]
    entity = [decide(s.entity_probs, entity_threshold) for s in with_entity]  # type: ignore[arg-type]
    company = [decide(s.entity_probs, entity_threshold) if s.entity_probs is not None
               else decide(s.sentence_probs, sentence_threshold) for s in chosen]
    return {"sentence": negative_metrics(gold, sentence),
            "entity": {**negative_metrics([s.row.label for s in with_entity], entity),
                       "coverage": round(len(with_entity) / len(chosen), 4) if chosen else 0.0},
            "company": negative_metrics(gold, company)}


def fit_negative_threshold(scored: Sequence[Scored], view: str = "entity",
                           grid: Sequence[float] = THRESHOLD_GRID,
                           allowed: Callable[[float], bool] | None = None) -> float | None:
    """The decision rule with the best negative F1 on the `tune` rows: a threshold of `grid`, or None (argmax).

    `allowed(t)` can veto thresholds (the SEntFiN guard: the event headlines are
    mostly bad news, so a threshold fitted on them alone over-calls negative on
    ordinary news). Ties go to argmax, then to the highest (most precise) threshold.
    """
    rows = [s for s in scored if s.row.split == "tune"]
    if view == "entity":
        rows = [s for s in rows if s.entity_probs is not None]
        probs_of = lambda s: s.entity_probs  # noqa: E731
    else:
        probs_of = lambda s: s.sentence_probs  # noqa: E731
    if not rows:
        raise ValueError(f"no tune rows for the {view} view")
    gold = [s.row.label for s in rows]

    def f1(threshold: float | None) -> float:
        return negative_metrics(gold, [decide(probs_of(s), threshold) for s in rows])["negative_f1"]

    candidates = [t for t in grid if allowed is None or allowed(t)]
    best_threshold = max(candidates, key=lambda t: (f1(t), t), default=None)
    if best_threshold is None or f1(best_threshold) <= f1(None):
        return None
    return float(best_threshold)


def sentfin_guard(registry_dir: Path, version: str, data_dir: Path,
                  max_drop: float) -> tuple[Callable[[float], bool], dict[str, Any]]:
    """Allow a threshold only if SEntFiN dev entity-sentiment accuracy drops by at most `max_drop` (as served).

    SEntFiN dev is our own carved dev split (model.data.splits), never an
    official test split. Measured with the torch weights whatever the backend.
    """
    from model.data.splits import load_corpus
    from model.serving.registry import load_model
    from model.training.event_finetune import entity_sentiment_probs, threshold_accuracy

    dev = load_corpus(Path(data_dir), names=["sentfin"])["sentfin"].dev
    model, tokenizer = load_model(Path(registry_dir), version)
    gold, probs = entity_sentiment_probs(model, tokenizer, dev)
    base = threshold_accuracy(gold, probs, None)
    table = {str(t): threshold_accuracy(gold, probs, t) for t in THRESHOLD_GRID}
    report = {"sentfin_dev_entities": len(gold), "argmax_accuracy": base, "max_drop": max_drop,
              "accuracy_by_threshold": table}
    return (lambda t: table[str(t)] >= base - max_drop), report


def bench_events(predictor, events_path: Path, headlines_path: Path,  # noqa: ANN001
                 fit_threshold: bool = False, guard_data_dir: Path | None = None,
                 max_sentfin_drop: float = 0.01, registry_dir: Path | None = None) -> dict[str, Any]:
    """The report of `finsent bench events`: metrics per split, as served, and with a fitted threshold."""
    events = {e.id: e for e in load_events(events_path)}
    rows = load_event_headlines(headlines_path)
    unknown = sorted({r.event_id for r in rows if r.event_id and r.event_id not in events})
    if unknown:
        raise EventsFileError(f"{headlines_path}: event ids not in {events_path.name}: {', '.join(unknown)}")
    served = getattr(predictor, "entity_negative_threshold", None)
    scored = score_headlines(predictor, rows, events)
    report: dict[str, Any] = {
        "model_version": predictor.version,
        "headlines": str(headlines_path),
        "n": len(rows),
        "labels": {label: sum(r.label == label for r in rows) for label in SENTIMENT_LABELS},
        "events": {"negative": sum(e.polarity == "negative" for e in events.values()),
                   "positive": sum(e.polarity == "positive" for e in events.values())},
        "entity_negative_threshold": served,
        "as_served": {split: evaluate(scored, split, entity_threshold=served) for split in SPLITS},
    }
    if served is not None:  # what the same version would do with plain argmax
        report["argmax"] = {split: evaluate(scored, split) for split in SPLITS}
    if fit_threshold:
        allowed, guard = None, None
        if guard_data_dir is not None:
            if registry_dir is None:
                raise ValueError("the SEntFiN guard needs registry_dir to load the version's weights")
            allowed, guard = sentfin_guard(registry_dir, predictor.version, guard_data_dir, max_sentfin_drop)
        threshold = fit_negative_threshold(scored, "entity", allowed=allowed)
        report["fitted"] = {"entity_negative_threshold": threshold, "fitted_on": "tune", "sentfin_guard": guard,
                            **{split: evaluate(scored, split, entity_threshold=threshold) for split in SPLITS}}
    return report


def save_calibrated_version(registry_dir: Path, version: str, threshold: float, report: dict[str, Any],
                            headlines_path: Path) -> str:
    """A new registry version: the same weights, with `decision.entity_negative_threshold` in its metadata.

    Versions are immutable, so calibrating writes a copy (not promoted); the
    metadata records where the threshold came from and its tune/eval figures.
    """
    from model.serving.registry import save_with_decision

    fitted = report["fitted"]
    return save_with_decision(Path(registry_dir), version, {
        "entity_negative_threshold": threshold,
        "fitted_on": f"{shown_path(headlines_path)} split=tune (negative F1 of the entity view)",
        "eval_entity": {k: fitted["eval"]["entity"][k] for k in ("negative_recall", "negative_precision", "n")},
    }, f"{version} with an entity negative threshold of {threshold} (finsent bench events)")


def summary_line(report: dict[str, Any]) -> str:
    """One human line per view: negative recall/precision on eval, as served (and fitted)."""
    parts = []
    for name in ("as_served", "fitted"):
        if name not in report:
            continue
        block = report[name]["eval"]
        views = ", ".join(f"{view} R={block[view]['negative_recall']:.2f} P={block[view]['negative_precision']:.2f}"
                          for view in ("sentence", "entity", "company"))
        label = name if name == "as_served" else f"fitted t={report[name]['entity_negative_threshold']}"
        parts.append(f"{label} (eval): {views}; entity coverage {block['entity']['coverage']:.0%}")
    return f"{report['model_version']}: " + " | ".join(parts)
