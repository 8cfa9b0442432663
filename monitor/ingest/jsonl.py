"""Read news items as JSON lines (a file or stdin) and send them to the news topic.

    some-scraper | finsent ingest jsonl -
    finsent ingest jsonl items.jsonl

Each line is validated exactly as the worker would validate it
(`monitor.wire.parse_item`). A bad line is reported on stderr with
its line number and reason AND sent to the dead-letter topic with the
original bytes, so it is neither lost silently nor put on the news topic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.contract import NewsItem
from monitor.wire import DeadLetter, parse_item

if TYPE_CHECKING:
    from monitor.ingest.connector import Outlet


@dataclass
class JsonlReport:
    sent: int = 0
    dead_lettered: int = 0
    blank: int = 0
    problems: list[str] = field(default_factory=list)  # "line 3: malformed_json: ..."


def ingest_lines(
    lines: Iterable[bytes],
    name: str,
    send: Callable[[NewsItem], object],
    send_dead_letter: Callable[[DeadLetter], object],
) -> JsonlReport:
    """Validate and route every line; never stops at a bad one."""
    report = JsonlReport()
    for line_number, line in enumerate(lines, start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            report.blank += 1
            continue
        parsed = parse_item(raw, origin=f"{name}:{line_number}")
        if isinstance(parsed, DeadLetter):
            report.dead_lettered += 1
            report.problems.append(f"line {line_number}: {parsed.reason}: {parsed.detail}")
            send_dead_letter(parsed)
        else:
            report.sent += 1
            send(parsed)
    return report


@dataclass
class JsonLines:
    """The `jsonl` connector (monitor/ingest/connector.py): every line validated and routed by `ingest_lines`."""

    lines: Iterable[bytes]
    origin: str  # the file's name or "stdin": a dead letter's origin is "<origin>:<line number>"
    name = "jsonl"

    def run(self, outlet: Outlet) -> JsonlReport:
        return ingest_lines(self.lines, self.origin, outlet.send, outlet.dead_letter)
