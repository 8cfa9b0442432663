"""A failed retraining run raises an alert through the alert webhooks.

The alert is an `alerts` row (rule_name "retrain_failed", status firing) and,
for each receiver the rules file's route tree sends it to, one outbox row in
`webhook_deliveries` with an Alertmanager v4 body, written with the alerts
part's own `apply_plan` and `webhook_payload`; the alerter's dispatcher
delivers it with its retries and signatures. The next successful run resolves
the open alert. Both functions take the caller's session (caller commits).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.alerts.delivery.alertmanager import route_key
from monitor.alerts.delivery.notifications import AlertView, Notification, NotificationPlan, idempotency_key
from monitor.alerts.delivery.routing import routes_for
from monitor.alerts.delivery.store import apply_plan
from monitor.alerts.rules.config import RulesFile
from monitor.storage.models import Alert

RULE_NAME = "retrain_failed"
SEVERITY = "warning"  # the live model keeps serving: nothing is down, but it stopped improving
FINGERPRINT = hashlib.sha256(RULE_NAME.encode()).hexdigest()[:32]


def raise_retrain_failed(session: Session, rules: RulesFile | None, error: str, details: dict[str, Any] | None = None,
                         now: datetime | None = None) -> tuple[int, int]:
    """Record a firing retrain_failed alert and queue its webhooks; return (alert id, outbox rows written).

    A run that fails while the previous failure is still open updates that alert
    (one episode, like any rule) and notifies again with the new error. With no
    rules file (it failed to load) the alert row is still written, for the dashboard.
    """
    now = now or datetime.now(UTC)
    labels = {"alertname": RULE_NAME, "severity": SEVERITY}
    annotations = {"summary": "Scheduled model retraining failed; the live model is unchanged",
                   "description": error[:2000]}
    evidence = {"error": error[:8000], **(details or {})}
    row = session.scalar(select(Alert).where(Alert.fingerprint == FINGERPRINT, Alert.status == "firing")
                         .order_by(Alert.id.desc()).limit(1))
    if row is None:
        row = Alert(fingerprint=FINGERPRINT, rule_name=RULE_NAME, status="firing", severity=SEVERITY,
                    labels=labels, annotations=annotations, evidence=evidence, starts_at=now)
        session.add(row)
    else:
        row.annotations, row.evidence = annotations, evidence
    session.flush()
    view = AlertView(id=row.id, fingerprint=FINGERPRINT, rule_name=RULE_NAME, status="firing", labels=labels,
                     annotations=annotations, evidence=evidence, starts_at=row.starts_at)
    plan = NotificationPlan()
    if rules is None:
        return row.id, 0
    for route in routes_for(labels, rules.route):
        group_key = route.group_key(labels)
        plan.notifications.append(Notification(route.receiver, group_key, route.group_labels(labels), [view],
                                               idempotency_key(route.receiver, group_key, now, [view]),
                                               route_key(rules.route, route.path)))
    return row.id, apply_plan(session, plan, rules)


def resolve_retrain_failed(session: Session, now: datetime | None = None) -> int:
    """Mark open retrain_failed alerts resolved (a run succeeded); return how many."""
    result = session.execute(update(Alert).where(Alert.fingerprint == FINGERPRINT, Alert.status == "firing")
                             .values(status="resolved", ends_at=now or datetime.now(UTC)))
    return result.rowcount or 0  # type: ignore[attr-defined]
