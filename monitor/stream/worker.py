"""The stream worker: news topic -> joint model -> PostgreSQL, as a Faust app.

    finsent worker                      # run until SIGTERM / Ctrl-C
    finsent worker --count 1000         # stop after 1000 messages (debugging, benchmarks)
    finsent worker --timeout 60

Topology (all names from settings, FINSENT_*):

    news_topic (raw bytes) --score_and_store--> PostgreSQL (one transaction per micro-batch)
                                           \\--> scored_topic (JSON, key = item id)
                                           \\--> dead_letter_topic (JSON envelope, reason header)

Offsets are acknowledged by hand (`noack`) only after the batch is in
PostgreSQL, and Faust commits acknowledged offsets: a crash re-delivers, the
idempotent upserts make re-delivery harmless ("exactly-once in effect"). Run
more workers with the same FINSENT_WORKER_GROUP to share the partitions.

The agent parses each message as it arrives and queues it; batches are formed
adaptively (monitor/stream/batching.py) and scored while the previous batch is
stored (monitor/stream/pipeline.py).

The settings are read once, by `finsent worker` (monitor/stream/cli.py), and
passed in: `run_worker(settings, ...)` builds the Faust app and its topics from
them (`build_app`) and the runtime the agent, tasks, timers and pages read
(`build_runtime`, kept in `runtime` while the worker runs).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, cast

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kernel.settings import Settings
from monitor.contract import NewsItem
from monitor.storage.partitions import ensure_ahead
from monitor.storage.writes import ScoredPair
from monitor.stream import metrics
from monitor.stream.batching import AdaptiveBatcher
from monitor.stream.pipeline import BatchPipeline, RunControl
from monitor.stream.readiness import ReadinessState, Verdict, judge
from monitor.wire import DeadLetter, parse_item, scored_message

log = logging.getLogger(__name__)
PARTITIONS_EVERY_S = 3600.0  # how often a running worker makes sure the partitions ahead exist
READINESS_EVERY_S = 2.5  # how often the broker is asked for metadata (and the database pinged when idle)
BROKER_PROBE_TIMEOUT_S = 3.0
DB_IDLE_PING_S = 10.0  # ping the database only when no store attempt has told us anything for this long
DB_PING_TIMEOUT_S = 10.0

# --- topology ------------------------------------------------------------------
@dataclass(frozen=True)
class Topology:
    """The Faust app, its topics and the agent, as `build_app` made them from the settings."""

    app: faust.App
    news_topic: Any  # faust.TopicT
    dead_letter_topic: Any
    scored_topic: Any
    agent: Any  # score_and_store on news_topic (faust.AgentT)


def build_app(settings: Settings) -> Topology:
    """The worker's Faust app from the settings: its topics, the agent, tasks, timers and pages registered."""
    app = faust.App(
        settings.worker_group,  # the consumer group: every worker with this id shares the partitions
        broker=";".join(f"kafka://{server}" for server in settings.kafka_servers),
        key_serializer="raw",
        value_serializer="raw",  # bytes in: a bad message becomes a dead letter, never a decode crash
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,  # acknowledged offsets are committed at most 1 s later
        stream_wait_empty=False,  # on stop, commit what is acknowledged; unacknowledged messages are re-delivered
        topic_partitions=settings.topic_partitions,
        web_enabled=True,
        web_port=settings.metrics_port,
        web_bind="0.0.0.0",  # noqa: S104 - Prometheus scrapes workers from another host
        datadir=str(settings.state_dir / "faust"),
    )
    news_topic = app.topic(settings.news_topic, key_serializer="raw", value_serializer="raw")
    dead_letter_topic = app.topic(settings.dead_letter_topic, key_serializer="raw", value_serializer="raw")
    scored_topic = app.topic(settings.scored_topic, key_serializer="raw", value_serializer="raw")
    agent = app.agent(news_topic)(score_and_store)
    app.task(stop_when_asked)
    app.task(stop_after_timeout)
    app.timer(interval=5.0)(report_consumer_lag)
    app.timer(interval=PARTITIONS_EVERY_S)(create_partitions_ahead)
    app.timer(interval=READINESS_EVERY_S)(check_readiness)
    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(prometheus_metrics)
    return Topology(app, news_topic, dead_letter_topic, scored_topic, agent)


@dataclass
class WorkerRuntime:
    """What the agent, tasks, timers and pages need besides the topology; built by `run_worker` before the app
    starts, with the settings `finsent worker` read."""

    pipeline: BatchPipeline
    control: RunControl
    settings: Settings
    max_batch: int = 64
    batch_within_s: float = 0.05  # the most a batch lingers for more messages, only when nothing is in flight
    shutdown_grace_s: float = 30.0
    next_offsets: dict[Any, int] = field(default_factory=dict)  # TP -> next offset to handle
    worker: faust.Worker | None = None
    readiness: ReadinessState = field(default_factory=ReadinessState)  # monitor/stream/readiness.py
    db_ping: Callable[[], None] | None = None  # `SELECT 1` on the worker's engine; raises when unreachable
    batcher: AdaptiveBatcher[tuple[NewsItem | DeadLetter, Any]] | None = None  # made by the agent, on its loop


runtime: WorkerRuntime | None = None


def _runtime() -> WorkerRuntime:
    if runtime is None:
        raise RuntimeError("the worker runtime is not set: start the worker with `finsent worker`")
    return runtime


# --- agent (registered on the news topic by build_app) ------------------------------
async def score_and_store(stream: faust.StreamT) -> None:
    """Each message parsed on arrival and queued; adaptive micro-batches through the pipeline; acknowledged
    only once stored."""
    rt = _runtime()
    manual = cast(faust.Stream, stream).noack()  # faust's StreamT interface lacks noack(); its Stream has it
    rt.pipeline.ack = lambda events: ack_events(manual, events)
    pipeline = rt.pipeline

    async def handle(batch: list[tuple[NewsItem | DeadLetter, Any]]) -> None:
        await pipeline.handle_parsed([parsed for parsed, _ in batch], [event for _, event in batch])

    if rt.batcher is not None:
        await rt.batcher.close()  # an agent restarted by Faust: the old loop's batches were never acknowledged
    batcher = rt.batcher = AdaptiveBatcher(handle, rt.max_batch, rt.batch_within_s, idle=pipeline.idle,
                                           stopping=rt.control.stopping)
    batcher.start()
    async for event in manual.events():
        if rt.control.stopping.is_set():
            await asyncio.Event().wait()  # leave it unacknowledged: re-delivered after the restart
        await batcher.put((parse_item(event.message.value, origin(event)), event))


def origin(event: faust.EventT) -> str:
    message = event.message
    return f"{message.topic}[{message.partition}]@{message.offset}"


async def ack_events(stream: faust.StreamT, events: Sequence[faust.EventT]) -> None:
    rt = _runtime()
    for event in events:
        await stream.ack(event)
        tp = event.message.tp
        rt.next_offsets[tp] = max(rt.next_offsets.get(tp, 0), event.message.offset + 1)
    rt.readiness.progressed()


async def publish_dead_letters(dead_letter_topic: Any, letters: Sequence[DeadLetter]) -> None:
    """Send and wait until Kafka has them: only then may the originals be acknowledged."""
    pending = [await dead_letter_topic.send(value=letter.envelope("worker"), headers=letter.headers(), force=True)
               for letter in letters]
    await asyncio.gather(*pending)


async def publish_scored(scored_topic: Any, pairs: Sequence[ScoredPair]) -> None:
    pending = [await scored_topic.send(key=(item.id or "").encode(), force=True,
                                       value=json.dumps(scored_message(item, result)).encode("utf-8"))
               for item, result in pairs]
    await asyncio.gather(*pending)


# --- lifecycle: bounded runs and graceful stop (tasks and timers registered by build_app) ----
async def stop_when_asked(app: faust.App) -> None:
    """On SIGTERM, --count or --timeout: finish the batch in hand, commit offsets, stop."""
    rt = _runtime()
    await rt.control.stopping.wait()
    log.info("stopping (%s): finishing the batch in hand", rt.control.stop_reason)
    try:
        await asyncio.wait_for(rt.pipeline.drain(), timeout=rt.shutdown_grace_s)
    except TimeoutError:
        log.warning("gave up waiting for the batch after %.0fs; it will be re-delivered", rt.shutdown_grace_s)
        rt.control.give_up = True
    await app.consumer.commit()
    print(json.dumps({"stopped": rt.control.stop_reason, **asdict(rt.pipeline.totals)}), flush=True)
    if rt.worker is not None:
        mode_worker: Any = rt.worker
        mode_worker._schedule_shutdown(signal.SIGTERM)  # mode's own shutdown path, now that we are drained


async def stop_after_timeout() -> None:
    rt = _runtime()
    if rt.control.timeout_s is not None:
        await asyncio.sleep(rt.control.timeout_s)
        rt.control.request_stop("timeout")


async def report_consumer_lag(app: faust.App) -> None:
    """Lag = log end offset - next offset to handle, per assigned news partition."""
    rt = _runtime()
    consumer: Any = app.consumer
    total: int | None = None
    for tp in consumer.assignment():
        if tp.topic != rt.settings.news_topic:
            continue
        try:
            high = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - not fetched yet
            continue
        done = rt.next_offsets.get(tp) or consumer._committed_offset.get(tp) or 0  # Faust keeps no public getter
        if high is not None:
            lag = max(0, high - done)
            metrics.CONSUMER_LAG.labels(partition=str(tp.partition)).set(lag)
            total = (total or 0) + lag
    rt.readiness.lag = total  # readiness: lag with nothing handled for FINSENT_READINESS_STALL_S


async def create_partitions_ahead() -> None:
    """A worker that runs for weeks keeps FINSENT_PARTITIONS_AHEAD of partitions in front of it."""
    settings = _runtime().settings
    await asyncio.to_thread(ensure_ahead, settings.database_url, settings.partitions_ahead)


async def check_readiness(app: faust.App) -> None:
    """Ask the broker for metadata; ping the database only while the store loop is not telling us anything."""
    rt = _runtime()
    await probe_broker(app, rt.readiness, rt.settings.kafka_servers)
    checked = rt.readiness.db_checked_at
    if rt.db_ping is not None and (checked is None or time.monotonic() - checked > DB_IDLE_PING_S):
        await ping_database(rt.readiness, rt.db_ping)
    verdict()  # keeps finsent_worker_ready current between probes


async def probe_broker(app: faust.App, state: ReadinessState, servers: Sequence[str]) -> None:
    """A metadata request on the producer's own connection: aiokafka answers False or hangs when no broker answers.

    `servers` (the bootstrap servers) only name the brokers in the reason."""
    producer: Any = getattr(app.producer, "_producer", None)  # the aiokafka producer, once Faust started it
    if producer is None:
        return
    try:
        answered = await asyncio.wait_for(producer.client.force_metadata_update(), BROKER_PROBE_TIMEOUT_S)
    except TimeoutError:
        state.broker_failed(f"no metadata answer within {BROKER_PROBE_TIMEOUT_S:g}s")
        return
    except Exception as error:  # noqa: BLE001 - whatever the client raises means "not reachable"
        state.broker_failed(f"{type(error).__name__}: {error}"[:200])
        return
    if answered:
        state.broker_answered()
    else:
        state.broker_failed(f"no broker of {','.join(servers)} answered a metadata request")


async def ping_database(state: ReadinessState, ping: Callable[[], None]) -> None:
    try:
        await asyncio.wait_for(asyncio.to_thread(ping), DB_PING_TIMEOUT_S)
    except TimeoutError:
        state.db_failed(f"no answer to SELECT 1 within {DB_PING_TIMEOUT_S:g}s")
    except Exception as error:  # noqa: BLE001 - a failed ping is the answer
        from sqlalchemy.exc import DBAPIError

        from monitor.stream.store import is_transient

        if isinstance(error, DBAPIError) and not is_transient(error):
            state.db_answered()  # it answered, with an error: reachable
        else:
            state.db_failed(describe_db_error(error))
    else:
        state.db_answered()


def describe_db_error(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}"[:200]


def verdict() -> Verdict:
    """The readiness verdict now (monitor/stream/readiness.py), also exported as finsent_worker_ready."""
    rt = _runtime()
    rt.readiness.stopping = rt.control.stopping.is_set()
    answer = judge(rt.readiness, time.monotonic(), rt.settings.readiness_stall_s)
    metrics.READY.set(1 if answer.ready else 0)
    return answer


# --- health and metrics (FINSENT_METRICS_PORT; pages registered by build_app) --------
async def healthz(web: Any, request: Any) -> Any:
    status, body = health_answer()
    return web.json(body, status=status)


async def readyz(web: Any, request: Any) -> Any:
    status, body = readiness_answer()
    return web.json(body, status=status)


def health_answer() -> tuple[int, dict[str, Any]]:
    """Liveness: 200 while the process runs (503 only while stopping); the body carries the readiness verdict."""
    rt = _runtime()
    pipeline = rt.pipeline
    body = {
        **verdict().as_json(),
        "model_version": pipeline.model.version,
        "handled": pipeline.totals.messages,
        "last_batch_at": pipeline.last_batch_at.isoformat() if pipeline.last_batch_at else None,
    }
    return (503 if rt.control.stopping.is_set() else 200), body


def readiness_answer() -> tuple[int, dict[str, Any]]:
    """Readiness: 200 when ready, 503 while degraded (database or broker unreachable, consumer stalled) or stopping."""
    answer = verdict()
    return (200 if answer.ready else 503), answer.as_json()


async def prometheus_metrics(web: Any, request: Any) -> Any:
    return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


class DrainingWorker(faust.Worker):
    """A Faust worker whose first SIGTERM/SIGINT drains the batch in hand before stopping."""

    def _on_sigterm(self) -> None:
        _runtime().control.request_stop("SIGTERM")
        if _runtime().control.give_up:
            super()._on_sigterm()

    def _on_sigint(self) -> None:
        _runtime().control.request_stop("SIGINT")
        if _runtime().control.give_up:
            super()._on_sigint()


# --- entry point -------------------------------------------------------------------
def build_runtime(settings: Settings, topology: Topology, max_messages: int | None, timeout_s: float | None,
                  max_batch: int, batch_within_s: float) -> WorkerRuntime:
    """Load the live model and connect the database: failures here stop the worker before it consumes."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import sessionmaker

    from monitor.storage.known_names import known_names_from_store
    from monitor.storage.model_versions import repair_at_start
    from monitor.stream.live_model import LiveModel
    from monitor.stream.store import StoreRetry, is_transient, store_once, worker_engine

    control = RunControl(max_messages, timeout_s)
    model = LiveModel.from_registry(settings.registry_dir, settings.device, settings.model_backend)
    model.load_now()
    log.info("scoring with model %s from %s (%s backend, FINSENT_MODEL_BACKEND=%s)", model.version,
             settings.registry_dir, model.backend, settings.model_backend)
    repair_at_start(settings.registry_dir, settings.database_url)  # model_versions follows the registry
    factory = sessionmaker(worker_engine(settings.database_url), expire_on_commit=False)
    with factory() as session:  # names the tagger found in the stored history (monitor/storage/known_names.py)
        known_names = known_names_from_store(session)
    log.info("%d names known from the stored history", sum(map(known_names.is_known, known_names.tagged)))
    readiness = ReadinessState()
    store_batch = partial(store_once, known_names=known_names)

    def tracked_store(session_factory: Any, pairs: Sequence[Any]) -> Any:
        """Each store attempt (retries included) tells readiness whether the database answered."""
        try:
            report = store_batch(session_factory, pairs)
        except DBAPIError as error:
            if is_transient(error):
                readiness.db_failed(describe_db_error(error))
            else:
                readiness.db_answered()  # it rejected the data: reachable
            raise
        readiness.db_answered()
        return report

    def db_ping() -> None:
        with factory() as session:
            session.execute(text("select 1"))

    store = StoreRetry(factory, ThreadPoolExecutor(1, thread_name_prefix="store"),
                       should_give_up=lambda: control.give_up, store=tracked_store)

    async def not_bound(events: Sequence[Any]) -> None:  # replaced by the agent with its stream's ack
        raise RuntimeError("ack used before the agent started")

    pipeline = BatchPipeline(model, store, ThreadPoolExecutor(1, thread_name_prefix="infer"),
                             partial(publish_dead_letters, topology.dead_letter_topic),
                             partial(publish_scored, topology.scored_topic), not_bound, control)
    # the linger of adaptive batching (monitor/stream/batching.py): FINSENT_BATCH_LINGER_S, capped by --batch-within
    linger_s = min(batch_within_s, settings.batch_linger_s)
    return WorkerRuntime(pipeline, control, settings, max_batch=max_batch, batch_within_s=linger_s,
                         readiness=readiness, db_ping=db_ping)


def run_worker(settings: Settings, max_messages: int | None = None, timeout_s: float | None = None,
               max_batch: int = 64, batch_within_s: float = 0.2) -> None:
    """Create the topics if needed, load the model, and run until stopped (`settings`: what `finsent worker`
    read)."""
    from monitor.wire import ensure_topics, news_topics

    global runtime
    ensure_topics(settings, news_topics(settings))
    # partitions for the days ahead: never created on the write path (docs/storage.md)
    ensure_ahead(settings.database_url, settings.partitions_ahead)
    (settings.state_dir / "faust").mkdir(parents=True, exist_ok=True)
    topology = build_app(settings)
    runtime = build_runtime(settings, topology, max_messages, timeout_s, max_batch, batch_within_s)
    worker = DrainingWorker(topology.app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False)
    runtime.worker = worker
    worker.execute_from_commandline()
