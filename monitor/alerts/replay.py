"""Replay rules over stored history: what would have fired between two times, nothing sent or stored.

    finsent alerts replay --rules my-rules.yaml --from 2026-11-01T00:00Z --to 2026-11-08T00:00Z

The same `evaluate` step as the alerter runs at every `--step`, with the
lifecycle state kept in memory, over aggregates read once per rule. Use it to
tune thresholds before deploying a rules file.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from monitor.alerts import store
from monitor.alerts.evaluation import SectorLookup, StoredState, evaluate, no_sectors
from monitor.alerts.rules_file import RulesFile
from monitor.alerts.series import Bucket, build_observations, query_range


@dataclass(frozen=True)
class ReplayEvent:
    at: datetime
    rule: str
    scope_key: str
    event: str  # firing | resolved
    value: float | None
    baseline: float | None
    zscore: float | None
    labels: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "rule": self.rule, "key": self.scope_key, "event": self.event,
                "value": self.value, "baseline": self.baseline, "zscore": self.zscore, "labels": self.labels}


def _times(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += step


def replay(session: Session, rules: RulesFile, start: datetime, end: datetime, step: timedelta,
           sector_of: SectorLookup = no_sectors) -> list[ReplayEvent]:
    """Firing and resolved events that rules would have produced in [start, end]."""
    if end <= start:
        raise ValueError("--to must be after --from")
    buckets: dict[str, list[Bucket]] = {}
    for rule in rules.rules:
        first, _ = query_range(rule, start)
        _, last = query_range(rule, end)
        buckets[rule.name] = sorted(store.load_buckets(session, rule, first, last), key=lambda b: b.bucket_start)
    starts = {name: [b.bucket_start for b in rows] for name, rows in buckets.items()}
    states: dict[tuple[str, str], StoredState] = {}
    events: list[ReplayEvent] = []
    for now in _times(start, end, step):
        observations = {}
        for rule in rules.rules:
            first, last = query_range(rule, now)
            rows = buckets[rule.name][bisect.bisect_left(starts[rule.name], first):
                                      bisect.bisect_left(starts[rule.name], last)]
            observations[rule.name] = build_observations(rows, rule, now)
        evaluation = evaluate(rules, observations, states, now, sector_of)
        for result in evaluation.results:
            key = (result.rule.name, result.fingerprint)
            if result.state.state == "inactive":
                states.pop(key, None)
            else:
                states[key] = StoredState(result.rule.name, result.fingerprint, result.scope_key, result.state)
            if result.event in ("firing", "resolved"):
                detection = result.judgement.detection
                events.append(ReplayEvent(now, result.rule.name, result.scope_key, result.event,
                                          detection.value if detection else None,
                                          detection.baseline if detection else None,
                                          detection.zscore if detection else None, result.labels))
    return events
