"""A real Alertmanager as the alerter's sink: alerts arrive grouped, a dashboard silence mutes, resolves arrive.

Starts the Debian package's binary (`prometheus-alertmanager`, installed by
scripts/bootstrap.sh) on free loopback ports, without clustering, with one
webhook receiver (tests/webhook_receiver.py). It needs neither PostgreSQL nor
Kafka: alerts go through `AlertmanagerSink.push`, the call `runner.run_once`
makes after each committed evaluation, and silences through the functions the
dashboard's Alerts page calls (dashboards/actions.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dashboards import actions
from monitor.alerts.delivery.alertmanager import label_fingerprint
from monitor.alerts.delivery.alertmanager_api import AlertmanagerSink, get_alerts
from monitor.alerts.delivery.notifications import AlertView
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.integration

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
EXTERNAL = "http://127.0.0.1:8501"
MARGIN = timedelta(seconds=3)  # short, so the test shows that re-sending keeps live alerts firing
CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture()
def alertmanager(tmp_path: Path, receiver: Receiver, record_property: Callable[[str, object], None]) -> Iterator[str]:
    if BINARY is None:
        pytest.skip("prometheus-alertmanager is not installed (Debian package prometheus-alertmanager; "
                    "scripts/bootstrap.sh installs it)")
    version = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=False)
    version_line = (version.stdout or version.stderr).splitlines()[0]
    print(f"\nAlertmanager under test: {version_line}")
    record_property("alertmanager_version", version_line)
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(url=receiver.url))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen([BINARY, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                                "--log.level=info"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Alertmanager did not get ready:\n{(tmp_path / 'alertmanager.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def alert(ticker: str) -> AlertView:
    return AlertView(id=1, fingerprint=f"id-{ticker}", rule_name="ticker-spike", status="firing",
                     labels={"alertname": "ticker-spike", "scope": "ticker", "severity": "warning",
                             "ticker": ticker},
                     annotations={"summary": f"negative spike on {ticker}"}, evidence={"value": 0.7, "zscore": 9.1},
                     starts_at=datetime.now(UTC) - timedelta(minutes=5))


def resolved(view: AlertView) -> AlertView:
    return replace(view, status="resolved", ends_at=datetime.now(UTC))


def messages(receiver: Receiver) -> list[dict]:
    return [r.json for r in list(receiver.requests)]


def test_alerts_arrive_grouped_are_silenced_from_the_dashboard_and_resolve(alertmanager: str,
                                                                           receiver: Receiver) -> None:
    sink = AlertmanagerSink(alertmanager, EXTERNAL, MARGIN)
    firing = [alert("BA"), alert("AAPL")]

    def evaluate_until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Push the firing alerts every 0.5 s, as the alerter does at each evaluation, until done."""
        deadline = time.monotonic() + timeout_s
        while not done():
            report = sink.push(firing, [])
            assert report.error is None, report.error
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {timeout_s}s; webhook got {messages(receiver)}")
            time.sleep(0.5)

    # 1. both alerts arrive in one notification of their group
    evaluate_until(lambda: any(len(m["alerts"]) == 2 for m in messages(receiver)), 15, "grouped notification")
    first = next(m for m in messages(receiver) if len(m["alerts"]) == 2)
    assert first["status"] == "firing" and first["groupLabels"] == {"alertname": "ticker-spike"}
    assert sorted(a["labels"]["ticker"] for a in first["alerts"]) == ["AAPL", "BA"]
    for sent in first["alerts"]:
        assert sent["fingerprint"] == label_fingerprint(sent["labels"])  # finsent's fingerprint is Alertmanager's
        assert sent["generatorURL"] == f"{EXTERNAL}/alerts?fingerprint=id-{sent['labels']['ticker']}"
        assert sent["annotations"]["summary"] == f"negative spike on {sent['labels']['ticker']}"
        assert sent["endsAt"] == "0001-01-01T00:00:00Z"  # Alertmanager reports a live alert as not ended

    # 2. a silence made through the dashboard's code path mutes a later alert that matches it
    matchers = actions.silence_matchers({"ticker": "MSFT"})
    silence_id = actions.create_alertmanager_silence(alertmanager, matchers, timedelta(hours=1), "integration test",
                                                     "MSFT noise")
    listed = {s["id"]: s for s in actions.alertmanager_silences(alertmanager)}
    assert listed[silence_id]["status"]["state"] == "active"
    assert listed[silence_id]["createdBy"] == "integration test"
    assert listed[silence_id]["matchers"] == [{"name": "ticker", "value": "MSFT", "isRegex": False, "isEqual": True}]
    before = len(receiver.requests)
    firing.append(alert("MSFT"))

    def msft_state() -> str:
        found = [a for a in get_alerts(alertmanager) if a["labels"].get("ticker") == "MSFT"]
        return found[0]["status"]["state"] if found else "absent"

    evaluate_until(lambda: msft_state() == "suppressed", 10, "MSFT suppressed")
    msft = next(a for a in get_alerts(alertmanager) if a["labels"].get("ticker") == "MSFT")
    assert msft["status"]["silencedBy"] == [silence_id]
    assert [a["labels"]["ticker"] for a in actions.preview_alertmanager_silence(alertmanager, matchers)] == ["MSFT"]
    # longer than the margin and a few group intervals: live alerts stay firing (re-sent), MSFT never notified
    end = time.monotonic() + MARGIN.total_seconds() + 2
    evaluate_until(lambda: time.monotonic() > end, 10, "waiting")
    later = messages(receiver)[before:]
    assert not any(a["labels"]["ticker"] == "MSFT" for m in later for a in m["alerts"]), later
    assert all(a["status"] == "firing" for m in messages(receiver) for a in m["alerts"]), messages(receiver)
    assert {a["labels"]["ticker"]: a["status"]["state"] for a in get_alerts(alertmanager)} == {
        "BA": "active", "AAPL": "active", "MSFT": "suppressed"}

    # 3. resolving through the sink: the resolved notification arrives (sent once, kept firing: MSFT)
    gone = [resolved(a) for a in firing if a.labels["ticker"] in ("BA", "AAPL")]
    firing[:] = [a for a in firing if a.labels["ticker"] == "MSFT"]
    report = sink.push(firing, gone)
    assert report.error is None and report.resolved == 2
    assert sink.pending_resolved == {}

    def resolved_message() -> dict | None:
        return next((m for m in messages(receiver) if m["status"] == "resolved"), None)

    evaluate_until(lambda: resolved_message() is not None, 15, "resolved notification")
    message = resolved_message()
    assert message is not None
    assert sorted((a["labels"]["ticker"], a["status"]) for a in message["alerts"]) == [
        ("AAPL", "resolved"), ("BA", "resolved")]
    assert all(a["endsAt"] != "0001-01-01T00:00:00Z" for a in message["alerts"])
