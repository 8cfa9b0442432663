"""The sidebar's time range: where it ends, how wide it is, which aggregate buckets chart it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.filters import RANGES, make_time_range
from dashboards.queries import like_pattern

NOW = datetime(2026, 3, 2, 12, 30, 20, tzinfo=UTC)


def test_the_range_ends_at_the_newest_data_when_anchored() -> None:
    latest = datetime(2026, 2, 27, 8, 41, tzinfo=UTC)  # a replay of older news
    range_ = make_time_range("Last 24 hours", True, latest, now=NOW)
    assert range_.until == datetime(2026, 2, 27, 8, 42, tzinfo=UTC)  # the newest minute bucket included
    assert range_.since == range_.until - timedelta(hours=24)
    assert range_.hourly_since == datetime(2026, 2, 26, 8, 0, tzinfo=UTC)


def test_the_range_ends_now_when_not_anchored_or_without_data() -> None:
    for anchored, latest in ((False, datetime(2026, 2, 27, tzinfo=UTC)), (True, None)):
        range_ = make_time_range("Last hour", anchored, latest, now=NOW)
        assert range_.until == datetime(2026, 3, 2, 12, 31, tzinfo=UTC)
        assert range_.since == datetime(2026, 3, 2, 11, 31, tzinfo=UTC)


@pytest.mark.parametrize(("label", "bucket_seconds"), [("Last hour", 60), ("Last 6 hours", 60),
                                                       ("Last 24 hours", 3600), ("Last 30 days", 3600)])
def test_no_chart_draws_more_than_720_buckets(label: str, bucket_seconds: int) -> None:
    range_ = make_time_range(label, False, None, now=NOW)
    assert range_.bucket_seconds == bucket_seconds
    assert (range_.until - range_.since).total_seconds() / bucket_seconds <= 720
    assert label in RANGES


def test_a_search_is_matched_literally() -> None:
    assert like_pattern("  ") is None
    assert like_pattern("50% off_now") == "%50\\% off\\_now%"
