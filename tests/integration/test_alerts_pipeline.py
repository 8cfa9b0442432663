"""Alerts end to end on the real PostgreSQL, with a webhook receiver on loopback.

Aggregates are seeded through `store_scored_batch` (the worker's own write
path): a quiet baseline for four tickers, then a burst of negative Boeing
headlines. The receiver must get exactly one firing notification with its
evidence, then exactly one resolved notification; failing receivers (500,
429 + Retry-After, timeouts) get the notification later, and a dispatcher
killed with SIGKILL mid-request loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from kernel.settings import PROJECT_ROOT
from model.network.labels import TOPIC_LABELS
from model.network.results import ArticleResult
from monitor.alerts.delivery.dispatcher import Backoff, Dispatcher
from monitor.alerts.delivery.notifications import AlertView, Notification
from monitor.alerts.delivery.payload import alert_evidence, verify_signature, webhook_payload
from monitor.alerts.research.replay import replay
from monitor.alerts.rules.config import RulesFile
from monitor.alerts.rules.parse import parse_rules
from monitor.alerts.runner import run_once
from monitor.alerts.silences.matchers import Matcher
from monitor.alerts.silences.matching import SilenceView
from monitor.alerts.silences.store import create_silence, load_silences
from monitor.contract import NewsItem
from monitor.storage.models import Alert, Silence, WebhookDelivery
from monitor.storage.writes import store_scored_batch
from tests.alert_scenario import FIXTURE, SECRET, SECRET_ENV, baseline_news, burst_news, rules_text
from tests.databases import scratch_database
from tests.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.integration

SECTORS = {"AAPL": "Information Technology", "MSFT": "Information Technology", "JPM": "Financials",
           "BA": "Industrials"}
BURST_END = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)  # far from any other test's data


# --- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alerts_database_url(database_server_url: str) -> Iterator[str]:
    """A database of this module's own, so alerts from other tests cannot reach our receiver."""
    with scratch_database(database_server_url, "finsent_alerts") as url:
        yield url


@pytest.fixture()
def factory(alerts_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(alerts_database_url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE articles, sentiment_aggregates, alert_rule_states, alerts, alert_groups, "
                                "silences, webhook_deliveries RESTART IDENTITY CASCADE"))
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def rules_for(receiver: Receiver, timeout: str = "2s", max_age: str = "1h") -> RulesFile:
    return parse_rules(rules_text(receiver.url, timeout, max_age), source="test-rules.yaml")


def dispatcher(factory: sessionmaker[Session], rules: RulesFile, **kwargs: object) -> Dispatcher:
    return Dispatcher(factory, rules, environ={SECRET_ENV: SECRET}, **kwargs)  # type: ignore[arg-type]


# --- seeding through the worker's write path ----------------------------------------

def scored(item: NewsItem, label: str, score: float | None = None) -> tuple[NewsItem, ArticleResult]:
    score = score if score is not None else {"negative": -0.85, "neutral": 0.0, "positive": 0.7}[label]
    probs = {"negative": [0.9, 0.08, 0.02], "neutral": [0.1, 0.8, 0.1], "positive": [0.03, 0.12, 0.85]}[label]
    topic = TOPIC_LABELS.index("Company / Product News")
    topic_probs = [0.9 if i == topic else 0.1 / (len(TOPIC_LABELS) - 1) for i in range(len(TOPIC_LABELS))]
    return item, ArticleResult(topic=topic, topic_probs=topic_probs, sentiment_label=label, sentiment_score=score,
                               sentiment_probs=probs, entities=[], model_version="test-model")


def seed(factory: sessionmaker[Session]) -> None:
    baseline = baseline_news(BURST_END - timedelta(hours=2, minutes=10), BURST_END + timedelta(minutes=30))
    items = [scored(item, label, -0.45 if label == "negative" else None)  # mildly negative market chatter
             for item, label in baseline]
    items += [scored(item, "negative") for item in burst_news(BURST_END)]
    with factory.begin() as session:
        store_scored_batch(session, items, sector_of=SECTORS.get)


def evaluate_at(factory: sessionmaker[Session], rules: RulesFile, now: datetime) -> dict:
    return run_once(factory, rules, now, sector_of=SECTORS.get).as_dict()


def drain(d: Dispatcher, until: float = 20.0) -> None:
    """Dispatch until no pending row is left (or `until` seconds pass)."""
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        d.dispatch_once()
        with d.session_factory.begin() as session:
            pending = session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "pending")).all()
        if not pending:
            return
        time.sleep(0.05)


# --- tests ---------------------------------------------------------------------------

def test_a_burst_fires_once_with_evidence_then_resolves_once(factory: sessionmaker[Session],
                                                             receiver: Receiver) -> None:
    seed(factory)
    rules = rules_for(receiver)
    send = dispatcher(factory, rules)

    first = evaluate_at(factory, rules, BURST_END - timedelta(seconds=30))
    assert first["events"] == {"pending": 1} and first["notifications"] == 0
    second = evaluate_at(factory, rules, BURST_END + timedelta(seconds=30))
    assert second["events"] == {"firing": 1} and second["notifications"] == 1
    third = evaluate_at(factory, rules, BURST_END + timedelta(seconds=45))
    assert third["events"] == {} and third["notifications"] == 0  # deduplicated
    drain(send)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert verify_signature(SECRET, request.headers, request.body, tolerance_s=600)
    payload = request.json
    assert (payload["version"], payload["status"], payload["receiver"]) == ("4", "firing", "hook")
    assert payload["groupLabels"] == {"alertname": "ticker-negative-spike", "ticker": "BA"}
    [alert] = payload["alerts"]
    assert alert["labels"]["sector"] == "Industrials"
    evidence = alert_evidence(alert)  # the `evidence` annotation, a JSON string
    assert evidence["baseline"] == pytest.approx(0.2)
    assert evidence["value"] > 0.6 and evidence["zscore"] > 3
    assert evidence["stories"] >= 12
    top = [a["headline"] for a in evidence["top_articles"]]
    assert len(top) == 5 and set(top) <= set(FIXTURE["burst"])
    assert alert["annotations"]["summary"].startswith("Negative news spike on BA: ")
    assert alert["startsAt"] == (BURST_END - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")

    # The burst is over: normal traffic again ten minutes later.
    resolved = evaluate_at(factory, rules, BURST_END + timedelta(minutes=10))
    assert resolved["events"] == {"resolved": 1} and resolved["notifications"] == 1
    assert evaluate_at(factory, rules, BURST_END + timedelta(minutes=12))["notifications"] == 0
    drain(send)
    assert [r.json["status"] for r in receiver.requests] == ["firing", "resolved"]
    [resolved_alert] = receiver.requests[1].json["alerts"]
    assert resolved_alert["fingerprint"] == alert["fingerprint"]
    assert resolved_alert["endsAt"] == (BURST_END + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    with factory.begin() as session:
        rows = session.scalars(select(Alert)).all()
    assert [(a.status, a.labels["ticker"]) for a in rows] == [("resolved", "BA")]


def test_a_silenced_ticker_is_not_notified(factory: sessionmaker[Session], receiver: Receiver) -> None:
    seed(factory)
    rules = rules_for(receiver)
    with factory.begin() as session:
        create_silence(session, {"ticker": "BA"}, timedelta(hours=2), "test", "known incident, already handled",
                       starts_at=BURST_END - timedelta(hours=1))
    evaluate_at(factory, rules, BURST_END - timedelta(seconds=30))
    report = run_once(factory, rules, BURST_END + timedelta(seconds=30), sector_of=SECTORS.get)
    assert report.events == {"firing": 1}
    assert report.notifications == 0 and list(report.muted.values()) == ["silenced by silence 1"]


def test_the_alertmanager_sink_gets_every_firing_alert_each_step_and_the_resolve_once(
        factory: sessionmaker[Session], receiver: Receiver) -> None:
    """FINSENT_ALERTMANAGER_URL: after each committed step, run_once posts to /api/v2/alerts (a stand-in here;
    tests/integration/test_alertmanager_sink.py uses a real Alertmanager), beside the embedded notifier."""
    import httpx

    from monitor.alerts.delivery.alertmanager_api import AlertmanagerSink

    seed(factory)
    rules = rules_for(receiver)
    posts: list[list[dict]] = []

    def alertmanager(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/alerts"
        posts.append(json.loads(request.content))
        return httpx.Response(200)

    sink = AlertmanagerSink("http://alertmanager.test", rules.global_.external_url, timedelta(minutes=4),
                            client=httpx.Client(transport=httpx.MockTransport(alertmanager)))

    def step(at: datetime) -> dict:
        return run_once(factory, rules, at, sector_of=SECTORS.get, sink=sink).as_dict()

    step(BURST_END - timedelta(seconds=30))  # pending: nothing to post
    fired = step(BURST_END + timedelta(seconds=30))
    assert fired["notifications"] == 1 and fired["alertmanager"] == {"firing": 1, "resolved": 0, "error": None}
    step(BURST_END + timedelta(seconds=45))
    resolved = step(BURST_END + timedelta(minutes=10))
    assert resolved["alertmanager"] == {"firing": 0, "resolved": 1, "error": None}
    step(BURST_END + timedelta(minutes=12))
    assert [[(a["labels"]["ticker"], a["endsAt"]) for a in post] for post in posts] == [
        [("BA", (BURST_END + timedelta(minutes=4, seconds=30)).isoformat().replace("+00:00", "Z"))],
        [("BA", (BURST_END + timedelta(minutes=4, seconds=45)).isoformat().replace("+00:00", "Z"))],
        [("BA", (BURST_END + timedelta(minutes=10)).isoformat().replace("+00:00", "Z"))]]
    assert posts[0][0]["startsAt"] == (BURST_END - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    assert posts[0][0]["generatorURL"].startswith("http://finsent.test/alerts?fingerprint=")


def test_a_regex_silence_mutes_and_an_old_equality_row_still_does(factory: sessionmaker[Session],
                                                                  receiver: Receiver) -> None:
    seed(factory)
    rules = rules_for(receiver)
    with factory.begin() as session:
        create_silence(session, ['ticker=~"B.*"', "ticker!=BAC"], timedelta(hours=2), "test", "regex",
                       starts_at=BURST_END - timedelta(hours=1))
        stored = session.scalars(select(Silence)).one()
        assert stored.matchers[0] == {"name": "ticker", "value": "B.*", "isRegex": True, "isEqual": True}
    evaluate_at(factory, rules, BURST_END - timedelta(seconds=30))
    report = run_once(factory, rules, BURST_END + timedelta(seconds=30), sector_of=SECTORS.get)
    assert report.notifications == 0 and list(report.muted.values()) == ["silenced by silence 1"]
    with factory.begin() as session:  # a row written before matchers were a list: {label: value} equality
        session.execute(update(Silence).values(matchers={"ticker": "BA"}))
    assert [s.matchers for s in load_silences_now(factory, BURST_END)] == [(Matcher("ticker", "BA"),)]


def load_silences_now(factory: sessionmaker[Session], now: datetime) -> list[SilenceView]:
    with factory.begin() as session:
        return load_silences(session, now)


def test_replay_lists_what_would_have_fired_without_sending(factory: sessionmaker[Session],
                                                            receiver: Receiver) -> None:
    seed(factory)
    rules = rules_for(receiver)
    with factory.begin() as session:
        events = replay(session, rules, BURST_END - timedelta(minutes=30), BURST_END + timedelta(minutes=20),
                        timedelta(minutes=1), SECTORS.get)
        assert session.scalars(select(Alert)).all() == []
    assert [(e.event, e.scope_key) for e in events] == [("firing", "BA"), ("resolved", "BA")]
    assert events[0].at <= BURST_END + timedelta(minutes=1)
    assert receiver.requests == []


def queue_delivery(factory: sessionmaker[Session], rules: RulesFile, key: str) -> int:
    """An outbox row as the engine writes it (the payload of one firing alert)."""
    alert = AlertView(id=0, fingerprint="fp-test", rule_name="ticker-negative-spike", status="firing",
                      labels={"alertname": "ticker-negative-spike", "ticker": "BA"}, annotations={},
                      evidence={}, starts_at=BURST_END)
    payload = webhook_payload(Notification("hook", "{}/0:{}", {}, [alert], key), rules.global_.external_url)
    with factory.begin() as session:
        row = WebhookDelivery(receiver="hook", payload=payload, idempotency_key=key)
        session.add(row)
        session.flush()
        return row.id


def delivery(factory: sessionmaker[Session], row_id: int) -> WebhookDelivery:
    with factory.begin() as session:
        return session.get(WebhookDelivery, row_id)


def test_failing_receivers_get_the_notification_later(factory: sessionmaker[Session]) -> None:
    server = Receiver([Reply(500), Reply(429, {"Retry-After": "1"}), Reply(200, delay_s=3), Reply(503), Reply(200)])
    try:
        rules = rules_for(server, timeout="1s")
        row_id = queue_delivery(factory, rules, "key-retry")
        drain(dispatcher(factory, rules, backoff=Backoff(base_s=0.05, cap_s=0.2)))
        row = delivery(factory, row_id)
        assert (row.status, row.attempts, row.last_error) == ("delivered", 5, None)
        assert len(server.requests) == 5
        assert {r.headers["Idempotency-Key"] for r in server.requests} == {"key-retry"}
        gaps = [b.at - a.at for a, b in zip(server.requests, server.requests[1:], strict=False)]
        assert gaps[1] >= 0.95  # Retry-After: 1 after the 429 was honoured
        assert gaps[2] >= 0.95  # the third attempt waited out its 1 s timeout
    finally:
        server.close()


def test_dead_after_max_age_and_rejected_bodies_are_dead_at_once(factory: sessionmaker[Session]) -> None:
    server = Receiver([Reply(400), *[Reply(500)] * 50])
    try:
        rules = rules_for(server, max_age="2s")
        rejected = queue_delivery(factory, rules, "key-400")
        send = dispatcher(factory, rules, backoff=Backoff(base_s=0.2, cap_s=0.5))
        send.dispatch_once()
        assert delivery(factory, rejected).status == "dead"
        assert "HTTP 400" in delivery(factory, rejected).last_error
        aging = queue_delivery(factory, rules, "key-500")
        drain(send, until=10)
        row = delivery(factory, aging)
        assert row.status == "dead" and row.attempts >= 2
        assert "max_age 0:00:02" in row.last_error
        listing = subprocess.run([sys.executable, "-m", "finsent.cli", "alerts", "deliveries", "--status", "dead"],
                                 capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
                                 env={**os.environ, "FINSENT_DATABASE_URL": str(factory.kw["bind"].url
                                                                                .render_as_string(False))})
        assert listing.returncode == 0, listing.stderr
        assert sorted(line.split()[1] for line in listing.stdout.splitlines()) == ["dead", "dead"]
    finally:
        server.close()


def test_a_dispatcher_killed_mid_request_loses_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    server = Receiver([Reply(200, delay_s=60)])  # the first request hangs until the dispatcher dies
    try:
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text(rules_text(server.url, timeout="30s"))
        rules = parse_rules(rules_file.read_text())
        row_id = queue_delivery(factory, rules, "key-kill")
        url = factory.kw["bind"].url.render_as_string(False)
        child = subprocess.Popen([sys.executable, "-m", "finsent.cli", "alerts", "dispatch", "--rules",
                                  str(rules_file), "--poll", "1s"], cwd=PROJECT_ROOT,
                                 env={**os.environ, "FINSENT_DATABASE_URL": url, SECRET_ENV: SECRET},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not server.requests and time.monotonic() < deadline:
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
                time.sleep(0.1)
            assert server.requests, "the dispatcher never sent the delivery"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        assert delivery(factory, row_id).status == "pending"
        drain(dispatcher(factory, rules), until=20)
        row = delivery(factory, row_id)
        assert row.status == "delivered"
        assert [r.headers["Idempotency-Key"] for r in server.requests] == ["key-kill", "key-kill"]
        assert len(server.unique_by_idempotency_key()) == 1
    finally:
        server.close()


def finsent(factory: sessionmaker[Session], *args: str) -> subprocess.CompletedProcess[str]:
    url = factory.kw["bind"].url.render_as_string(False)
    return subprocess.run([sys.executable, "-m", "finsent.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT, env={**os.environ, "FINSENT_DATABASE_URL": url, SECRET_ENV: SECRET})


def test_the_cli_lists_alerts_silences_and_replays(factory: sessionmaker[Session], receiver: Receiver,
                                                   tmp_path: Path) -> None:
    seed(factory)
    rules = rules_for(receiver)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(rules_text(receiver.url))
    evaluate_at(factory, rules, BURST_END - timedelta(seconds=30))
    evaluate_at(factory, rules, BURST_END + timedelta(seconds=30))

    listed = finsent(factory, "alerts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [alert] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (alert["status"], alert["labels"]["ticker"]) == ("firing", "BA")
    assert alert["evidence"]["top_articles"][0]["headline"] in FIXTURE["burst"]

    everything = finsent(factory, "alerts", "silence", "--match", 'alertname=~".*"', "--for", "2h", "--comment",
                         "x", "--author", "ana")
    assert everything.returncode == 2 and "would silence every alert" in everything.stderr, everything.stderr
    silenced = finsent(factory, "alerts", "silence", "--match", "ticker=BA", "--for", "2h", "--comment",
                       "FAA news already escalated", "--author", "ana")
    assert silenced.returncode == 0, silenced.stderr
    preview, *_, created = silenced.stdout.splitlines()
    assert preview == "{ticker=BA} would silence 1 alert now:" and created.startswith("silence 1 until ")
    assert "{ticker=BA}" in finsent(factory, "alerts", "silences").stdout
    assert finsent(factory, "alerts", "unsilence", "1").stdout.strip() == "silence 1 expired"
    assert finsent(factory, "alerts", "silences").stdout.strip() == "no silences"

    replayed = finsent(factory, "alerts", "replay", "--rules", str(rules_file), "--from", "2031-03-03T09:30Z",
                       "--to", "2031-03-03T10:20Z", "--json")
    assert replayed.returncode == 0, replayed.stderr
    events = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert [(e["event"], e["key"]) for e in events] == [("firing", "BA"), ("resolved", "BA")]
    assert replayed.stderr.strip().endswith("1 alerts would have fired")

    bad = finsent(factory, "alerts", "check", "--rules", str(tmp_path / "absent.yaml"))
    assert bad.returncode == 2 and "cannot read rules file" in bad.stderr
    looping_in_the_past = finsent(factory, "alerter", "--rules", str(rules_file), "--at", "2031-03-03T10:00Z")
    assert looping_in_the_past.returncode == 2 and "--at only makes sense with --once" in looping_in_the_past.stderr
