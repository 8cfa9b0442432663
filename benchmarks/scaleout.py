"""Scale-out benchmark: two stream workers sharing the news topic, one stopped mid-run.

    finsent bench scaleout --messages 2000 --json

Real Kafka, real PostgreSQL, real `finsent worker` subprocesses, on this machine:

1. two workers join one consumer group (FINSENT_WORKER_GROUP) on fresh topics
   with FINSENT_TOPIC_PARTITIONS partitions and a throw-away database; both
   are serving and own partitions before anything is sent, so start-up is
   not counted;
2. K distinct real headlines are put on the news topic at once (a backlog);
3. while the two workers drain it, the group's lag (end offsets minus
   committed offsets, summed over partitions) is sampled every second;
4. when a third of K is stored, one worker is stopped (`--stop term`: SIGTERM,
   a scale-down; `--stop kill`: kill -9, a crash) and the group rebalances:
   the other worker takes its partitions and drains the rest;
5. every headline must then be stored exactly once: K articles, K model
   outputs, and the global daily aggregate counting K articles.

Rates come from the stored rows' `received_at` (set by PostgreSQL at insert):
two-worker messages/s before the stop, one-worker messages/s after the
rebalance, and the longest pause in storing around the stop (the rebalance). The last
stdout line is one JSON object, also written to reports/bench-scaleout.json.
Why a bench and not a test: with the live model two workers need minutes on
2 cores; tests/integration/test_worker_faults.py covers the rebalance with a
tiny model.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from benchmarks.pipeline import bench_items, drop_database, serving_backend, throwaway_database
from benchmarks.workers import WorkerProcess, count_rows, stream_env, wait_until
from kernel.reports import write_json_report
from kernel.settings import Settings, get_settings
from monitor.wire import ensure_topics, make_producer, news_topics, send_item

STARTUP_S = 300  # importing torch and loading the model twice on a busy 2-core machine
STOP_AT_SHARE = 1 / 3  # stop one worker once this share of the backlog is stored


def group_lag(settings: Settings, group: str, topic: str) -> int | None:
    """Messages on `topic` the group has not committed yet (None before the group committed anything)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, client_id="finsent-scaleout-lag")
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})  # kafka-python 3: {group: {partition: offset}}
        committed = {tp: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        if not committed:
            return None
        return int(sum(ends[tp] - max(0, committed.get(tp, 0)) for tp in partitions))
    finally:
        consumer.close()
        admin.close()


class LagSampler:
    """Samples the group's lag once a second in a thread: (seconds since start, lag)."""

    def __init__(self, settings: Settings, group: str, topic: str) -> None:
        self.settings, self.group, self.topic = settings, group, topic
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True, name="lag-sampler")

    def start(self) -> LagSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                lag = group_lag(self.settings, self.group, self.topic)
            except Exception:  # noqa: BLE001 - a missed sample during a rebalance is not a failure
                lag = None
            if lag is not None:
                self.samples.append((round(time.monotonic() - self._started, 1), lag))
            self._stop.wait(1.0)

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.samples


def stored_times(database_url: str) -> list[float]:
    """received_at of every stored article, as epoch seconds, ascending."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT extract(epoch FROM received_at) FROM articles ORDER BY 1"))
            return [float(value) for (value,) in rows]
    finally:
        engine.dispose()


def rate(stamps: list[float]) -> float | None:
    """Messages per second between the first and last of `stamps` (None for fewer than 2)."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return None
    return round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 1)


def longest_gap(stamps: list[float], within_s: float) -> float | None:
    """The longest time without a stored row among stamps in the first `within_s` seconds: how long the
    rebalance stopped the group (Faust pauses every partition while partitions move)."""
    window = [s for s in stamps if stamps and s <= stamps[0] + within_s]
    if len(window) < 2:
        return None
    return round(max(b - a for a, b in zip(window, window[1:], strict=False)), 1)


def run_scaleout(settings: Settings, messages: int, max_batch: int, stop_mode: str, tiny: bool,
                 work_dir: Path) -> dict[str, Any]:
    """Run the two-worker scenario once; returns the report (raises ClickException on a lost or doubled row)."""
    from model.serving.registry import live_version

    registry = settings.registry_dir
    if tiny or live_version(registry) is None:
        from model.testing import make_tiny_model

        registry = work_dir / "models"
        make_tiny_model(registry)
        backend, backend_reason = "torch", "tiny test model"
    else:
        backend, backend_reason = serving_backend(settings, registry)
    base = datetime.now(UTC).replace(microsecond=0)
    items = [item.model_copy(update={"published_at": base + timedelta(milliseconds=i), "published_precision": "minute"})
             for i, item in enumerate(bench_items(settings, messages))]
    messages = len(items)

    tag = f"scale{uuid.uuid4().hex[:8]}"
    database = throwaway_database(settings.database_url)
    env = stream_env(tag, database, registry, work_dir / "state")
    env["FINSENT_DEVICE"] = settings.device
    env["FINSENT_MODEL_BACKEND"] = backend
    topics = Settings(**{**settings.model_dump(), "news_topic": env["FINSENT_NEWS_TOPIC"],
                         "dead_letter_topic": env["FINSENT_DEAD_LETTER_TOPIC"],
                         "scored_topic": env["FINSENT_SCORED_TOPIC"]})
    group = env["FINSENT_WORKER_GROUP"]
    workers: list[WorkerProcess] = []
    sampler: LagSampler | None = None
    try:
        ensure_topics(topics, news_topics(topics))
        for name in ("a", "b"):
            workers.append(WorkerProcess({**env, "FINSENT_STATE_DIR": str(work_dir / f"state-{name}")},
                                         work_dir / f"worker-{name}.log", "--max-batch", str(max_batch)).start())
        wait_until(lambda: all(w.health() is not None for w in workers), STARTUP_S, "both workers to serve /healthz",
                   every_s=1.0)
        time.sleep(10)  # let the group settle into one assignment for both members before the backlog lands

        producer = make_producer(topics)
        for item in items:
            send_item(producer, topics.news_topic, item)
        producer.flush()
        producer.close()
        sent_at = time.time()
        sampler = LagSampler(topics, group, topics.news_topic).start()

        stop_after = int(messages * STOP_AT_SHARE)
        wait_until(lambda: count_rows(database, "select count(*) from articles") >= stop_after, 1800,
                   f"{stop_after} articles stored by two workers", every_s=0.5)
        handled_at_stop = [w.handled() for w in workers]
        stored_at_stop = count_rows(database, "select count(*) from articles")
        stopped_at = time.time()
        stopped = workers[1]
        if stop_mode == "kill":
            stopped.kill()
        else:
            stopped.terminate()  # returns once it drained its batch, committed and left the group
        left_at = time.time()

        wait_until(lambda: count_rows(database, "select count(*) from articles") >= messages, 1800,
                   f"all {messages} articles after the rebalance", every_s=1.0)
        time.sleep(3)  # a re-delivered batch, if any, lands now
        lag_samples = sampler.stop()
        sampler = None
        survivor_handled = workers[0].handled()
        workers[0].terminate()
        articles = count_rows(database, "select count(*) from articles")
        outputs = count_rows(database, "select count(*) from model_outputs")
        distinct_outputs = count_rows(database, "select count(distinct article_id) from model_outputs")
        aggregated = count_rows(database, "select coalesce(sum(article_count), 0) from sentiment_aggregates "
                                "where scope_kind = 'global' and bucket_seconds = 86400")
        stamps = stored_times(database)
    finally:
        if sampler is not None:
            sampler.stop()
        for worker in workers:
            if worker.alive():
                worker.kill()
        drop_database(settings.database_url, database)

    before = [s for s in stamps if s <= stopped_at]
    after = [s for s in stamps if s > stopped_at]
    exactly_once = articles == messages and outputs == messages and distinct_outputs == messages \
        and aggregated == messages
    lags = [lag for _, lag in lag_samples]
    return {
        "benchmark": "scaleout", "messages": messages, "workers": 2, "partitions": settings.topic_partitions,
        "stop": stop_mode, "max_batch": max_batch, "backend": backend, "backend_reason": backend_reason,
        "model": "tiny" if registry != settings.registry_dir else live_version(registry),
        "two_workers_msgs_per_s": rate(before),
        "one_worker_after_rebalance_msgs_per_s": rate(after),
        "rebalance_pause_s": longest_gap([before[-1]] + after if before else after, 120),
        "stop_to_exit_s": round(left_at - stopped_at, 1),
        "drain_s": round(stamps[-1] - sent_at, 1) if stamps else None,
        "stored_at_stop": stored_at_stop, "handled_at_stop": handled_at_stop,
        "survivor_handled_total": survivor_handled,
        "lag_max": max(lags) if lags else None, "lag_at_stop": next(
            (lag for t, lag in lag_samples if t >= stopped_at - sent_at), None),
        "lag_samples": lag_samples,
        "stored_articles": articles, "model_outputs": outputs, "global_daily_article_count": aggregated,
        "exactly_once": exactly_once,
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@click.command("scaleout")
@click.option("--messages", "-k", default=2000, show_default=True, type=click.IntRange(min=100),
              help="Headlines in the backlog the two workers drain.")
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--stop", "stop_mode", type=click.Choice(["term", "kill"]), default="term", show_default=True,
              help="How one worker leaves mid-run: SIGTERM (scale-down) or kill -9 (crash).")
@click.option("--tiny", is_flag=True, help="Use a tiny test model instead of the live one (measures the plumbing).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result line.")
def scaleout(messages: int, max_batch: int, stop_mode: str, tiny: bool, as_json: bool) -> None:
    """Two workers share the news topic; one stops mid-run; messages/s, lag and exactly-once counts."""
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="finsent-scaleout-") as work:
        result = run_scaleout(settings, messages, max_batch, stop_mode, tiny, Path(work))
    path = write_json_report(result, "bench-scaleout.json")
    if not as_json:
        click.echo(f"two workers {result['two_workers_msgs_per_s']} msg/s, one after the rebalance "
                   f"{result['one_worker_after_rebalance_msgs_per_s']} msg/s, pause {result['rebalance_pause_s']} s, "
                   f"max lag {result['lag_max']}, exactly once: {result['exactly_once']} (report {path})")
    click.echo(json.dumps({k: v for k, v in result.items() if k != "lag_samples"} | {"report": str(path)}))
    if not result["exactly_once"]:
        raise click.ClickException("not every headline was stored exactly once")
