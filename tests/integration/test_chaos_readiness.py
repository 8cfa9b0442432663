"""Chaos under load: PostgreSQL stopped for 30 s, then the Kafka broker stopped for 30 s.

A worker runs on a private PostgreSQL server and a private broker (the stack's
own binaries, on free ports with their own data in temporary directories, so
stopping them touches nothing the shared services serve) while a producer
publishes news at a steady rate. The test needs neither shared service.

- PostgreSQL: the private server is really stopped (`pg_ctl stop -m fast`) and
  started again on the same port and data directory;
- Kafka: the private broker is really stopped (SIGTERM) and started again on
  the same ports and data.

/readyz is polled throughout. Afterwards: every item the broker acknowledged
is stored exactly once, the aggregates equal a rebuild from the stored rows,
readiness is back to ready, and the figures are printed as one JSON line
(`chaos-readiness {...}`; run pytest with -s to see it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks.workers import WorkerProcess, count_rows, stream_env, wait_until
from kernel.settings import Settings
from monitor.contract import NewsItem
from monitor.wire import ensure_topics, news_topics
from tests.faults import PacedProducer, PrivateBroker, PrivatePostgres

pytestmark = pytest.mark.integration

STARTUP_S = 120  # importing torch and loading the model on a busy 2-core machine
OUTAGE_S = 30.0
NOTICE_S = 10.0  # readiness must turn degraded, with the right reason, this soon after a fault
RECOVER_S = 60.0
RATE = 25.0  # items per second, throughout


@pytest.fixture()
def postgres() -> Iterator[PrivatePostgres]:
    """A private server with the finsent database migrated to head; stopped and removed afterwards."""
    private = PrivatePostgres()
    try:
        yield private.start()
    finally:
        private.close()


@pytest.fixture()
def broker(settings: Settings, tmp_path: Path) -> Iterator[PrivateBroker]:
    private = PrivateBroker(settings, tmp_path / "stack").start()
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model.testing import make_tiny_model

    registry = tmp_path_factory.mktemp("models")
    make_tiny_model(registry)
    return registry


class ReadinessLog:
    """Polls /readyz in a thread; keeps (monotonic time, ready, reasons) samples."""

    def __init__(self, worker: WorkerProcess, every_s: float = 0.5) -> None:
        self.worker = worker
        self.every_s = every_s
        self.samples: list[tuple[float, bool, list[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="readyz-poller")

    def start(self) -> ReadinessLog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            answer = self.worker.readiness()
            if answer is not None:
                status, body = answer
                ready = status == 200 and body.get("ready") is True
                assert ready == (body.get("status") == "ok"), body
                reasons = list(body.get("reasons") or [])  # type: ignore[call-overload]
                self.samples.append((time.monotonic(), ready, reasons))
            self._stop.wait(self.every_s)

    def first_degraded(self, since: float, reason: str) -> float | None:
        """Seconds from `since` to the first sample not ready with a reason starting with `reason`."""
        for at, ready, reasons in list(self.samples):
            if at >= since and not ready and any(r.startswith(reason) for r in reasons):
                return at - since
        return None

    def first_ready(self, since: float) -> float | None:
        """Seconds from `since` to the first ready sample."""
        return next((at - since for at, ready, _ in list(self.samples) if at >= since and ready), None)

    def ready_now(self) -> bool:
        return bool(self.samples) and self.samples[-1][1]

    def degraded_seconds(self) -> float:
        samples = list(self.samples)
        return sum(later[0] - earlier[0] for earlier, later in zip(samples, samples[1:], strict=False)
                   if not earlier[1])


def items(tag: str, n: int) -> list[NewsItem]:
    start = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
    return [NewsItem(source=tag, headline=f"Story {i} ({tag}): bank shares slide as bond yields climb",
                     published_at=start + timedelta(seconds=i)) for i in range(n)]


def aggregate_rows(session) -> dict:  # noqa: ANN001
    from monitor.storage.models import SentimentAggregate

    return {(r.scope_kind, r.scope_key, r.bucket_seconds, r.bucket_start):
            (r.article_count, r.story_count, r.negative_count, tuple(r.sources))
            for r in session.scalars(select(SentimentAggregate))}


def recount_differences(database_url: str) -> tuple[int, int]:
    """(aggregate rows, rows that differ from a rebuild from the stored rows); the rebuild is rolled back."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from monitor.storage.rebuild import rebuild_aggregates

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            written = aggregate_rows(session)
            rebuild_aggregates(session)
            session.flush()
            recounted = aggregate_rows(session)
            session.rollback()
    finally:
        engine.dispose()
    keys = written.keys() | recounted.keys()
    return len(written), sum(1 for key in keys if written.get(key) != recounted.get(key))


def outage(polls: ReadinessLog, worker: WorkerProcess, stop: Callable[[], None], start: Callable[[], None],
           reason: str) -> dict[str, float]:
    """Stop a service for OUTAGE_S: /readyz must say `reason` within NOTICE_S and never ready meanwhile, the worker
    must live through it, and be ready again within RECOVER_S of the restart. Returns the timings (s)."""
    stop()  # returns once the service is gone
    cut_at = time.monotonic()
    wait_until(lambda: polls.first_degraded(cut_at, reason) is not None, NOTICE_S, f"/readyz to report {reason}")
    noticed = polls.first_degraded(cut_at, reason)
    time.sleep(max(0.0, cut_at + OUTAGE_S - time.monotonic()))
    assert worker.alive(), worker.log_text()[-3000:]
    during = [sample for sample in polls.samples if sample[0] > cut_at + NOTICE_S]
    assert during and not any(ready for _, ready, _ in during), f"ready while {reason}"
    restarting_at = time.monotonic()
    start()
    restart_s = time.monotonic() - restarting_at
    wait_until(polls.ready_now, RECOVER_S, f"ready again after {reason}")
    recovered = polls.first_ready(restarting_at)
    return {"outage_s": OUTAGE_S, "degraded_noticed_after_s": round(noticed or -1, 1),
            "restart_s": round(restart_s, 1), "ready_again_after_s": round(recovered or -1, 1)}


def test_readiness_tells_the_truth_through_database_and_broker_outages_and_nothing_is_lost(
    settings: Settings, broker: PrivateBroker, postgres: PrivatePostgres, tiny_registry: Path, tmp_path: Path,
) -> None:
    database_url = postgres.url
    tag = f"c{uuid.uuid4().hex[:8]}"
    env = {**stream_env(tag, database_url, tiny_registry, tmp_path / "state"),
           "FINSENT_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    topics = Settings(**{**broker.settings.model_dump(), "news_topic": env["FINSENT_NEWS_TOPIC"],
                         "dead_letter_topic": env["FINSENT_DEAD_LETTER_TOPIC"],
                         "scored_topic": env["FINSENT_SCORED_TOPIC"]})
    ensure_topics(topics, news_topics(topics), partitions=4)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    producer: PacedProducer | None = None
    polls: ReadinessLog | None = None

    def stored() -> int:
        return count_rows(database_url, "select count(*) from articles where source = :tag", tag=tag)

    try:
        started = time.monotonic()
        worker.start()
        producer = PacedProducer(topics, items(tag, 20_000), per_second=RATE).start()  # runs until stopped
        wait_until(lambda: stored() >= 30, STARTUP_S, "30 articles before the outages")
        polls = ReadinessLog(worker).start()
        wait_until(polls.ready_now, 30, "the worker to be ready before the outages")

        # 1. PostgreSQL stopped for OUTAGE_S (start() returns once it accepts connections again)
        db = outage(polls, worker, postgres.stop, postgres.start, "database unreachable")
        # 2. the Kafka broker stopped for OUTAGE_S (start() returns once it answers a metadata request)
        logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the test's producer complains while it retries
        kafka = outage(polls, worker, broker.stop, broker.start, "broker unreachable")

        # 3. stop producing, let the worker drain, and count
        time.sleep(5)  # a little load after the recovery too
        producer.stop()
        producer.join(timeout_s=60)
        sent, delivered, failed = producer.sent, producer.delivered, producer.failed
        wait_until(lambda: stored() >= delivered, RECOVER_S, f"all {delivered} delivered articles stored")
        time.sleep(2)
        assert polls.ready_now(), polls.samples[-3:]
        polls.stop()
        assert worker.terminate() == 0, worker.log_text()[-3000:]
    finally:
        logging.getLogger("kafka").setLevel(logging.NOTSET)
        if polls is not None:
            polls.stop()
        if producer is not None:
            producer.stop()
        if worker.alive():
            worker.kill()

    n_stored = stored()
    outputs = count_rows(database_url, "select count(*) from model_outputs o join articles a on a.id = o.article_id "
                         "where a.source = :tag", tag=tag)
    distinct_headlines = count_rows(database_url, "select count(distinct headline) from articles "
                                    "where source = :tag", tag=tag)
    duplicates = (n_stored - distinct_headlines) + (outputs - n_stored)
    counted = count_rows(database_url, "select coalesce(sum(article_count), 0) from sentiment_aggregates "
                         "where scope_kind = 'source' and scope_key = :tag and bucket_seconds = 60", tag=tag)
    aggregate_rows_written, recount_diffs = recount_differences(database_url)
    figures = {
        "items_sent": sent, "items_delivered": delivered, "items_failed_to_send": failed, "items_stored": n_stored,
        "duplicates": duplicates, "source_minute_article_count": counted,
        "aggregate_rows": aggregate_rows_written, "recount_differences": recount_diffs,
        "degraded_readiness_s": round(polls.degraded_seconds(), 1),
        # ready_again_after_s: from the restart command (the database retries every 5 s at most); restart_s: until
        # the server accepts connections / a fresh admin client gets an answer
        **{f"db_{name}": value for name, value in db.items()},
        **{f"broker_{name}": value for name, value in kafka.items()},
        "ready_at_end": True, "test_seconds": round(time.monotonic() - started, 1),
    }
    print("chaos-readiness " + json.dumps(figures), flush=True)
    assert failed == 0 and delivered == sent, figures
    assert n_stored == sent, figures
    assert duplicates == 0 and counted == n_stored, figures
    assert recount_diffs == 0, figures
