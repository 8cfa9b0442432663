"""`finsent ingest live-segment` and `ingest replay --rebase-to-now` on the real broker.

The live segment waits for the worker group to catch up (real consumer-group
offsets), then puts the segment on the topic published from now on, with new
ids and the corpus's spacing compressed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from monitor.contract import NewsItem
from monitor.ingest.live_segment import LIVE_SEGMENT, segment_items

pytestmark = pytest.mark.integration

FINSENT = str(Path(sys.executable).with_name("finsent"))
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "stream" / "headlines.csv"


def read_topic(bootstrap: str, topic: str, count: int) -> list[NewsItem]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-reader",
                             auto_offset_reset="earliest", consumer_timeout_ms=20000)
    items = []
    for message in consumer:
        items.append(NewsItem.model_validate_json(message.value))
        if len(items) == count:
            break
    consumer.close()
    return items


def env_for(bootstrap: str, topic: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "FINSENT_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "FINSENT_NEWS_TOPIC": topic,
            "FINSENT_WORKER_GROUP": f"{topic}-worker", **extra}


def test_live_segment_waits_for_the_worker_then_replays_rebased(settings, kafka_bootstrap: str, unique_topic: str,
                                                                tmp_path: Path) -> None:
    corpus = Path(settings.data_dir) / "stream" / "financial_headlines_stream.csv"
    if not corpus.exists():
        pytest.skip(f"no stream corpus at {corpus}")
    expected = segment_items(corpus)
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(unique_topic, num_partitions=2, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(3):  # history the "worker" has not consumed yet
        producer.send(unique_topic, NewsItem(source="test", headline=f"old {i}",
                                             published_at=datetime(2010, 1, 1, tzinfo=UTC)).model_dump_json().encode())
    producer.flush()
    producer.close()

    started = datetime.now(UTC)
    errors = tmp_path / "stderr.txt"
    # 20000x: the segment's 35 hours in about 6 seconds
    with errors.open("w") as stderr_file:
        command = subprocess.Popen([FINSENT, "ingest", "live-segment", "--speed", "20000x", "--wait-for-worker",
                                    "2m", "--max-lag", "0"], env=env_for(kafka_bootstrap, unique_topic),
                                   stdout=subprocess.PIPE, stderr=stderr_file, text=True)
    deadline = time.monotonic() + 60
    while "messages behind" not in errors.read_text() and command.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # until it has measured the lag once
    assert "waiting for the worker to catch up: 3 messages behind" in errors.read_text()
    assert command.poll() is None  # still waiting
    worker = KafkaConsumer(unique_topic, bootstrap_servers=kafka_bootstrap, group_id=f"{unique_topic}-worker",
                           auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=15000)
    consumed = 0
    for _ in worker:
        consumed += 1
        if consumed == 3:
            break
    worker.commit()
    worker.close()
    caught_up = datetime.now(UTC)
    stdout, _ = command.communicate(timeout=120)
    assert command.returncode == 0, errors.read_text()
    assert "the worker is 0 messages behind (<= 0): starting" in errors.read_text()
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["segment"] == LIVE_SEGMENT.name and summary["sent"] == len(expected)

    sent = [item for item in read_topic(kafka_bootstrap, unique_topic, 3 + len(expected)) if item.source != "test"]
    assert len(sent) == len(expected)
    first = min(item.published_at for item in sent)

    def timeline(items: list[NewsItem], origin: datetime, speed: float) -> list[tuple[float, str]]:
        return sorted((round((i.published_at - origin).total_seconds() / speed, 3), i.headline) for i in items)

    # the same headlines, each at its corpus offset divided by the speed
    assert timeline(sent, first, 1) == timeline(expected, expected[0].published_at, 20000)
    assert not {item.id for item in sent} & {item.id for item in expected}  # new ids: stored as new articles
    assert started < caught_up - timedelta(seconds=1) <= first  # rebased only after the wait
    assert max(item.published_at for item in sent) <= datetime.now(UTC)


def test_replay_slices_and_rebases_a_corpus(kafka_bootstrap: str, unique_topic: str) -> None:
    before = datetime.now(UTC)
    result = subprocess.run([FINSENT, "ingest", "replay", str(FIXTURE), "--from", "2020-03-09T00:00:00+00:00",
                             "--to", "2020-03-09T14:00:00+00:00", "--rebase-to-now", "--speed", "max"],
                            env=env_for(kafka_bootstrap, unique_topic), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["sent"] == 2
    items = read_topic(kafka_bootstrap, unique_topic, 2)
    assert sorted(item.source for item in items) == ["benzinga", "reuters"]  # 00:00 and 13:31 UTC; 14:02 is out
    assert all(before <= item.published_at <= datetime.now(UTC) for item in items)
