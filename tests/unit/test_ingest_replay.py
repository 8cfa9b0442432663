"""Replay: corpus reading, ordering, repeat merging and the speed maths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.contract import NewsItem
from monitor.ingest.replay import (
    CorpusError,
    in_replay_order,
    in_window,
    merge_repeats,
    parse_speed,
    read_corpus,
    rebased,
    replay,
    replay_offsets,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stream"


@pytest.mark.parametrize(("text", "speed"), [("60x", 60.0), ("1x", 1.0), ("0.5X", 0.5), ("120", 120.0), ("max", None)])
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "0x", "-2x", ""])
def test_parse_speed_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="speed"):
        parse_speed(text)


def test_corpus_is_replayed_in_time_order_with_benzinga_repeats_merged() -> None:
    items = in_replay_order(merge_repeats(read_corpus(FIXTURES / "headlines.csv")))
    assert [(i.source, i.published_at.isoformat()) for i in items] == [
        ("guardian", "2020-03-08T00:00:00+00:00"),  # date-only -> midnight UTC
        ("reuters", "2020-03-09T00:00:00+00:00"),
        ("benzinga", "2020-03-09T09:31:00-04:00"),  # 13:31 UTC, before cnbc's 14:02 UTC
        ("cnbc", "2020-03-09T14:02:00+00:00"),
    ]
    assert items[2].tickers == ["AAPL", "MSFT"]  # one story tagged with two tickers is one item


def test_bad_row_names_file_line_and_field() -> None:
    with pytest.raises(CorpusError, match=r"bad_timestamp.csv:3: timestamp: not ISO 8601: '09/03/2020'"):
        list(read_corpus(FIXTURES / "bad_timestamp.csv"))


def test_offsets_compress_time_by_the_speed() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    published = [start, start + timedelta(minutes=1), start + timedelta(minutes=10)]
    assert replay_offsets(published, 60.0) == [0.0, 1.0, 10.0]
    assert replay_offsets(published, None) == [0.0, 0.0, 0.0]
    assert replay_offsets([], 60.0) == []


def test_replay_waits_until_each_item_is_due_and_can_stamp_now() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = [NewsItem(source="cnbc", headline=f"h{i}", published_at=start + timedelta(minutes=i)) for i in range(3)]
    now = [0.0]
    sleeps: list[float] = []
    sent: list[NewsItem] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    report = replay(items, 60.0, sent.append, stamp_now=True, clock=lambda: now[0], sleep=sleep)
    assert sleeps == [1.0, 1.0]
    assert report.sent == 3 and report.seconds == 2.0
    assert [s.id for s in sent] == [i.id for i in items]  # ids stay the originals'
    assert all(s.published_at > start + timedelta(days=1) for s in sent)  # stamped with the send time


def test_window_is_half_open() -> None:
    items = in_replay_order(merge_repeats(read_corpus(FIXTURES / "headlines.csv")))
    start, end = datetime(2020, 3, 9, tzinfo=UTC), datetime(2020, 3, 9, 14, 0, tzinfo=UTC)
    inside = in_window(items, start, end)
    assert [i.source for i in inside] == ["reuters", "benzinga"]  # [start, end): 00:00 in, 14:02 out
    assert in_window(items, None, None) == items


def test_rebased_copies_start_now_keep_compressed_spacing_and_get_new_ids() -> None:
    old = datetime(2018, 11, 15, 21, 20, tzinfo=UTC)
    items = [NewsItem(source="benzinga", headline=f"h{i}", published_at=old + timedelta(minutes=10 * i))
             for i in range(3)]
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    copies = rebased(items, now, 600.0)
    assert [c.published_at for c in copies] == [now, now + timedelta(seconds=1), now + timedelta(seconds=2)]
    assert [c.headline for c in copies] == [i.headline for i in items]  # same stories
    assert len({c.id for c in copies} | {i.id for i in items}) == 6  # never an id the history already stored
    assert rebased(items, now, 600.0)[0].id == copies[0].id  # deterministic for one start
    assert {c.published_at for c in rebased(items, now, None)} == {now}
