"""The routing tree: which receivers get an alert, and which notification group it joins.

Alertmanager semantics: the root route matches every alert; child routes are
tried in order, options unset on a child are inherited from its parent, the
first matching child wins unless it sets `continue: true`, and the deepest
matching route decides. Alerts routed to the same route with the same values
of its `group_by` labels form one group and are notified together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.alerts.rules.config import RouteSpec
from monitor.alerts.silences.matching import matches

# Alertmanager's defaults for options that no route sets.
DEFAULT_GROUP_WAIT = timedelta(seconds=30)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)
DEFAULT_REPEAT_INTERVAL = timedelta(hours=4)


@dataclass(frozen=True)
class EffectiveRoute:
    """A route with everything inherited filled in; `path` ("0.1") names it in group keys."""

    path: str
    receiver: str
    group_by: tuple[str, ...] | None  # None: group by all labels ("..." in the file)
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by is None:
            return dict(sorted(labels.items()))
        return {name: labels[name] for name in self.group_by if name in labels}

    def group_key(self, labels: Mapping[str, str]) -> str:
        """Alertmanager-style key: `{}/{route path}:{label="value",...}`."""
        body = ",".join(f'{k}="{v}"' for k, v in sorted(self.group_labels(labels).items()))
        return f"{{}}/{self.path}:{{{body}}}"


def _inherit(route: RouteSpec, parent: EffectiveRoute | None, path: str) -> EffectiveRoute:
    group_by: tuple[str, ...] | None
    if route.group_by is not None:
        group_by = None if "..." in route.group_by else tuple(route.group_by)
    else:
        group_by = parent.group_by if parent else ()
    return EffectiveRoute(
        path=path,
        receiver=route.receiver or (parent.receiver if parent else ""),
        group_by=group_by,
        group_wait=route.group_wait if route.group_wait is not None else (
            parent.group_wait if parent else DEFAULT_GROUP_WAIT),
        group_interval=route.group_interval if route.group_interval is not None else (
            parent.group_interval if parent else DEFAULT_GROUP_INTERVAL),
        repeat_interval=route.repeat_interval if route.repeat_interval is not None else (
            parent.repeat_interval if parent else DEFAULT_REPEAT_INTERVAL),
    )


def routes_for(labels: Mapping[str, str], root: RouteSpec) -> list[EffectiveRoute]:
    """The routes (one per receiver path) that an alert with labels is sent along."""

    def visit(route: RouteSpec, parent: EffectiveRoute | None, path: str) -> list[EffectiveRoute]:
        if parent is not None and not matches(route.matchers, labels):
            return []
        here = _inherit(route, parent, path)
        found: list[EffectiveRoute] = []
        for i, child in enumerate(route.routes):
            child_routes = visit(child, here, f"{path}.{i}")
            if child_routes:
                found.extend(child_routes)
                if not child.continue_:
                    break
        return found or [here]

    return visit(root, None, "0")


def route_at(root: RouteSpec, path: str) -> EffectiveRoute | None:
    """The effective route named by path ("0.1.0"), or None when the tree no longer has it."""
    parts = path.split(".")
    if parts[0] != "0":
        return None
    route, here = root, _inherit(root, None, "0")
    for index in parts[1:]:
        if not index.isdigit() or int(index) >= len(route.routes):
            return None
        route = route.routes[int(index)]
        here = _inherit(route, here, f"{here.path}.{index}")
    return here
