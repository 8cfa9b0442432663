"""The Alertmanager sink's bodies (postableAlert, postableSilence) and its resend / retry behaviour, offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dashboards import actions
from kernel.settings import SettingsError, load_settings
from monitor.alerts.delivery.alertmanager_api import (
    AlertmanagerSink,
    create_silence,
    describe_matchers,
    list_silences,
    postable_alert,
    resend_margin,
    silence_body,
)
from monitor.alerts.delivery.notifications import AlertView
from monitor.alerts.silences.matchers import Matcher, parse_matchers

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
EXTERNAL = "http://127.0.0.1:8501/"
# Alertmanager's v2 postableAlert: these fields and no others.
POSTABLE_FIELDS = {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}


def view(ticker: str, status: str = "firing", ends_at: datetime | None = None) -> AlertView:
    return AlertView(id=1, fingerprint=f"id-{ticker}", rule_name="ticker-spike", status=status,
                     labels={"ticker": ticker, "alertname": "ticker-spike", "severity": "warning"},
                     annotations={"summary": f"spike on {ticker}"}, evidence={"value": 0.7, "zscore": 9.1},
                     starts_at=T0, ends_at=ends_at)


def test_a_firing_alert_is_a_postable_alert_that_ends_a_resend_margin_from_now() -> None:
    body = postable_alert(view("BA"), EXTERNAL, NOW, timedelta(minutes=4))
    assert set(body) == POSTABLE_FIELDS
    assert body["labels"] == {"alertname": "ticker-spike", "severity": "warning", "ticker": "BA"}
    assert list(body["labels"]) == sorted(body["labels"])
    assert body["annotations"]["summary"] == "spike on BA"
    assert json.loads(body["annotations"]["evidence"]) == {"value": 0.7, "zscore": 9.1}
    assert body["startsAt"] == "2026-11-30T14:00:00Z"
    assert body["endsAt"] == "2026-11-30T14:09:00Z"  # now + margin: never the zero time of the webhook body
    assert body["generatorURL"] == "http://127.0.0.1:8501/alerts?fingerprint=id-BA"


def test_a_resolved_alert_ends_when_it_resolved() -> None:
    resolved_at = T0 + timedelta(minutes=3, microseconds=250)
    body = postable_alert(view("BA", "resolved", resolved_at), EXTERNAL, NOW, timedelta(minutes=4))
    assert body["endsAt"] == "2026-11-30T14:03:00.000250Z"
    # without a resolve time it ends now, and never before it started
    assert postable_alert(view("BA", "resolved"), EXTERNAL, NOW, timedelta(minutes=4))["endsAt"] == \
        "2026-11-30T14:05:00Z"
    early = postable_alert(view("BA", "resolved", T0 - timedelta(seconds=1)), EXTERNAL, NOW, timedelta(minutes=4))
    assert early["endsAt"] == early["startsAt"]


def test_resend_margin_is_four_times_the_interval_and_at_least_four_minutes() -> None:
    assert resend_margin(timedelta(seconds=30)) == timedelta(minutes=4)
    assert resend_margin(timedelta(minutes=5)) == timedelta(minutes=20)


class FakeAlertmanager:
    """An httpx transport that records what was posted and fails while `down`."""

    def __init__(self) -> None:
        self.posts: list[list[dict]] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.path == "/api/v2/alerts" and request.method == "POST"
        self.posts.append(json.loads(request.content))
        return httpx.Response(200)


def sink_with(fake: FakeAlertmanager) -> AlertmanagerSink:
    return AlertmanagerSink("http://am:9093/", EXTERNAL, timedelta(minutes=4),
                            client=httpx.Client(transport=httpx.MockTransport(fake)))


def test_firing_alerts_are_resent_every_time_and_resolves_once() -> None:
    fake = FakeAlertmanager()
    sink = sink_with(fake)
    sink.push([view("BA"), view("AAPL")], [], NOW)
    sink.push([view("AAPL")], [view("BA", "resolved", NOW + timedelta(minutes=1))], NOW + timedelta(minutes=1))
    sink.push([view("AAPL")], [], NOW + timedelta(minutes=2))
    assert [[a["labels"]["ticker"] for a in post] for post in fake.posts] == [["BA", "AAPL"], ["AAPL", "BA"],
                                                                             ["AAPL"]]
    assert fake.posts[1][1]["endsAt"] == "2026-11-30T14:06:00Z"
    assert fake.posts[2][0]["endsAt"] == "2026-11-30T14:11:00Z"  # moved on each time


def test_a_failed_post_is_logged_not_raised_and_the_resolve_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeAlertmanager()
    sink = sink_with(fake)
    fake.down = True
    report = sink.push([view("AAPL")], [view("BA", "resolved", NOW)], NOW)
    assert report.error and "ConnectError" in report.error
    assert "sent again at the next evaluation" in caplog.text
    fake.down = False
    report = sink.push([view("AAPL")], [], NOW + timedelta(minutes=1))
    assert report.error is None and report.resolved == 1
    assert [(a["labels"]["ticker"], a["endsAt"]) for a in fake.posts[0]] == [
        ("AAPL", "2026-11-30T14:10:00Z"), ("BA", "2026-11-30T14:05:00Z")]
    sink.push([view("AAPL")], [], NOW + timedelta(minutes=2))
    assert len(fake.posts[1]) == 1  # the resolve went once


def test_a_pending_resolve_is_dropped_when_the_same_labels_fire_again() -> None:
    fake = FakeAlertmanager()
    sink = sink_with(fake)
    fake.down = True
    sink.push([], [view("BA", "resolved", NOW)], NOW)
    fake.down = False
    sink.push([view("BA")], [], NOW + timedelta(minutes=1))
    assert [a["endsAt"] for a in fake.posts[0]] == ["2026-11-30T14:10:00Z"]


def test_an_alertmanager_error_answer_is_reported() -> None:
    sink = AlertmanagerSink("http://am:9093", EXTERNAL, timedelta(minutes=4), client=httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(400, json={"message": "bad labels"}))))
    assert "HTTP 400" in (sink.push([view("BA")], [], NOW).error or "")


def test_the_silence_body_is_alertmanagers_postable_silence() -> None:
    matchers = parse_matchers(['ticker=BA', 'alertname=~"ticker-.*"', "sector!=Energy"])
    body = silence_body(matchers, T0, T0 + timedelta(hours=2), "ana", "earnings noise")
    assert body == {"matchers": [{"name": "ticker", "value": "BA", "isRegex": False, "isEqual": True},
                                 {"name": "alertname", "value": "ticker-.*", "isRegex": True, "isEqual": True},
                                 {"name": "sector", "value": "Energy", "isRegex": False, "isEqual": False}],
                    "startsAt": "2026-11-30T14:00:00Z", "endsAt": "2026-11-30T16:00:00Z",
                    "createdBy": "ana", "comment": "earnings noise"}
    assert silence_body(matchers, T0, T0, "ana", "")["comment"]  # Alertmanager requires a comment
    assert describe_matchers(body["matchers"]) == '{ticker=BA, alertname=~"ticker-.*", sector!=Energy}'


def test_the_dashboard_creates_and_lists_silences_through_the_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200, json={"silenceID": "abc-1"})
        return httpx.Response(200, json=[
            {"id": "old", "status": {"state": "expired"}, "startsAt": "2026-01-01T00:00:00Z", "matchers": []},
            {"id": "abc-1", "status": {"state": "active"}, "startsAt": "2026-11-30T14:00:00Z", "matchers": []}])

    client = httpx.Client(transport=httpx.MockTransport(handler))
    assert create_silence("http://am:9093", [Matcher("ticker", "BA")], T0, T0 + timedelta(hours=1), "ana", "x",
                          client=client) == "abc-1"
    assert seen[0].url == "http://am:9093/api/v2/silences"
    assert [s["id"] for s in list_silences("http://am:9093", client)] == ["abc-1"]
    assert [s["id"] for s in list_silences("http://am:9093", client, include_expired=True)] == ["abc-1", "old"]


@pytest.mark.parametrize(("matchers", "duration", "author", "problem"), [
    (['alertname=~".*"'], timedelta(hours=1), "ana", "Alertmanager refuses that"),
    ([], timedelta(hours=1), "ana", "at least one"),
    (["ticker=BA"], timedelta(days=31), "ana", "duration"),
    (["ticker=BA"], timedelta(hours=1), " ", "author"),
    (["tick er=BA"], timedelta(hours=1), "ana", "matchers"),
])
def test_the_dashboard_refuses_a_bad_alertmanager_silence_before_sending(
        matchers: list[str], duration: timedelta, author: str, problem: str) -> None:
    with pytest.raises(actions.ActionError, match=problem):  # the URL is unreachable: nothing was sent
        actions.create_alertmanager_silence("http://127.0.0.1:1", matchers, duration, author)


def test_an_unreachable_alertmanager_is_an_action_error() -> None:
    with pytest.raises(actions.ActionError, match="Alertmanager: POST http://127.0.0.1:1/api/v2/silences"):
        actions.create_alertmanager_silence("http://127.0.0.1:1", ["ticker=BA"], timedelta(hours=1), "ana")


def test_the_alertmanager_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINSENT_ALERTMANAGER_URL", raising=False)
    assert load_settings().alertmanager_url == ""
    assert load_settings(alertmanager_url="http://127.0.0.1:9093/").alertmanager_url == "http://127.0.0.1:9093"
    monkeypatch.setenv("FINSENT_ALERTMANAGER_URL", "https://am.example/prefix")
    assert load_settings().alertmanager_url == "https://am.example/prefix"
    with pytest.raises(SettingsError, match="FINSENT_ALERTMANAGER_URL"):
        load_settings(alertmanager_url="am:9093")
