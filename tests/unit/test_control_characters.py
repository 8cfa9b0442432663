"""Issue #27, item 3: no control characters from the outside.

Policy (monitor/contract.py): C0/C1 control characters other than tab, newline
and carriage return are stripped from the free text (headline, body) and
rejected in the identifiers (id, source, url, language), where tab, newline and
carriage return are refused too; a rejection becomes a `schema_violation` dead
letter naming the field. Every CLI that prints stored text passes it through
`printable`, which escapes whatever control characters remain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from monitor.alerts import cli
from monitor.alerts.delivery import store as delivery_store
from monitor.alerts.rules import store as rules_store
from monitor.alerts.silences import store as silence_store
from monitor.contract import NewsItem, printable
from monitor.wire import DeadLetter, parse_item

BASE = {"source": "wire", "headline": "Boeing falls", "published_at": "2026-11-30T14:00:00+00:00"}


def test_control_characters_are_stripped_from_headline_and_body() -> None:
    item = NewsItem.model_validate(BASE | {"headline": "Boeing\x1b[2J falls\x07 \x9b31m hard\x7f",
                                           "body": "line one\n\tline two\r\n\x00end\x85"})
    assert item.headline == "Boeing[2J falls 31m hard"
    assert item.body == "line one\n\tline two\r\nend"


def test_stripping_happens_before_the_id_is_derived() -> None:
    plain = NewsItem.model_validate(BASE)
    dirty = NewsItem.model_validate(BASE | {"headline": "Boeing \x1bfalls"})
    assert dirty.headline == "Boeing falls" and dirty.id == plain.id


@pytest.mark.parametrize("field", ["source", "url", "id", "language"])
@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x00", "\x9b", "\x7f", "\t", "\n"])
def test_control_characters_in_identifiers_are_rejected(field: str, char: str) -> None:
    value = {"source": "wi{}re", "url": "https://x.test/{}a", "id": "ab{}cd", "language": "e{}n"}[field]
    with pytest.raises(ValidationError) as raised:
        NewsItem.model_validate(BASE | {field: value.format(char)})
    assert f"control character U+{ord(char):04X}" in str(raised.value)


def test_a_rejected_item_dead_letter_says_which_field_and_why() -> None:
    raw = json.dumps(BASE | {"source": "evil\x1b]0;pwned\x07"}).encode()
    letter = parse_item(raw, "finsent.news[0]@7")
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "schema_violation"
    assert letter.detail.startswith("source: ") and "control character U+001B" in letter.detail
    assert "\x1b" not in letter.detail  # the reason itself is safe to print
    envelope = json.loads(letter.envelope("parse"))
    assert envelope["reason"] == "schema_violation" and "control character U+001B" in envelope["detail"]


def test_printable_escapes_every_control_character() -> None:
    assert printable("a\x1b[31mb\x07\x9b\x00\t\n\r\x7f ok ü") == "a\\x1b[31mb\\x07\\x9b\\x00\\x09\\x0a\\x0d\\x7f ok ü"
    assert printable(None) == "None"


# --- the CLIs that print stored text -------------------------------------------------------------


class Factory:
    @contextmanager
    def begin(self) -> Iterator[None]:
        yield None


def test_alerts_list_escapes_stored_text(monkeypatch: pytest.MonkeyPatch) -> None:
    row = SimpleNamespace(id=7, status="firing", severity="warn\x1b", rule_name="spike\x07",
                          labels={"alertname": "spike", "ticker": "BA\x1b[2J"}, annotations={},
                          evidence={"value": -0.5, "baseline": 0.1, "zscore": -3.0,
                                    "top_articles": [{"headline": "Boeing\x1b]0;owned\x07 falls", "id": "abc\x1bdef"}]},
                          starts_at=datetime(2026, 11, 30, tzinfo=UTC), ends_at=None)
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: Factory())
    monkeypatch.setattr(rules_store, "list_alerts", lambda *args: [row])
    result = CliRunner().invoke(cli.alerts, ["list"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "Boeing\\x1b]0;owned\\x07 falls" in result.output and "ticker=BA\\x1b[2J" in result.output


def test_silences_list_escapes_stored_text(monkeypatch: pytest.MonkeyPatch) -> None:
    row = SimpleNamespace(id=3, matchers={"ticker": "BA\x1b"}, starts_at=datetime(2026, 11, 30, tzinfo=UTC),
                          ends_at=datetime(2026, 12, 1, tzinfo=UTC), created_by="ana\x07", comment="x\x1b[2J")
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: Factory())
    monkeypatch.setattr(silence_store, "list_silences", lambda *args: [row])
    result = CliRunner().invoke(cli.alerts, ["silences"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "by ana\\x07: x\\x1b[2J" in result.output


def test_deliveries_list_escapes_the_receivers_error(monkeypatch: pytest.MonkeyPatch) -> None:
    row = SimpleNamespace(id=1, status="dead", receiver="team", payload={"status": "firing", "alerts": []},
                          attempts=3, next_attempt_at=datetime(2026, 11, 30, tzinfo=UTC),
                          last_error="HTTP 500: \x1b[2Jgone")
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: Factory())
    monkeypatch.setattr(delivery_store, "list_deliveries", lambda *args: [row])
    result = CliRunner().invoke(cli.alerts, ["deliveries"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "HTTP 500: \\x1b[2Jgone" in result.output
