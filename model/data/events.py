"""Labelled company events: the dev data both the alert backtest and the event-headline benchmark read.

    tests/fixtures/events/dev_events.yaml   (how it was made: tests/fixtures/events/README.md)

Each event is an adverse company event (`polarity: negative`) or a burst of
good news kept as a control (`positive`), with the names the company goes by
in headlines, its ticker when it has one, the first headline of the burst and
the window in which an alert about it counts. One schema and one loader, so
`finsent alerts backtest` and `finsent bench events` cannot disagree on what
the file says.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


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
