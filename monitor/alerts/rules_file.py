"""The alert rules file: YAML in four parts (rules, route, inhibit_rules, receivers), like Alertmanager.

`load_rules(path)` validates the whole file at start and raises `RulesFileError`
whose message names the file, the line and the field of every problem:

    rules.yaml:14: rules[2].window: expected a duration like 15m, got '15 minutes'

Line numbers come from the YAML node marks (`yaml.compose`), field checks
from the pydantic models below. Check a file from the shell with
`finsent alerts check --rules FILE`.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.alerts.durations import Duration, format_duration

ScopeKind = Literal["ticker", "entity", "event", "person", "institution", "place", "topic", "sector", "source", "all"]
# The scope kind of a rule -> scope_kind in sentiment_aggregates.
AGGREGATE_SCOPE_KIND: dict[str, str] = {
    "ticker": "ticker", "entity": "entity", "event": "event", "person": "person", "institution": "institution",
    "place": "place", "topic": "topic", "sector": "sector", "source": "source", "all": "global",
}
COUNT_METRICS = frozenset({"negative_stories", "stories"})
# threshold: the window's net adverse severity of financial events (the `event` scope's stories are scored
# polarity x severity, monitor/storage/aggregates.py): one bankruptcy (3) fires at 3, one downgrade (1) does not
THRESHOLD_METRICS = frozenset({"adverse_severity"})
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
ENV_VAR_NAME = r"^[A-Z_][A-Z0-9_]*$"
# Fields that annotation templates may use, e.g. "{ticker} negative share {value:.0%}".
TEMPLATE_FIELDS = frozenset({"value", "baseline", "baseline_sigma", "zscore", "statistic", "stories", "articles",
                             "window", "rule", "scope", "key", "top_headline"})


class RulesFileError(Exception):
    """An invalid rules file; str() is one `file:line: field: problem` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


class DetectorSpec(_Strict):
    """How a window is judged anomalous against its baseline windows (see detectors.py)."""

    type: Literal["zscore", "ewma", "cusum", "count", "threshold"] = "zscore"
    # Shares and scores for zscore/ewma/cusum; story counts (negative_stories, stories) for count;
    # adverse_severity (the `event` scope) for threshold.
    metric: Literal["negative_share", "mean_score", "negative_stories", "stories", "adverse_severity"] = \
        "negative_share"
    # up: alert when the metric rises; default up for negative_share, down for mean_score.
    direction: Literal["up", "down"] | None = None
    threshold: float = Field(3.5, gt=0, description="z-score (zscore, ewma) or value (threshold) that fires")
    baseline: Duration = timedelta(days=1)  # how far back the baseline windows reach
    min_baseline_windows: int = Field(12, ge=3)  # fewer usable windows: not evaluated
    # Floor under the robust sigma: a baseline of identical values must not make tiny moves infinite.
    min_deviation: float = Field(0.05, gt=0)
    alpha: float = Field(0.2, gt=0, le=1, description="EWMA smoothing factor")
    k: float = Field(0.5, ge=0, description="CUSUM slack, in sigmas")
    h: float = Field(5.0, gt=0, description="CUSUM decision interval, in sigmas")
    seasonality: Literal["none", "hour_of_week"] = "none"
    # count: the fewest counted stories (of the metric) that may fire, however surprising fewer would be.
    min_count: int = Field(3, ge=1)
    # count: fire only when the window's mean sentiment score (p(positive) - p(negative) per story) is
    # below zero and below the rest of the feed's over the baseline (series._judge_count). An adverse event's coverage leans negative even where most headlines are labelled
    # neutral; a burst of good news, which carries a few misread headlines too, does not.
    negative_lean: bool = True
    # count, with negative_lean: how far below that reference the window's mean score must be. A burst of
    # neutral stories a hair under the feed's mean (-0.05 against 0) is no adverse event.
    lean_margin: float = Field(0.0, ge=0, le=1)
    # count: how many alerts per window chance alone may raise over ALL the scope's keys (Bonferroni). Each key
    # is then judged at the larger of `threshold` and the z whose upper tail is chance_alerts / (keys with
    # stories in the window before the current one). A feed of 60 headlines a day tests a few dozen companies a day, a dense wire
    # of 560 about 800: at one z per key the wire raised several chance bursts a day (issue #25). None: off.
    chance_alerts: float | None = Field(None, gt=0)

    @property
    def rising_is_bad(self) -> bool:
        if self.direction is not None:
            return self.direction == "up"
        return self.metric != "mean_score"

    @property
    def counts_stories(self) -> bool:
        return self.metric in COUNT_METRICS


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


# --- YAML with line numbers --------------------------------------------------

Path_ = tuple[str | int, ...]


def _compose(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML into plain data plus {path: 1-based line} for every key and item."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        raise RulesFileError([f"{source}:{line}: invalid YAML: {problem}"]) from None
    lines: dict[Path_, int] = {}
    problems: list[str] = []

    def walk(node: yaml.Node, path: Path_) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in result:
                    problems.append(f"{source}:{key_node.start_mark.line + 1}: {_dotted(path + (key,))}: "
                                    "duplicate key")
                lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = walk(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, path + (i,)) for i, item in enumerate(node.value)]
        return yaml.SafeLoader(" ").construct_object(node, deep=True)

    data = walk(root, ()) if root is not None else None
    if problems:
        raise RulesFileError(problems)
    return data, lines


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(path: Path_, lines: Mapping[Path_, int]) -> int:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def _describe(error: dict[str, Any], fields: dict[Path_, set[str]], path: Path_) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        known = ", ".join(sorted(fields.get(path[:-1], set())))
        return f"unknown field (expected one of: {known})" if known else "unknown field"
    message: str = error["msg"]
    for prefix in _PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    if kind.startswith(("literal_error", "string_pattern", "greater_than", "less_than", "int_", "float_", "bool_",
                        "string_type", "list_type", "dict_type", "model_type")):
        message = f"{message[0].lower()}{message[1:]}, got {error.get('input')!r}"
    return message


def _known_fields() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for model in (RulesFile, RuleSpec, ScopeSpec, DetectorSpec, RouteSpec, InhibitRuleSpec, WebhookSpec,
                  ReceiverSpec, GlobalSpec):
        out[model.__name__] = {f.alias or n for n, f in model.model_fields.items() if n != "source"}
    return out


def _model_at(path: Path_) -> str | None:
    """Which model a (string-keys-only) path lands in, to list its fields in 'unknown field'."""
    names = [p for p in path if isinstance(p, str)]
    model = "RulesFile"
    children = {("RulesFile", "rules"): "RuleSpec", ("RulesFile", "route"): "RouteSpec",
                ("RulesFile", "inhibit_rules"): "InhibitRuleSpec", ("RulesFile", "receivers"): "ReceiverSpec",
                ("RulesFile", "global"): "GlobalSpec", ("RuleSpec", "scope"): "ScopeSpec",
                ("RuleSpec", "detector"): "DetectorSpec", ("RouteSpec", "routes"): "RouteSpec",
                ("ReceiverSpec", "webhook"): "WebhookSpec"}
    for name in names:
        nxt = children.get((model, name))
        if nxt is None:
            return None
        model = nxt
    return model


def parse_rules(text: str, source: str = "<rules>") -> RulesFile:
    """Validate rules-file text; raise RulesFileError listing every problem with its line."""
    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        raise RulesFileError([f"{source}:1: (top level): expected a mapping with rules, route and receivers"])
    try:
        rules = RulesFile.model_validate({**data, "source": source})
    except ValidationError as error:
        known = _known_fields()
        problems = []
        for item in error.errors():
            path: Path_ = tuple(item["loc"])
            parent_model = _model_at(path[:-1]) if item["type"] == "extra_forbidden" else None
            fields = {path[:-1]: known.get(parent_model or "", set())}
            problems.append(f"{source}:{_line_of(path, lines)}: {_dotted(path)}: {_describe(item, fields, path)}")
        raise RulesFileError(problems) from None
    problems = _cross_checks(rules, data, lines, source)
    if problems:
        raise RulesFileError(problems)
    return rules


def _cross_checks(rules: RulesFile, data: dict[str, Any], lines: dict[Path_, int], source: str) -> list[str]:
    """What the field types cannot say: unique names, known receivers, a root receiver."""
    problems: list[str] = []

    def problem(path: Path_, message: str) -> None:
        problems.append(f"{source}:{_line_of(path, lines)}: {_dotted(path)}: {message}")

    seen: set[str] = set()
    for i, rule in enumerate(rules.rules):
        if rule.name in seen:
            problem(("rules", i, "name"), f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        windows = rule.detector.baseline // rule.window
        thresholded = rule.detector.metric in THRESHOLD_METRICS
        if ((rule.detector.type == "count") != rule.detector.counts_stories
                or (rule.detector.type == "threshold") != thresholded):
            problem(("rules", i, "detector", "metric"),
                    f"detector {rule.detector.type} cannot judge metric {rule.detector.metric} (count judges "
                    f"{' and '.join(sorted(COUNT_METRICS))}; threshold judges adverse_severity; zscore, ewma and "
                    "cusum judge negative_share and mean_score)")
        elif thresholded and rule.scope.kind != "event":
            problem(("rules", i, "scope"), f"metric adverse_severity is counted only in the event scope, "
                                           f"not {rule.scope.kind}")
        elif rule.detector.type == "threshold":
            pass  # judged on the current window alone: no baseline needed
        elif rule.detector.type == "count":
            if windows < 1:
                problem(("rules", i, "detector", "baseline"),
                        f"{format_duration(rule.detector.baseline)} is shorter than the window "
                        f"{format_duration(rule.window)}")
        elif windows < rule.detector.min_baseline_windows:
            problem(("rules", i, "detector", "baseline"),
                    f"{format_duration(rule.detector.baseline)} holds only {windows} windows of "
                    f"{format_duration(rule.window)}; need at least min_baseline_windows="
                    f"{rule.detector.min_baseline_windows}")
        allowed = TEMPLATE_FIELDS | {"alertname", "severity", rule.scope.kind} | set(rule.labels)
        if rule.scope.kind == "ticker":
            allowed |= {"sector"}
        for name, template in rule.annotations.items():
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            except ValueError as error:
                problem(("rules", i, "annotations", name), f"bad template: {error}")
                continue
            unknown = {f.split(".")[0].split("[")[0] for f in fields} - allowed
            if unknown:
                problem(("rules", i, "annotations", name),
                        f"unknown template field {', '.join(sorted(unknown))} (known: {', '.join(sorted(allowed))})")
    receiver_names = [r.name for r in rules.receivers]
    for i, name in enumerate(receiver_names):
        if name in receiver_names[:i]:
            problem(("receivers", i, "name"), f"duplicate receiver name {name!r}")
    if rules.route.receiver is None:
        problem(("route",), "the root route needs a receiver")

    def check_route(route: RouteSpec, path: Path_) -> None:
        if route.receiver is not None and route.receiver not in receiver_names:
            problem(path + ("receiver",), f"unknown receiver {route.receiver!r} (defined: {', '.join(receiver_names)})")
        for j, child in enumerate(route.routes):
            check_route(child, path + ("routes", j))

    check_route(rules.route, ("route",))
    return problems


def load_rules(path: str | os.PathLike[str]) -> RulesFile:
    """Read and validate a rules file; errors name `file:line`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileError([f"{file}: cannot read rules file: {error.strerror}"]) from None
    return parse_rules(text, source=file.name)


def check_secrets(rules: RulesFile, environ: Mapping[str, str] = os.environ) -> None:
    """Fail at start, not at the first delivery, when a receiver's secret variable is unset."""
    missing = [f"{rules.source}: receivers[{i}].webhook.secret_env: environment variable "
               f"{r.webhook.secret_env} is not set"
               for i, r in enumerate(rules.receivers) if r.webhook.secret_env and not environ.get(r.webhook.secret_env)]
    if missing:
        raise RulesFileError(missing)


def default_rules_path() -> Path:
    """FINSENT_ALERT_RULES, else the example file shipped beside this module."""
    from kernel.settings import get_settings

    return get_settings().alert_rules
