"""The dead-letter envelope: what the worker (and the jsonl connector) send for unreadable input.

A dead letter keeps the original bytes (base64, so even non-UTF-8 input
survives a JSON round trip), the reason as a short machine-readable code and a
human-readable detail. The reason is also set as the Kafka header
``finsent-dlq-reason`` so tools can filter without parsing the value.

Read them with e.g.::

    kafka-console-consumer --topic finsent.news.dlq --from-beginning
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

# The first five are decided by parse_item; the last two when a single item
# (after its batch was split) cannot be scored or stored, so it cannot block the stream.
DeadLetterReason = Literal["not_utf8", "oversized", "malformed_json", "not_an_object", "schema_violation",
                           "scoring_failed", "store_rejected"]
DEAD_LETTER_REASONS: tuple[str, ...] = ("not_utf8", "oversized", "malformed_json", "not_an_object",
                                        "schema_violation", "scoring_failed", "store_rejected")
REASON_HEADER = "finsent-dlq-reason"


@dataclass(frozen=True)
class DeadLetter:
    """Why one message could not become a NewsItem, and the message itself."""

    reason: DeadLetterReason
    detail: str
    original: bytes
    origin: str = ""  # e.g. "finsent.news[2]@1234" or "stdin:17"

    def envelope(self, stage: str) -> bytes:
        """The JSON value sent to the dead-letter topic."""
        return json.dumps({
            "reason": self.reason,
            "detail": self.detail,
            "stage": stage,
            "origin": self.origin,
            "failed_at": datetime.now(UTC).isoformat(),
            "original_b64": base64.b64encode(self.original).decode("ascii"),
        }).encode("utf-8")

    def headers(self) -> list[tuple[str, bytes]]:
        return [(REASON_HEADER, self.reason.encode("ascii"))]


def read_envelope(value: bytes) -> dict[str, object]:
    """Decode a dead-letter value; `original` holds the original bytes."""
    envelope = json.loads(value)
    envelope["original"] = base64.b64decode(envelope["original_b64"])
    return envelope
