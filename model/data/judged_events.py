"""Headlines whose financial events were judged by reading (JUDGED_EVENTS in the events folder).

One row per (headline, event); `load_judged_events` groups them into one
`JudgedEventHeadline` per headline and checks every row, naming the line that
is wrong. The split is by company: the rule it was made by is
`split_of_group`, and `expected_split` applies it to a headline, so a test can
check the file against it. Dev data: fit on `tune`, report on `eval`.
The fixture's README says how the rows were sampled and judged.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from model.data.errors import DatasetMissingError
from model.events.taxonomy import EVENT_TYPES

JUDGED_EVENTS = "judged_event_headlines.csv"  # its name inside the events folder (settings.events_dir)
COLUMNS = ("headline", "corpus", "timestamp", "event_type", "polarity", "subject", "source", "split")
SPLITS = ("tune", "eval")
NO_EVENT = "none"


class JudgedEventsFileError(ValueError):
    """A row of the judged events file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class JudgedEvent:
    type: str  # a key of model.events.taxonomy.EVENT_TYPES
    polarity: int  # -1, 0, 1 for the subject
    subject: str  # the company as written in the headline; "" when it does not name it
    source: str  # the broker of an analyst action; "" otherwise


@dataclass(frozen=True)
class JudgedEventHeadline:
    headline: str
    corpus: str  # stream70k | reuters2007
    timestamp: str
    split: str  # tune | eval
    events: tuple[JudgedEvent, ...]  # () for a headline with no event of the taxonomy


def split_of_group(group: str) -> str:
    """tune when the first hex digit of SHA-256 of the group's name is 0-7, else eval."""
    return "tune" if hashlib.sha256(group.encode("utf-8")).hexdigest()[0] in "01234567" else "eval"


def expected_split(headline: JudgedEventHeadline) -> str:
    """The split of a headline by the file's rule: its first event's subject lower-cased (the empty group when
    it names none), or for a headline without events `none:` + its first word lower-cased."""
    if headline.events:
        return split_of_group(headline.events[0].subject.lower())
    return split_of_group("none:" + headline.headline.split()[0].lower())


def _parse_row(raw: dict[str, str], where: str) -> tuple[str, str, str, str, JudgedEvent | None]:
    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    headline, event_type = values["headline"], values["event_type"]
    if not headline:
        raise JudgedEventsFileError(f"{where}: headline is empty")
    if values["split"] not in SPLITS:
        raise JudgedEventsFileError(f"{where}: split: expected tune or eval, got {values['split']!r}")
    if event_type == NO_EVENT:
        if values["polarity"] or values["subject"] or values["source"]:
            raise JudgedEventsFileError(f"{where}: a `none` row has no polarity, subject or source")
        return headline, values["corpus"], values["timestamp"], values["split"], None
    if event_type not in EVENT_TYPES:
        raise JudgedEventsFileError(f"{where}: event_type: expected `none` or one of {', '.join(EVENT_TYPES)}, "
                                    f"got {event_type!r}")
    if values["polarity"] not in ("-1", "0", "1"):
        raise JudgedEventsFileError(f"{where}: polarity: expected -1, 0 or 1, got {values['polarity']!r}")
    for column in ("subject", "source"):
        if values[column] and values[column] not in headline:
            raise JudgedEventsFileError(f"{where}: {column} {values[column]!r} is not written in the headline")
    event = JudgedEvent(event_type, int(values["polarity"]), values["subject"], values["source"])
    return headline, values["corpus"], values["timestamp"], values["split"], event


def load_judged_events(path: Path) -> list[JudgedEventHeadline]:
    """The judged headlines in file order, their rows grouped; JudgedEventsFileError names a bad line."""
    path = Path(path)
    if not path.is_file():
        raise DatasetMissingError(f"judged events file {path} does not exist")
    grouped: dict[str, dict] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise JudgedEventsFileError(f"{path}: missing columns {', '.join(missing)}")
        for line, raw in enumerate(reader, start=2):
            headline, corpus, timestamp, split, event = _parse_row(raw, f"{path}:{line}")
            entry = grouped.setdefault(headline, {"corpus": corpus, "timestamp": timestamp, "split": split,
                                                  "events": [], "line": line})
            if entry["split"] != split:
                raise JudgedEventsFileError(f"{path}:{line}: split {split!r} differs from the same headline's "
                                            f"split {entry['split']!r} on line {entry['line']}")
            if event is not None:
                entry["events"].append(event)
    return [JudgedEventHeadline(headline, entry["corpus"], entry["timestamp"], entry["split"], tuple(entry["events"]))
            for headline, entry in grouped.items()]


__all__ = ["JUDGED_EVENTS", "JudgedEvent", "JudgedEventHeadline", "JudgedEventsFileError", "load_judged_events",
           "split_of_group", "expected_split", "SPLITS", "NO_EVENT"]
