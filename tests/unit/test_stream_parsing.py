"""parse_item: every kind of bad input becomes a dead letter with a reason; good input a NewsItem."""

from __future__ import annotations

import json

import pytest

from monitor.contract import NewsItem
from monitor.wire import MAX_MESSAGE_BYTES, DeadLetter, encode_item, parse_item, read_envelope

GOOD = {"source": "reuters", "headline": "Apple beats earnings estimates", "published_at": "2024-05-02T20:30:00+00:00",
        "tickers": ["aapl"]}


def test_good_message_becomes_an_item_with_a_derived_id() -> None:
    item = parse_item(json.dumps(GOOD).encode())
    assert isinstance(item, NewsItem)
    assert item.tickers == ["AAPL"]
    assert item.id and len(item.id) == 64
    assert parse_item(encode_item(item)) == item  # the wire form round-trips


@pytest.mark.parametrize(("raw", "reason", "detail_part"), [
    (b"\xff\xfe{not utf8", "not_utf8", "byte 0"),
    (b"{\"source\": ", "malformed_json", "line 1 column"),
    (b"", "malformed_json", "empty"),
    (b"[1, 2]", "not_an_object", "list"),
    (json.dumps({**GOOD, "published_at": "2024-05-02T20:30:00"}).encode(), "schema_violation", "published_at"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "headline"}).encode(), "schema_violation", "headline"),
    (json.dumps({**GOOD, "tickers": ["not a ticker!"]}).encode(), "schema_violation", "tickers"),
    (json.dumps({**GOOD, "colour": "red"}).encode(), "schema_violation", "colour"),
])
def test_bad_messages_become_dead_letters(raw: bytes, reason: str, detail_part: str) -> None:
    letter = parse_item(raw, origin="news[0]@7")
    assert isinstance(letter, DeadLetter)
    assert letter.reason == reason
    assert detail_part in letter.detail
    assert letter.original == raw


def test_oversized_message_is_rejected_before_decoding() -> None:
    raw = json.dumps({**GOOD, "body": "x" * MAX_MESSAGE_BYTES}).encode()
    letter = parse_item(raw)
    assert isinstance(letter, DeadLetter) and letter.reason == "oversized"


def test_envelope_keeps_the_original_bytes_and_the_reason() -> None:
    letter = parse_item(b"\xff\x00binary", origin="news[3]@42")
    assert isinstance(letter, DeadLetter)
    envelope = read_envelope(letter.envelope(stage="worker"))
    assert envelope["original"] == b"\xff\x00binary"
    assert envelope["reason"] == "not_utf8" and envelope["origin"] == "news[3]@42" and envelope["stage"] == "worker"
    assert letter.headers() == [("finsent-dlq-reason", b"not_utf8")]


def test_envelope_names_the_item_of_a_parsed_item_that_failed_later() -> None:
    item = NewsItem.model_validate(GOOD)
    letter = DeadLetter("scoring_failed", "RuntimeError: boom", encode_item(item), item_id=item.id)
    envelope = read_envelope(letter.envelope(stage="worker"))
    assert (envelope["item_id"], envelope["origin"]) == (item.id, "")
    unparsed = parse_item(b"{", origin="n[0]@1")
    assert isinstance(unparsed, DeadLetter)
    assert read_envelope(unparsed.envelope(stage="worker"))["item_id"] is None


def test_envelopes_written_before_item_id_existed_still_read() -> None:
    old = json.dumps({"reason": "store_rejected", "detail": "DataError: too long", "stage": "worker",
                      "origin": "id=abc123", "failed_at": "2024-05-02T20:30:00+00:00",
                      "original_b64": "e30="}).encode()
    envelope = read_envelope(old)
    assert (envelope["item_id"], envelope["original"], envelope["reason"]) == ("abc123", b"{}", "store_rejected")
    parse_era = json.dumps({"reason": "not_utf8", "detail": "x", "stage": "worker", "origin": "news[0]@7",
                            "failed_at": "2024-05-02T20:30:00+00:00", "original_b64": ""}).encode()
    assert read_envelope(parse_era)["item_id"] is None


def test_a_wire_update_of_a_story_is_the_same_story() -> None:
    from datetime import UTC, datetime

    from monitor.contract import NewsItem

    when = datetime(2007, 1, 11, 1, 29, tzinfo=UTC)
    first = NewsItem(source="reuters", headline="Cisco sues Apple over iPhone name", published_at=when)
    update = NewsItem(source="reuters", headline="UPDATE 3-Cisco sues Apple over iPhone name", published_at=when)
    repeat = NewsItem(source="reuters", headline="RPT-UPDATE 1-Cisco sues Apple over iPhone name", published_at=when)
    other = NewsItem(source="reuters", headline="Update: Cisco sues Apple over iPhone name", published_at=when)
    assert first.story_id == update.story_id == repeat.story_id
    assert other.story_id != first.story_id  # "Update:" is a word of the headline, not a wire's tag
