"""Real messages through the local broker with both client libraries finsent uses."""

from __future__ import annotations

import asyncio
import json

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


def test_kafka_python_round_trip(kafka_bootstrap: str, unique_topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(unique_topic, num_partitions=3, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all",
                             value_serializer=lambda v: json.dumps(v).encode())
    for i in range(50):
        producer.send(unique_topic, {"i": i}, key=str(i).encode())
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(unique_topic, bootstrap_servers=kafka_bootstrap, group_id=f"{unique_topic}-g",
                             auto_offset_reset="earliest", consumer_timeout_ms=15000,
                             value_deserializer=lambda b: json.loads(b))
    seen = set()
    for message in consumer:
        seen.add(message.value["i"])
        if len(seen) == 50:
            break
    consumer.commit()
    consumer.close()
    assert seen == set(range(50))


def test_aiokafka_round_trip(kafka_bootstrap: str, unique_topic: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    async def run() -> list[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for i in range(20):
                await producer.send_and_wait(unique_topic, f"m{i}".encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(unique_topic, bootstrap_servers=kafka_bootstrap,
                                    group_id=f"{unique_topic}-a", auto_offset_reset="earliest")
        await consumer.start()
        received: list[bytes] = []
        try:
            while len(received) < 20:
                batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=30)
                for messages in batches.values():
                    received.extend(m.value for m in messages)
        finally:
            await consumer.stop()
        return received

    received = asyncio.run(run())
    assert sorted(received) == sorted(f"m{i}".encode() for i in range(20))


def test_kafka_python_reads_what_aiokafka_wrote(kafka_bootstrap: str, unique_topic: str) -> None:
    """The connectors (kafka-python) and the worker (aiokafka, via Faust) must interoperate."""
    from aiokafka import AIOKafkaProducer

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(unique_topic, b"hello", key=b"k")
        finally:
            await producer.stop()

    asyncio.run(produce())
    consumer = KafkaConsumer(unique_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=15000)
    values = [(m.key, m.value) for m in consumer]
    consumer.close()
    assert values == [(b"k", b"hello")]
