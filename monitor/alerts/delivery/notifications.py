"""Notification planning: firing/resolved alerts + group memory -> the notifications due now (pure).

Per notification group (route x group labels) the planner remembers which
alerts it last told the receiver about (`GroupState.notified`). A group is
notified:

- `group_wait` after it first appears (so an alert storm arrives as one message),
- `group_interval` after the last notification when its content changed
  (new alert firing, or one resolved: resolve notifications are sent once),
- `repeat_interval` after the last notification when nothing changed but it
  still fires (reminders).

Silenced and inhibited alerts are left out. A resolve is sent only for an alert
that the receiver was told was firing. The caller stores the returned group
states and outbox rows in the same transaction as the alert changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from monitor.alerts.delivery.alertmanager import route_key
from monitor.alerts.delivery.routing import EffectiveRoute, route_at, routes_for
from monitor.alerts.rules.config import RulesFile
from monitor.alerts.silences.matching import SilenceView, inhibiting, silencing


@dataclass(frozen=True)
class AlertView:
    """An alert as the planner and the payload builder see it."""

    id: int
    fingerprint: str
    rule_name: str
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    evidence: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None = None


@dataclass(frozen=True)
class GroupState:
    """What a notification group remembers (table alert_groups)."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    first_seen_at: datetime
    last_notified_at: datetime | None = None
    notified: dict[str, str] = field(default_factory=dict)  # fingerprint -> status last sent


@dataclass(frozen=True)
class Notification:
    """One message to one receiver: goes to the outbox as one webhook_deliveries row."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    alerts: list[AlertView]
    idempotency_key: str
    # Alertmanager's key of the route (`{}/{severity="critical"}`): the payload's groupKey
    # starts with it. `group_key` above is finsent's own (it names the route by its path).
    route_key: str = "{}"

    @property
    def status(self) -> str:
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"


@dataclass
class NotificationPlan:
    notifications: list[Notification] = field(default_factory=list)
    upsert_groups: list[GroupState] = field(default_factory=list)
    delete_groups: list[tuple[str, str]] = field(default_factory=list)  # (receiver, group_key)
    muted: dict[str, str] = field(default_factory=dict)  # fingerprint -> "silenced by 3" / "inhibited by ..."


def idempotency_key(receiver: str, group_key: str, now: datetime, alerts: Sequence[AlertView]) -> str:
    """Stable for one notification (so retries carry the same key), new for the next."""
    parts = [receiver, group_key, now.isoformat(), *sorted(f"{a.fingerprint}:{a.status}" for a in alerts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def mute_reasons(rules: RulesFile, firing: Sequence[AlertView], silences: Sequence[SilenceView],
                 now: datetime) -> dict[str, str]:
    """fingerprint -> why it is muted, for firing alerts that are silenced or inhibited."""
    reasons = {}
    firing_labels = [a.labels for a in firing]
    for alert in firing:
        silence = silencing(alert.labels, silences, now)
        if silence is not None:
            reasons[alert.fingerprint] = f"silenced by silence {silence.id}"
            continue
        rule = inhibiting(alert.labels, firing_labels, rules.inhibit_rules)
        if rule is not None:
            reasons[alert.fingerprint] = f"inhibited by an alert matching {rule.source_matchers}"
    return reasons


def plan_notifications(rules: RulesFile, firing: Sequence[AlertView], resolved: Mapping[str, AlertView],
                       groups: Mapping[tuple[str, str], GroupState], silences: Sequence[SilenceView],
                       now: datetime) -> NotificationPlan:
    """Decide which groups to notify now.

    firing: every firing alert. resolved: the latest resolved alert per fingerprint
    for fingerprints some group last notified as firing. groups: (receiver, group key) -> state.
    """
    plan = NotificationPlan(muted=mute_reasons(rules, firing, silences, now))
    current: dict[tuple[str, str], tuple[EffectiveRoute, dict[str, str], list[AlertView]]] = {}
    for alert in firing:
        if alert.fingerprint in plan.muted:
            continue
        for route in routes_for(alert.labels, rules.route):
            key = (route.receiver, route.group_key(alert.labels))
            current.setdefault(key, (route, route.group_labels(alert.labels), []))[2].append(alert)
    routes_by_key = {k: v[0] for k, v in current.items()}
    firing_fps = {a.fingerprint for a in firing}

    for key in sorted(set(current) | set(groups)):
        receiver, group_key = key
        state = groups.get(key)
        active = current[key][2] if key in current else []
        resolved_now = [resolved[fp] for fp, status in (state.notified.items() if state else [])
                        if status == "firing" and fp not in firing_fps and fp in resolved]
        if not active and not resolved_now:
            if state is not None:
                plan.delete_groups.append(key)
            continue
        route = routes_by_key.get(key) or _route_of(rules, state, group_key)
        if state is None:
            state = GroupState(receiver, group_key, current[key][1], first_seen_at=now)
        notified_firing = {fp for fp, s in state.notified.items() if s == "firing"}
        changed = {a.fingerprint for a in active} != notified_firing or bool(resolved_now)
        if state.last_notified_at is None:
            due = now >= state.first_seen_at + route.group_wait
        elif changed:
            due = now >= state.last_notified_at + route.group_interval
        else:
            due = bool(active) and now >= state.last_notified_at + route.repeat_interval
        if not due:
            plan.upsert_groups.append(state)
            continue
        alerts = sorted(active, key=lambda a: a.starts_at) + resolved_now
        plan.notifications.append(Notification(receiver, group_key, state.group_labels, alerts,
                                               idempotency_key(receiver, group_key, now, alerts),
                                               route_key(rules.route, route.path)))
        if active:
            plan.upsert_groups.append(replace(state, last_notified_at=now,
                                              notified={a.fingerprint: "firing" for a in active}))
        else:
            plan.delete_groups.append(key)
    return plan


def _route_of(rules: RulesFile, state: GroupState | None, group_key: str) -> EffectiveRoute:
    """The route of a group with no firing alert left, found again from the path in its key."""
    path = group_key.split(":", 1)[0].removeprefix("{}/")
    # The routing tree changed under a stored group: fall back to the root's timing.
    return route_at(rules.route, path) or route_at(rules.route, "0")  # type: ignore[return-value]
