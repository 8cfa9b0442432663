"""Every connector is a Connector (monitor/ingest/connector.py): run onto an outlet, it sends its items there.

A new connector adds its case here (docs/architecture.md, "A new connector").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from monitor.contract import NewsItem
from monitor.ingest.connector import Connector, ConnectorReport, KafkaOutlet
from monitor.ingest.jsonl import JsonLines
from monitor.ingest.live_segment import LIVE_SEGMENT, live_segment_replay
from monitor.ingest.replay import CorpusReplay
from monitor.ingest.rss import FeedPoller, FeedState, PollResult, load_states
from monitor.wire import DeadLetter

FEED = (Path(__file__).resolve().parent.parent / "fixtures" / "stream" / "feed.xml").read_bytes()


class ListOutlet:
    """An outlet that keeps what it is given, and notes each flush after the items it covers."""

    def __init__(self) -> None:
        self.items: list[NewsItem] = []
        self.dead: list[DeadLetter] = []
        self.flushed_at: list[int] = []

    def send(self, item: NewsItem) -> None:
        self.items.append(item)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.dead.append(letter)

    def flush(self) -> None:
        self.flushed_at.append(len(self.items))


def _item(headline: str, at: datetime) -> NewsItem:
    return NewsItem(source="cnbc", headline=headline, published_at=at, published_precision="minute")


def _is_connector(connector: object, name: str) -> None:
    assert isinstance(connector, Connector)
    assert connector.name == name


def _report(report: ConnectorReport, sent: int) -> None:
    assert report.sent == sent


def test_the_replay_connector_sends_the_items_in_order() -> None:
    start = datetime(2020, 1, 2, 9, 30, tzinfo=UTC)
    items = [_item("Bank profits fall", start), _item("Bank shares rise", start + timedelta(minutes=1))]
    connector = CorpusReplay(items, None)
    _is_connector(connector, "replay")

    outlet = ListOutlet()
    _report(connector.run(outlet), 2)
    assert [item.headline for item in outlet.items] == ["Bank profits fall", "Bank shares rise"]


def test_the_live_segment_connector_sends_the_segment_published_from_now_on() -> None:
    first = LIVE_SEGMENT.start + timedelta(hours=12)
    items = [_item("Nvidia misses", first), _item("Nvidia cut", first + timedelta(seconds=1))]
    now = datetime.now(UTC)
    connector = live_segment_replay(items, now, LIVE_SEGMENT.speed)
    _is_connector(connector, "live-segment")

    outlet = ListOutlet()
    _report(connector.run(outlet), 2)
    assert [item.headline for item in outlet.items] == ["Nvidia misses", "Nvidia cut"]
    assert all(item.published_at >= now for item in outlet.items)
    assert {item.id for item in outlet.items}.isdisjoint({item.id for item in items})  # new ids: new copies


def test_the_jsonl_connector_sends_good_lines_and_dead_letters_bad_ones() -> None:
    good = json.dumps({"source": "reuters", "headline": "ECB raises rates", "published_at": "2023-07-27T12:15:00Z"})
    connector = JsonLines([good.encode() + b"\n", b"{broken\n"], "items.jsonl")
    _is_connector(connector, "jsonl")

    outlet = ListOutlet()
    report = connector.run(outlet)
    _report(report, 1)
    assert report.dead_lettered == 1
    assert [item.headline for item in outlet.items] == ["ECB raises rates"]
    assert [(letter.reason, letter.origin) for letter in outlet.dead] == [("malformed_json", "items.jsonl:2")]


def test_the_rss_connector_remembers_a_poll_only_after_its_items_are_flushed(tmp_path: Path) -> None:
    state_file = tmp_path / "rss-state.json"
    url = "http://feeds.example.com/markets.rss"
    polled: list[PollResult] = []
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=FEED, headers={"ETag": '"v1"'}))
    connector = FeedPoller([url], {}, state_file, interval_s=60.0, once=True, on_poll=polled.append,
                           transport=transport)
    _is_connector(connector, "rss")

    outlet = ListOutlet()
    _report(connector.run(outlet), 2)
    assert [item.source for item in outlet.items] == ["feeds.example.com"] * 2
    assert outlet.flushed_at == [2]  # one flush, after both items, before the state was saved
    assert [(result.url, result.status, len(result.items)) for result in polled] == [(url, 200, 2)]
    saved = load_states(state_file)[url]
    assert saved.etag == '"v1"' and len(saved.seen) == 2


def test_a_failed_poll_is_reported_and_the_next_feed_is_polled(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500) if request.url.host == "down.example.com" else httpx.Response(200, content=FEED)

    errors: list[str] = []
    states = {"http://down.example.com/rss": FeedState()}
    connector = FeedPoller(["http://down.example.com/rss", "http://up.example.com/rss"], states,
                           tmp_path / "state.json", interval_s=60.0, once=True,
                           on_error=lambda url, error: errors.append(url), transport=httpx.MockTransport(answer))

    outlet = ListOutlet()
    assert connector.run(outlet).sent == 2
    assert errors == ["http://down.example.com/rss"]
    assert states["http://down.example.com/rss"].seen == []


def test_the_kafka_outlet_names_its_dead_letters_after_the_connector() -> None:
    class Producer:
        def __init__(self) -> None:
            self.sent: list[tuple[str, object]] = []
            self.flushes = 0

        def send(self, topic: str, **message: object) -> None:
            self.sent.append((topic, message))

        def flush(self) -> None:
            self.flushes += 1

    producer = Producer()
    outlet = KafkaOutlet(producer, "news", "news.dlq", stage="ingest-jsonl")  # type: ignore[arg-type]
    JsonLines([b"{broken\n"], "stdin").run(outlet)
    outlet.flush()
    [(topic, message)] = producer.sent
    assert topic == "news.dlq" and json.loads(message["value"])["stage"] == "ingest-jsonl"  # type: ignore[arg-type]
    assert producer.flushes == 1
