"""One micro-batch through the worker: parse, score, store, publish, acknowledge.

Transport-agnostic (the Faust agent passes values and ack handles), so the
order that makes the pipeline exactly-once in effect is visible in one place
and tested with fakes:

1. dead letters are delivered to the dead-letter topic,
2. the scored items are committed to PostgreSQL in ONE transaction (idempotent upserts),
3. the scored items are delivered to the scored topic,
4. only then are the batch's messages acknowledged, and Faust commits acknowledged offsets.

A crash anywhere before 4 re-delivers the batch; the upserts make that
harmless, and downstream readers of the scored topic de-duplicate by id.

Scoring of batch N+1 overlaps the storing (steps 1-4) of batch N: two stages,
at most one batch in each. `handle_parsed` scores its batch, then waits for
the previous batch's steps 1-4 to be done before it starts this batch's, so
batches are stored, published and acknowledged strictly in the order they
were taken, and a batch is acknowledged only after its own transaction (and
every earlier batch's) committed. A failure in steps 1-4 is re-raised to the
next `handle_parsed`, which then neither stores nor acknowledges anything
more: the worker stops and the unacknowledged batches are re-delivered.
Batches are formed by monitor/stream/batching.py (adaptive: no waiting for a
batch to fill).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.contract import NewsItem
from monitor.storage.writes import ScoredPair
from monitor.stream import metrics
from monitor.stream.live_model import LiveModel
from monitor.stream.scoring import score_batch, split_parsed, unique_by_id
from monitor.stream.store import StoreRetry
from monitor.wire import DeadLetter, parse_item

log = logging.getLogger(__name__)


class RunControl:
    """When the worker should stop: a signal, --count messages handled, or --timeout seconds."""

    def __init__(self, max_messages: int | None = None, timeout_s: float | None = None) -> None:
        self.max_messages = max_messages
        self.timeout_s = timeout_s
        self.handled = 0
        self.stop_reason: str | None = None
        self.give_up = False  # a second signal: stop without waiting for the database
        self.stopping = asyncio.Event()

    def request_stop(self, reason: str) -> None:
        if self.stopping.is_set():
            self.give_up = True
            return
        self.stop_reason = reason
        self.stopping.set()

    def count(self, handled: int) -> None:
        self.handled += handled
        if self.max_messages is not None and self.handled >= self.max_messages:
            self.request_stop("count")


@dataclass
class ScoredBatch:
    handles: list[Any]  # what `ack` takes: Faust events
    items: list[NewsItem]
    pairs: list[ScoredPair]
    dead: list[DeadLetter]
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class PipelineTotals:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0


class BatchPipeline:
    """Two stages, score and finish; `handle` runs one batch through both."""

    def __init__(
        self,
        model: LiveModel,
        store: StoreRetry,
        infer_executor: Executor,
        publish_dead: Callable[[Sequence[DeadLetter]], Awaitable[None]],
        publish_scored: Callable[[Sequence[ScoredPair]], Awaitable[None]],
        ack: Callable[[Sequence[Any]], Awaitable[None]],
        control: RunControl,
    ) -> None:
        self.model = model
        self.store = store
        self.infer_executor = infer_executor
        self.publish_dead = publish_dead
        self.publish_scored = publish_scored
        self.ack = ack
        self.control = control
        self.totals = PipelineTotals()
        self.last_batch_at: datetime | None = None
        self._busy = False  # a batch is being scored or waits to be handed to the store stage
        self._pending: asyncio.Future[None] | None = None

    async def handle(self, messages: Sequence[tuple[bytes | None, str]], handles: Sequence[Any]) -> None:
        """Parse and score this batch now; store it once the previous batch is stored (order kept)."""
        await self.handle_parsed([parse_item(value, origin) for value, origin in messages], handles)

    async def handle_parsed(self, parsed: Sequence[NewsItem | DeadLetter], handles: Sequence[Any]) -> None:
        """`handle` for messages parsed already (the worker parses each as it arrives, off the model's path).

        Sets busy before its first await, so drain() never misses a batch that was taken.
        """
        self._busy = True
        try:
            batch = await self.score(parsed, handles)
            if self._pending is not None:
                await self._pending  # re-raises a failure of the previous batch: the worker must stop
            self._pending = asyncio.ensure_future(self.finish(batch))
        finally:
            self._busy = False

    def idle(self) -> bool:
        """Nothing is being scored or stored (the batcher lingers for more messages only then)."""
        return not self._busy and (self._pending is None or self._pending.done())

    async def score(self, parsed: Sequence[NewsItem | DeadLetter], handles: Sequence[Any]) -> ScoredBatch:
        await self.model.refresh(self.infer_executor)  # hot swap happens between batches only
        items, dead = split_parsed(parsed)
        predictor = self.model.predictor
        started = time.perf_counter()
        pairs, failed = await asyncio.get_running_loop().run_in_executor(
            self.infer_executor, score_batch, predictor.predict, predictor.version, unique_by_id(items))
        if items:
            metrics.INFERENCE_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(parsed))
        return ScoredBatch(list(handles), items, pairs, dead + failed)

    async def finish(self, batch: ScoredBatch) -> None:
        """Steps 1-4 of the module docstring, in that order."""
        await self.publish_dead(batch.dead)
        started = time.perf_counter()
        report, rejected = await self.store.store(batch.pairs)
        committed_at = datetime.now(UTC)
        metrics.STORE_SECONDS.observe(time.perf_counter() - started)
        stored_pairs = batch.pairs
        if rejected:
            await self.publish_dead(rejected)
            rejected_ids = {letter.item_id for letter in rejected}
            stored_pairs = [pair for pair in batch.pairs if pair.item.id not in rejected_ids]
        for item, _ in stored_pairs:
            metrics.END_TO_END_SECONDS.observe(max(0.0, (committed_at - item.published_at).total_seconds()))
        await self.publish_scored(stored_pairs)
        await self.ack(batch.handles)

        dead = batch.dead + rejected
        duplicates = len(batch.items) - report.inserted_articles - len(rejected)
        metrics.MESSAGES.labels(outcome="stored").inc(report.inserted_articles)
        metrics.MESSAGES.labels(outcome="duplicate").inc(duplicates)
        metrics.MESSAGES.labels(outcome="dead_letter").inc(len(dead))
        for letter in dead:
            metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        self.totals.messages += len(batch.handles)
        self.totals.stored += report.inserted_articles
        self.totals.duplicates += duplicates
        self.totals.dead_letters += len(dead)
        self.totals.batches += 1
        self.last_batch_at = committed_at
        self.control.count(len(batch.handles))

    async def drain(self) -> None:
        """Wait until the batch being scored (if any) and the batch being stored are done."""
        while self._busy:
            await asyncio.sleep(0.02)
        while self._pending is not None and not self._pending.done():
            await asyncio.wait({self._pending})
        if self._pending is not None and not self._pending.cancelled() and self._pending.exception():
            log.error("the last batch failed: %r", self._pending.exception())
