"""Alertmanager's identities, computed exactly as Alertmanager computes them.

Receivers written for Alertmanager decode these strings with its own code
(`model.ParseFingerprint`, group keys in logs and de-duplication), so they
follow its sources rather than anything finsent-specific:

- `label_fingerprint`: prometheus/common `LabelSet.Fingerprint()` - FNV-1a
  64-bit over the label names in sorted order, each name and value followed by
  the separator byte 255; rendered `%016x` like `Fingerprint.String()`.
- `labelset_string`: `LabelSet.String()` - `{a="x", b="y"}`, names sorted,
  values quoted like Go's `strconv.Quote`, with Go's own printable tables
  (`go_isprint`, Unicode 15.0 as in the Go releases Alertmanager is built
  with), not Python's `unicodedata` (3.11: Unicode 14.0).
- `matchers_string`: Alertmanager `labels.Matchers.String()` of equality
  matchers - `{a="x",b="y"}`, sorted by name then value, values escaped the
  OpenMetrics way (backslash, newline, double quote).
- `route_key`: `Route.Key()` - the matchers of each route from the root down,
  joined by "/" (`{}/{severity="critical"}`); the webhook `groupKey` is
  `<route key>:<group labels>` (`group_key`).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.alerts.delivery.go_isprint import is_print
from monitor.alerts.rules.config import RouteSpec

FNV64_OFFSET = 14695981039346656037
FNV64_PRIME = 1099511628211
SEPARATOR_BYTE = 255  # cannot occur in UTF-8, so ("a", "bc") and ("ab", "c") hash differently
_MASK64 = (1 << 64) - 1
_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v",
               "\\": "\\\\", '"': '\\"'}


def _fnv1a(value: int, data: bytes) -> int:
    for byte in data:
        value = ((value ^ byte) * FNV64_PRIME) & _MASK64
    return value


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """The 16-hex-digit fingerprint Alertmanager gives an alert with these labels."""
    value = FNV64_OFFSET
    separator = bytes([SEPARATOR_BYTE])
    for name in sorted(labels):  # code-point order == Go's byte order for UTF-8
        value = _fnv1a(value, name.encode() + separator + str(labels[name]).encode() + separator)
    return f"{value:016x}"


def go_quote(value: str) -> str:
    """`strconv.Quote(value)`: double-quoted, with Go's escapes for what is not printable."""
    out = ['"']
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif is_print(char):
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def labelset_string(labels: Mapping[str, str]) -> str:
    """`model.LabelSet.String()`: `{alertname="x", ticker="BA"}`."""
    return "{" + ", ".join(f"{name}={go_quote(str(labels[name]))}" for name in sorted(labels)) + "}"


def _openmetrics_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matchers_string(matchers: Mapping[str, str]) -> str:
    """`labels.Matchers.String()` of equality matchers: `{severity="critical",team="risk"}`."""
    pairs = sorted((name, str(value)) for name, value in matchers.items())
    return "{" + ",".join(f'{name}="{_openmetrics_escape(value)}"' for name, value in pairs) + "}"


def route_key(root: RouteSpec, path: str) -> str:
    """Alertmanager's key of the route at `path` ("0.1" = second child of the root).

    A path the tree no longer has (the rules changed under a stored group)
    falls back to the root's key.
    """
    parts = path.split(".")
    route = root
    keys = [matchers_string(root.matchers)]
    for index in parts[1:] if parts[0] == "0" else []:
        if not index.isdigit() or int(index) >= len(route.routes):
            return matchers_string(root.matchers)
        route = route.routes[int(index)]
        keys.append(matchers_string(route.matchers))
    return "/".join(keys)


def group_key(route_key_: str, group_labels: Mapping[str, str]) -> str:
    """The webhook `groupKey`: `{}/{severity="critical"}:{alertname="x", ticker="BA"}`."""
    return f"{route_key_}:{labelset_string(group_labels)}"
