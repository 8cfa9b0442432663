"""RSS polling: entries to items, de-duplication across polls, conditional GET against a loopback feed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import httpx
import pytest

from monitor.ingest.rss import FeedState, load_states, new_items, poll_feed, remember, save_states

FEED = (Path(__file__).resolve().parent.parent / "fixtures" / "stream" / "feed.xml").read_bytes()
ETAG = '"feed-v1"'


def test_entries_become_items_and_untitled_ones_are_reported() -> None:
    items, keys, problems = new_items(feedparser.parse(FEED), "example.com", seen=[])
    assert [i.headline for i in items] == ["Fed holds rates steady, signals two cuts this year",
                                           "Nvidia shares hit record on AI chip demand"]
    assert items[0].body == "The Federal Reserve left its benchmark rate & guidance unchanged."
    assert items[0].published_at.isoformat() == "2024-03-20T18:00:00+00:00"
    assert keys == ["fed-holds-rates-2024-03-20", "nvidia-record-2024-03-20"]
    assert len(problems) == 1 and "headline" in problems[0]


def test_seen_entries_are_not_sent_again() -> None:
    items, _, _ = new_items(feedparser.parse(FEED), "example.com", seen=["fed-holds-rates-2024-03-20"])
    assert [i.headline for i in items] == ["Nvidia shares hit record on AI chip demand"]


class FeedHandler(BaseHTTPRequestHandler):
    requests: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        FeedHandler.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", ETAG)
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def feed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FeedHandler.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/markets.rss"
    server.shutdown()
    server.server_close()


def test_second_poll_is_conditional_and_state_survives_a_restart(feed_url: str, tmp_path: Path) -> None:
    state_file = tmp_path / "rss-state.json"
    with httpx.Client(timeout=5) as client:
        states = {feed_url: FeedState()}
        first = poll_feed(client, feed_url, states[feed_url])
        assert (first.status, len(first.items)) == (200, 2)
        assert first.items[0].source == "127.0.0.1"
        remember(states[feed_url], first)
        save_states(state_file, states)

        restarted = load_states(state_file)  # a new process
        second = poll_feed(client, feed_url, restarted[feed_url])
    assert (second.status, second.items) == (304, [])
    assert FeedHandler.requests[1].get("If-None-Match") == ETAG
    assert restarted[feed_url].seen == ["fed-holds-rates-2024-03-20", "nvidia-record-2024-03-20"]
