"""Labelled company events and the headlines judged against them: dev data the alert backtest, the
event-headline benchmark and training read.

    <events folder>/dev_events.yaml       the events (DEV_EVENTS)
    <events folder>/event_headlines.csv   headlines judged per company, split tune/eval (EVENT_HEADLINES)

The folder comes in as an argument (the app passes `settings.events_dir`; its
README says how the files were made). Each event is an adverse company event (`polarity: negative`) or a burst of
good news kept as a control (`positive`), with the names the company goes by
in headlines, its ticker when it has one, the first headline of the burst and
the window in which an alert about it counts. One schema and one loader, so
`finsent alerts backtest` and `finsent bench events` cannot disagree on what
the file says. Training reads the `tune` headlines as Examples from here too
(`tune_event_examples`; the recipe that adds them to the training sets is
model/training/event_headlines.py), so training never imports the reports.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kernel.paths import PROJECT_ROOT
from model.data.examples import EntitySentiment, Example
from model.network.labels import SENTIMENT_LABELS

# The file names inside an events folder.
DEV_EVENTS = "dev_events.yaml"
EVENT_HEADLINES = "event_headlines.csv"
EVENTS_SOURCE = "event_headlines"  # the Example.source (and training-set name) of the tune headlines
HEADLINE_COLUMNS = ("headline", "company", "label", "event_id", "timestamp", "source", "split")
SPLITS = ("tune", "eval")


class EventsFileError(ValueError):
    """An events (or judged-headlines) file that does not follow its schema; the message names file and field."""


class EventWindow(BaseModel):
    """[from, to): where an alert on the event's company counts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: datetime = Field(alias="from")
    to: datetime


class CompanyEvent(BaseModel):
    """One labelled event: an adverse company event (negative) or a burst of good news (positive control)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    company: str
    aliases: list[str] = Field(min_length=1)  # lower-case names as headlines spell them
    ticker: str | None = None
    polarity: Literal["negative", "positive"]
    first_headline_at: datetime
    window: EventWindow
    note: str = ""

    @field_validator("aliases")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [alias.strip().lower() for alias in value if alias.strip()]

    def covers(self, moment: datetime) -> bool:
        return self.window.from_ <= moment < self.window.to


def load_events(path: Path) -> list[CompanyEvent]:
    """The `events:` list of a YAML events file, validated; ids must be unique."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise EventsFileError(f"{path}: cannot read events file: {error}") from None
    items = data.get("events") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EventsFileError(f"{path}: expected a top-level `events:` list")
    events = []
    for i, item in enumerate(items):
        try:
            events.append(CompanyEvent.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise EventsFileError(f"{path}: events[{i}].{field}: {first['msg']}") from None
    ids = [event.id for event in events]
    if len(set(ids)) != len(ids):
        raise EventsFileError(f"{path}: duplicate event ids")
    return events


@dataclass(frozen=True)
class JudgedHeadline:
    headline: str
    company: str
    label: str  # negative | neutral | positive, for `company`
    event_id: str  # "" for company news outside any event
    timestamp: str
    source: str
    split: str  # tune | eval


def load_event_headlines(path: Path) -> list[JudgedHeadline]:
    """The judged headlines; EventsFileError names the line and column that is wrong."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in HEADLINE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise EventsFileError(f"{path}: missing columns {', '.join(missing)}")
        rows = []
        for line, raw in enumerate(reader, start=2):
            row = JudgedHeadline(**{c: (raw[c] or "").strip() for c in HEADLINE_COLUMNS})
            if row.label not in SENTIMENT_LABELS:
                raise EventsFileError(f"{path}:{line}: label: expected one of {SENTIMENT_LABELS}, got {row.label!r}")
            if row.split not in SPLITS:
                raise EventsFileError(f"{path}:{line}: split: expected tune or eval, got {row.split!r}")
            if not row.headline or not row.company:
                raise EventsFileError(f"{path}:{line}: headline and company are required")
            rows.append(row)
    return rows


def aliases_of(row: JudgedHeadline, events: dict[str, CompanyEvent]) -> set[str]:
    """Lower-case names of the row's company: the event's aliases when the row is about that event's company."""
    names = {row.company.lower()}
    event = events.get(row.event_id)
    if event is not None and event.company == row.company:
        names.update(a.lower() for a in event.aliases)
    return names


def shown_path(path: Path) -> str:
    """A data file as metadata names it: relative to the checkout when inside it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


# --- the tune headlines as training examples ---------------------------------------------------

def company_span(headline: str, aliases: set[str]) -> tuple[int, int] | None:
    """Character span of the first alias in the headline (whole words, case-insensitive); longest alias wins ties."""
    best: tuple[int, int] | None = None
    for alias in sorted(aliases, key=len, reverse=True):
        match = re.search(r"(?<!\w)" + re.escape(alias) + r"(?!\w)", headline, flags=re.IGNORECASE)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.end())
    return best


def event_examples(rows: list[JudgedHeadline], events: dict[str, CompanyEvent], weight: float) -> list[Example]:
    """The tune rows as Examples: sentence label = the company label, plus the company span when found.

    The sentence label is the company's: nearly every headline here is about
    the one company it is judged for.
    """
    examples = []
    for row in rows:
        if row.split != "tune":
            continue
        label = SENTIMENT_LABELS.index(row.label)
        span = company_span(row.headline, aliases_of(row, events))
        targets = [EntitySentiment(span[0], span[1], label)] if span else None
        examples.append(Example(row.headline, EVENTS_SOURCE, sentiment=label, entity_sentiments=targets,
                                weight=weight, meta={"event_id": row.event_id, "company": row.company}))
    return examples


def tune_event_examples(events_dir: Path, weight: float) -> list[Example]:
    """The tune headlines of an events folder (DEV_EVENTS, EVENT_HEADLINES) as Examples of `weight`."""
    events = {e.id: e for e in load_events(Path(events_dir) / DEV_EVENTS)}
    return event_examples(load_event_headlines(Path(events_dir) / EVENT_HEADLINES), events, weight)
