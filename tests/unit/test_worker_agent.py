"""The Faust agent with `test_context()`: messages in, batches through the pipeline, acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from kernel.settings import load_settings
from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.writes import StoreReport
from monitor.stream import worker
from monitor.stream.live_model import LiveModel
from monitor.stream.pipeline import BatchPipeline, RunControl
from monitor.stream.store import StoreRetry
from monitor.wire import DeadLetter


class FakePredictor:
    version = "v-test"

    def predict(self, texts: Sequence[str]) -> list[ArticleResult]:
        return [ArticleResult(topic=1, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.4,
                              sentiment_probs=[0.6, 0.3, 0.1]) for _ in texts]


def test_agent_stores_good_messages_dead_letters_bad_ones_and_acks_both() -> None:
    stored: list[str] = []
    dead: list[str] = []

    def store(factory: object, pairs: Sequence[tuple[NewsItem, ArticleResult]]) -> StoreReport:
        stored.extend(f"{p[0].headline}@{p[1].model_version}" for p in pairs)
        return StoreReport(len(pairs), 0, len(pairs), len(pairs), 0)

    async def publish_dead(letters: Sequence[DeadLetter]) -> None:
        dead.extend(letter.reason for letter in letters)

    async def publish_scored(pairs: Sequence[object]) -> None:
        return None

    async def not_bound(events: Sequence[object]) -> None:
        raise AssertionError("the agent binds its own ack")

    model = LiveModel(lambda version: FakePredictor(), lambda: "v-test", check_every_s=3600)
    model.load_now()
    executor = ThreadPoolExecutor(1)
    control = RunControl()
    pipeline = BatchPipeline(model, StoreRetry(None, executor, store=store), executor,  # type: ignore[arg-type]
                             publish_dead, publish_scored, not_bound, control)
    settings = load_settings()
    topology = worker.build_app(settings)  # the app `finsent worker` runs, from the settings it read
    worker.runtime = worker.WorkerRuntime(pipeline, control, settings, max_batch=4, batch_within_s=0.05)
    good = NewsItem(source="reuters", headline="Bank profits fall", published_at=datetime(2024, 1, 1, tzinfo=UTC))

    async def run() -> None:
        async with topology.agent.test_context() as agent:
            await agent.put(good.model_dump_json().encode(), wait=False)
            await agent.put(b"\x00not json", wait=False)
            for _ in range(100):
                if pipeline.totals.messages == 2:
                    break
                await asyncio.sleep(0.05)
            await pipeline.drain()

    try:
        asyncio.run(run())
    finally:
        worker.runtime = None
    assert stored == ["Bank profits fall@v-test"]
    assert dead == ["malformed_json"]
    assert (pipeline.totals.messages, pipeline.totals.stored, pipeline.totals.dead_letters) == (2, 1, 1)
