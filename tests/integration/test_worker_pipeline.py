"""The worker on the real broker and database: N in -> N stored, poison -> dead letters with reasons."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from benchmarks.workers import WorkerProcess, count_rows, stream_env
from kernel.settings import Settings
from monitor.contract import NewsItem
from monitor.wire import ensure_topics, make_producer, news_topics, read_envelope, send_item

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from model.testing import make_tiny_model

    registry = tmp_path_factory.mktemp("models")
    return registry, make_tiny_model(registry)


def headlines(source: str, n: int) -> list[NewsItem]:
    start = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
    return [NewsItem(source=source, headline=f"Company {i} ({source}) shares move after quarterly results",
                     published_at=start + timedelta(seconds=i), tickers=["AAPL"] if i % 3 == 0 else [])
            for i in range(n)]


def read_topic(settings: Settings, topic: str, expected: int) -> list:  # noqa: ANN401 - kafka records
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_servers, auto_offset_reset="earliest",
                             consumer_timeout_ms=10_000)
    records = []
    for record in consumer:
        records.append(record)
        if len(records) >= expected:
            break
    consumer.close()
    return records


def test_every_message_is_stored_once_and_poison_goes_to_dead_letters(
    settings: Settings, kafka_bootstrap: str, database_url: str, tiny_registry: tuple[Path, str], tmp_path: Path,
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    registry, version = tiny_registry
    env = stream_env(tag, database_url, registry, tmp_path / "state")
    topics = Settings(**{**settings.model_dump(), "news_topic": env["FINSENT_NEWS_TOPIC"],
                         "dead_letter_topic": env["FINSENT_DEAD_LETTER_TOPIC"],
                         "scored_topic": env["FINSENT_SCORED_TOPIC"]})
    ensure_topics(topics, news_topics(topics))

    good = headlines(tag, 40)
    syndicated = NewsItem(source=f"{tag}-wire", headline=good[0].headline, published_at=good[0].published_at)
    poison = [b"\xff\xfe not utf-8", b"{\"source\": \"x\"", b"[\"a list\"]",
              json.dumps({"source": tag, "headline": "naive time", "published_at": "2024-06-03T13:30:00"}).encode(),
              b"{\"body\": \"" + b"x" * (300 * 1024) + b"\"}"]
    producer = make_producer(topics)
    for i, item in enumerate(good):
        send_item(producer, topics.news_topic, item)
        if i % 8 == 0 and poison:
            producer.send(topics.news_topic, value=poison.pop(0))
    for item in good[:5]:  # re-sent copies: same id
        send_item(producer, topics.news_topic, item)
    send_item(producer, topics.news_topic, syndicated)
    producer.flush()
    producer.close()
    total = 40 + 5 + 5 + 1

    worker = WorkerProcess(env, tmp_path / "worker.log", "--count", str(total), "--timeout", "240").start()
    assert worker.process is not None
    assert worker.process.wait(timeout=300) == 0, worker.log_text()[-4000:]
    summary = worker.summary()
    assert summary is not None and summary["messages"] == total and summary["dead_letters"] == 5

    sources = {"tag": tag, "wire": f"{tag}-wire"}
    assert count_rows(database_url, "select count(*) from articles where source in (:tag, :wire)", **sources) == 41
    assert count_rows(database_url, "select count(*) from model_outputs o join articles a on a.id = o.article_id "
                      "where a.source in (:tag, :wire) and o.model_version = :v", **sources, v=version) == 41
    # the syndicated copy is its own article but the same story: 41 articles, 40 stories
    totals = "select sum({}) from sentiment_aggregates where scope_kind = 'source' and scope_key in (:tag, :wire) " \
             "and bucket_seconds = 3600"
    assert count_rows(database_url, totals.format("article_count"), **sources) == 41
    assert count_rows(database_url, totals.format("story_count"), **sources) == 40

    dead = [read_envelope(record.value) for record in read_topic(topics, topics.dead_letter_topic, 5)]
    assert sorted(d["reason"] for d in dead) == sorted(
        ["not_utf8", "malformed_json", "not_an_object", "schema_violation", "oversized"])
    assert any(d["original"] == b"\xff\xfe not utf-8" for d in dead)
    scored = {json.loads(r.value)["id"] for r in read_topic(topics, topics.scored_topic, 46)}
    assert scored == {item.id for item in [*good, syndicated]}
