"""The local webhook receiver (`finsent alerts receiver`): real HTTP on loopback, signed as the dispatcher signs."""

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

import httpx
import pytest
from click.testing import CliRunner

from monitor.alerts.cli import alerts
from monitor.alerts.delivery.alertmanager import label_fingerprint
from monitor.alerts.delivery.notifications import AlertView, Notification
from monitor.alerts.delivery.payload import encode_body, signed_headers, webhook_payload
from monitor.alerts.delivery.receiver import AlertReceiver, ReceiverConfig, SeenKeys

SECRET = "s3cret"
T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def body(*statuses: str) -> bytes:
    alerts = [AlertView(id=i, fingerprint=f"fp{i}", rule_name="ticker-spike", status=status,
                        labels={"alertname": "ticker-spike", "severity": "critical", "ticker": f"T{i}"},
                        annotations={"summary": f"Spike on T{i}: \"recall\""}, evidence={"value": 0.7},
                        starts_at=T0, ends_at=T0 + timedelta(minutes=5) if status == "resolved" else None)
              for i, status in enumerate(statuses)]
    return encode_body(webhook_payload(Notification("team", "k", {"alertname": "ticker-spike"}, alerts, "key"),
                                       "http://127.0.0.1:8501"))


class Lines:
    def __init__(self) -> None:
        self.alerts: list[str] = []
        self.warnings: list[str] = []


@pytest.fixture()
def served() -> Iterator[tuple[AlertReceiver, Lines]]:
    lines = Lines()
    receiver = AlertReceiver(ReceiverConfig(port=0, secret=SECRET), lines.alerts.append, lines.warnings.append,
                             clock=lambda: T0).start()
    yield receiver, lines
    receiver.close()


def post(receiver: AlertReceiver, data: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(receiver.url, content=data, headers=headers, timeout=5)


def test_a_signed_notification_is_logged_one_line_per_alert(served: tuple[AlertReceiver, Lines]) -> None:
    receiver, lines = served
    data = body("firing", "resolved")
    response = post(receiver, data, signed_headers(SECRET, data, "key-1"))
    assert response.status_code == 200, response.text
    firing, resolved = lines.alerts
    labels = {"alertname": "ticker-spike", "severity": "critical", "ticker": "T0"}
    assert firing == ('2026-11-30T14:00:00Z firing ticker-spike '
                      '{alertname="ticker-spike", severity="critical", ticker="T0"} '
                      f'fingerprint={label_fingerprint(labels)} summary="Spike on T0: \\"recall\\""')
    assert resolved.split()[1:3] == ["resolved", "ticker-spike"] and 'ticker="T1"' in resolved
    assert lines.warnings == []


def test_bad_missing_or_replayed_signatures_get_401_and_are_not_logged(
        served: tuple[AlertReceiver, Lines]) -> None:
    receiver, lines = served
    data = body("firing")
    good = signed_headers(SECRET, data, "key-1")
    attempts = {
        "unsigned": signed_headers(None, data, "key-1"),
        "wrong secret": signed_headers("other", data, "key-1"),
        "body changed": good,
        "key swapped": good | {"Idempotency-Key": "key-2"},
        "stale": signed_headers(SECRET, data, "key-1", now=time.time() - 3600),
    }
    for name, headers in attempts.items():
        sent = data.replace(b"T0", b"T9") if name == "body changed" else data
        assert post(receiver, sent, headers).status_code == 401, name
    assert lines.alerts == []
    assert len(lines.warnings) == len(attempts) and all(w.startswith("rejected (401)") for w in lines.warnings)
    assert post(receiver, data, good).status_code == 200  # the genuine one still gets through once


def test_a_repeated_idempotency_key_is_answered_but_logged_once(served: tuple[AlertReceiver, Lines]) -> None:
    receiver, lines = served
    data = body("firing")
    first = post(receiver, data, signed_headers(SECRET, data, "key-1"))
    retry = post(receiver, data, signed_headers(SECRET, data, "key-1"))  # the dispatcher's retry: new timestamp
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json()["message"] == "duplicate"
    assert len(lines.alerts) == 1 and receiver.received == 1
    post(receiver, data, signed_headers(SECRET, data, "key-2"))  # the next notification of the group
    assert len(lines.alerts) == 2


def test_without_a_secret_unsigned_requests_are_taken_and_bad_bodies_get_400() -> None:
    lines = Lines()
    receiver = AlertReceiver(ReceiverConfig(port=0), lines.alerts.append, lines.warnings.append).start()
    try:
        data = body("firing")
        assert post(receiver, data, signed_headers(None, data, "k")).status_code == 200
        assert post(receiver, b"not json", {"Idempotency-Key": "k2"}).status_code == 400
        assert post(receiver, b'{"text": "slack"}', {"Idempotency-Key": "k3"}).status_code == 400
        assert httpx.post(receiver.url.replace("/alerts", "/other"), content=data).status_code == 404
        assert httpx.get(receiver.url).status_code == 200  # readiness probe
        assert len(lines.alerts) == 1
    finally:
        receiver.close()


def test_seen_keys_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenKeys(capacity=2)
    # "a" seen again stays; "b" is the least recently seen when "c" arrives, so it is forgotten.
    assert [seen.first_time(k) for k in ("a", "b", "a", "c", "a", "b")] == [True, True, False, True, False, True]


# --- the command line ------------------------------------------------------------------


def test_cli_refuses_to_start_without_the_named_secret() -> None:
    result = CliRunner().invoke(alerts, ["receiver", "--port", "0", "--secret-env", "FINSENT_TEST_NO_SUCH_SECRET"],
                                env={"FINSENT_TEST_NO_SUCH_SECRET": ""})
    assert result.exit_code == 2
    assert "--secret-env FINSENT_TEST_NO_SUCH_SECRET: that environment variable is not set" in result.output


def test_cli_receives_verifies_and_logs_until_terminated(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "alerts.log"
    env = os.environ | {"FINSENT_TEST_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "finsent.cli", "alerts", "receiver", "--port", "0", "--log", str(log),
         "--secret-env", "FINSENT_TEST_WEBHOOK_SECRET"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()  # "receiving alerts on http://127.0.0.1:PORT/alerts (...)"
        assert "signatures required" in banner, banner
        url = banner.split(" on ", 1)[1].split()[0]
        data = body("firing")
        assert httpx.post(url, content=data, headers=signed_headers(SECRET, data, "k1"), timeout=5).status_code == 200
        assert httpx.post(url, content=data, headers=signed_headers("wrong", data, "k2"), timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    [line] = log.read_text().splitlines()
    assert " firing ticker-spike " in line and 'ticker="T0"' in line
    assert stdout.splitlines() == [line]
    assert "rejected (401): signature does not match" in stderr
    keys = [json.loads(line)["key"] for line in (log.parent / "alerts.log.keys").read_text().splitlines()]
    assert keys == ["k1"]  # taken keys outlive the process (issue #27); the rejected k2 is not among them
