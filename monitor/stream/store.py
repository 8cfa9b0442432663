"""Write one scored batch to PostgreSQL in one transaction, riding out database outages.

Connection-level failures (PostgreSQL restarting, network cut) are retried
with capped exponential backoff for as long as it takes: the batch's Kafka
offsets are not committed meanwhile, the stream buffer fills and Faust stops
fetching (backpressure), and nothing is lost. A batch the database *rejects*
(a data error, not a connection error) is split, and only the items that fail
on their own become dead letters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.db import make_engine
from monitor.storage.known_names import KnownNames
from monitor.storage.writes import ScoredPair, StoreReport, store_scored_batch
from monitor.stream import metrics
from monitor.wire import DeadLetter, rejected_item

log = logging.getLogger(__name__)


def worker_engine(url: str) -> Engine:
    """An engine that notices a dead server quickly instead of hanging on it."""
    return make_engine(url, pool_size=2, max_overflow=2, connect_args={
        "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
        "keepalives_count": 3})


def store_once(factory: sessionmaker[Session], pairs: Sequence[ScoredPair],
               known_names: KnownNames | None = None) -> StoreReport:
    """One transaction: commit or roll back the whole batch.

    `known_names` learns the batch's tagged names only after the commit: a batch rolled back and
    re-delivered is learned once.
    """
    with factory.begin() as session:
        report = store_scored_batch(session, pairs, known_names=known_names)
    if known_names is not None:
        for headline, names in report.inserted_names:
            known_names.observe(headline, names)
    return report


def is_transient(error: Exception) -> bool:
    """A lost or refused connection, as opposed to the database rejecting the data."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class StoreRetry:
    """Store batches in an executor thread, retrying transient failures."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        executor: Executor,
        should_give_up: Callable[[], bool] = lambda: False,
        first_delay_s: float = 0.2,
        max_delay_s: float = 5.0,
        store: Callable[[sessionmaker[Session], Sequence[ScoredPair]], StoreReport] = store_once,
    ) -> None:
        self.factory = factory
        self.executor = executor
        self.should_give_up = should_give_up
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self._store = store

    async def store(self, pairs: Sequence[ScoredPair]) -> tuple[StoreReport, list[DeadLetter]]:
        """Store the batch; returns the report and the items the database rejected."""
        if not pairs:
            return StoreReport(0, 0, 0, 0, 0), []
        try:
            return await self._with_retry(pairs), []
        except DBAPIError as error:
            if len(pairs) == 1:
                return StoreReport(0, 0, 0, 0, 0), [rejected_item(
                    "store_rejected", f"{type(error.orig).__name__}: {str(error.orig).strip()[:500]}", pairs[0].item)]
            log.exception("database rejected a batch of %d; storing item by item", len(pairs))
        reports: list[StoreReport] = []
        dead: list[DeadLetter] = []
        for pair in pairs:
            report, rejected = await self.store([pair])
            reports.append(report)
            dead += rejected
        return _sum_reports(reports), dead

    async def _with_retry(self, pairs: Sequence[ScoredPair]) -> StoreReport:
        loop = asyncio.get_running_loop()
        delay = self.first_delay_s
        while True:
            try:
                return await loop.run_in_executor(self.executor, self._store, self.factory, pairs)
            except DBAPIError as error:
                if not is_transient(error):
                    raise
                if self.should_give_up():
                    raise StoreAbandoned("gave up waiting for the database; the batch will be re-delivered") from error
                metrics.DB_RETRIES.inc()
                log.warning("database unavailable (%s); retrying the batch in %.1fs",
                            str(error.orig).strip().splitlines()[0] if error.orig else error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay_s)


class StoreAbandoned(RuntimeError):
    """Shutdown was forced while the database was still unavailable: the batch stays unacknowledged."""


def _sum_reports(reports: Sequence[StoreReport]) -> StoreReport:
    return StoreReport(*(sum(getattr(r, name) for r in reports) for name in
                         ("inserted_articles", "duplicate_articles", "new_stories", "outputs", "mentions")))
