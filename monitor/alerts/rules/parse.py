"""Reading the rules file: `parse_rules(text)` / `load_rules(path)` -> a validated `RulesFile`.

The whole file is validated at start, and `RulesFileError`'s message names
the file, the line and the field of every problem:

    rules.yaml:14: rules[2].window: expected a duration like 15m, got '15 minutes'

Line numbers come from the YAML node marks (`yaml.compose`), field checks
from the pydantic models of rules/config.py, what a detector cannot judge from
the detector registry. Check a file from the shell with
`finsent alerts check --rules FILE`.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from monitor.alerts.detectors.registry import DETECTORS, DetectorSpec, who_judges_what
from monitor.alerts.rules.config import (
    TEMPLATE_FIELDS,
    GlobalSpec,
    InhibitRuleSpec,
    ReceiverSpec,
    RouteSpec,
    RulesFile,
    RuleSpec,
    ScopeSpec,
    WebhookSpec,
)


class RulesFileError(Exception):
    """An invalid rules file; str() is one `file:line: field: problem` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def _describe(error: ErrorDetails, fields: dict[Path_, set[str]], path: Path_) -> str:
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
    """What the field types cannot say: unique names, what each detector can judge, known receivers, a root receiver."""
    problems: list[str] = []

    def problem(path: Path_, message: str) -> None:
        problems.append(f"{source}:{_line_of(path, lines)}: {_dotted(path)}: {message}")

    seen: set[str] = set()
    for i, rule in enumerate(rules.rules):
        if rule.name in seen:
            problem(("rules", i, "name"), f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        detector = DETECTORS[rule.detector.type]
        if rule.detector.metric not in detector.metrics:
            problem(("rules", i, "detector", "metric"),
                    f"detector {rule.detector.type} cannot judge metric {rule.detector.metric} "
                    f"({who_judges_what()})")
        else:  # what the detector's fields cannot say: enough baseline, the right scope
            for path, message in detector.check(rule.detector, rule.window, rule.scope.kind):
                problem(("rules", i, *path), message)
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
