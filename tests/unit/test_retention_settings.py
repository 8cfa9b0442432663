"""Retention settings, cutoffs and the partition ranges ensure wants: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kernel.settings import SettingsError, load_settings, parse_duration
from monitor.storage.partitions import ARTICLES, HOUR_AGGREGATES, floor_to, next_start, partition_name, wanted_ranges
from monitor.storage.retention import RetentionPolicy


@pytest.mark.parametrize(("text", "expected"), [
    ("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("2y", timedelta(days=730)),
    ("4w", timedelta(days=28)), (" 30D ", timedelta(days=30)), ("forever", None), ("never", None),
])
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("retention_articles", "90 days", "FINSENT_RETENTION_ARTICLES: Value error, expected a duration such as 90d"),
    ("retention_mentions", "6h", "FINSENT_RETENTION_MENTIONS: Value error, retention is at least 1d"),
    ("retention_hourly_aggregates", "7d",
     "FINSENT_RETENTION_HOURLY_AGGREGATES: Value error, must be at least FINSENT_RETENTION_MINUTE_AGGREGATES"),
    ("retention_daily_aggregates", "1y",
     "FINSENT_RETENTION_DAILY_AGGREGATES: Value error, must be at least FINSENT_RETENTION_HOURLY_AGGREGATES"),
    ("partitions_ahead", "soon", "FINSENT_PARTITIONS_AHEAD: Value error, expected a duration"),
])
def test_bad_retention_stops_at_start_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**{variable: value})
    assert message in str(error.value)


def test_defaults_and_forever() -> None:
    settings = load_settings(retention_minute_aggregates="forever", retention_hourly_aggregates="forever")
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.articles, policy.mentions) == (timedelta(days=90), timedelta(days=90))
    assert (policy.minute_aggregates, policy.hourly_aggregates, policy.daily_aggregates) == (None, None, None)


def test_cutoffs_are_floored_to_whole_partitions() -> None:
    policy = RetentionPolicy(timedelta(days=90), timedelta(days=90), timedelta(days=30), timedelta(days=730), None)
    now = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
    assert policy.cutoff("articles", now, "day") == datetime(2026, 9, 3, tzinfo=UTC)
    assert policy.cutoff("hourly_aggregates", now, "month") == datetime(2024, 12, 1, tzinfo=UTC)
    assert policy.cutoff("daily_aggregates", now, "day") is None


def test_wanted_ranges_run_from_the_day_before_to_ahead() -> None:
    now = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    days = wanted_ranges(ARTICLES, now, timedelta(days=2))
    assert days[0] == (datetime(2026, 12, 30, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    assert days[-1] == (datetime(2027, 1, 2, tzinfo=UTC), datetime(2027, 1, 3, tzinfo=UTC))
    assert len(days) == 4
    months = wanted_ranges(HOUR_AGGREGATES, now, timedelta(days=2))
    assert months == [(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
                      (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
                      (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))]
    assert next_start(datetime(2026, 12, 1, tzinfo=UTC), "month") == datetime(2027, 1, 1, tzinfo=UTC)
    assert floor_to(datetime(2026, 3, 1, 0, 30, tzinfo=UTC) + timedelta(hours=-1), "month") == \
        datetime(2026, 2, 1, tzinfo=UTC)
    assert partition_name(HOUR_AGGREGATES, months[1][0], "month") == "partitions.sentiment_aggregates_3600_p202612"


@pytest.mark.parametrize(("every", "message"), [("10s", "at least 1m"), ("forever", "at least 1m"),
                                                ("soon", "--every")])
def test_a_retention_job_interval_is_checked_before_the_database_is_touched(every: str, message: str) -> None:
    from click.testing import CliRunner

    from monitor.storage.cli import db

    result = CliRunner().invoke(db, ["retention", "--every", every])
    assert result.exit_code == 2
    assert message in result.output
