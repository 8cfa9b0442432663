"""Webhook bodies and signatures.

The body is Alertmanager's webhook message version "4", field for field, so
receivers written for Alertmanager - including strict decoders of its
`webhook.Message` type and its templates - work unchanged:

- each alert's `fingerprint` is Alertmanager's: 16 hex digits of its label set
  (`alertmanager.label_fingerprint`); finsent's own alert id (a hash of rule,
  scope and key that survives label enrichment) is in `generatorURL`;
- `groupKey` is Alertmanager's `<route key>:<group labels>`;
- `commonLabels` / `commonAnnotations` are computed over the alerts actually
  sent, after `max_alerts` truncation (as Alertmanager does);
- the evidence (value, baseline, z-score, top contributing articles) travels as
  the `evidence` annotation, a JSON string (`alert_evidence` reads it back);
  there are no extra fields.

`slack_body` turns the same payload into a Slack incoming-webhook message,
escaped so that nothing from a headline can mention anyone or break it.

Signature (when the receiver has `secret_env`): headers

    Idempotency-Key: <key>
    X-Finsent-Timestamp: <unix seconds>
    X-Finsent-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>\\n<idempotency key>\\n" + raw body)>

The key is signed with the body, so a captured request replayed under a new
key (to get past de-duplication) fails verification; stale timestamps are
rejected, so it cannot be replayed later either. Receivers check all of it with
`verify_signature` (or `signature_problem`, which says what is wrong).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.alerts.delivery.alertmanager import group_key, label_fingerprint
from monitor.alerts.delivery.notifications import AlertView, Notification

ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert
SIGNATURE_HEADER = "X-Finsent-Signature"
TIMESTAMP_HEADER = "X-Finsent-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVIDENCE_ANNOTATION = "evidence"
SLACK_TEXT_LIMIT = 40_000  # Slack truncates longer messages itself, mid-line
_SLACK_NOTE_ROOM = 120  # kept free under the limit for the "cut" note
_TIMESTAMP = re.compile(r"[0-9]{1,20}")  # ASCII digits only: no sign, space, underscore or other scripts' digits


def _rfc3339(moment: datetime | None) -> str:
    if moment is None:
        return ZERO_TIME
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def _annotations(alert: AlertView) -> dict[str, str]:
    """The alert's annotations as strings, plus its evidence as one JSON-string annotation."""
    annotations = {name: str(value) for name, value in alert.annotations.items()}
    if alert.evidence:
        annotations[EVIDENCE_ANNOTATION] = json.dumps(alert.evidence, separators=(",", ":"), sort_keys=True,
                                                      ensure_ascii=False, default=str)
    return dict(sorted(annotations.items()))


def alert_evidence(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence of one payload alert (from its `evidence` annotation); {} when it has none."""
    raw = (alert.get("annotations") or {}).get(EVIDENCE_ANNOTATION)
    if not raw:
        return {}
    try:
        evidence = json.loads(raw)
    except ValueError:
        return {}
    return evidence if isinstance(evidence, dict) else {}


def alert_body(alert: AlertView, external_url: str) -> dict[str, Any]:
    """One alert as Alertmanager's `template.Alert`: exactly its seven fields."""
    labels = {name: str(value) for name, value in sorted(alert.labels.items())}
    return {
        "status": alert.status,
        "labels": labels,
        "annotations": _annotations(alert),
        "startsAt": _rfc3339(alert.starts_at),
        "endsAt": _rfc3339(alert.ends_at) if alert.status == "resolved" else ZERO_TIME,
        "generatorURL": f"{external_url.rstrip('/')}/alerts?fingerprint={alert.fingerprint}",
        "fingerprint": label_fingerprint(labels),
    }


def webhook_payload(notification: Notification, external_url: str, max_alerts: int = 0) -> dict[str, Any]:
    """The Alertmanager v4 webhook body of a notification (max_alerts > 0 truncates)."""
    alerts = notification.alerts
    shown = [alert_body(a, external_url) for a in (alerts[:max_alerts] if max_alerts else alerts)]
    return {
        "version": "4",
        "groupKey": group_key(notification.route_key, notification.group_labels),
        "truncatedAlerts": len(alerts) - len(shown),
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": dict(sorted(notification.group_labels.items())),
        "commonLabels": _common([a["labels"] for a in shown]),
        "commonAnnotations": _common([a["annotations"] for a in shown]),
        "externalURL": external_url,
        "alerts": shown,
    }


def slack_escape(text: str) -> str:
    """Text from outside made inert for Slack: one line, and `&`, `<`, `>` escaped.

    Slack reads `<!channel>`, `<@U123>`, `<https://x|label>` as mentions and
    links, so a headline must never reach it with a bare `<`.
    """
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(lines: list[str], limit: int) -> str:
    """Whole lines up to Slack's limit, then a note saying how many were left out.

    When not even the first line fits, it is cut and the note says so ("the
    line above is truncated"), then how many whole lines follow unseen, if any.
    """
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    room, kept = limit - _SLACK_NOTE_ROOM, []
    size = 0
    for line in lines:
        if size + len(line) + 1 > room:
            break
        kept.append(line)
        size += len(line) + 1
    parts = []
    if not kept:  # one enormous line: cut it, never inside an &entity;
        kept = [re.sub(r"&[a-z]*$", "", lines[0][:room])]
        parts.append("the line above is truncated")
    left_out = len(lines) - len(kept)
    if left_out:
        parts.append(f"{left_out} more line{'s' if left_out != 1 else ''} not shown")
    note = f"... message cut at Slack's {limit:,}-character limit: {' and '.join(parts)}"
    return "\n".join([*kept, note])


def slack_body(payload: dict[str, Any], limit: int = SLACK_TEXT_LIMIT) -> dict[str, Any]:
    """A Slack incoming-webhook message for an Alertmanager payload: one line per alert, plus headlines."""
    lines = []
    for alert in payload["alerts"]:
        marker = ":red_circle:" if alert["status"] == "firing" else ":large_green_circle:"
        summary = alert["annotations"].get("summary") or alert["labels"].get("alertname", "alert")
        lines.append(f"{marker} *[{slack_escape(alert['status'].upper())}]* {slack_escape(summary)}")
        for article in alert_evidence(alert).get("top_articles", [])[:3]:
            lines.append(f"      • {slack_escape(article.get('headline', ''))}")
    if payload.get("truncatedAlerts"):
        lines.append(f"... and {int(payload['truncatedAlerts'])} more")
    return {"text": _cap(lines, limit), "mrkdwn": True}


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, idempotency_key: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>\\n<idempotency key>\\n" + body)>`.

    Newlines separate the parts because neither a timestamp nor an HTTP header
    value can contain one: the signed bytes name exactly one (timestamp, key, body).
    """
    if not idempotency_key or "\n" in idempotency_key or "\r" in idempotency_key:
        raise ValueError(f"an idempotency key must be one non-empty line, got {idempotency_key!r}")
    message = f"{timestamp}\n{idempotency_key}\n".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str | None, body: bytes, idempotency_key: str, now: float | None = None) -> dict[str, str]:
    """Content type, idempotency key and, with a secret, the timestamp and signature headers."""
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key,
               "User-Agent": "finsent-alerts"}
    if secret:
        timestamp = int(now if now is not None else time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, idempotency_key, body)
    return headers


def signature_problem(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance_s: float = 300,
                      now: float | None = None) -> str | None:
    """For receivers: None when the request is signed with secret and fresh, else what is wrong."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(SIGNATURE_HEADER.lower())
    key = lowered.get(IDEMPOTENCY_HEADER.lower())
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    if not given:
        return f"missing {SIGNATURE_HEADER}"
    if not key:
        return f"missing {IDEMPOTENCY_HEADER} (it is signed)"
    if raw_timestamp is None or not _TIMESTAMP.fullmatch(raw_timestamp):  # int() would take " +1_800" and "١٨٠"
        return f"missing or unreadable {TIMESTAMP_HEADER}"
    timestamp = int(raw_timestamp)
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return f"{TIMESTAMP_HEADER} is more than {tolerance_s:g}s away from now"
    try:
        expected = signature(secret, timestamp, key, body)
    except ValueError as error:
        return str(error)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return "signature does not match (wrong secret, or body, key or timestamp changed)"
    return None


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance_s: float = 300,
                     now: float | None = None) -> bool:
    """For receivers: True when signature, idempotency key and timestamp are as signed and fresh."""
    return signature_problem(secret, headers, body, tolerance_s=tolerance_s, now=now) is None
