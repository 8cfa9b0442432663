"""The live segment: a slice of the replay corpus with a real burst of negative news, replayed as if now.

    finsent ingest live-segment                        # after the history replay; `make run` does this
    finsent ingest live-segment --wait-for-worker 0s   # do not wait for the worker to catch up

The history replay is 2009-2020 news, and alert rules judge windows that end
now, so a first `make run` would show no alert. The live segment is the
evening and next day of NVIDIA's Q3 FY2019 report (15-16 Nov 2018: sales
miss, Q4 guidance $2.7B vs $3.4B expected, shares down ~18%, then a morning
of downgrades and price-target cuts) among the same hours' ordinary headlines
from Benzinga and CNBC: 35 hours, 61 minute-stamped rows (45 about NVDA), compressed 250-fold
into about 8.5 minutes and published from now on (monitor.ingest.replay.rebased),
so the burst lands in the alerter's current windows about three minutes in.
Day-stamped rows (Reuters, Guardian) are left out: they sit at midnight.

The history replay keeps these items at their own dates, so a backtest over
2018 sees the event. Only a story's first copy counts in the sentiment
aggregates the rules read, and a copy more than a week (STORY_WINDOW,
monitor/storage/writes.py) from the story's other copies opens it anew, so the
segment is news when it arrives years after its history. Replayed again
within a week, it repeats known stories and does not fire.

The replay waits until the worker has caught up with the history first
(consumer-group lag at most `max_lag`), so "now" is when the worker scores it.
FINSENT_LIVE_SEGMENT=0 turns it off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kernel.settings import Settings
from monitor.contract import NewsItem
from monitor.ingest.replay import CorpusReplay, in_replay_order, merge_repeats, read_corpus, rebased

EASTERN_STANDARD = timezone(timedelta(hours=-5))


@dataclass(frozen=True)
class LiveSegment:
    name: str
    start: datetime  # inclusive
    end: datetime  # exclusive
    speed: float  # time compression of the rebased replay
    precisions: frozenset[str]  # ts_precision values read; coarser rows would pile up at midnight


LIVE_SEGMENT = LiveSegment(
    name="nvidia-q3-fy2019-guidance-cut",
    start=datetime(2018, 11, 15, 4, 0, tzinfo=EASTERN_STANDARD),  # a normal morning before the report
    end=datetime(2018, 11, 16, 15, 0, tzinfo=EASTERN_STANDARD),  # after the day of downgrades
    speed=250.0,  # 35 h -> 8.4 min; the 16:20 report lands 3 min in, all of it inside a 15 min window
    precisions=frozenset({"minute"}),
)


def in_segment(item: NewsItem, segment: LiveSegment = LIVE_SEGMENT) -> bool:
    """Whether the segment replays this item (the history replay then leaves it out)."""
    return segment.start <= item.published_at < segment.end and item.published_precision in segment.precisions


def segment_items(path: Path, segment: LiveSegment = LIVE_SEGMENT) -> list[NewsItem]:
    """The segment's items from a stream corpus, merged and in replay order (not yet rebased)."""
    return [item for item in in_replay_order(merge_repeats(read_corpus(path))) if in_segment(item, segment)]


def live_segment_replay(items: Sequence[NewsItem], start: datetime, speed: float | None,
                        progress: Callable[[int], object] | None = None) -> CorpusReplay:
    """The `live-segment` connector (monitor/ingest/connector.py): the segment's items (`segment_items`)
    published from `start` on, their spacing divided by `speed` (`rebased`), each sent as it falls due."""
    return CorpusReplay(rebased(items, start, speed), 1.0 if speed is not None else None, progress=progress,
                        name="live-segment")


def consumer_lag(settings: Settings) -> int:
    """Messages on the news topic the worker group has not committed yet (all partitions).

    Reads the group's committed offsets without joining it (no rebalance for
    the workers); a partition it never committed counts from its earliest offset.
    """
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers, group_id=settings.worker_group,
                             enable_auto_commit=False, client_id="finsent-live-segment")
    try:
        if settings.news_topic not in consumer.topics():  # also a metadata fetch: a fresh client knows none
            return 0  # no topic yet, so no history to wait for
        partitions = [TopicPartition(settings.news_topic, p)
                      for p in sorted(consumer.partitions_for_topic(settings.news_topic) or ())]
        if not partitions:
            raise RuntimeError(f"no partition metadata for topic {settings.news_topic}")
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        lag = 0
        for partition in partitions:
            committed = consumer.committed(partition)
            lag += max(0, ends[partition] - (committed if committed is not None else starts[partition]))
        return lag
    finally:
        consumer.close(autocommit=False)


def wait_until_caught_up(lag: Callable[[], int], max_lag: int, timeout_s: float,
                         say: Callable[[str], object] = print, poll_s: float = 10.0,
                         clock: Callable[[], float] = time.monotonic,
                         sleep: Callable[[float], None] = time.sleep) -> bool:
    """Poll `lag` until it is at most `max_lag`; False when `timeout_s` passed first (the caller goes on)."""
    deadline = clock() + timeout_s
    last_said = None
    while True:
        behind = lag()
        if behind <= max_lag:
            say(f"the worker is {behind} messages behind (<= {max_lag}): starting")
            return True
        if clock() >= deadline:
            say(f"the worker is still {behind} messages behind after {timeout_s:.0f} s: replaying anyway")
            return False
        if last_said is None or clock() - last_said >= 60:
            say(f"waiting for the worker to catch up: {behind} messages behind (live segment starts at <= {max_lag})")
            last_said = clock()
        sleep(min(poll_s, max(0.0, deadline - clock())))
