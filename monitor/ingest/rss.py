"""Poll RSS/Atom feeds and turn new entries into NewsItems.

    finsent ingest rss https://example.com/markets.rss --interval 60s
    finsent ingest rss URL1 URL2 --once

Each poll is a conditional GET (If-None-Match / If-Modified-Since from the
previous answer), so an unchanged feed costs a 304. Entries are de-duplicated
by guid (or link) across polls and across restarts: the ETag, Last-Modified
and the recently seen keys of each feed are kept in
``<state_dir>/ingest/rss-state.json``, written only after the items were
acknowledged by Kafka (a crash re-sends rather than loses; the item id keeps
the re-send harmless).
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import struct_time
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import feedparser
import httpx
from pydantic import ValidationError

from monitor.contract import MAX_BODY_CHARS, NewsItem

if TYPE_CHECKING:
    from monitor.ingest.connector import Outlet

SEEN_KEYS_KEPT = 5_000  # per feed: far more than any feed lists at once
USER_AGENT = "finsent-rss/0.1 (+https://github.com/finsent)"


@dataclass
class FeedState:
    """What we remember about one feed between polls."""

    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)  # entry keys, oldest first


def load_states(path: Path) -> dict[str, FeedState]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {url: FeedState(**state) for url, state in raw.items()}


def save_states(path: Path, states: dict[str, FeedState]) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({url: vars(state) for url, state in states.items()}, indent=1), encoding="utf-8")
    temporary.replace(path)


def conditional_headers(state: FeedState) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed: struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def _plain_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def entry_key(entry: feedparser.FeedParserDict) -> str | None:
    """The guid, else the link: what makes an entry 'the same' across polls."""
    return entry.get("id") or entry.get("link")


def new_items(
    feed: feedparser.FeedParserDict, source: str, seen: Iterable[str], now: datetime | None = None,
) -> tuple[list[NewsItem], list[str], list[str]]:
    """Entries not seen before, as items; also their keys and the problems of skipped entries."""
    already = set(seen)
    items: list[NewsItem] = []
    keys: list[str] = []
    problems: list[str] = []
    for position, entry in enumerate(feed.entries):
        key = entry_key(entry)
        if key is None or key in already:
            continue
        already.add(key)
        summary = _plain_text(entry.get("summary", ""))[:MAX_BODY_CHARS] or None
        try:
            item = NewsItem(source=source, url=entry.get("link"), headline=_plain_text(entry.get("title", "")),
                            body=summary, published_at=_entry_time(entry) or now or datetime.now(UTC))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            problems.append(f"entry {position} ({key}): {field}: {first['msg']}")
            continue
        items.append(item)
        keys.append(key)
    return items, keys, problems


def source_name(url: str) -> str:
    """The feed's host name without 'www.', e.g. ``feeds.reuters.com``."""
    host = urlparse(url).hostname or url
    return host.removeprefix("www.")[:64]


@dataclass
class PollResult:
    url: str
    status: int
    items: list[NewsItem]
    keys: list[str]
    problems: list[str]
    etag: str | None
    last_modified: str | None


def poll_feed(client: httpx.Client, url: str, state: FeedState, source: str | None = None) -> PollResult:
    """One conditional GET of a feed; a 304 gives no items. HTTP errors raise httpx.HTTPStatusError."""
    response = client.get(url, headers=conditional_headers(state), follow_redirects=True)
    if response.status_code == 304:
        return PollResult(url, 304, [], [], [], state.etag, state.last_modified)
    response.raise_for_status()
    feed = feedparser.parse(response.content)
    items, keys, problems = new_items(feed, source or source_name(url), state.seen)
    if feed.bozo and not feed.entries:
        problems.append(f"not a readable feed: {feed.get('bozo_exception')}")
    return PollResult(url, response.status_code, items, keys, problems,
                      response.headers.get("ETag"), response.headers.get("Last-Modified"))


def remember(state: FeedState, result: PollResult) -> None:
    """Fold a poll whose items were delivered into the feed's state."""
    state.etag = result.etag
    state.last_modified = result.last_modified
    state.seen = (state.seen + result.keys)[-SEEN_KEYS_KEPT:]


@dataclass
class FeedReport:
    sent: int = 0  # items sent, all feeds, all polls
    polls: int = 0  # answered polls (a 304 included)


@dataclass
class FeedPoller:
    """The `rss` connector (monitor/ingest/connector.py): poll every feed, send its new items, and only once they
    are delivered (`outlet.flush`) remember them as seen and save the states; again every `interval_s` until
    stopped, or once."""

    urls: Sequence[str]
    states: dict[str, FeedState]  # load_states(state_file); updated and saved as polls are delivered
    state_file: Path
    interval_s: float
    once: bool = False
    source: str | None = None  # the items' source (default: each feed's host name)
    http_timeout: float = 20.0
    on_poll: Callable[[PollResult], object] = lambda result: None  # after each delivered poll (the CLI's JSON line)
    on_error: Callable[[str, httpx.HTTPError], object] = lambda url, error: None  # a poll that failed; next feed
    transport: httpx.BaseTransport | None = None  # httpx's default; a test's mock
    sleep: Callable[[float], None] = time.sleep
    name = "rss"

    def run(self, outlet: Outlet) -> FeedReport:
        report = FeedReport()
        with httpx.Client(timeout=self.http_timeout, transport=self.transport) as client:
            while True:
                for url in self.urls:
                    state = self.states.setdefault(url, FeedState())
                    try:
                        result = poll_feed(client, url, state, self.source)
                    except httpx.HTTPError as error:
                        self.on_error(url, error)
                        continue
                    for item in result.items:
                        outlet.send(item)
                    outlet.flush()  # delivered before we remember them as seen
                    remember(state, result)
                    save_states(self.state_file, self.states)
                    report.sent += len(result.items)
                    report.polls += 1
                    self.on_poll(result)
                if self.once:
                    return report
                self.sleep(self.interval_s)
