"""The batch pipeline's ordering guarantees, hot swap and bounded run, with fakes for Kafka and the database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy.exc import DataError

from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.writes import ScoredPair, StoreReport
from monitor.stream.live_model import LiveModel
from monitor.stream.pipeline import BatchPipeline, RunControl
from monitor.stream.store import StoreRetry
from monitor.wire import DeadLetter


class FakePredictor:
    def __init__(self, version: str) -> None:
        self.version = version

    def predict(self, texts: Sequence[str]) -> list[ArticleResult]:
        return [ArticleResult(topic=15, topic_probs=[0.05] * 20, sentiment_label="neutral", sentiment_score=0.0,
                              sentiment_probs=[0.2, 0.6, 0.2]) for _ in texts]


def message(headline: str) -> bytes:
    return NewsItem(source="reuters", headline=headline,
                    published_at=datetime(2024, 3, 1, 12, tzinfo=UTC)).model_dump_json().encode()


class Recorder:
    """Fake Kafka + database that log every step in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []
        self.stored_ids: set[str] = set()

    def store(self, factory: object, pairs: Sequence[tuple[NewsItem, ArticleResult]]) -> StoreReport:
        new = [p for p in pairs if p[0].id not in self.stored_ids]
        self.stored_ids |= {p[0].id or "" for p in pairs}
        self.log.append(("store", sorted((p[0].headline, p[1].model_version) for p in pairs)))
        return StoreReport(len(new), len(pairs) - len(new), len(new), len(pairs), 0)

    async def dead(self, letters: Sequence[DeadLetter]) -> None:
        if letters:
            self.log.append(("dead", [letter.reason for letter in letters]))

    async def scored(self, pairs: Sequence[tuple[NewsItem, ArticleResult]]) -> None:
        self.log.append(("scored", len(pairs)))

    async def ack(self, handles: Sequence[object]) -> None:
        self.log.append(("ack", list(handles)))


def make_pipeline(recorder: Recorder, live: list[str], control: RunControl | None = None) -> BatchPipeline:
    model = LiveModel(load=lambda version: FakePredictor(version or live[0]), live_version=lambda: live[0],
                      check_every_s=0.0)
    model.load_now()
    executor = ThreadPoolExecutor(1)
    return BatchPipeline(model, StoreRetry(None, executor, store=recorder.store), executor,  # type: ignore[arg-type]
                         recorder.dead, recorder.scored, recorder.ack, control or RunControl())


def test_offsets_are_acknowledged_only_after_store_and_publish() -> None:
    recorder = Recorder()

    async def run() -> None:
        pipeline = make_pipeline(recorder, ["v1"])
        await pipeline.handle([(message("Gold rallies"), "n[0]@0"), (b"{oops", "n[0]@1")], ["e0", "e1"])
        await pipeline.drain()

    asyncio.run(run())
    assert [step for step, _ in recorder.log] == ["dead", "store", "scored", "ack"]
    assert recorder.log[-1] == ("ack", ["e0", "e1"])  # the dead letter is acknowledged too, after delivery


def test_batches_are_stored_in_arrival_order_and_repeats_count_as_duplicates() -> None:
    recorder = Recorder()

    async def run() -> BatchPipeline:
        pipeline = make_pipeline(recorder, ["v1"])
        await pipeline.handle([(message("A"), "x")], ["a"])
        await pipeline.handle([(message("B"), "x"), (message("A"), "x")], ["b", "a2"])
        await pipeline.drain()
        return pipeline

    pipeline = asyncio.run(run())
    acks = [handles for step, handles in recorder.log if step == "ack"]
    assert acks == [["a"], ["b", "a2"]]
    assert (pipeline.totals.stored, pipeline.totals.duplicates, pipeline.totals.messages) == (2, 1, 3)


def test_a_newly_promoted_model_is_used_from_the_next_batch() -> None:
    recorder = Recorder()
    live = ["v1"]

    async def run() -> None:
        pipeline = make_pipeline(recorder, live)
        await pipeline.handle([(message("first"), "x")], [1])
        await pipeline.drain()
        live[0] = "v2"  # promotion happens between batches
        await pipeline.handle([(message("second"), "x")], [2])
        await pipeline.drain()

    asyncio.run(run())
    stored = [rows for step, rows in recorder.log if step == "store"]
    assert stored == [[("first", "v1")], [("second", "v2")]]


def test_count_limit_requests_a_stop() -> None:
    recorder = Recorder()
    control = RunControl(max_messages=3)

    async def run() -> None:
        pipeline = make_pipeline(recorder, ["v1"], control)
        await pipeline.handle([(message("one"), "x"), (message("two"), "x")], [1, 2])
        await pipeline.drain()
        assert not control.stopping.is_set()
        await pipeline.handle([(message("three"), "x")], [3])
        await pipeline.drain()

    asyncio.run(run())
    assert control.stopping.is_set() and control.stop_reason == "count"


def test_an_item_the_database_rejects_is_dead_lettered_by_id_and_not_published_as_scored() -> None:
    dead: list[DeadLetter] = []
    published: list[ScoredPair] = []

    def picky_store(factory: object, pairs: Sequence[ScoredPair]) -> StoreReport:
        if any(pair.item.headline == "bad" for pair in pairs):
            raise DataError("INSERT", {}, Exception("value too long"))
        return StoreReport(len(pairs), 0, len(pairs), len(pairs), 0)

    async def on_dead(letters: Sequence[DeadLetter]) -> None:
        dead.extend(letters)

    async def on_scored(pairs: Sequence[ScoredPair]) -> None:
        published.extend(pairs)

    async def ack(handles: Sequence[object]) -> None:
        pass

    async def run() -> BatchPipeline:
        model = LiveModel(load=lambda version: FakePredictor("v1"), live_version=lambda: "v1", check_every_s=0.0)
        model.load_now()
        executor = ThreadPoolExecutor(1)
        store = StoreRetry(None, executor, store=picky_store)  # type: ignore[arg-type]
        pipeline = BatchPipeline(model, store, executor, on_dead, on_scored, ack, RunControl())
        await pipeline.handle([(message("good"), "n[0]@0"), (message("bad"), "n[0]@1")], ["e0", "e1"])
        await pipeline.drain()
        return pipeline

    pipeline = asyncio.run(run())
    bad_id = NewsItem.model_validate_json(message("bad")).id
    assert [(letter.reason, letter.item_id) for letter in dead] == [("store_rejected", bad_id)]
    assert [pair.item.headline for pair in published] == ["good"]
    assert (pipeline.totals.stored, pipeline.totals.dead_letters, pipeline.totals.duplicates) == (1, 1, 0)
