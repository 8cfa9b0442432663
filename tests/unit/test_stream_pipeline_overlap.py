"""Scoring overlaps storing, in order; adaptive batching (monitor/stream/batching.py). Pure asyncio with fakes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.writes import ScoredPair, StoreReport
from monitor.stream.batching import AdaptiveBatcher
from monitor.stream.live_model import LiveModel
from monitor.stream.pipeline import BatchPipeline, RunControl
from monitor.stream.store import StoreRetry
from monitor.wire import DeadLetter


def message(headline: str) -> bytes:
    return NewsItem(source="reuters", headline=headline,
                    published_at=datetime(2024, 3, 1, 12, tzinfo=UTC)).model_dump_json().encode()


class Timeline:
    """Fake model and database that log when each batch starts and ends scoring and storing."""

    def __init__(self, score_s: float = 0.0, store_s: float = 0.0, fail_store: str | None = None) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.score_s, self.store_s, self.fail_store = score_s, store_s, fail_store
        self.acked: list[list[object]] = []

    def note(self, what: str, batch: str) -> None:
        with self.lock:
            self.events.append((what, batch))

    def predict(self, texts: Sequence[str]) -> list[ArticleResult]:
        self.note("score-start", texts[0])
        time.sleep(self.score_s)
        self.note("score-end", texts[0])
        return [ArticleResult(topic=1, topic_probs=[0.05] * 20, sentiment_label="neutral", sentiment_score=0.0,
                              sentiment_probs=[0.2, 0.6, 0.2]) for _ in texts]

    def store(self, factory: object, pairs: Sequence[ScoredPair]) -> StoreReport:
        first = pairs[0].item.headline
        self.note("store-start", first)
        time.sleep(self.store_s)
        if first == self.fail_store:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        self.note("store-end", first)
        return StoreReport(len(pairs), 0, len(pairs), len(pairs), 0)

    async def ack(self, handles: Sequence[object]) -> None:
        self.note("ack", str(handles[0]))
        self.acked.append(list(handles))

    def index(self, what: str, batch: str) -> int:
        return self.events.index((what, batch))


async def nothing(_: Sequence[DeadLetter] | Sequence[ScoredPair]) -> None:
    return None


def make_pipeline(timeline: Timeline, control: RunControl | None = None, give_up: bool = False) -> BatchPipeline:
    class Predictor:
        version = "v1"
        predict = staticmethod(timeline.predict)

    model = LiveModel(load=lambda version: Predictor(), live_version=lambda: "v1", check_every_s=3600)
    model.load_now()
    store = StoreRetry(None, ThreadPoolExecutor(1), should_give_up=lambda: give_up,  # type: ignore[arg-type]
                       store=timeline.store, first_delay_s=0.01)
    return BatchPipeline(model, store, ThreadPoolExecutor(1), nothing, nothing, timeline.ack,
                         control or RunControl())


def run_batches(timeline: Timeline, names: str) -> None:
    """One one-message batch per name through a fresh pipeline, then drain it."""

    async def run() -> None:
        pipeline = make_pipeline(timeline)
        for name in names:
            await pipeline.handle([(message(name), "x")], [name])
        await pipeline.drain()

    asyncio.run(run())


def test_batch_two_is_scored_while_batch_one_is_stored_and_acks_keep_their_order() -> None:
    timeline = Timeline(score_s=0.05, store_s=0.2)

    run_batches(timeline, "ABC")
    # B was scored while A was being stored: the two stages overlap
    assert timeline.index("score-start", "B") < timeline.index("store-end", "A")
    # but B is stored only after A is committed and acknowledged, and so on: the order is kept
    for earlier, later in (("A", "B"), ("B", "C")):
        assert timeline.index("ack", earlier) < timeline.index("store-start", later)
    assert timeline.acked == [["A"], ["B"], ["C"]]
    for name in "ABC":
        assert timeline.index("store-end", name) < timeline.index("ack", name)


def test_at_most_one_batch_waits_for_the_store_stage() -> None:
    """Depth 2: batch C is not scored until batch A is stored (B, scored, waits for A meanwhile)."""
    timeline = Timeline(score_s=0.01, store_s=0.2)

    run_batches(timeline, "ABC")
    assert timeline.index("store-end", "A") < timeline.index("score-start", "C")


def test_a_failed_store_stops_the_pipeline_before_any_later_batch_is_stored_or_acknowledged() -> None:
    timeline = Timeline(score_s=0.01, store_s=0.05, fail_store="A")

    async def run() -> None:
        pipeline = make_pipeline(timeline, give_up=True)  # give up at once: StoreAbandoned
        await pipeline.handle([(message("A"), "x")], ["A"])
        with pytest.raises(RuntimeError, match="gave up"):
            await pipeline.handle([(message("B"), "x")], ["B"])
        await pipeline.drain()

    asyncio.run(run())
    assert timeline.acked == []
    assert ("store-start", "B") not in timeline.events


def test_the_batcher_takes_what_is_queued_without_waiting_while_busy_and_lingers_only_when_idle() -> None:
    batches: list[list[int]] = []
    idle = [True]

    async def handle(batch: list[int]) -> None:
        batches.append(batch)

    async def run() -> float:
        batcher = AdaptiveBatcher(handle, max_batch=4, linger_s=0.2, idle=lambda: idle[0])
        loop = asyncio.get_running_loop()
        idle[0] = False  # something in flight: no lingering
        for value in (1, 2):
            await batcher.put(value)
        started = loop.time()
        while not batches:
            await asyncio.sleep(0.001)
        busy_wait = loop.time() - started
        idle[0] = True  # nothing in flight: a lone message waits up to the linger for company
        await batcher.put(3)
        await asyncio.sleep(0.05)
        await batcher.put(4)
        while len(batches) < 2:
            await asyncio.sleep(0.001)
        await batcher.close()
        return busy_wait

    busy_wait = asyncio.run(run())
    assert batches == [[1, 2], [3, 4]]
    assert busy_wait < 0.1


def test_the_linger_ends_early_when_the_batch_is_full_and_never_exceeds_max_batch() -> None:
    batches: list[list[int]] = []

    async def handle(batch: list[int]) -> None:
        batches.append(batch)

    async def run() -> float:
        batcher = AdaptiveBatcher(handle, max_batch=3, linger_s=5.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for value in range(7):
            await batcher.put(value)
        while sum(map(len, batches)) < 6:
            await asyncio.sleep(0.001)
        elapsed = loop.time() - started
        await batcher.close()
        return elapsed

    elapsed = asyncio.run(run())
    assert batches[:2] == [[0, 1, 2], [3, 4, 5]]
    assert elapsed < 1.0


def test_a_full_queue_holds_the_agent_back_and_a_failed_loop_reaches_it() -> None:
    handled: list[list[int]] = []

    async def run() -> None:
        gate = asyncio.Event()

        async def handle(batch: list[int]) -> None:
            handled.append(batch)
            await gate.wait()
            raise ValueError("store failed")

        batcher = AdaptiveBatcher(handle, max_batch=2, linger_s=0.0, idle=lambda: False)
        for value in range(4):  # [0, 1] is taken and handled (held at the gate); [2, 3] fill the queue
            await batcher.put(value)
        await asyncio.sleep(0.01)
        assert batcher.queued == 2
        blocked = asyncio.ensure_future(batcher.put(99))
        await asyncio.sleep(0.05)
        assert not blocked.done()  # backpressure: the agent waits while the queue is full
        gate.set()
        with pytest.raises(ValueError, match="store failed"):
            await blocked
        with pytest.raises(ValueError, match="store failed"):
            await batcher.put(100)

    asyncio.run(run())
    assert handled == [[0, 1]]


def test_once_stopping_the_batcher_takes_no_new_batch() -> None:
    handled: list[list[int]] = []

    async def handle(batch: list[int]) -> None:
        handled.append(batch)

    async def run() -> None:
        stopping = asyncio.Event()
        batcher = AdaptiveBatcher(handle, max_batch=4, linger_s=0.0, stopping=stopping)
        await batcher.put(1)
        while not handled:
            await asyncio.sleep(0.001)
        stopping.set()
        await batcher.put(2)
        await asyncio.sleep(0.05)
        await batcher.close()

    asyncio.run(run())
    assert handled == [[1]]  # 2 stays unacknowledged: re-delivered after the restart
