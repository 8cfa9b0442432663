"""One evaluation step over every rule: observations + previous states -> new states and events (pure).

`evaluate(rules, observations, states, now, sector_of)` is what the alerter,
the replay command and the tests share; it does no I/O. Each series (rule x
scope key) is identified by its fingerprint, the hash of the rule name and its
identifying labels, so the same spike on the same ticker is one alert however
often it is evaluated (deduplication), and it gets the labels the routes,
silences and inhibit rules match on:

    alertname, severity, scope, <scope kind>=<key> (ticker=ACME), sector (for
    tickers, from the injected `sector_of`), and the rule's own labels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from model.network.labels import TOPIC_LABELS
from monitor.alerts.detectors.base import Judgement
from monitor.alerts.detectors.observation import Observation
from monitor.alerts.durations import format_duration
from monitor.alerts.rules.config import RulesFile, RuleSpec
from monitor.alerts.rules.lifecycle import Event, SeriesState, step
from monitor.alerts.rules.series import judge

SectorLookup = Callable[[str], str | None]


def no_sectors(ticker: str) -> str | None:
    return None


def default_sector_lookup() -> SectorLookup:
    """The gazetteer's ticker -> sector map when model.network.linking is available, else no sectors."""
    try:
        from model.network.linking import Gazetteer  # written by the model-data engineer
    except ImportError:
        return no_sectors
    try:
        gazetteer = Gazetteer.default()
    except Exception:  # a missing data file must not stop alerting; tickers just get no sector label
        return no_sectors
    return gazetteer.sector


def series_labels(rule: RuleSpec, key: str, sector_of: SectorLookup) -> dict[str, str]:
    """The identifying and routing labels of one series."""
    labels = {"alertname": rule.name, "severity": rule.severity, "scope": rule.scope.kind, **rule.labels}
    if rule.scope.kind != "all":
        labels[rule.scope.kind] = key
    if rule.scope.kind == "ticker":
        sector = sector_of(key)
        if sector:
            labels["sector"] = sector
    return labels


def fingerprint(rule_name: str, scope_kind: str, key: str) -> str:
    """sha256 of the rule and the series' identity; stable across label enrichment (sector) changes."""
    identity = json.dumps([rule_name, scope_kind, key], separators=(",", ":"))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StoredState:
    """What alert_rule_states remembers about one series between evaluations."""

    rule_name: str
    fingerprint: str
    scope_key: str
    series: SeriesState


@dataclass(frozen=True)
class SeriesResult:
    """The outcome of one series in one evaluation."""

    rule: RuleSpec
    fingerprint: str
    scope_key: str
    labels: dict[str, str]
    judgement: Judgement
    state: SeriesState
    event: Event | None
    stories: int = 0  # in the current window
    articles: int = 0

    @property
    def condition(self) -> bool:
        return self.judgement.detection is not None and self.judgement.detection.fired

    def evidence(self) -> dict[str, Any]:
        """value, baseline, z-score and the detector's statistic (articles are added by the store)."""
        detection = self.judgement.detection
        numbers: dict[str, Any] = {"metric": self.rule.detector.metric, "detector": self.rule.detector.type,
                                   "window": format_duration(self.rule.window), "reason": self.judgement.reason}
        if detection is not None:
            numbers |= {"value": detection.value, "baseline": detection.baseline,
                        "baseline_sigma": detection.baseline_sigma, "zscore": detection.zscore,
                        "statistic": detection.statistic}
        return numbers | {"stories": self.stories, "articles": self.articles}


@dataclass
class Evaluation:
    now: datetime
    results: list[SeriesResult] = field(default_factory=list)

    def events(self) -> list[SeriesResult]:
        return [r for r in self.results if r.event is not None]


def evaluate(rules: RulesFile, observations: Mapping[str, Mapping[str, Observation]],
             states: Mapping[tuple[str, str], StoredState], now: datetime,
             sector_of: SectorLookup = no_sectors) -> Evaluation:
    """Judge every series of every rule and step its lifecycle.

    observations: rule name -> scope key -> Observation (keys without data are absent).
    states: (rule name, fingerprint) -> StoredState; series with a state but no
    observation are judged "no data", which resolves them.
    """
    evaluation = Evaluation(now=now)
    for rule in rules.rules:
        by_key = dict(observations.get(rule.name, {}))
        if rule.scope.keys != "*":
            by_key = {k: v for k, v in by_key.items() if k in rule.scope.keys}
        keys = set(by_key) | {s.scope_key for s in states.values() if s.rule_name == rule.name}
        for key in sorted(keys):
            fp = fingerprint(rule.name, rule.scope.kind, key)
            observation = by_key.get(key)
            judgement = judge(rule, observation) if observation else Judgement(None, "no data in the window")
            previous = states.get((rule.name, fp))
            condition = judgement.detection is not None and judgement.detection.fired
            new_state, event = step(previous.series if previous else SeriesState(), condition, now, rule.for_,
                                    rule.keep_firing_for)
            evaluation.results.append(SeriesResult(rule=rule, fingerprint=fp, scope_key=key,
                                                   labels=series_labels(rule, key, sector_of),
                                                   judgement=judgement, state=new_state, event=event,
                                                   stories=observation.current.stories if observation else 0,
                                                   articles=observation.current.articles if observation else 0))
    return evaluation


def template_values(result: SeriesResult, evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The fields annotation templates may use ({ticker}, {value:.0%}, {top_headline}, ...)."""
    values: dict[str, Any] = {"value": float("nan"), "baseline": float("nan"), "baseline_sigma": float("nan"),
                              "zscore": float("nan"), "statistic": float("nan")}
    values |= {k: v for k, v in evidence.items() if k in values or k in ("stories", "articles", "window")}
    values |= {"rule": result.rule.name, "scope": result.rule.scope.kind, "key": result.scope_key,
               **result.labels}
    if result.rule.scope.kind == "topic" and result.scope_key.isdigit() and int(result.scope_key) < len(TOPIC_LABELS):
        values["topic"] = TOPIC_LABELS[int(result.scope_key)]
    articles = evidence.get("top_articles") or []
    values["top_headline"] = articles[0]["headline"] if articles else ""
    return values


def render_annotations(result: SeriesResult, evidence: Mapping[str, Any]) -> dict[str, str]:
    """The rule's annotation templates filled in; a template that fails is kept verbatim, never fatal."""
    values = template_values(result, evidence)
    rendered = {}
    for name, template in result.rule.annotations.items():
        try:
            rendered[name] = template.format_map(values)
        except (KeyError, ValueError, TypeError, IndexError):
            rendered[name] = template
    return rendered
