"""The alert lifecycle of one series: inactive -> pending -> firing -> (resolved) inactive.

A series whose condition holds becomes pending; it fires once the condition
has held for the rule's `for` duration (Prometheus semantics), so one noisy
window does not page anyone. A pending series whose condition clears is
cancelled without notification; a firing one is resolved. `step` is pure:
the engine stores the returned state in alert_rule_states.
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


def step(previous: SeriesState, condition: bool, now: datetime,
         hold_for: timedelta) -> tuple[SeriesState, Event | None]:
    """The next state and the event it represents."""
    if not condition:
        if previous.state == "firing":
            return SeriesState(), "resolved"
        if previous.state == "pending":
            return SeriesState(), "cancelled"
        return previous, None
    if previous.state == "firing":
        return previous, None
    since = previous.active_since if previous.state == "pending" and previous.active_since else now
    if now - since >= hold_for:
        return SeriesState("firing", since), "firing"
    if previous.state == "pending":
        return previous, None
    return SeriesState("pending", since), "pending"
