"""Time precision of published_at: carried from the corpus to the aggregates, never piled at midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.contract import NewsItem
from monitor.ingest.replay import read_corpus, timestamp_precision
from monitor.storage.aggregates import accumulate, article_scopes, bucket_sizes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stream"


def test_schema_version_1_messages_without_the_field_are_minute_precision() -> None:
    item = NewsItem.model_validate({"source": "cnbc", "headline": "Dow drops", "published_at": "2020-03-09T14:02:00Z"})
    assert item.published_precision == "minute"


def test_unknown_precision_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="published_precision"):
        NewsItem(source="x", headline="h", published_at=datetime(2020, 1, 1, tzinfo=UTC), published_precision="hour")


def test_corpus_ts_precision_becomes_the_items_precision() -> None:
    by_source = {item.source: item.published_precision for item in read_corpus(FIXTURES / "headlines.csv")}
    assert by_source == {"benzinga": "minute", "reuters": "day", "cnbc": "minute", "guardian": "day"}


@pytest.mark.parametrize(("timestamp", "declared", "expected"), [
    ("2020-03-09", None, "day"), ("2020-03-09T14:02:00+00:00", "", "minute"), ("2020-03-09", "month", "month"),
    ("2020-03-09T00:00:00+00:00", "Day", "day")])
def test_precision_without_the_column_follows_the_timestamp(timestamp: str, declared: str | None,
                                                             expected: str) -> None:
    assert timestamp_precision(timestamp, declared) == expected


def test_day_precision_counts_only_in_the_daily_bucket() -> None:
    deltas: dict = {}
    midnight = datetime(2019, 9, 23, tzinfo=UTC)
    scopes = article_scopes("reuters", 5, "negative", -0.8, [], [("Thomas Cook", None, "negative", -0.9, "ORG")])
    accumulate(deltas, midnight, scopes, new_story=True, precision="day", source="reuters")
    assert {seconds for (_, _, seconds, _) in deltas} == {86_400}
    accumulate(deltas, datetime(2019, 9, 23, 7, 5, tzinfo=UTC), scopes, new_story=True, precision="minute",
               source="guardian")
    assert deltas[("entity", "thomas cook", 86_400, midnight)].negative_count == 2
    assert deltas[("entity", "thomas cook", 86_400, midnight)].sources == {"reuters", "guardian"}
    assert ("entity", "thomas cook", 3600, midnight) not in deltas  # the 07:05 story is in the 07:00 hour
    assert deltas[("global", "all", 3600, datetime(2019, 9, 23, 7, tzinfo=UTC))].story_count == 1


def test_month_precision_is_in_no_time_bucket() -> None:
    assert bucket_sizes("month") == ()
    assert bucket_sizes("minute") == (60, 3600, 86_400)
