"""Webhook bodies (Alertmanager v4 shape, Slack), signatures, and the dispatcher's retry decisions."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx

from monitor.alerts.dispatcher import Backoff, classify, parse_retry_after
from monitor.alerts.notifications import AlertView, Notification
from monitor.alerts.payload import (
    encode_body,
    signature,
    signed_headers,
    slack_body,
    verify_signature,
    webhook_payload,
)

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
EVIDENCE = {"value": 0.72, "baseline": 0.2, "zscore": 9.1,
            "top_articles": [{"id": "a1", "headline": "Acme recalls 2 million heaters after fires"}]}


def notification(*statuses: str) -> Notification:
    alerts = [AlertView(id=i + 1, fingerprint=f"fp{i}", rule_name="ticker-spike", status=status,
                        labels={"alertname": "ticker-spike", "severity": "critical", "ticker": f"T{i}"},
                        annotations={"summary": f"spike on T{i}"}, evidence=EVIDENCE, starts_at=T0,
                        ends_at=T0 + timedelta(minutes=30) if status == "resolved" else None)
              for i, status in enumerate(statuses)]
    return Notification("team", '{}/0:{alertname="ticker-spike"}', {"alertname": "ticker-spike"}, alerts, "key-1")


def test_payload_has_the_alertmanager_v4_fields() -> None:
    payload = webhook_payload(notification("firing", "resolved"), "http://finsent.example")
    assert set(payload) == {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                            "commonLabels", "commonAnnotations", "externalURL", "alerts"}
    assert (payload["version"], payload["status"], payload["receiver"]) == ("4", "firing", "team")
    assert payload["commonLabels"] == {"alertname": "ticker-spike", "severity": "critical"}
    assert payload["commonAnnotations"] == {}
    firing, resolved = payload["alerts"]
    assert {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"} <= set(firing)
    assert firing["startsAt"] == "2026-11-30T14:00:00Z"
    assert firing["endsAt"] == "0001-01-01T00:00:00Z"
    assert resolved["endsAt"] == "2026-11-30T14:30:00Z"
    assert firing["generatorURL"] == "http://finsent.example/alerts?fingerprint=fp0"
    assert firing["evidence"]["top_articles"][0]["headline"].startswith("Acme recalls")
    json.dumps(payload)  # serialisable as is


def test_all_resolved_group_is_resolved_and_truncation_is_reported() -> None:
    assert webhook_payload(notification("resolved"), "http://x")["status"] == "resolved"
    payload = webhook_payload(notification("firing", "firing", "firing"), "http://x", max_alerts=2)
    assert (len(payload["alerts"]), payload["truncatedAlerts"]) == (2, 1)


def test_slack_body_lists_alerts_and_headlines() -> None:
    body = slack_body(webhook_payload(notification("firing", "resolved"), "http://x"))
    assert body["text"].splitlines() == [
        ":red_circle: *[FIRING]* spike on T0", "      • Acme recalls 2 million heaters after fires",
        ":large_green_circle: *[RESOLVED]* spike on T1", "      • Acme recalls 2 million heaters after fires"]


def test_signature_verifies_and_rejects_tampering_and_staleness() -> None:
    body = encode_body(webhook_payload(notification("firing"), "http://x"))
    headers = signed_headers("s3cret", body, "key-1", now=1_700_000_000)
    assert headers["Idempotency-Key"] == "key-1"
    assert headers["X-Finsent-Timestamp"] == "1700000000"
    assert headers["X-Finsent-Signature"] == signature("s3cret", 1_700_000_000, body)
    assert verify_signature("s3cret", headers, body, now=1_700_000_100)
    assert not verify_signature("wrong", headers, body, now=1_700_000_100)
    assert not verify_signature("s3cret", headers, body + b" ", now=1_700_000_100)
    assert not verify_signature("s3cret", headers, body, now=1_700_000_000 + 3600)
    assert "X-Finsent-Signature" not in signed_headers(None, body, "key-1")


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"12.{}", hashlib.sha256).hexdigest()
    assert signature("k", 12, b"{}") == f"sha256={expected}"


def test_response_classification() -> None:
    now = T0
    ok = classify(httpx.Response(204), now)
    assert ok.delivered
    busy = classify(httpx.Response(429, headers={"Retry-After": "7"}), now)
    assert (busy.retry, busy.retry_after_s) == (True, 7.0)
    down = classify(httpx.Response(503, headers={"Retry-After": "Mon, 30 Nov 2026 14:02:00 GMT"}), now)
    assert (down.retry, down.retry_after_s) == (True, 120.0)
    assert classify(httpx.Response(500), now).retry
    assert classify(httpx.Response(500, headers={"Retry-After": "9"}), now).retry_after_s is None
    rejected = classify(httpx.Response(400, text="bad body"), now)
    assert (rejected.delivered, rejected.retry) == (False, False)
    assert rejected.error == "rejected by receiver, not retried: HTTP 400: bad body"


def test_retry_after_parsing() -> None:
    assert parse_retry_after(None, T0) is None
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("Mon, 30 Nov 2026 13:00:00 GMT", T0) == 0.0


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    backoff, rng = Backoff(base_s=1, cap_s=60), random.Random(1)
    for attempt, cap in ((1, 1), (2, 2), (3, 4), (7, 60), (20, 60)):
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= cap
        assert max(delays) > cap * 0.8  # spread over the whole range, not clustered
