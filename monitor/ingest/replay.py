"""Replay a headline corpus onto the news topic in timestamp order, at a chosen speed.

    finsent ingest replay                          # the shared stream corpus, 60x
    finsent ingest replay corpus.jsonl --speed max --limit 1000
    finsent ingest replay --speed max --stamp-now  # published_at = send time (latency benchmarks)
    finsent ingest replay --from 2018-11-15T04:00-05:00 --to 2018-11-16T15:00-05:00 \
        --rebase-to-now --speed 250x               # a slice, published from now on, 250x compressed

CSV corpora have the columns of ``stream/financial_headlines_stream.csv``:
timestamp (ISO 8601; naive or date-only values are taken as UTC), ts_precision
(minute / day / month, carried as the item's published_precision; when the
column is absent or empty, date-only timestamps are day precision), source,
ticker (optional), headline, orig_time. JSONL corpora hold one
NewsItem object per line. Rows with the same source, headline and timestamp
(Benzinga tags one story with several tickers, one row per ticker) are one
item carrying all their tickers, which is also what the message id says.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from kernel.settings import describe_validation_error
from monitor.contract import NewsItem

if TYPE_CHECKING:
    from monitor.ingest.connector import Outlet

CSV_COLUMNS = ("timestamp", "source", "headline")  # required; ticker, ts_precision, orig_time optional


class CorpusError(ValueError):
    """A corpus row that cannot become a NewsItem; the message names file, line and field."""


def parse_speed(value: str) -> float | None:
    """``"60x"`` -> 60.0 (time compressed 60-fold), ``"max"`` -> None (no waiting)."""
    text = value.strip().lower()
    if text == "max":
        return None
    number = text[:-1] if text.endswith("x") else text
    try:
        speed = float(number)
    except ValueError:
        raise ValueError(f"speed must look like 60x, 1x, 0.5x or max, got {value!r}") from None
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {value!r}")
    return speed


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 to an aware datetime; values without an offset (or date-only) are UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def timestamp_precision(timestamp: str, declared: str | None) -> str:
    """The ts_precision column when given, else day for a date-only timestamp, else minute."""
    if declared and declared.strip():
        return declared.strip().lower()
    return "day" if len(timestamp.strip()) == len("2020-01-31") else "minute"


def read_csv_corpus(path: Path) -> Iterator[NewsItem]:
    """Items of a stream-corpus CSV, in file order; raises CorpusError naming the bad line."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}: missing column(s) {', '.join(missing)} (have {reader.fieldnames})")
        for row in reader:
            line = reader.line_num
            try:
                published_at = parse_timestamp(row["timestamp"])
            except ValueError:
                raise CorpusError(f"{path}:{line}: timestamp: not ISO 8601: {row['timestamp']!r}") from None
            ticker = (row.get("ticker") or "").strip()
            try:
                yield NewsItem(source=row["source"], headline=row["headline"], published_at=published_at,
                               published_precision=timestamp_precision(row["timestamp"], row.get("ts_precision")),
                               tickers=[ticker] if ticker else [])
            except ValidationError as error:
                raise CorpusError(f"{path}:{line}: {describe_validation_error(error, env_prefix=None)}") from None


def read_jsonl_corpus(path: Path) -> Iterator[NewsItem]:
    """Items of a JSONL file (one NewsItem object a line; blank lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield NewsItem.model_validate(json.loads(line))
            except json.JSONDecodeError as error:
                raise CorpusError(f"{path}:{line_number}: not JSON: {error.msg}") from None
            except ValidationError as error:
                problem = describe_validation_error(error, env_prefix=None)
                raise CorpusError(f"{path}:{line_number}: {problem}") from None


def read_corpus(path: Path) -> Iterator[NewsItem]:
    """CSV or JSONL by extension."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return read_jsonl_corpus(path)
    return read_csv_corpus(path)


def merge_repeats(items: Iterable[NewsItem]) -> list[NewsItem]:
    """One item per id, in first-seen order; repeats add their tickers to the first."""
    merged: dict[str, NewsItem] = {}
    for item in items:
        first = merged.get(item.id or "")
        if first is None:
            merged[item.id or ""] = item
        elif set(item.tickers) - set(first.tickers):
            merged[item.id or ""] = first.model_copy(update={"tickers": sorted(set(first.tickers) | set(item.tickers))})
    return list(merged.values())


def in_replay_order(items: Iterable[NewsItem]) -> list[NewsItem]:
    """Sorted by publication time (stable: equal times keep their file order)."""
    return sorted(items, key=lambda item: item.published_at)


def in_window(items: Iterable[NewsItem], start: datetime | None, end: datetime | None) -> list[NewsItem]:
    """The items published in [start, end) (None: open on that side), order kept."""
    return [item for item in items
            if (start is None or item.published_at >= start) and (end is None or item.published_at < end)]


def rebased(items: Sequence[NewsItem], start: datetime, speed: float | None) -> list[NewsItem]:
    """Copies of `items` (in replay order) published from `start` on, their spacing divided by `speed`.

    Alert rules judge windows ending now, so old news must look new to reach
    them; replaying the copies at 1x then sends each one at its new
    published_at. Each copy gets a new id (the original id and the new time),
    since the worker stores an id once and the original may already be stored;
    the headline, so the story, stays the same. With speed None (max) every
    copy is published at `start`.
    """
    offsets = replay_offsets([item.published_at for item in items], speed)
    copies = []
    for item, offset in zip(items, offsets, strict=True):
        published_at = start + timedelta(seconds=offset)
        new_id = hashlib.sha256(f"{item.id}\x1frebased\x1f{published_at.isoformat()}".encode()).hexdigest()
        copies.append(item.model_copy(update={"published_at": published_at, "id": new_id}))
    return copies


def replay_offsets(published: Sequence[datetime], speed: float | None) -> list[float]:
    """Seconds after the start at which each item is due: (t_i - t_0) / speed; all 0 for max."""
    if not published:
        return []
    if speed is None:
        return [0.0] * len(published)
    first = published[0]
    return [max(0.0, (ts - first).total_seconds() / speed) for ts in published]


@dataclass
class ReplayReport:
    sent: int
    seconds: float

    @property
    def items_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def replay(
    items: Sequence[NewsItem],
    speed: float | None,
    send: Callable[[NewsItem], object],
    stamp_now: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], object] | None = None,
) -> ReplayReport:
    """Send items (already in replay order) at their due times.

    With stamp_now, each item's published_at becomes the moment it is sent
    (its id stays the original one), so the worker's published_at ->
    committed latency histogram measures the pipeline itself.
    """
    offsets = replay_offsets([item.published_at for item in items], speed)
    start = clock()
    for item, offset in zip(items, offsets, strict=True):
        wait = start + offset - clock()
        if wait > 0:
            sleep(wait)
        if stamp_now:
            item = item.model_copy(update={"published_at": datetime.now(UTC)})
        send(item)
        if progress is not None:
            progress(1)
    return ReplayReport(sent=len(items), seconds=clock() - start)


@dataclass
class CorpusReplay:
    """The `replay` connector (monitor/ingest/connector.py): items, already in replay order, each sent when it
    falls due (`replay`); `finsent ingest live-segment` runs one named `live-segment`."""

    items: Sequence[NewsItem]
    speed: float | None  # time compression (parse_speed); None: as fast as possible
    stamp_now: bool = False
    progress: Callable[[int], object] | None = None
    name: str = "replay"

    def run(self, outlet: Outlet) -> ReplayReport:
        return replay(self.items, self.speed, outlet.send, stamp_now=self.stamp_now, progress=self.progress)
