"""Fault tests on the real broker and database: after each, nothing lost and nothing stored twice.

- kill -9 a worker mid-stream, then restart it;
- a second worker joins the group mid-stream (rebalance), both drain on SIGTERM;
- PostgreSQL unreachable for a while: the worker talks to it through a loopback
  TCP proxy that the test cuts and restores (the shared server is never stopped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from benchmarks.workers import WorkerProcess, count_rows, stream_env, wait_until
from kernel.settings import Settings
from monitor.contract import NewsItem
from monitor.wire import ensure_topics, news_topics
from tests.faults import PacedProducer, TcpProxy

pytestmark = pytest.mark.integration

STARTUP_S = 120  # importing torch and loading the model on a busy 2-core machine


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model.testing import make_tiny_model

    registry = tmp_path_factory.mktemp("models")
    make_tiny_model(registry)
    return registry


@pytest.fixture()
def stream(settings: Settings, kafka_bootstrap: str, database_url: str, tiny_registry: Path,
           tmp_path: Path) -> tuple[str, dict[str, str], Settings]:
    """A unique tag (also the items' source), the workers' environment, and settings for producing."""
    tag = f"f{uuid.uuid4().hex[:8]}"
    env = stream_env(tag, database_url, tiny_registry, tmp_path / "state")
    topics = Settings(**{**settings.model_dump(), "news_topic": env["FINSENT_NEWS_TOPIC"],
                         "dead_letter_topic": env["FINSENT_DEAD_LETTER_TOPIC"],
                         "scored_topic": env["FINSENT_SCORED_TOPIC"]})
    ensure_topics(topics, news_topics(topics), partitions=4)
    return tag, env, topics


@pytest.fixture()
def started() -> Iterator[list[WorkerProcess]]:
    """Workers a test starts; any still running at the end (a failed test) are killed."""
    workers: list[WorkerProcess] = []
    yield workers
    for worker in workers:
        if worker.alive():
            worker.kill()


def start(workers: list[WorkerProcess], worker: WorkerProcess) -> WorkerProcess:
    workers.append(worker.start())
    return worker


def items(tag: str, n: int) -> list[NewsItem]:
    start = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
    return [NewsItem(source=tag, headline=f"Story {i} ({tag}): bank shares slide as bond yields climb",
                     published_at=start + timedelta(seconds=i)) for i in range(n)]


def stored(database_url: str, tag: str) -> int:
    return count_rows(database_url, "select count(*) from articles where source = :tag", tag=tag)


def assert_exactly_once(database_url: str, tag: str, n: int) -> None:
    """n articles, one output each, and the aggregates counted each article once."""
    assert stored(database_url, tag) == n
    assert count_rows(database_url, "select count(*) from model_outputs o join articles a on a.id = o.article_id "
                      "where a.source = :tag", tag=tag) == n
    assert count_rows(database_url, "select coalesce(sum(article_count), 0) from sentiment_aggregates "
                      "where scope_kind = 'source' and scope_key = :tag and bucket_seconds = 60", tag=tag) == n
    assert count_rows(database_url, "select coalesce(sum(story_count), 0) from sentiment_aggregates "
                      "where scope_kind = 'source' and scope_key = :tag and bucket_seconds = 3600", tag=tag) == n


def test_kill_9_mid_stream_then_restart_loses_nothing_and_duplicates_nothing(
    stream: tuple[str, dict[str, str], Settings], database_url: str, tmp_path: Path, started: list[WorkerProcess],
) -> None:
    tag, env, topics = stream
    n = 300
    producer = PacedProducer(topics, items(tag, n), per_second=40).start()
    first = start(started, WorkerProcess(env, tmp_path / "first.log", "--max-batch", "8"))
    wait_until(lambda: stored(database_url, tag) >= 40, STARTUP_S, "the first worker to store 40 articles")
    first.kill()
    killed_at = stored(database_url, tag)
    assert killed_at < n, "the kill must come mid-stream"

    second = start(started, WorkerProcess(env, tmp_path / "second.log"))
    producer.join(timeout_s=60)
    wait_until(lambda: stored(database_url, tag) >= n, STARTUP_S, f"all {n} articles after the restart")
    assert second.terminate() == 0, second.log_text()[-3000:]
    assert_exactly_once(database_url, tag, n)


def test_second_worker_joins_mid_stream_and_the_group_rebalances(
    stream: tuple[str, dict[str, str], Settings], database_url: str, tmp_path: Path, started: list[WorkerProcess],
) -> None:
    tag, env, topics = stream
    first = start(started, WorkerProcess(env, tmp_path / "a.log"))
    wait_until(lambda: first.health() is not None, STARTUP_S, "worker A to serve /healthz")
    second = start(started, WorkerProcess(env, tmp_path / "b.log"))
    producer = PacedProducer(topics, items(tag, 20_000), per_second=25).start()  # runs until stopped
    wait_until(lambda: first.handled() >= 20, STARTUP_S, "worker A to handle 20 messages")
    wait_until(lambda: second.handled() >= 20, STARTUP_S, "worker B to join and handle 20 messages")
    producer.stop()
    producer.join(timeout_s=30)
    n = producer.sent
    wait_until(lambda: stored(database_url, tag) >= n, 120, f"all {n} articles")
    assert first.terminate() == 0, first.log_text()[-3000:]
    assert second.terminate() == 0, second.log_text()[-3000:]
    summaries = [first.summary(), second.summary()]
    assert all(s is not None and s["stopped"] == "SIGTERM" and s["stored"] > 0 for s in summaries), summaries  # type: ignore[index]
    assert_exactly_once(database_url, tag, n)


def test_database_outage_blocks_then_resumes_without_loss(
    stream: tuple[str, dict[str, str], Settings], database_url: str, tmp_path: Path, started: list[WorkerProcess],
) -> None:
    tag, env, topics = stream
    n = 300
    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
    try:
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        producer = PacedProducer(topics, items(tag, n), per_second=30).start()
        worker = start(started, WorkerProcess({**env, "FINSENT_DATABASE_URL": proxied}, tmp_path / "worker.log"))
        wait_until(lambda: stored(database_url, tag) >= 30, STARTUP_S, "30 articles before the outage")

        proxy.cut()
        during = stored(database_url, tag)
        wait_until(lambda: "database unavailable" in worker.log_text(), 30, "the worker to notice the outage")
        assert worker.alive()
        assert stored(database_url, tag) == during  # nothing gets through while it is down

        proxy.restore()
        producer.join(timeout_s=60)
        wait_until(lambda: stored(database_url, tag) >= n, 90, f"all {n} articles after the outage")
        assert worker.terminate() == 0, worker.log_text()[-3000:]
        assert_exactly_once(database_url, tag, n)
    finally:
        proxy.close()
