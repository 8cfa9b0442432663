"""Webhook bodies (Alertmanager v4, exactly; Slack), signatures, and the dispatcher's retry decisions."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitor.alerts.delivery.alertmanager import group_key, label_fingerprint, labelset_string, route_key
from monitor.alerts.delivery.dispatcher import Backoff, classify, parse_retry_after
from monitor.alerts.delivery.notifications import AlertView, Notification
from monitor.alerts.delivery.payload import (
    SLACK_TEXT_LIMIT,
    alert_evidence,
    encode_body,
    signature,
    signature_problem,
    signed_headers,
    slack_body,
    verify_signature,
    webhook_payload,
)
from monitor.alerts.rules.parse import parse_rules

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
EVIDENCE = {"value": 0.72, "baseline": 0.2, "zscore": 9.1,
            "top_articles": [{"id": "a1", "headline": "Acme recalls 2 million heaters after fires"}]}
# The fields of Alertmanager's webhook.Message (template.Data + version, groupKey, truncatedAlerts)
# and of template.Alert: a strict decoder (DisallowUnknownFields) accepts these and nothing else.
MESSAGE_FIELDS = {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
                  "commonAnnotations", "externalURL", "alerts"}
ALERT_FIELDS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}


def view(i: int, status: str = "firing", *, evidence: dict | None = None, **labels: str) -> AlertView:
    return AlertView(id=i + 1, fingerprint=f"fp{i}", rule_name="ticker-spike", status=status,
                     labels={"alertname": "ticker-spike", "severity": "critical", "ticker": f"T{i}"} | labels,
                     annotations={"summary": f"spike on T{i}"}, evidence=EVIDENCE if evidence is None else evidence,
                     starts_at=T0, ends_at=T0 + timedelta(minutes=30) if status == "resolved" else None)


def notification(*statuses: str) -> Notification:
    alerts = [view(i, status) for i, status in enumerate(statuses)]
    return Notification("team", '{}/0:{alertname="ticker-spike"}', {"alertname": "ticker-spike"}, alerts, "key-1")


def test_fingerprint_is_alertmanagers_label_set_fingerprint() -> None:
    # Expected values from prometheus/common model/signature_test.go (TestMetricToFingerprint).
    assert label_fingerprint({}) == f"{14695981039346656037:016x}" == "cbf29ce484222325"
    assert label_fingerprint({"name": "garland, briggs", "fear": "love is not enough"}) == \
        f"{5799056148416392346:016x}"
    assert label_fingerprint({"b": "2", "a": "1"}) == label_fingerprint({"a": "1", "b": "2"})
    assert label_fingerprint({"a": "bc"}) != label_fingerprint({"ab": "c"})  # the separator byte counts


def test_payload_has_exactly_the_alertmanager_v4_fields() -> None:
    payload = webhook_payload(notification("firing", "resolved"), "http://finsent.example")
    assert set(payload) == MESSAGE_FIELDS
    assert (payload["version"], payload["status"], payload["receiver"]) == ("4", "firing", "team")
    assert payload["commonLabels"] == {"alertname": "ticker-spike", "severity": "critical"}
    assert set(payload["commonAnnotations"]) == {"evidence"}  # both carry the same evidence; summaries differ
    firing, resolved = payload["alerts"]
    assert set(firing) == set(resolved) == ALERT_FIELDS  # no extension fields
    assert firing["fingerprint"] == label_fingerprint(firing["labels"])
    assert len(firing["fingerprint"]) == 16 and int(firing["fingerprint"], 16) >= 0  # model.ParseFingerprint
    assert firing["startsAt"] == "2026-11-30T14:00:00Z"
    assert firing["endsAt"] == "0001-01-01T00:00:00Z"
    assert resolved["endsAt"] == "2026-11-30T14:30:00Z"
    assert firing["generatorURL"] == "http://finsent.example/alerts?fingerprint=fp0"  # finsent's own alert id
    assert all(isinstance(v, str) for a in payload["alerts"] for v in {**a["labels"], **a["annotations"]}.values())
    json.dumps(payload)  # serialisable as is


def test_evidence_travels_as_a_json_string_annotation() -> None:
    [alert] = webhook_payload(notification("firing"), "http://x")["alerts"]
    assert isinstance(alert["annotations"]["evidence"], str)
    assert alert_evidence(alert) == EVIDENCE
    assert alert["annotations"]["summary"] == "spike on T0"
    quiet = webhook_payload(Notification("team", "k", {}, [view(0, evidence={})], "key"), "http://x")
    assert "evidence" not in quiet["alerts"][0]["annotations"] and alert_evidence(quiet["alerts"][0]) == {}


def test_group_key_is_alertmanagers_route_key_and_group_labels() -> None:
    rules = parse_rules("""\
rules: [{name: ticker-spike, scope: ticker, window: 15m}]
route:
  receiver: team
  routes:
    - {matchers: {severity: critical, team: risk}, receiver: team, routes: [{matchers: {ticker: BA}}]}
receivers: [{name: team, webhook: {url: "http://127.0.0.1:9/team"}}]
""")
    assert route_key(rules.route, "0") == "{}"
    assert route_key(rules.route, "0.0") == '{}/{severity="critical",team="risk"}'
    assert route_key(rules.route, "0.0.0") == '{}/{severity="critical",team="risk"}/{ticker="BA"}'
    assert route_key(rules.route, "0.5") == "{}"  # a route the tree no longer has
    assert labelset_string({"ticker": "BA", "alertname": 'a "q"'}) == '{alertname="a \\"q\\"", ticker="BA"}'
    sent = Notification("team", "internal", {"ticker": "BA", "alertname": "ticker-spike"}, [view(0)], "key",
                        route_key(rules.route, "0.0"))
    assert webhook_payload(sent, "http://x")["groupKey"] == \
        '{}/{severity="critical",team="risk"}:{alertname="ticker-spike", ticker="BA"}'
    assert group_key("{}", {}) == "{}:{}"


def test_all_resolved_group_is_resolved_and_truncation_is_reported() -> None:
    assert webhook_payload(notification("resolved"), "http://x")["status"] == "resolved"
    payload = webhook_payload(notification("firing", "firing", "firing"), "http://x", max_alerts=2)
    assert (len(payload["alerts"]), payload["truncatedAlerts"]) == (2, 1)


def test_common_labels_and_annotations_are_computed_after_truncation() -> None:
    # The first two share team=risk and their summary; the third (cut) has neither.
    alerts = [view(0, team="risk"), view(1, team="risk"), view(2, team="ops")]
    alerts = [AlertView(**{**a.__dict__, "annotations": {"summary": "same" if a.id < 3 else "other"}})
              for a in alerts]
    sent = Notification("team", "k", {"alertname": "ticker-spike"}, alerts, "key")
    truncated = webhook_payload(sent, "http://x", max_alerts=2)
    assert truncated["truncatedAlerts"] == 1
    assert truncated["commonLabels"] == {"alertname": "ticker-spike", "severity": "critical", "team": "risk"}
    assert truncated["commonAnnotations"]["summary"] == "same"
    full = webhook_payload(sent, "http://x")
    assert full["commonLabels"] == {"alertname": "ticker-spike", "severity": "critical"}
    assert "summary" not in full["commonAnnotations"]
    for payload in (truncated, full):  # every common label is on every alert sent
        assert all(a["labels"].items() >= payload["commonLabels"].items() for a in payload["alerts"])


def test_slack_body_lists_alerts_and_headlines() -> None:
    body = slack_body(webhook_payload(notification("firing", "resolved"), "http://x"))
    assert body["text"].splitlines() == [
        ":red_circle: *[FIRING]* spike on T0", "      • Acme recalls 2 million heaters after fires",
        ":large_green_circle: *[RESOLVED]* spike on T1", "      • Acme recalls 2 million heaters after fires"]


def test_slack_escapes_everything_from_outside() -> None:
    headline = "<!channel> Q&A: <@U123> says shares <50 >\n<https://evil.example|click>"
    evidence = {"top_articles": [{"id": "a", "headline": headline}]}
    alert = AlertView(1, "fp", "r", "firing", {"alertname": "r"}, {"summary": "AT&T <!here> up > 5%"}, evidence, T0)
    text = slack_body(webhook_payload(Notification("t", "k", {}, [alert], "key"), "http://x"))["text"]
    assert text.splitlines() == [
        ":red_circle: *[FIRING]* AT&amp;T &lt;!here&gt; up &gt; 5%",
        "      • &lt;!channel&gt; Q&amp;A: &lt;@U123&gt; says shares &lt;50 &gt; "
        "&lt;https://evil.example|click&gt;"]
    assert "<" not in text and ">" not in text and "&" not in text.replace("&amp;", "").replace(
        "&lt;", "").replace("&gt;", "")


def test_slack_text_is_cut_at_slacks_limit_with_a_note() -> None:
    alerts = [view(i, evidence={"top_articles": [{"id": str(i), "headline": "&" * 900}]}) for i in range(60)]
    payload = webhook_payload(Notification("t", "k", {}, alerts, "key"), "http://x")
    text = slack_body(payload)["text"]
    assert len(text) <= SLACK_TEXT_LIMIT
    *kept, note = text.splitlines()
    assert note.startswith("... message cut at Slack's 40,000-character limit: ")
    assert note.endswith(f"{2 * 60 - len(kept)} more lines not shown")
    assert all(line.endswith("&amp;") or not line.startswith("      •") for line in kept)  # whole lines only
    one_huge = slack_body(payload, limit=1000)["text"]
    assert len(one_huge) <= 1000 and "\n... message cut" in one_huge
    short = slack_body({"alerts": [{"status": "firing", "labels": {}, "annotations": {"summary": "&" * 5000}}]},
                       limit=1000)["text"]
    assert len(short) <= 1000 and short.splitlines()[0].endswith("&amp;")  # never cut inside an entity


def test_signature_verifies_and_rejects_tampering_and_staleness() -> None:
    body = encode_body(webhook_payload(notification("firing"), "http://x"))
    headers = signed_headers("s3cret", body, "key-1", now=1_700_000_000)
    assert headers["Idempotency-Key"] == "key-1"
    assert headers["X-Finsent-Timestamp"] == "1700000000"
    assert headers["X-Finsent-Signature"] == signature("s3cret", 1_700_000_000, "key-1", body)
    assert verify_signature("s3cret", headers, body, now=1_700_000_100)
    assert not verify_signature("wrong", headers, body, now=1_700_000_100)
    assert not verify_signature("s3cret", headers, body + b" ", now=1_700_000_100)
    assert not verify_signature("s3cret", headers, body, now=1_700_000_000 + 3600)
    assert "X-Finsent-Signature" not in signed_headers(None, body, "key-1")


def test_a_replayed_request_with_a_swapped_idempotency_key_fails() -> None:
    body = encode_body(webhook_payload(notification("firing"), "http://x"))
    captured = signed_headers("s3cret", body, "key-1", now=1_700_000_000)
    replayed = captured | {"Idempotency-Key": "key-2"}
    assert verify_signature("s3cret", captured, body, now=1_700_000_010)
    assert not verify_signature("s3cret", replayed, body, now=1_700_000_010)
    assert signature_problem("s3cret", replayed, body, now=1_700_000_010).startswith("signature does not match")
    no_key = {k: v for k, v in captured.items() if k != "Idempotency-Key"}
    assert signature_problem("s3cret", no_key, body, now=1_700_000_010) == "missing Idempotency-Key (it is signed)"
    lowercase = {k.lower(): v for k, v in captured.items()}  # header names are case-insensitive
    assert verify_signature("s3cret", lowercase, body, now=1_700_000_010)


def test_signature_is_hmac_sha256_of_timestamp_key_and_body() -> None:
    expected = hmac.new(b"k", b"12\nkey-1\n{}", hashlib.sha256).hexdigest()
    assert signature("k", 12, "key-1", b"{}") == f"sha256={expected}"
    with pytest.raises(ValueError, match="one non-empty line"):
        signature("k", 12, "a\nb", b"{}")


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
