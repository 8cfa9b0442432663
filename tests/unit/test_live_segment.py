"""The live segment: its slice of the corpus, and waiting for the worker to catch up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kernel.settings import get_settings
from monitor.ingest.live_segment import LIVE_SEGMENT, in_segment, segment_items, wait_until_caught_up
from monitor.ingest.replay import read_corpus, rebased

CORPUS = Path(get_settings().data_dir) / "stream" / "financial_headlines_stream.csv"
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "stream" / "headlines.csv"


@pytest.mark.skipif(not CORPUS.exists(), reason=f"no stream corpus at {CORPUS}")
def test_segment_is_a_minute_stamped_burst_about_nvidia_that_fits_in_minutes() -> None:
    items = segment_items(CORPUS)
    assert items and all(LIVE_SEGMENT.start <= i.published_at < LIVE_SEGMENT.end for i in items)
    assert {i.source for i in items} <= {"benzinga", "cnbc"}  # day-level reuters/guardian rows left out
    nvda = [i for i in items if "NVDA" in i.tickers]
    assert len(nvda) >= 30 and len(nvda) > len(items) / 2
    assert any("Plummets" in i.headline for i in nvda) and any("Downgrades NVIDIA" in i.headline for i in nvda)
    copies = rebased(items, datetime(2026, 1, 1, tzinfo=UTC), LIVE_SEGMENT.speed)
    span_min = (copies[-1].published_at - copies[0].published_at).total_seconds() / 60
    assert 5 < span_min < 10  # "within about ten minutes"
    burst = next(c for c, i in zip(copies, items) if "Plummets" in i.headline)
    assert (copies[-1].published_at - burst.published_at).total_seconds() < 15 * 60  # inside one 15 min window


def test_a_corpus_without_the_window_gives_no_items() -> None:
    assert segment_items(FIXTURE) == []  # the fixture is March 2020


def test_day_stamped_rows_are_left_out(tmp_path: Path) -> None:
    corpus = tmp_path / "slice.csv"
    corpus.write_text("timestamp,ts_precision,source,ticker,headline,orig_time\n"
                      "2018-11-16,day,reuters,,Supply glut mars Turing effect for Nvidia shares,2018-11-16\n"
                      "2018-11-15T16:47:00-05:00,minute,benzinga,NVDA,Nvidia Plummets Following Lower-Than-Expected "
                      "Q4 Sales Guidance,2018-11-15 16:47:00-05:00\n", encoding="utf-8")
    assert [i.source for i in segment_items(corpus)] == ["benzinga"]
    history = list(read_corpus(corpus))
    assert [in_segment(i) for i in history] == [False, True]  # the history keeps the day-level row


def test_waits_until_the_lag_is_small_enough() -> None:
    lags = iter([5000, 900, 150])
    now = [0.0]
    said: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert wait_until_caught_up(lambda: next(lags), 200, 600, say=said.append, poll_s=10,
                                clock=lambda: now[0], sleep=sleep)
    assert now[0] == 20.0 and "5000 messages behind" in said[0]


def test_gives_up_after_the_timeout_and_says_so() -> None:
    now = [0.0]
    said: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert not wait_until_caught_up(lambda: 10_000, 200, 30, say=said.append, poll_s=10,
                                    clock=lambda: now[0], sleep=sleep)
    assert now[0] == 30.0 and "replaying anyway" in said[-1]
