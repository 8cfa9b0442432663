"""`finsent alerts silence`: the same validated create_silence as the dashboard (bounded, signed).

A refused silence exits 2 with the field named and never opens a database
connection; an accepted one is written through monitor.alerts.silences.store.create_silence.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.alerts import cli
from monitor.alerts.silences.store import MAX_SILENCE
from monitor.storage.models import Silence
from tests.unit.test_dashboard_actions import RecordingSession


class NumberingSession(RecordingSession):
    """A RecordingSession that numbers the rows on flush, as the database would."""

    def flush(self) -> None:
        for number, row in enumerate(self.added, start=1):
            row.id = number

    def scalars(self, _query: Any) -> list[Any]:  # the preview's stored alerts: none
        return []


class RecordingFactory:
    def __init__(self) -> None:
        self.session = NumberingSession()

    @contextmanager
    def begin(self) -> Iterator[NumberingSession]:
        yield self.session


def no_database(database_url: str) -> Any:
    raise AssertionError("a refused silence must not connect to the database")


def silence(*args: str) -> Any:
    return CliRunner().invoke(cli.alerts, ["silence", "--match", "ticker=ACME", "--comment", "earnings call", *args])


def test_a_missing_author_is_refused_with_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_session_factory", no_database)
    result = silence("--for", "2h")
    assert result.exit_code == 2
    assert "Missing option '--author'" in result.output


def test_a_blank_author_is_refused_with_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_session_factory", no_database)
    result = silence("--for", "2h", "--author", "   ")
    assert result.exit_code == 2
    assert "author: required" in result.output


def test_a_silence_longer_than_the_cap_is_refused_with_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_session_factory", no_database)
    too_long = f"{MAX_SILENCE.days + 1}d"
    result = silence("--for", too_long, "--author", "ana")
    assert result.exit_code == 2
    assert f"duration: expected between 1 minute and {MAX_SILENCE.days} days" in result.output


def test_an_accepted_silence_is_stored_bounded_and_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = RecordingFactory()
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: factory)
    result = silence("--for", "2h", "--author", " ana ")
    assert result.exit_code == 0, result.output
    [row] = factory.session.added
    assert isinstance(row, Silence)
    assert (row.matchers, row.created_by, row.comment) == (
        [{"name": "ticker", "value": "ACME", "isRegex": False, "isEqual": True}], "ana", "earnings call")
    assert row.ends_at - row.starts_at == timedelta(hours=2)
    assert result.output.splitlines()[0] == "{ticker=ACME} would silence no alert now"
    assert result.output.splitlines()[1].startswith("silence 1 until ")
