"""The alert lifecycle of one series: inactive -> pending -> firing -> (resolved) inactive.

A series whose condition holds becomes pending; it fires once the condition
has held for the rule's `for` duration (Prometheus semantics), so one noisy
window does not page anyone. A pending series whose condition clears is
cancelled without notification; a firing one is resolved, or, with the rule's
`keep_firing_for` (Prometheus 2.42's field), resolved only once the condition
has stayed clear that long: a series that flaps around its threshold is one
alert, not one per crossing (the market drift rule on a dense wire crossed
and re-crossed within the hour, 482 alerts in 2007; docs/alerts.md). `step`
is pure: the engine stores the returned state in alert_rule_states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

State = Literal["inactive", "pending", "firing"]
# What happened in one step; None when nothing changed.
Event = Literal["pending", "firing", "resolved", "cancelled"]


@dataclass(frozen=True)
class SeriesState:
    state: State = "inactive"
    active_since: datetime | None = None  # when the condition started holding
    held_at: datetime | None = None  # while firing: the last evaluation at which the condition held


def step(previous: SeriesState, condition: bool, now: datetime, hold_for: timedelta,
         keep_for: timedelta = timedelta(0)) -> tuple[SeriesState, Event | None]:
    """The next state and the event it represents (hold_for: the rule's `for`; keep_for: `keep_firing_for`)."""
    if not condition:
        if previous.state == "firing":
            held_at = previous.held_at or previous.active_since or now
            if now - held_at < keep_for:
                return previous, None
            return SeriesState(), "resolved"
        if previous.state == "pending":
            return SeriesState(), "cancelled"
        return previous, None
    if previous.state == "firing":
        return SeriesState("firing", previous.active_since, now), None
    since = previous.active_since if previous.state == "pending" and previous.active_since else now
    if now - since >= hold_for:
        return SeriesState("firing", since, now), "firing"
    if previous.state == "pending":
        return previous, None
    return SeriesState("pending", since), "pending"
