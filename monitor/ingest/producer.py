"""The one Kafka producer setup every connector shares, and topic creation.

Messages are keyed by the item id, so every copy of one item (a replay, a
re-poll) lands on one partition and is handled by one worker in order. The
producer waits for all in-sync replicas (acks=all) and is idempotent, so a
retried send after a broker hiccup is not written twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from monitor.contract import NewsItem
from monitor.settings import Settings
from monitor.stream.dead_letters import DeadLetter
from monitor.stream.parsing import encode_item

log = logging.getLogger(__name__)


def make_producer(settings: Settings, linger_ms: int = 20) -> KafkaProducer:
    """A producer for news items: bytes in, acks=all, idempotent, small linger for batching."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        client_id="finsent-ingest",
    )


def ensure_topics(settings: Settings, names: Iterable[str], partitions: int | None = None) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    Partition count bounds how many workers can share the load (one partition
    is read by at most one worker of the group), so it defaults to
    FINSENT_TOPIC_PARTITIONS; existing topics are left as they are.
    """
    wanted = list(dict.fromkeys(names))
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, client_id="finsent-admin")
    try:
        existing = set(admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        created = []
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, num_partitions=partitions or settings.topic_partitions,
                                              replication_factor=1)])
                created.append(name)
            except TopicAlreadyExistsError:  # another process won the race
                pass
        if created:
            log.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()


def news_topics(settings: Settings) -> list[str]:
    """The three topics of the pipeline: news in, dead letters, scored out."""
    return [settings.news_topic, settings.dead_letter_topic, settings.scored_topic]


def send_item(producer: KafkaProducer, topic: str, item: NewsItem):  # noqa: ANN201 - kafka FutureRecordMetadata
    """Send one item keyed by its id; returns the send future."""
    return producer.send(topic, key=(item.id or "").encode("utf-8"), value=encode_item(item))


def send_dead_letter(producer: KafkaProducer, topic: str, letter: DeadLetter, stage: str):  # noqa: ANN201
    """Send one dead letter (JSON envelope, reason header); returns the send future."""
    return producer.send(topic, value=letter.envelope(stage), headers=letter.headers())
