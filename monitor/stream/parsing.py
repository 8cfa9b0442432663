"""Turn the raw bytes of one Kafka message into a NewsItem, or say exactly why not.

The worker consumes raw bytes (no Faust codec), so no input can make
deserialisation raise inside the consumer: every message ends up either as a
NewsItem or as a DeadLetter with a reason. The jsonl connector uses the same
function, so a line it rejects would also have been rejected by the worker.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from monitor.contract import NewsItem
from monitor.stream.dead_letters import DeadLetter

MAX_MESSAGE_BYTES = 256 * 1024  # a headline plus body is a few KiB; anything this big is not news


def describe_validation_error(error: ValidationError) -> str:
    """`field: message` pairs, e.g. ``published_at: must carry a timezone offset``."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(message)"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


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
        return DeadLetter("schema_violation", describe_validation_error(error), raw, origin)


def encode_item(item: NewsItem) -> bytes:
    """The wire form of a NewsItem (UTF-8 JSON, id always filled in)."""
    return item.model_dump_json(exclude_none=True).encode("utf-8")
