"""Label matchers, silences and inhibition: which alerts are muted, and by what.

Inhibit rules' matchers are `{label: value}` equality maps (`matches`); a
silence carries Alertmanager matchers (`=`, `!=`, `=~`, `!~`,
matchers.py) and matches when all of them do. An alert is
muted when an active silence matches it, or when an inhibit rule's source alert is firing with the same
values for the rule's `equal` labels (a sector alert mutes its tickers').
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.rules.config import InhibitRuleSpec
from monitor.alerts.silences.matchers import Matcher, load_matchers, matches_all


def matches(matchers: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """True when every matcher label has exactly that value (an empty matcher set matches all)."""
    return all(labels.get(name) == value for name, value in matchers.items())


@dataclass(frozen=True)
class SilenceView:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""

    def __post_init__(self) -> None:  # also takes a stored row's matchers (a list, or an old {label: value} map)
        if not all(isinstance(m, Matcher) for m in self.matchers):
            object.__setattr__(self, "matchers", tuple(load_matchers(self.matchers)))

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def silencing(labels: Mapping[str, str], silences: Sequence[SilenceView], now: datetime) -> SilenceView | None:
    """The first active silence matching labels, if any."""
    return next((s for s in silences if s.active(now) and matches_all(s.matchers, labels)), None)


def inhibiting(labels: Mapping[str, str], firing: Sequence[Mapping[str, str]],
               rules: Sequence[InhibitRuleSpec]) -> InhibitRuleSpec | None:
    """The first inhibit rule muting labels, given the label sets of the firing alerts."""
    for rule in rules:
        if not matches(rule.target_matchers, labels):
            continue
        for source in firing:
            if source is labels or dict(source) == dict(labels):
                continue  # an alert never inhibits itself
            if matches(rule.source_matchers, source) and all(
                    name in source and source.get(name) == labels.get(name) for name in rule.equal):
                return rule
    return None
