"""Adaptive micro-batching: the worker's intake queue and the loop that forms batches from it.

The Faust agent puts every message here as it arrives (`put`); one loop task
takes batches and hands each to `handle` (BatchPipeline.handle_parsed: score
it, then store it once the previous batch is stored). How a batch is formed:

- the loop waits for the first message, then takes whatever else is already
  queued, up to `max_batch`, without waiting;
- only when nothing is in flight (`idle()`: no batch being stored either) and
  the batch is not full does it linger up to `linger_s` for more messages, so
  a burst arriving on an idle worker is scored as one batch rather than as
  many batches of one;
- while a batch is scored, the agent keeps filling the queue, so the next
  batch is ready the moment scoring finishes: under load batches are full,
  on a quiet stream a message waits at most `linger_s` (never for a batch to fill).

The queue holds at most `max_batch` messages: when it is full `put` waits, the
agent stops taking from Faust's stream buffer and Faust pauses fetching
(backpressure). With one batch scoring and one storing, a worker holds at most
three batches' worth of unacknowledged messages; all of them are re-delivered
after a crash.

Once `stopping` is set the loop takes no new batch: what is queued stays
unacknowledged and is re-delivered after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class AdaptiveBatcher(Generic[T]):
    """A bounded intake queue feeding one batch-forming loop (see the module docstring)."""

    def __init__(
        self,
        handle: Callable[[list[T]], Awaitable[None]],
        max_batch: int,
        linger_s: float,
        idle: Callable[[], bool] = lambda: True,
        stopping: asyncio.Event | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.handle = handle
        self.max_batch = max_batch
        self.linger_s = max(0.0, linger_s)
        self.idle = idle
        self.stopping = stopping or asyncio.Event()
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=max_batch)
        self._task: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def start(self) -> asyncio.Task[None]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        return self._task

    async def put(self, entry: T) -> None:
        """Queue one message; waits while the queue is full. Raises the loop's failure, if it failed."""
        task = self.start()
        if task.done():
            self._raise_from(task)
        if not self._queue.full():
            self._queue.put_nowait(entry)
            return
        putter = asyncio.ensure_future(self._queue.put(entry))
        try:
            await asyncio.wait({putter, task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not putter.done():
                putter.cancel()
        if not putter.done() or putter.cancelled():
            self._raise_from(task)

    async def close(self) -> None:
        """Stop the loop (tests, shutdown); a batch being handled is cancelled with it."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    @staticmethod
    def _raise_from(task: asyncio.Task[None]) -> None:
        if task.cancelled():
            raise RuntimeError("the batch loop was cancelled")
        error = task.exception()
        if error is not None:
            raise error
        raise RuntimeError("the batch loop ended")

    def _take_ready(self, batch: list[T]) -> None:
        queue = self._queue
        while len(batch) < self.max_batch and not queue.empty():
            batch.append(queue.get_nowait())

    async def next_batch(self) -> list[T]:
        """One batch by the rules of the module docstring."""
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        self._take_ready(batch)
        if len(batch) < self.max_batch and self.linger_s > 0 and self.idle():
            deadline = loop.time() + self.linger_s
            while len(batch) < self.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
                self._take_ready(batch)
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self.next_batch()
            if self.stopping.is_set():
                await asyncio.Event().wait()  # leave it unacknowledged: re-delivered after the restart
            await self.handle(batch)  # no await between the check above and here: drain() sees it busy
