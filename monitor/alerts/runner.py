"""The alert engine's step and loop: `run_once(session_factory, rules, now)` and `finsent alerter`.

The one module that wires the layers together: rule evaluation (rules/),
muting (silences/) and delivery (delivery/).

One step reads the aggregates each rule needs, judges every series, steps the
lifecycle, writes alerts, plans notifications and writes the outbox rows, all
in one transaction under a PostgreSQL advisory lock, so two alerters on one
database never double-notify (the second one skips the step). In-process use
(tests, the end-to-end pipeline test):

    from monitor.alerts.runner import run_once
    report = run_once(session_factory(url), load_rules(path), now=datetime.now(UTC))
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.delivery import store as delivery_store
from monitor.alerts.delivery.alertmanager_api import AlertmanagerSink
from monitor.alerts.delivery.notifications import plan_notifications
from monitor.alerts.rules import store as rules_store
from monitor.alerts.rules.config import RulesFile
from monitor.alerts.rules.evaluation import SectorLookup, evaluate, no_sectors
from monitor.alerts.silences import store as silence_store

log = logging.getLogger(__name__)


@dataclass
class EvaluationReport:
    """What one step did; the alerter logs it, tests assert on it."""

    now: datetime
    skipped: bool = False  # another alerter held the lock
    series: int = 0
    events: Counter[str] = field(default_factory=Counter)  # pending/firing/resolved/cancelled -> count
    notifications: int = 0
    muted: dict[str, str] = field(default_factory=dict)
    alertmanager: dict[str, Any] | None = None  # what the Alertmanager sink sent (None: no sink)

    def as_dict(self) -> dict[str, Any]:
        found = {"now": self.now.isoformat(), "skipped": self.skipped, "series": self.series,
                 "events": dict(self.events), "notifications": self.notifications, "muted": len(self.muted)}
        if self.alertmanager is not None:
            found["alertmanager"] = self.alertmanager
        return found


def run_once(session_factory: sessionmaker[Session], rules: RulesFile, now: datetime | None = None,
             sector_of: SectorLookup = no_sectors, sink: AlertmanagerSink | None = None) -> EvaluationReport:
    """Evaluate every rule at now and queue the notifications that are due, in one transaction.

    With a sink (FINSENT_ALERTMANAGER_URL), once that transaction has committed, every firing alert and the
    alerts this step resolved are posted to Alertmanager too (monitor/alerts/delivery/alertmanager_api.py); the
    embedded notifications are planned as before.
    """
    now = now or datetime.now(UTC)
    report = EvaluationReport(now=now)
    with session_factory.begin() as session:
        if not rules_store.try_evaluator_lock(session):
            report.skipped = True
            return report
        states = rules_store.load_states(session)
        observations = {rule.name: rules_store.load_observations(session, rule, now) for rule in rules.rules}
        evaluation = evaluate(rules, observations, states, now, sector_of)
        rules_store.apply_evaluation(session, evaluation, sector_of)
        groups = delivery_store.load_groups(session)
        firing, resolved = delivery_store.load_alert_views(session, groups.values())
        plan = plan_notifications(rules, firing, resolved, groups, silence_store.load_silences(session, now), now)
        report.notifications = delivery_store.apply_plan(session, plan, rules)
        report.series = len(evaluation.results)
        report.events.update(r.event for r in evaluation.events() if r.event)
        report.muted = plan.muted
        resolved_now = delivery_store.load_resolved_now(
            session, (r.fingerprint for r in evaluation.events() if r.event == "resolved"), now) if sink else []
    if sink is not None:  # after the commit: never tell Alertmanager about a step that was rolled back
        report.alertmanager = sink.push(firing, resolved_now, now).as_dict()
    return report


def run_forever(session_factory: sessionmaker[Session], rules: RulesFile, sector_of: SectorLookup,
                stop: threading.Event, max_steps: int | None = None, sink: AlertmanagerSink | None = None) -> None:
    """Step every `global.evaluation_interval` until stop is set (or max_steps steps)."""
    interval = rules.global_.evaluation_interval.total_seconds()
    steps = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            report = run_once(session_factory, rules, sector_of=sector_of, sink=sink)
            log.info("evaluation %s", report.as_dict())
        except Exception:  # a failed step (database restart) is retried at the next tick
            log.exception("evaluation failed; retrying at the next interval")
        steps += 1
        if max_steps is not None and steps >= max_steps:
            return
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
