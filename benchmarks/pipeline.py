"""End-to-end pipeline benchmark: real Kafka, the real worker, real PostgreSQL, on this machine.

    finsent bench pipeline --json          # registered in the `bench` group (finsent/model_commands.py)
    python -m benchmarks.pipeline --json   # the same command, standalone

In one run:

1. model-only: the live model (else a tiny one in a temporary registry)
   scores 1000 of the headlines in the worker's micro-batch size, in this
   process, on the backend the worker serves (FINSENT_MODEL_BACKEND; with
   auto, the version's int8 export and parity report are made first when
   missing, so the worker does not switch backend mid-run), before and again
   after the pipeline phases (the better rate is used: on a shared machine
   the load moves);
2. throughput: K headlines are put on fresh topics first, then one worker
   (a subprocess, exactly `finsent worker`) drains them into a throw-away
   database; the rate is taken from the scored topic's record timestamps,
   after the first batch (worker start-up is not pipeline throughput);
3. latency: more headlines are sent for --latency-seconds at half the
   measured pipeline rate, stamped with published_at = send time; latency
   per message is the scored record's timestamp (written right after the
   database commit) minus published_at, so it is an upper bound of
   published_at -> committed;
4. latency at the full sustainable rate: the same, for as long, at the
   measured pipeline rate itself (x --full-rate-fraction, default 1.0;
   0 skips this phase): keys full_p50_ms, full_p95_ms, full_p99_ms.

Finally every headline must be in the database exactly once. The last line
printed is one JSON object (keys pipeline_msgs_per_s, model_only_seq_per_s,
ratio, p50_ms, p95_ms, p99_ms, backend, ...), also written to
reports/bench-pipeline.json. `worker` holds the worker's own metrics for the
throughput phase (model and database seconds per message, mean batch size):
where the pipeline's time goes when the ratio falls short.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from kafka import KafkaConsumer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.workers import WorkerProcess, count_rows, stream_env, wait_until
from kernel.reports import write_json_report
from kernel.settings import Settings, get_settings
from monitor.contract import NewsItem
from monitor.ingest.replay import in_replay_order, merge_repeats, read_corpus, replay
from monitor.wire import ensure_topics, make_producer, news_topics, send_item

PACING_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MODEL_ONLY_TEXTS = 1000  # enough for a stable rate, measured twice per run
LATENCY_RATE_CAP = 600.0  # msg/s the headline pool of the latency phases is sized for (more: shorter phases)


def bench_items(settings: Settings, n: int) -> list[NewsItem]:
    """n distinct real headlines from the stream corpus, spread over its whole time range."""
    path = settings.data_dir / "stream" / "financial_headlines_stream.csv"
    if not path.exists():
        raise click.ClickException(f"{path} is missing: set FINSENT_DATA_DIR to the datasets directory")
    items = in_replay_order(merge_repeats(read_corpus(path)))
    step = max(1, len(items) // n)
    return items[::step][:n]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def model_only_rate(registry_dir: Path, device: str, texts: list[str], batch: int,
                    backend: str = "torch") -> tuple[float, str]:
    """Sequences/s of Predictor.predict on worker-sized batches (after one warm-up batch).

    Runs in a one-thread executor exactly as the worker runs inference: torch's
    intra-op thread settings are per thread, so the main thread would measure
    a different configuration (on a busy 2-core machine, a 3-5x different one).
    """
    from model.serving.predictor import Predictor

    predictor = Predictor.load(registry_dir, device=device, backend=backend)

    def timed(predictor: Predictor) -> float:
        predictor.predict(texts[:batch])
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            predictor.predict(texts[i:i + batch])
        return len(texts) / (time.perf_counter() - started)

    with ThreadPoolExecutor(1, thread_name_prefix="infer") as executor:
        rate = executor.submit(timed, predictor).result()
    version = predictor.version
    del predictor
    gc.collect()
    return rate, version


def serving_backend(settings: Settings, registry_dir: Path) -> tuple[str, str]:
    """(backend, reason) the worker will serve the live version with; with auto, the int8 export and its
    parity report are made now when missing (as `finsent models ensure` does), not during the run."""
    from model.reports.onnx_bench import prepare_serving
    from model.serving.onnx_backend import choose_backend, needs_parity_report
    from model.serving.registry import live_version

    version = live_version(registry_dir)
    if version is None:
        return "torch", "no live model"
    if needs_parity_report(settings.model_backend, settings.device, registry_dir, version):
        click.echo(f"exporting {version} to int8 and checking parity first", err=True)
        prepare_serving(registry_dir, settings.data_dir, version)
    choice = choose_backend(settings.model_backend, settings.device, registry_dir, version)
    return choice.backend, choice.reason


def worker_metrics(port: int) -> dict[str, float]:
    """Sums and counts of the worker's histograms, from its /metrics page."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name.endswith(("_sum", "_count")) and not sample.labels:
                values[sample.name.removeprefix("finsent_worker_")] = sample.value
    return values


def worker_breakdown(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """Model and database time per message, and the mean batch size, between two metric snapshots."""
    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    batches = max(1.0, delta("batch_size_count"))
    return {"inference_ms_per_msg": round(1000 * delta("inference_seconds_sum") / max(1, messages), 2),
            "store_ms_per_msg": round(1000 * delta("store_seconds_sum") / max(1, messages), 2),
            "mean_batch": round(delta("batch_size_sum") / batches, 1)}


def scored_records(settings: Settings, topic: str, expected: int, timeout_s: float) -> list[tuple[str, float, str]]:
    """(id, record timestamp in s, published_at) of every scored message, waiting for `expected` ids."""
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_servers, auto_offset_reset="earliest",
                             consumer_timeout_ms=2_000)
    found: dict[str, tuple[str, float, str]] = {}
    deadline = time.monotonic() + timeout_s
    while len(found) < expected and time.monotonic() < deadline:
        for record in consumer:
            body = json.loads(record.value)
            found.setdefault(body["id"], (body["id"], record.timestamp / 1000, body["published_at"]))
            if len(found) >= expected:
                break
    consumer.close()
    return list(found.values())


def paced_latencies(settings: Settings, producer: Any, items: list[NewsItem], rate: float,
                    already: int) -> list[float]:
    """Send `items` at `rate` msg/s (published_at = send time) and return their latencies in ms: scored
    record timestamp - published_at. `already` messages were sent to the topic before these."""
    # due times i / rate, via replay's own pacing (speed 1x); stamp_now sets published_at at send
    paced = [item.model_copy(update={"published_at": PACING_EPOCH + timedelta(seconds=i / rate)})
             for i, item in enumerate(items)]
    replay(paced, 1.0, lambda item: send_item(producer, settings.news_topic, item), stamp_now=True)
    producer.flush()
    ids = {item.id for item in items}
    records = scored_records(settings, settings.scored_topic, already + len(items), timeout_s=300)
    latencies_ms = [max(0.0, (stamp - datetime.fromisoformat(published).timestamp()) * 1000)
                    for item_id, stamp, published in records if item_id in ids]
    if len(latencies_ms) < len(items):
        raise click.ClickException(f"only {len(latencies_ms)}/{len(items)} latency messages scored")
    return latencies_ms


def latency_figures(latencies_ms: list[float], prefix: str = "") -> dict[str, float]:
    return {f"{prefix}p50_ms": round(statistics.median(latencies_ms), 1),
            f"{prefix}p95_ms": round(percentile(latencies_ms, 95), 1),
            f"{prefix}p99_ms": round(percentile(latencies_ms, 99), 1)}


def throwaway_database(server_url: str) -> str:
    from monitor.storage import migrate

    name = f"finsent_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade("head", url=url)
    return url


def drop_database(server_url: str, url: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def run_bench(settings: Settings, messages: int, latency_seconds: float, max_batch: int,
              work_dir: Path, full_rate_fraction: float = 1.0) -> dict[str, Any]:
    from model.serving.registry import live_version

    registry = settings.registry_dir
    if live_version(registry) is None:
        from model.testing import make_tiny_model

        registry = work_dir / "models"
        make_tiny_model(registry)
    latency_pool_size = max(messages, int(LATENCY_RATE_CAP * latency_seconds * (0.5 + full_rate_fraction)))
    pool = bench_items(settings, messages + latency_pool_size)
    throughput_items, latency_pool = pool[:messages], pool[messages:]

    model_texts = [i.text_for_model for i in throughput_items[:MODEL_ONLY_TEXTS]]
    backend, backend_reason = serving_backend(settings, registry)
    model_rate_before, version = model_only_rate(registry, settings.device, model_texts, max_batch, backend)
    load_before = os.getloadavg()[0]

    tag = f"bench{uuid.uuid4().hex[:8]}"
    database = throwaway_database(settings.database_url)
    env = stream_env(tag, database, registry, work_dir / "state")
    env["FINSENT_DEVICE"] = settings.device
    env["FINSENT_MODEL_BACKEND"] = backend  # what was measured above, whatever auto would decide later
    topics = Settings(**{**settings.model_dump(), "news_topic": env["FINSENT_NEWS_TOPIC"],
                         "dead_letter_topic": env["FINSENT_DEAD_LETTER_TOPIC"],
                         "scored_topic": env["FINSENT_SCORED_TOPIC"]})
    worker = None
    try:
        ensure_topics(topics, news_topics(topics))
        producer = make_producer(topics)
        replay(throughput_items, None, lambda item: send_item(producer, topics.news_topic, item), stamp_now=True)
        producer.flush()

        worker = WorkerProcess(env, work_dir / "worker.log", "--max-batch", str(max_batch)).start()
        # read the scored topic only once the worker is through: a consumer decoding records meanwhile
        # would take CPU from the worker being measured (the rate comes from the records' own timestamps)
        wait_until(lambda: worker.handled() >= messages or not worker.alive(), 600, "the throughput phase",
                   every_s=1.0)
        records = scored_records(topics, topics.scored_topic, messages, timeout_s=600)
        if len(records) < messages:
            raise click.ClickException(f"only {len(records)}/{messages} scored; see {work_dir / 'worker.log'}")
        breakdown = worker_breakdown({}, worker_metrics(worker.metrics_port), messages)  # since its start
        stamps = sorted(r[1] for r in records)
        pipeline_rate = (messages - max_batch) / max(1e-6, stamps[-1] - stamps[max_batch - 1])

        latency_rate = pipeline_rate / 2
        latency_items = latency_pool[:max(50, int(latency_rate * latency_seconds))]
        latencies_ms = paced_latencies(topics, producer, latency_items, latency_rate, messages)
        full_rate = pipeline_rate * full_rate_fraction
        full_items = latency_pool[len(latency_items):][:max(50, int(full_rate * latency_seconds))] \
            if full_rate_fraction > 0 else []
        full_latencies_ms = paced_latencies(topics, producer, full_items, full_rate,
                                            messages + len(latency_items)) if full_items else []
        producer.close()

        total = messages + len(latency_items) + len(full_items)
        wait_until(lambda: count_rows(database, "select count(*) from articles") >= total, 60, "all articles stored")
        worker.terminate()
        stored = count_rows(database, "select count(*) from articles")
        outputs = count_rows(database, "select count(*) from model_outputs")
    finally:
        if worker is not None and worker.alive():
            worker.kill()
        drop_database(settings.database_url, database)
    # measured again after the pipeline: on a shared machine the load changes, and the
    # ratio is taken against the better of the two (the conservative choice)
    model_rate_after, _ = model_only_rate(registry, settings.device, model_texts, max_batch, backend)
    model_rate = max(model_rate_before, model_rate_after)

    return {
        "pipeline_msgs_per_s": round(pipeline_rate, 1),
        "model_only_seq_per_s": round(model_rate, 1),
        "model_only_before_after": [round(model_rate_before, 1), round(model_rate_after, 1)],
        "ratio": round(pipeline_rate / model_rate, 3),
        **latency_figures(latencies_ms),
        "latency_rate_msgs_per_s": round(latency_rate, 1),
        "latency_messages": len(latency_items),
        **(latency_figures(full_latencies_ms, "full_") if full_latencies_ms else {}),
        "full_rate_msgs_per_s": round(full_rate, 1) if full_items else None,
        "full_rate_messages": len(full_items),
        "throughput_messages": messages,
        "stored_articles": stored,
        "model_outputs": outputs,
        "exactly_once": stored == total and outputs == total,
        "max_batch": max_batch,
        "model_version": version,
        "backend": backend,
        "backend_reason": backend_reason,
        "worker": breakdown,
        "device": settings.device,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


@click.command("pipeline")
@click.option("--messages", "-k", default=2000, show_default=True, type=click.IntRange(min=100),
              help="Headlines for the throughput phase.")
@click.option("--latency-seconds", default=20.0, show_default=True, help="Length of the paced latency phase.")
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--full-rate-fraction", default=1.0, show_default=True, type=click.FloatRange(min=0, max=2),
              help="Rate of the second latency phase, as a fraction of the measured pipeline rate (0: skip it).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result line.")
def pipeline(messages: int, latency_seconds: float, max_batch: int, full_rate_fraction: float, as_json: bool) -> None:
    """Throughput and latency of Kafka -> worker -> PostgreSQL next to the model alone."""
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="finsent-bench-") as work:
        result = run_bench(settings, messages, latency_seconds, max_batch, Path(work), full_rate_fraction)
    write_json_report(result, "bench-pipeline.json")
    if not as_json:
        click.echo(f"pipeline {result['pipeline_msgs_per_s']} msg/s vs model {result['model_only_seq_per_s']} seq/s "
                   f"(ratio {result['ratio']}); latency at {result['latency_rate_msgs_per_s']} msg/s: "
                   f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms")
        if result["full_rate_messages"]:
            click.echo(f"latency at {result['full_rate_msgs_per_s']} msg/s (full rate): p50 {result['full_p50_ms']} "
                       f"ms, p95 {result['full_p95_ms']} ms, p99 {result['full_p99_ms']} ms")
    click.echo(json.dumps(result))


if __name__ == "__main__":  # pragma: no cover
    pipeline()
