"""The database side of delivery: notification groups, the alerts they notify, and the outbox rows.

`apply_plan` writes one planned step's group memory and webhook_deliveries
(outbox) rows in the caller's transaction (`runner.run_once`, the same one as
the evaluation's alert rows); the dispatcher (dispatcher.py) delivers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from monitor.alerts.delivery.notifications import AlertView, GroupState, NotificationPlan
from monitor.alerts.delivery.payload import webhook_payload
from monitor.alerts.rules.config import RulesFile
from monitor.storage.models import Alert as AlertRow
from monitor.storage.models import AlertGroup, WebhookDelivery


def _view(row: AlertRow) -> AlertView:
    return AlertView(id=row.id, fingerprint=row.fingerprint, rule_name=row.rule_name, status=row.status,
                     labels=row.labels, annotations=row.annotations, evidence=row.evidence,
                     starts_at=row.starts_at, ends_at=row.ends_at)


def load_groups(session: Session) -> dict[tuple[str, str], GroupState]:
    return {(g.receiver, g.group_key): GroupState(g.receiver, g.group_key, g.group_labels, g.first_seen_at,
                                                  g.last_notified_at, dict(g.notified))
            for g in session.scalars(select(AlertGroup))}


def load_alert_views(session: Session, groups: Iterable[GroupState]) -> tuple[list[AlertView], dict[str, AlertView]]:
    """Every firing alert, and the latest resolved alert of fingerprints that groups last sent as firing."""
    firing = [_view(r) for r in session.scalars(select(AlertRow).where(AlertRow.status == "firing")
                                                .order_by(AlertRow.id))]
    firing_fps = {a.fingerprint for a in firing}
    wanted = {fp for g in groups for fp, s in g.notified.items() if s == "firing"} - firing_fps
    resolved: dict[str, AlertView] = {}
    if wanted:
        for row in session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(wanted),
                                                          AlertRow.status == "resolved").order_by(AlertRow.id)):
            resolved[row.fingerprint] = _view(row)
    return firing, resolved


def load_resolved_now(session: Session, fingerprints: Iterable[str], now: datetime) -> list[AlertView]:
    """The alerts of these fingerprints that resolved at now (this evaluation): what the Alertmanager sink sends."""
    wanted = set(fingerprints)
    if not wanted:
        return []
    return [_view(r) for r in session.scalars(select(AlertRow).where(
        AlertRow.fingerprint.in_(wanted), AlertRow.status == "resolved", AlertRow.ends_at == now)
        .order_by(AlertRow.id))]


def apply_plan(session: Session, plan: NotificationPlan, rules: RulesFile) -> int:
    """Write group memory and one outbox row per notification; returns the rows written."""
    for receiver, group_key in plan.delete_groups:
        session.execute(delete(AlertGroup).where(AlertGroup.receiver == receiver, AlertGroup.group_key == group_key))
    for group in plan.upsert_groups:
        values = {"receiver": group.receiver, "group_key": group.group_key, "group_labels": group.group_labels,
                  "first_seen_at": group.first_seen_at, "last_notified_at": group.last_notified_at,
                  "notified": group.notified}
        session.execute(insert(AlertGroup).values(**values).on_conflict_do_update(
            index_elements=["receiver", "group_key"],
            set_={k: v for k, v in values.items() if k not in ("receiver", "group_key")}))
    written = 0
    for notification in plan.notifications:
        webhook = rules.receiver(notification.receiver).webhook
        payload = webhook_payload(notification, rules.global_.external_url, webhook.max_alerts)
        # an INSERT's result is a CursorResult (Session.execute is typed for any statement)
        result = cast(CursorResult[Any], session.execute(insert(WebhookDelivery).values(
            alert_id=min(a.id for a in notification.alerts), receiver=notification.receiver, payload=payload,
            idempotency_key=notification.idempotency_key).on_conflict_do_nothing(index_elements=["idempotency_key"])))
        written += result.rowcount or 0
    return written


def list_deliveries(session: Session, statuses: Sequence[str], limit: int) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.status.in_(statuses))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))
