"""What travels on finsent's Kafka topics, and the topics themselves.

Connectors (monitor/ingest) write news items and dead letters; the worker
(monitor/stream) reads news items and writes dead letters and scored items.
Both depend on this module and neither on the other, so each message format
is written down once, next to the NewsItem contract (monitor/contract.py):

- news topic: a NewsItem as UTF-8 JSON (`encode_item` / `parse_item`), keyed by its id;
- dead-letter topic: a `DeadLetter` envelope (JSON, original bytes in base64,
  reason also in the ``finsent-dlq-reason`` header; read with `read_envelope`);
- scored topic: `scored_message` as JSON, keyed by the item id.

The worker consumes raw bytes (no Faust codec), so no input can make
deserialisation raise inside the consumer: every message ends up either as a
NewsItem or as a DeadLetter with a reason. The jsonl connector uses the same
`parse_item`, so a line it rejects would also have been rejected by the worker.

Messages are keyed by the item id, so every copy of one item (a replay, a
re-poll) lands on one partition and is handled by one worker in order. The
producer waits for all in-sync replicas (acks=all) and is idempotent, so a
retried send after a broker hiccup is not written twice.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from pydantic import ValidationError

from kernel.settings import Settings, describe_validation_error
from model.network.results import ArticleResult
from monitor.contract import NewsItem

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024  # a headline plus body is a few KiB; anything this big is not news

# The first five are decided by parse_item; the last two when a single item
# (after its batch was split) cannot be scored or stored, so it cannot block the stream.
DeadLetterReason = Literal["not_utf8", "oversized", "malformed_json", "not_an_object", "schema_violation",
                           "scoring_failed", "store_rejected"]
DEAD_LETTER_REASONS: tuple[str, ...] = ("not_utf8", "oversized", "malformed_json", "not_an_object",
                                        "schema_violation", "scoring_failed", "store_rejected")
REASON_HEADER = "finsent-dlq-reason"


# --- dead letters ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """Why one message could not become a stored, scored NewsItem, and the message itself.

    `origin` says where the bytes came from (``finsent.news[2]@1234``, ``stdin:17``)
    when that is known; `item_id` names the item when it was parsed (scoring or
    storing failed), so nobody has to parse an id back out of a string.
    """

    reason: DeadLetterReason
    detail: str
    original: bytes
    origin: str = ""
    item_id: str | None = None

    def envelope(self, stage: str) -> bytes:
        """The JSON value sent to the dead-letter topic."""
        return json.dumps({
            "reason": self.reason,
            "detail": self.detail,
            "stage": stage,
            "origin": self.origin,
            "item_id": self.item_id,
            "failed_at": datetime.now(UTC).isoformat(),
            "original_b64": base64.b64encode(self.original).decode("ascii"),
        }).encode("utf-8")

    def headers(self) -> list[tuple[str, bytes]]:
        return [(REASON_HEADER, self.reason.encode("ascii"))]


def rejected_item(reason: DeadLetterReason, detail: str, item: NewsItem) -> DeadLetter:
    """The dead letter of a parsed item that could not be scored or stored: its JSON, named by its id."""
    return DeadLetter(reason, detail, item.model_dump_json().encode("utf-8"), item_id=item.id)


def read_envelope(value: bytes) -> dict[str, object]:
    """Decode a dead-letter value; `original` holds the original bytes, `item_id` the item's id or None.

    Envelopes written before `item_id` existed carried it as ``origin="id=<id>"``;
    they are read into the same shape.
    """
    envelope = json.loads(value)
    envelope["original"] = base64.b64decode(envelope["original_b64"])
    if "item_id" not in envelope:
        origin = str(envelope.get("origin") or "")
        envelope["item_id"] = origin.removeprefix("id=") if origin.startswith("id=") else None
    return envelope


# --- news items ----------------------------------------------------------------------

def parse_item(raw: bytes | None, origin: str = "") -> NewsItem | DeadLetter:
    """Validate one message value; never raises on bad input."""
    if raw is None or raw == b"":
        return DeadLetter("malformed_json", "empty message value", raw or b"", origin)
    if len(raw) > MAX_MESSAGE_BYTES:
        return DeadLetter("oversized", f"{len(raw)} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit", raw, origin)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return DeadLetter("not_utf8", f"invalid UTF-8 at byte {error.start}: {error.reason}", raw, origin)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return DeadLetter("malformed_json", f"line {error.lineno} column {error.colno}: {error.msg}", raw, origin)
    if not isinstance(data, dict):
        return DeadLetter("not_an_object", f"expected a JSON object, got {type(data).__name__}", raw, origin)
    try:
        return NewsItem.model_validate(data)
    except ValidationError as error:
        return DeadLetter("schema_violation", describe_validation_error(error, env_prefix=None), raw, origin)


def encode_item(item: NewsItem) -> bytes:
    """The wire form of a NewsItem (UTF-8 JSON, id always filled in)."""
    return item.model_dump_json(exclude_none=True).encode("utf-8")


# --- scored items ------------------------------------------------------------------

def scored_message(item: NewsItem, result: ArticleResult) -> dict[str, object]:
    """What the scored topic carries for one item (JSON, keyed by id)."""
    from model.network.labels import TOPIC_LABELS

    return {
        "id": item.id, "story_id": item.story_id, "source": item.source, "url": item.url,
        "published_at": item.published_at.isoformat(), "headline": item.headline, "tickers": item.tickers,
        "model_version": result.model_version, "topic": result.topic,
        "topic_label": TOPIC_LABELS[result.topic] if 0 <= result.topic < len(TOPIC_LABELS) else None,
        "sentiment_label": result.sentiment_label, "sentiment_score": result.sentiment_score,
        "entities": [dataclasses.asdict(entity) for entity in result.entities],
        "events": [dataclasses.asdict(event) for event in result.events],
    }


# --- topics and the producer -----------------------------------------------------------

def news_topics(settings: Settings) -> list[str]:
    """The three topics of the pipeline: news in, dead letters, scored out."""
    return [settings.news_topic, settings.dead_letter_topic, settings.scored_topic]


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


def make_producer(settings: Settings, linger_ms: int = 20) -> KafkaProducer:
    """A producer for news items: bytes in, acks=all, idempotent, small linger for batching."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        client_id="finsent-ingest",
    )


def send_item(producer: KafkaProducer, topic: str, item: NewsItem):  # noqa: ANN201 - kafka FutureRecordMetadata
    """Send one item keyed by its id; returns the send future."""
    return producer.send(topic, key=(item.id or "").encode("utf-8"), value=encode_item(item))


def send_dead_letter(producer: KafkaProducer, topic: str, letter: DeadLetter, stage: str):  # noqa: ANN201
    """Send one dead letter (JSON envelope, reason header); returns the send future."""
    return producer.send(topic, value=letter.envelope(stage), headers=letter.headers())
