"""The one events-file schema (model/data/events.py) that the backtest and the event benchmark share."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.data.events import EventsFileError, load_events

EVENT = ("  - {{id: {id}, company: X, aliases: [' X Corp '], polarity: {polarity},\n"
         "     first_headline_at: 2019-01-01T00:00:00Z, window: {{from: 2019-01-01T00:00:00Z, "
         "to: 2019-01-02T00:00:00Z}}}}\n")


def write(tmp_path: Path, *events: dict[str, str]) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text("events:\n" + "".join(EVENT.format(**event) for event in events))
    return path


def test_events_load_with_lower_case_aliases_and_their_window(tmp_path: Path) -> None:
    (event,) = load_events(write(tmp_path, {"id": "x", "polarity": "negative"}))
    assert event.aliases == ["x corp"] and event.ticker is None and event.note == ""
    assert event.covers(event.first_headline_at) and not event.covers(event.window.to)


def test_a_bad_events_file_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(EventsFileError, match=r"events\[0\]\.polarity"):
        load_events(write(tmp_path, {"id": "x", "polarity": "awful"}))


def test_duplicate_event_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EventsFileError, match="duplicate event ids"):
        load_events(write(tmp_path, {"id": "x", "polarity": "negative"}, {"id": "x", "polarity": "positive"}))


def test_a_file_without_an_events_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text("rules: []\n")
    with pytest.raises(EventsFileError, match="expected a top-level `events:` list"):
        load_events(path)
