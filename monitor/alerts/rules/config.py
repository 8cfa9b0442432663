"""The rules file's types: YAML in four parts (rules, route, inhibit_rules, receivers), like Alertmanager.

Pydantic models, strict (unknown fields are errors) and frozen. A rule's
`detector:` is `DetectorSpec`, composed by the detector registry
(monitor/alerts/detectors/registry.py) of every registered detector's config
type. rules/parse.py reads a file into a `RulesFile` with line-precise errors.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.alerts.detectors.registry import DetectorSpec
from monitor.alerts.durations import Duration

ScopeKind = Literal["ticker", "entity", "event", "person", "institution", "place", "topic", "sector", "source", "all"]
# The scope kind of a rule -> scope_kind in sentiment_aggregates.
AGGREGATE_SCOPE_KIND: dict[str, str] = {
    "ticker": "ticker", "entity": "entity", "event": "event", "person": "person", "institution": "institution",
    "place": "place", "topic": "topic", "sector": "sector", "source": "source", "all": "global",
}
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
ENV_VAR_NAME = r"^[A-Z_][A-Z0-9_]*$"
# Fields that annotation templates may use, e.g. "{ticker} negative share {value:.0%}".
TEMPLATE_FIELDS = frozenset({"value", "baseline", "baseline_sigma", "zscore", "statistic", "stories", "articles",
                             "window", "rule", "scope", "key", "top_headline"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ScopeSpec(_Strict):
    """What a rule watches: one kind of aggregate scope, all of its keys ("*") or a list."""

    kind: ScopeKind
    keys: list[str] | Literal["*"] = "*"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `scope: ticker` is `scope: {kind: ticker, keys: "*"}`.
        return {"kind": value} if isinstance(value, str) else value

    @property
    def aggregate_kind(self) -> str:
        return AGGREGATE_SCOPE_KIND[self.kind]


class RuleSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    scope: ScopeSpec
    window: Duration
    detector: DetectorSpec = DetectorSpec()
    min_stories: int = Field(3, ge=1, description="distinct stories needed in the window")
    # Distinct sources needed in the window, capped at the number the whole feed had in it:
    # one outlet's headline is not an event when the feed carries several.
    min_sources: int = Field(1, ge=1)
    for_: Duration = Field(timedelta(0), alias="for")
    # Prometheus' keep_firing_for: a firing alert resolves only after its condition stayed clear this long.
    keep_firing_for: Duration = Field(timedelta(0))
    # calendar: a window of whole days is a UTC day and a window of whole hours a clock hour, and whole-day
    # windows count date-only stories too. rolling: the window slides by the next finer bucket (whole days
    # by the hour, whole hours by the minute) and ends with it, so a guidance cut at 21:11 UTC and the
    # downgrades the next morning are one window; it counts timed stories only (a date-only story has no
    # hour to slide by).
    align: Literal["calendar", "rolling"] = "calendar"
    severity: Literal["info", "warning", "critical"] = "warning"
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}

    @field_validator("window")
    @classmethod
    def _window_whole_minutes(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 60 or value.total_seconds() % 60:
            raise ValueError(f"expected a whole number of minutes (aggregates are per minute), got {value}")
        return value

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(LABEL_NAME, name):
                raise ValueError(f"invalid label name {name!r}: expected letters, digits and _")
        return value

    @property
    def bucket_seconds(self) -> int:
        """Daily buckets for whole days, hourly for whole hours (fewer rows), else minute buckets; one width
        finer when the window is `rolling`.

        Only daily buckets count day-precision (date-only) stories; shorter windows see the
        minute-precision ones, whose time of day is known.
        """
        seconds = self.window.total_seconds()
        calendar = 86_400 if seconds % 86_400 == 0 else 3600 if seconds % 3600 == 0 else 60
        if self.align == "rolling":
            return {86_400: 3600, 3600: 60}.get(calendar, 60)
        return calendar


class RouteSpec(_Strict):
    """A node of the routing tree. Unset options are inherited from the parent route."""

    receiver: str | None = None
    matchers: dict[str, str] = {}
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(False, alias="continue")
    routes: list[RouteSpec] = []


class InhibitRuleSpec(_Strict):
    """While an alert matching source_matchers fires, mute alerts matching target_matchers
    that have the same values for the `equal` labels."""

    source_matchers: dict[str, str]
    target_matchers: dict[str, str]
    equal: list[str] = []


class WebhookSpec(_Strict):
    url: str
    format: Literal["alertmanager", "slack"] = "alertmanager"
    secret_env: str | None = None  # name of the environment variable holding the HMAC secret
    timeout: Duration = timedelta(seconds=10)
    max_age: Duration = timedelta(hours=24)  # undelivered for longer: dead
    max_alerts: int = Field(0, ge=0)  # 0: no limit; else cut and report truncatedAlerts

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(ENV_VAR_NAME, value):
            raise ValueError(f"expected an environment variable name like FINSENT_WEBHOOK_SECRET (the secret itself "
                             f"never goes in the file), got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value


class ReceiverSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    webhook: WebhookSpec


class GlobalSpec(_Strict):
    evaluation_interval: Duration = timedelta(seconds=30)
    external_url: str = "http://127.0.0.1:8501"


class RulesFile(_Strict):
    """The whole validated rules file."""

    global_: GlobalSpec = Field(GlobalSpec(), alias="global")
    rules: list[RuleSpec]
    route: RouteSpec
    inhibit_rules: list[InhibitRuleSpec] = []
    receivers: list[ReceiverSpec]
    source: str = Field("<rules>", exclude=True)  # where it was read from, for messages

    def receiver(self, name: str) -> ReceiverSpec:
        return next(r for r in self.receivers if r.name == name)

    def rule(self, name: str) -> RuleSpec:
        return next(r for r in self.rules if r.name == name)
