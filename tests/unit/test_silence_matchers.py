"""Issue #27, item 2: silences like Alertmanager's.

Matchers `=`, `!=`, `=~`, `!~` with Alertmanager's syntax (Go-quoted values,
anchored RE2-compatible regexes), label names validated, several matchers on
one label, a match-everything set refused unless forced, a preview of what a
silence mutes now, and the author checked against the column's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.alerts import cli
from monitor.alerts.silences import store
from monitor.alerts.silences.matchers import (
    Matcher,
    MatcherError,
    load_matchers,
    matches_empty,
    parse_matcher,
    re2_problem,
)
from monitor.alerts.silences.matching import SilenceView, silencing
from monitor.storage.models import Silence

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("ticker=BA", Matcher("ticker", "BA")),
    ("ticker!=BA", Matcher("ticker", "BA", is_equal=False)),
    ('alertname=~".*"', Matcher("alertname", ".*", is_regex=True)),
    ("ticker!~B.*", Matcher("ticker", "B.*", is_regex=True, is_equal=False)),
    (' ticker = "B\\"A\\\\" ', Matcher("ticker", 'B"A\\')),
    ('team="risk\\u00e9"', Matcher("team", "risk\u00e9")),
    ('ticker=""', Matcher("ticker", "")),
    ("host=~foo\\.com", Matcher("host", "foo\\.com", is_regex=True)),
    ("summary=a=b", Matcher("summary", "a=b")),
])
def test_alertmanager_matcher_syntax(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("ticker", "expected name=value, name!=value, name=~regex or name!~regex"),
    ("=BA", "the label name is missing"),
    ("tick-er=BA", "label name 'tick-er' is invalid"),
    ("1ticker=BA", "label name '1ticker' is invalid"),
    ('alertname=~".*', "must start and end with a double quote"),
    ('alertname="a"b"', "must be escaped"),
    ('host=~"foo\\.com"', "unknown escape"),
    ("ticker=~(a)\\1", "backreference"),
    ("ticker=~(?=B)B", "lookahead"),
    ("ticker=~(?!B).*", "negative lookahead"),
    ("ticker=~.*(?<=A)", "lookbehind"),
    ("ticker=~.*(?<!A)", "negative lookbehind"),
    ("ticker=~(?>B)", "atomic group"),
    ("ticker=~B*+", "possessive"),
    ("ticker=~(?P<t>B)(?P=t)", "backreference"),
    ("ticker=~(B)?(?(1)A|C)", "conditional"),
    ("ticker=~(?x)B", "RE2 knows only i, m and s"),
    ("ticker=~B{1001}", "exceeds RE2's maximum"),
    ("ticker=~B[", "unterminated character set"),
])
def test_bad_matchers_are_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MatcherError, match=message.replace("(", r"\(").replace("{", r"\{")):
        parse_matcher(text)


def test_re2_check_accepts_ordinary_regexes() -> None:
    for pattern in ("B.*", "(?i)ba|boeing", "[^]a]+", "a{2,5}?", "(?P<t>x)", r"\d+\.\d*", "a*?b??", "[\\1]"):
        assert re2_problem(pattern) is None, pattern


def test_regexes_are_fully_anchored_and_a_missing_label_is_empty() -> None:
    ba = parse_matcher("ticker=~B")
    assert ba.matches({"ticker": "B"}) and not ba.matches({"ticker": "BA"}) and not ba.matches({"ticker": "AB"})
    assert not parse_matcher("ticker=~B.*").matches({"ticker": "B\n"})  # `$` never matches before a newline
    assert parse_matcher("ticker!=BA").matches({}) and parse_matcher('ticker=""').matches({"sector": "x"})
    assert not parse_matcher("ticker=~\\d").matches({"ticker": "\u0661"})  # RE2's \d is ASCII


def test_several_matchers_on_one_label_all_apply() -> None:
    silence = SilenceView(1, tuple(map(parse_matcher, ["ticker=~B.*", "ticker!=BA"])), T0, T0 + timedelta(hours=1))
    assert silencing({"ticker": "BAC"}, [silence], T0) is silence
    assert silencing({"ticker": "BA"}, [silence], T0) is None


def test_old_rows_of_equalities_are_read_as_equality_matchers() -> None:
    assert load_matchers({"ticker": "BA"}) == [Matcher("ticker", "BA")]
    stored = [{"name": "ticker", "value": "B.*", "isRegex": True, "isEqual": False}]
    assert load_matchers(stored) == [Matcher("ticker", "B.*", True, False)]


def test_match_everything_detection() -> None:
    assert matches_empty([parse_matcher('alertname=~".*"')])
    assert matches_empty([parse_matcher("ticker!=BA"), parse_matcher('x=""')])
    assert not matches_empty([parse_matcher('alertname=~".*"'), parse_matcher("ticker=BA")])
    assert not matches_empty([parse_matcher('alertname=~".+"')])


# --- the CLI ------------------------------------------------------------------------------------


def alert_row(id_: int, status: str, **labels: str) -> SimpleNamespace:
    return SimpleNamespace(id=id_, status=status, rule_name=labels.get("alertname", "rule"), labels=labels,
                           starts_at=T0, severity="warning")


class Session:
    def __init__(self, alerts: list[SimpleNamespace]) -> None:
        self.added: list[Any] = []
        self.alerts = alerts

    def add(self, row: Any) -> None:
        self.added.append(row)

    def flush(self) -> None:
        for number, row in enumerate(self.added, start=1):
            row.id = number

    def scalars(self, _query: Any) -> list[SimpleNamespace]:
        return self.alerts


class Factory:
    def __init__(self, alerts: list[SimpleNamespace]) -> None:
        self.session = Session(alerts)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        yield self.session


ALERTS = [alert_row(1, "firing", alertname="spike", ticker="BA"), alert_row(2, "pending", alertname="spike",
                                                                           ticker="AAPL")]


def run(monkeypatch: pytest.MonkeyPatch, *args: str, alerts: list[SimpleNamespace] = ALERTS) -> tuple[Any, Factory]:
    factory = Factory(alerts)
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: factory)
    result = CliRunner().invoke(cli.alerts, ["silence", "--for", "2h", "--comment", "c", "--author", "ana", *args])
    return result, factory


def test_a_regex_silence_is_stored_as_alertmanager_matchers(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", 'ticker=~"B.*"', "--match", "alertname!=drift")
    assert result.exit_code == 0, result.output
    [row] = factory.session.added
    assert isinstance(row, Silence)
    assert row.matchers == [{"name": "ticker", "value": "B.*", "isRegex": True, "isEqual": True},
                            {"name": "alertname", "value": "drift", "isRegex": False, "isEqual": False}]


def test_the_negation_operator_is_not_part_of_the_label_name(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", "alertname!=x", "--match", "ticker=BA")
    assert result.exit_code == 0, result.output
    assert [m["name"] for m in factory.session.added[0].matchers] == ["alertname", "ticker"]


def test_several_matchers_on_one_label_are_all_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", "ticker=~B.*", "--match", "ticker!=BA")
    assert result.exit_code == 0, result.output
    assert [(m["name"], m["value"]) for m in factory.session.added[0].matchers] == [("ticker", "B.*"),
                                                                                    ("ticker", "BA")]


def test_a_bad_matcher_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", "tick-er=BA")
    assert result.exit_code == 2 and "label name 'tick-er' is invalid" in result.output
    result, factory = run(monkeypatch, "--match", "ticker=~(?=B)")
    assert result.exit_code == 2 and "lookahead" in result.output
    assert factory.session.added == []


def test_a_silence_matching_everything_is_refused_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", 'alertname=~".*"')
    assert result.exit_code == 2, result.output
    assert "would silence every alert" in result.output and "--force" in result.output
    assert factory.session.added == []
    forced, factory = run(monkeypatch, "--match", 'alertname=~".*"', "--force")
    assert forced.exit_code == 0, forced.output
    assert len(factory.session.added) == 1


def test_a_set_that_matches_no_label_but_not_every_stored_alert_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", "ticker!=BA")
    assert result.exit_code == 0, result.output
    assert "#2" in result.output and "#1 " not in result.output


def test_the_preview_lists_what_would_be_muted_and_dry_run_stores_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    result, factory = run(monkeypatch, "--match", "ticker=BA", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would silence 1 alert now:" in result.output
    assert "#1 firing spike {alertname=spike, ticker=BA}" in result.output
    assert "dry run: nothing stored" in result.output
    assert factory.session.added == []
    none, _ = run(monkeypatch, "--match", "ticker=MSFT", "--dry-run")
    assert "would silence no alert now" in none.output


def test_an_author_longer_than_the_column_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_session_factory", lambda database_url: pytest.fail("must not connect"))
    result = CliRunner().invoke(cli.alerts, ["silence", "--match", "ticker=BA", "--for", "2h", "--comment", "c",
                                             "--author", "a" * 300])
    assert result.exit_code == 2
    assert "author: at most 128 characters, got 300" in result.output


def test_store_check_refuses_an_empty_matcher_set() -> None:
    with pytest.raises(store.SilenceError, match="matchers: choose at least one"):
        store.check_silence([], timedelta(hours=1), "ana")


# --- the dashboard --------------------------------------------------------------------------------


def test_the_dashboards_silenced_column_uses_the_same_matchers(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from dashboards import queries

    silences = pd.DataFrame({"id": [1, 2], "matchers": [
        [{"name": "ticker", "value": "B.*", "isRegex": True, "isEqual": True},
         {"name": "ticker", "value": "BA", "isRegex": False, "isEqual": False}],
        {"sector": "Energy"}]})  # an old row: equality map
    monkeypatch.setattr(queries, "_frame", lambda *_args: silences)
    alerts = pd.DataFrame({"labels": [{"ticker": "BAC"}, {"ticker": "BA"}, {"sector": "Energy"}, {}]})
    assert list(queries._with_silenced("url", alerts)["silenced"]) == [True, False, True, False]
    assert list(queries._with_silenced("url", alerts.iloc[:0])["silenced"]) == []


def test_the_dashboards_matchers_go_through_the_clis_parser() -> None:
    from dashboards.actions import ActionError, silence_matchers

    assert silence_matchers({"alertname": "spike"}, "ticker!=BA\n\n  sector=~\"Ener.*\" ") == [
        Matcher("alertname", "spike"), Matcher("ticker", "BA", is_equal=False),
        Matcher("sector", "Ener.*", is_regex=True)]
    with pytest.raises(ActionError, match="lookahead"):
        silence_matchers({}, "ticker=~(?=B)")
