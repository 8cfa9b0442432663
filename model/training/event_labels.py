"""Labels for the events head: the rules on the training texts, plus the judged `tune` headlines.

No public dataset labels financial events, so the events head learns from
labels that the rules make (model/events: the exact estimate parser and the
labelling patterns) on the headline-like training texts (financial tweets,
SEntFiN headlines, PhraseBank sentences), every text labelled: a text the
rules find nothing in teaches the head "no event". The `tune` half of the
judged event headlines (model/data/judged_events.py) joins as gold examples
with a higher weight; the `eval` half is never trained on (`finsent bench
event-types` reports on it).

Labels live on the same Example as the text's other labels, so the event head
costs no extra encoder pass in training.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from model.data.examples import Example
from model.data.judged_events import JudgedEvent, load_judged_events
from model.events.extract import extract_events
from model.events.taxonomy import FinancialEvent

# the datasets whose texts read like news headlines; CoNLL / FiNER-ORD sentences are general news and filings
EVENT_LABEL_DATASETS: tuple[str, ...] = ("twitter_sentiment", "twitter_topic", "sentfin", "phrasebank",
                                         "event_headlines")
JUDGED_SOURCE = "judged_events"


def event_label(events: list[FinancialEvent] | tuple[JudgedEvent, ...]) -> dict[str, int]:
    """type -> polarity, one per type: the head has one slot per type, so of several events of a type
    (a takeover's acquirer 0 and target +1) the one with a polarity wins."""
    label: dict[str, int] = {}
    for event in events:
        if event.type not in label or (label[event.type] == 0 and event.polarity != 0):
            label[event.type] = event.polarity
    return label


def rule_labelled(examples: list[Example]) -> list[Example]:
    """The examples with `events` set from the rules (each text once: texts repeat across datasets)."""
    cache: dict[str, dict[str, int]] = {}
    labelled = []
    for example in examples:
        if example.text not in cache:
            cache[example.text] = event_label(extract_events(example.text))
        labelled.append(replace(example, events=cache[example.text]))
    return labelled


def judged_examples(path: Path, weight: float) -> list[Example]:
    """The `tune` judged headlines as gold event examples (sentiment and the rest unlabelled)."""
    return [Example(text=row.headline, source=JUDGED_SOURCE, events=event_label(row.events), weight=weight)
            for row in load_judged_events(path) if row.split == "tune"]


def with_event_labels(sets: dict[str, list[Example]], judged_path: Path | None = None,
                      judged_weight: float = 3.0) -> dict[str, list[Example]]:
    """Training (or dev) sets with rule event labels on the headline-like datasets, and the judged tune
    headlines as one more dataset when `judged_path` is given."""
    labelled = {name: rule_labelled(examples) if name in EVENT_LABEL_DATASETS else examples
                for name, examples in sets.items()}
    if judged_path is not None:
        labelled[JUDGED_SOURCE] = judged_examples(judged_path, judged_weight)
    return labelled


__all__ = ["with_event_labels", "rule_labelled", "judged_examples", "event_label", "EVENT_LABEL_DATASETS",
           "JUDGED_SOURCE"]
