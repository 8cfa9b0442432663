"""How well finsent finds financial events: per-type precision / recall on judged headlines (issue #25).

    finsent bench event-types [--model live|VERSION|rules] [--split eval] [--json]

Scores an extractor (a function from a headline to its FinancialEvents: the
rules alone, or the served Predictor with the events head) against
the judged event headlines (model.data.judged_events; the command reads them
from the events folder, settings.events_dir) on one split, `eval` by default, and reports:

- per type: precision, recall and F1 of finding the type in a headline, and
  `macro_f1` over the types that occur;
- `polarity_accuracy`: of the (headline, type) pairs both call present, how
  often the polarity for the subject agrees;
- `subject_accuracy`: of the found events whose gold event names a subject,
  how often the predicted subject is that company (equal, or one name
  contains the other: "Agilent" for "Agilent Technologies");
- `broker_as_subject`: analyst-action events whose predicted subject is the
  broker (should be 0).

`estimate_agreement` (below) is the figures-vs-estimate check on stored
outputs: of the headlines whose figures all point one way by more than the
in-line band, how many carry that sentiment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from model.data.judged_events import JudgedEvent, JudgedEventHeadline
from model.events.taxonomy import EVENT_TYPES, FinancialEvent

ANALYST_TYPES = ("rating_upgrade", "rating_downgrade", "rating_initiate", "rating_maintain", "price_target_raise",
                 "price_target_cut")
POLARITY_OF_LABEL = {"negative": -1, "neutral": 0, "positive": 1}

Extractor = Callable[[list[str]], list[list[FinancialEvent]]]


def same_company(predicted: str | None, gold: str) -> bool:
    """Equal names, or one contains the other as written ("Agilent" / "Agilent Technologies"), any case."""
    if not predicted or not gold:
        return False
    a, b = _plain_name(predicted), _plain_name(gold)
    return bool(a) and bool(b) and (a == b or a in b or b in a)


def _plain_name(name: str) -> str:
    return name.lower().strip(" .,'\u2019").removesuffix("'s").removesuffix("\u2019s").strip()


def _type_counts(gold: set[str], predicted: set[str], counts: dict[str, dict[str, int]]) -> None:
    for name in gold | predicted:
        row = counts.setdefault(name, {"tp": 0, "fp": 0, "fn": 0})
        row["tp" if name in gold and name in predicted else "fp" if name in predicted else "fn"] += 1


def _per_type(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    report = {}
    for name in EVENT_TYPES:
        row = counts.get(name, {"tp": 0, "fp": 0, "fn": 0})
        precision = row["tp"] / (row["tp"] + row["fp"]) if row["tp"] + row["fp"] else 0.0
        recall = row["tp"] / (row["tp"] + row["fn"]) if row["tp"] + row["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[name] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                        "support": row["tp"] + row["fn"], "predicted": row["tp"] + row["fp"]}
    return report


def score_events(headlines: Sequence[JudgedEventHeadline],
                 predicted: Sequence[Sequence[FinancialEvent]]) -> dict[str, Any]:
    """Per-type and overall scores of predicted events against the judged ones (aligned by position)."""
    counts: dict[str, dict[str, int]] = {}
    polarity_pairs = subject_hits = subject_total = broker_errors = analyst_events = 0
    polarity_agree = 0
    mistakes: list[dict[str, Any]] = []
    for judged, events in zip(headlines, predicted, strict=True):
        gold_types = {event.type for event in judged.events}
        predicted_types = {event.type for event in events}
        _type_counts(gold_types, predicted_types, counts)
        if gold_types != predicted_types:
            mistakes.append({"headline": judged.headline, "gold": sorted(gold_types),
                             "predicted": sorted(predicted_types)})
        for gold in judged.events:
            matches = [event for event in events if event.type == gold.type]
            if not matches:
                continue
            best = _best_match(gold, matches)
            polarity_pairs += 1
            polarity_agree += best.polarity == gold.polarity
            if gold.subject:
                subject_total += 1
                subject_hits += same_company(best.subject, gold.subject)
            if gold.type in ANALYST_TYPES and gold.source:
                analyst_events += 1
                broker_errors += same_company(best.subject, gold.source)
    per_type = _per_type(counts)
    occurring = [row["f1"] for row in per_type.values() if row["support"]]
    return {
        "n_headlines": len(headlines),
        "macro_f1": round(sum(occurring) / len(occurring), 4) if occurring else 0.0,
        "polarity_accuracy": round(polarity_agree / polarity_pairs, 4) if polarity_pairs else 0.0,
        "subject_accuracy": round(subject_hits / subject_total, 4) if subject_total else 0.0,
        "subjects_checked": subject_total,
        "broker_as_subject": broker_errors,
        "analyst_events_checked": analyst_events,
        "per_type": per_type,
        "mistakes": mistakes[:60],
    }


def _best_match(gold: JudgedEvent, candidates: list[FinancialEvent]) -> FinancialEvent:
    """The predicted event of the gold type about the gold subject if there is one, else the first."""
    for event in candidates:
        if same_company(event.subject, gold.subject):
            return event
    return candidates[0]


def bench_event_types(headlines: Sequence[JudgedEventHeadline], extract: Extractor, split: str = "eval",
                      batch_size: int = 64) -> dict[str, Any]:
    """Score `extract` on one split of the judged headlines."""
    chosen = [row for row in headlines if row.split == split]
    predicted: list[list[FinancialEvent]] = []
    for start in range(0, len(chosen), batch_size):
        predicted.extend(extract([row.headline for row in chosen[start:start + batch_size]]))
    return {"split": split, **score_events(chosen, predicted)}


# Head thresholds tried by fit_head_threshold; above 1 the head adds no event (the rules alone)
HEAD_THRESHOLDS: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98, 0.99, 1.01)


def fit_head_threshold(headlines: Sequence[JudgedEventHeadline], predictor: Any,
                       extract: Extractor, candidates: Sequence[float] = HEAD_THRESHOLDS) -> dict[str, Any]:
    """The events head's threshold with the best macro F1 on the `tune` headlines (ties: the higher one).

    Why: a head trained longer is surer of more wrong events (the full profile's head at 0.8 added 149 false
    events to the rules' 224 on tune, macro F1 0.77 against the rules' 0.86), so each version gets the threshold
    its own head earns, from tune only; `extract` runs `predictor` with its `event_head_threshold` as set here."""
    table = {}
    for threshold in candidates:
        predictor.event_head_threshold = threshold
        table[threshold] = bench_event_types(headlines, extract, "tune")["macro_f1"]
    best = max(table, key=lambda t: (table[t], t))
    predictor.event_head_threshold = best
    return {"event_head_threshold": best, "fitted_on": "judged event headlines, split=tune (macro F1)",
            "tune_macro_f1": {str(t): f1 for t, f1 in table.items()}}


def estimate_agreement(rows: Iterable[tuple[str, str]], in_line_pct: float = 2.0) -> dict[str, Any]:
    """Stored sentiment against the figures: (headline, stored sentiment label) pairs in, agreement out.

    A headline counts when the estimate parser finds figures that all point one way by more than
    `in_line_pct` (the issue's reference); it agrees when the stored label has that sign.
    """
    from model.events.estimates import parse_estimate_events

    counted = agreed = 0
    by_direction: dict[str, dict[str, int]] = {"below": {}, "above": {}}
    disagreements: list[dict[str, str]] = []
    for headline, label in rows:
        events = parse_estimate_events(headline, in_line_pct)
        figures = [figure for event in events for figure in event.figures]
        if not figures:
            continue
        signs = {1 if figure.surprise_pct > in_line_pct else -1 if figure.surprise_pct < -in_line_pct else 0
                 for figure in figures}
        if len(signs) != 1 or 0 in signs:
            continue
        sign = signs.pop()
        counted += 1
        direction = "above" if sign > 0 else "below"
        by_direction[direction][label] = by_direction[direction].get(label, 0) + 1
        if POLARITY_OF_LABEL.get(label) == sign:
            agreed += 1
        elif len(disagreements) < 40:
            disagreements.append({"headline": headline, "stored": label, "figures": direction})
    return {"estimate_headlines": counted, "agreement": round(agreed / counted, 4) if counted else None,
            "stored_labels": by_direction, "disagreements": disagreements}


def summary_line(report: dict[str, Any]) -> str:
    return (f"events on {report['split']} ({report['n_headlines']} headlines, {report['extractor']}): "
            f"macro F1 {report['macro_f1']:.3f}, polarity {report['polarity_accuracy']:.3f}, "
            f"subject {report['subject_accuracy']:.3f}, broker-as-subject {report['broker_as_subject']}")


__all__ = ["bench_event_types", "score_events", "estimate_agreement", "same_company", "summary_line",
           "ANALYST_TYPES"]
