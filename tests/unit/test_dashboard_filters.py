"""The sidebar's time range: where it ends, how wide it is, which aggregate buckets chart it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.filters import RANGES, make_time_range
from dashboards.queries import like_pattern, precisions_for

NOW = datetime(2026, 3, 2, 12, 30, 20, tzinfo=UTC)


def test_replayed_history_anchors_the_range_on_the_newest_data() -> None:
    latest = datetime(2020, 7, 18, 0, 0, tzinfo=UTC)  # a replay of 2009-2020 news, years before now
    range_ = make_time_range("Last 24 hours", True, latest, now=NOW)
    assert range_.anchored
    assert range_.until == datetime(2020, 7, 18, 1, 0, tzinfo=UTC)  # the newest article's hour included
    assert range_.since == datetime(2020, 7, 17, 1, 0, tzinfo=UTC)
    assert range_.since <= latest < range_.until


def test_a_live_feed_keeps_ending_now() -> None:
    for label, latest in (("Last hour", NOW - timedelta(minutes=2)), ("Last 24 hours", NOW - timedelta(hours=3))):
        range_ = make_time_range(label, True, latest, now=NOW)
        assert not range_.anchored
        assert range_.since <= latest < range_.until
        assert range_.until - timedelta(seconds=range_.bucket_seconds) < NOW <= range_.until


def test_data_older_than_the_range_start_anchors_even_a_short_range() -> None:
    latest = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a worker stopped three hours ago
    range_ = make_time_range("Last hour", True, latest, now=NOW)
    assert range_.anchored
    assert (range_.since, range_.until) == (datetime(2026, 3, 2, 8, 31, tzinfo=UTC),
                                            datetime(2026, 3, 2, 9, 31, tzinfo=UTC))


def test_the_range_ends_now_when_not_following_the_data_or_without_data() -> None:
    for follow, latest in ((False, datetime(2020, 7, 18, tzinfo=UTC)), (True, None)):
        range_ = make_time_range("Last hour", follow, latest, now=NOW)
        assert not range_.anchored
        assert range_.until == datetime(2026, 3, 2, 12, 31, tzinfo=UTC)
        assert range_.since == datetime(2026, 3, 2, 11, 31, tzinfo=UTC)


@pytest.mark.parametrize("label", list(RANGES))
@pytest.mark.parametrize("latest", [None, NOW - timedelta(minutes=7), datetime(2020, 7, 17, 13, 42, tzinfo=UTC)])
def test_both_ends_lie_on_bucket_boundaries(label: str, latest: datetime | None) -> None:
    """So the aggregate buckets a chart reads hold exactly the articles a list reads for the same range."""
    range_ = make_time_range(label, True, latest, now=NOW)
    for end in (range_.since, range_.until):
        assert end.timestamp() % range_.bucket_seconds == 0
    assert range_.until - range_.since == RANGES[label][0]


@pytest.mark.parametrize(("label", "bucket_seconds"), [("Last hour", 60), ("Last 6 hours", 60),
                                                       ("Last 24 hours", 3600), ("Last 7 days", 3600),
                                                       ("Last 30 days", 86_400), ("Last 365 days", 86_400)])
def test_no_chart_draws_more_than_720_buckets(label: str, bucket_seconds: int) -> None:
    range_ = make_time_range(label, False, None, now=NOW)
    assert range_.bucket_seconds == bucket_seconds
    assert (range_.until - range_.since).total_seconds() / bucket_seconds <= 720
    assert label in RANGES


def test_a_search_is_matched_literally() -> None:
    assert like_pattern("  ") is None
    assert like_pattern("50% off_now") == "%50\\% off\\_now%"


def test_lists_show_the_precisions_their_buckets_count() -> None:
    assert precisions_for(60) == ("minute",)
    assert precisions_for(3600) == ("minute",)  # a date-only article is in no hour bucket
    assert precisions_for(86_400) == ("minute", "day")
