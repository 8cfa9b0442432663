"""Prometheus-style durations (`30s`, `15m`, `1h30m`, `7d`) for the rules file and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+[wdhms])+$")
_PART = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: object) -> timedelta:
    """`"1h30m"` -> timedelta(hours=1, minutes=30); ValueError with the expected form otherwise."""
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str) or not _DURATION.match(text.strip()):
        raise ValueError(f"expected a duration like 15m, got {text!r}")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text.strip()))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest Prometheus form of value: 5400 s -> `1h30m`."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


# A pydantic field type: accepts "15m" (not bare numbers, which are ambiguous), dumps as "15m".
Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
