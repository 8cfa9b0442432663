"""Webhook bodies and signatures.

The body is Alertmanager's webhook format version "4", so receivers written
for Alertmanager work unchanged; each alert also carries an `evidence` object
(value, baseline, z-score, top contributing articles), which Alertmanager
receivers ignore. `slack_body` turns the same payload into a Slack incoming
webhook message.

Signature (when the receiver has `secret_env`): headers

    X-Finsent-Timestamp: <unix seconds>
    X-Finsent-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

Receivers check it with `verify_signature`, rejecting stale timestamps so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from monitor.alerts.notifications import AlertView, Notification

ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert
SIGNATURE_HEADER = "X-Finsent-Signature"
TIMESTAMP_HEADER = "X-Finsent-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _rfc3339(moment: datetime | None) -> str:
    if moment is None:
        return ZERO_TIME
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def alert_body(alert: AlertView, external_url: str) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "startsAt": _rfc3339(alert.starts_at),
        "endsAt": _rfc3339(alert.ends_at) if alert.status == "resolved" else ZERO_TIME,
        "generatorURL": f"{external_url.rstrip('/')}/alerts?fingerprint={alert.fingerprint}",
        "fingerprint": alert.fingerprint,
        "evidence": alert.evidence,  # finsent extension
    }


def webhook_payload(notification: Notification, external_url: str, max_alerts: int = 0) -> dict[str, Any]:
    """The Alertmanager v4 webhook body of a notification (max_alerts > 0 truncates)."""
    alerts = notification.alerts
    shown = alerts[:max_alerts] if max_alerts else alerts
    return {
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": len(alerts) - len(shown),
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": dict(sorted(notification.group_labels.items())),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
        "alerts": [alert_body(a, external_url) for a in shown],
    }


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for an Alertmanager payload: one line per alert, plus headlines."""
    lines = []
    for alert in payload["alerts"]:
        marker = ":red_circle:" if alert["status"] == "firing" else ":large_green_circle:"
        summary = alert["annotations"].get("summary") or alert["labels"].get("alertname", "alert")
        lines.append(f"{marker} *[{alert['status'].upper()}]* {summary}")
        for article in (alert.get("evidence") or {}).get("top_articles", [])[:3]:
            lines.append(f"      • {article['headline']}")
    if payload.get("truncatedAlerts"):
        lines.append(f"... and {payload['truncatedAlerts']} more")
    return {"text": "\n".join(lines), "mrkdwn": True}


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str | None, body: bytes, idempotency_key: str, now: float | None = None) -> dict[str, str]:
    """Content type, idempotency key and, with a secret, the timestamp and signature headers."""
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key,
               "User-Agent": "finsent-alerts"}
    if secret:
        timestamp = int(now if now is not None else time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    return headers


def verify_signature(secret: str, headers: dict[str, str], body: bytes, *, tolerance_s: float = 300,
                     now: float | None = None) -> bool:
    """For receivers: True when the signature matches and the timestamp is fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        given = lowered[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, body))
