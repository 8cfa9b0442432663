"""The versioned message contract for a news item on Kafka (JSON, UTF-8).

Connectors produce it, the worker validates it. `id` is optional on the wire:
when absent it is derived from source + url, or from source + headline +
published_at when there is no url, so the same item replayed twice gets the
same id and is stored once. `story_id` groups syndicated copies: the same
normalised headline from several sources is one story.

`published_precision` says how much of `published_at` is known: `minute`
(the default, so schema_version 1 messages without the field keep their
meaning), `day` (a date-only source: the time of day is unknown) or `month`.
Aggregates count an item only in time buckets at least that wide, so
date-only items do not pile into the midnight minute and hour.

Control characters (issue #27): text from outside must not be able to drive a
terminal. C0/C1 control characters (Unicode category Cc: U+0000-U+001F,
U+007F-U+009F) other than tab, newline and carriage return are *stripped* from
the free text (`headline`, `body`), so a news item with a stray BEL is still
stored; in the identifiers (`id`, `source`, `url`, `language`) *every* control
character is *rejected*, since changing an identifier would change the item's
identity: the worker's dead letter then says `schema_violation` with
`<field>: ... control character U+001B ...`. Whatever is printed from storage
goes through `printable`, which escapes any control character that remains.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION: Final = 1
MAX_HEADLINE_CHARS = 1_000
MAX_BODY_CHARS = 100_000
TICKER_PATTERN = r"^[A-Z][A-Z0-9.\-]{0,9}$"
TimePrecision = Literal["minute", "day", "month"]
# The narrowest aggregate bucket an item of each precision may count in (seconds; None: no time bucket).
PRECISION_SECONDS: dict[str, int | None] = {"minute": 60, "day": 86_400, "month": None}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: C0, DEL and C1
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc less tab, newline, CR


def printable(value: object) -> str:
    """`str(value)` with every control character (C0, DEL, C1; tab and newlines too) escaped as `\\xNN`.

    The one helper every CLI uses to print stored or received text (headlines,
    labels, comments, errors), so nothing from outside reaches a terminal raw.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def _sha256(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# A wire's tags for a new version of a story it already sent ("UPDATE 3-Cisco sues Apple ...", "RPT-",
# "REFILE-", "CORRECTED-"): the same story, not a new one, on a dense one-publisher wire.
_UPDATE_TAG = re.compile(r"^\s*(?:(?:UPDATE|WRAPUP|RPT|REFILE|CORRECTED)(?:\s*\d+)?\s*-\s*)+", re.IGNORECASE)


def normalise_headline(headline: str) -> str:
    """Lower-case, accent-folded, punctuation-free words, without a wire's update tag: syndicated copies and a
    story's updates compare equal."""
    folded = unicodedata.normalize("NFKD", _UPDATE_TAG.sub("", headline)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def model_text(headline: str, body: str | None) -> str:
    """What the model scores for a headline and body; stored entity offsets index into it."""
    return headline if not body else f"{headline}. {body[:2000]}"


class NewsItem(BaseModel):
    """One news item as it travels on the news topic."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str | None = Field(None, max_length=64, description="Stable id; derived when absent.")
    source: str = Field(min_length=1, max_length=64)
    url: str | None = Field(None, max_length=2_000)
    published_at: datetime = Field(description="Timezone-aware publication time (ISO 8601).")
    published_precision: TimePrecision = Field(
        "minute", description="How much of published_at is known: minute, day (date-only source) or month.")
    headline: str = Field(min_length=1, max_length=MAX_HEADLINE_CHARS)
    body: str | None = Field(None, max_length=MAX_BODY_CHARS)
    tickers: list[str] = Field(default_factory=list, max_length=50)
    language: str = Field("en", min_length=2, max_length=8)

    @field_validator("headline", "body", mode="before")
    @classmethod
    def _strip_controls(cls, value: object) -> object:
        return _CONTROL_BUT_WHITESPACE.sub("", value) if isinstance(value, str) else value

    @field_validator("id", "source", "url", "language", mode="before")
    @classmethod
    def _no_controls(cls, value: object) -> object:
        found = _CONTROL.search(value) if isinstance(value, str) else None
        if found:
            raise ValueError(f"control character U+{ord(found.group()):04X} at position {found.start()} "
                             "is not allowed (only printable text)")
        return value

    @field_validator("published_at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("published_at must carry a timezone offset, e.g. 2020-01-31T14:05:00+00:00")
        return value

    @field_validator("tickers")
    @classmethod
    def _upper_tickers(cls, value: list[str]) -> list[str]:
        tickers = [t.strip().lstrip("$").upper() for t in value if t.strip()]
        for ticker in tickers:
            if not re.match(TICKER_PATTERN, ticker):
                raise ValueError(f"invalid ticker {ticker!r}")
        return sorted(set(tickers))

    @model_validator(mode="after")
    def _derive_id(self) -> NewsItem:
        if self.id is None:
            if self.url:
                self.id = _sha256(self.source, self.url)
            else:
                self.id = _sha256(self.source, self.headline, self.published_at.isoformat())
        return self

    @property
    def story_id(self) -> str:
        """Same normalised headline -> same story, whatever the source."""
        return _sha256(normalise_headline(self.headline))

    @property
    def content_hash(self) -> str:
        return _sha256(self.headline, self.body or "")

    @property
    def text_for_model(self) -> str:
        """What the model scores: the headline, plus the body's start when there is one."""
        return model_text(self.headline, self.body)
