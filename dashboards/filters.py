"""The time range and analyst name chosen in the sidebar, shared by every page.

`app.py` draws the controls once per run (before the page) and stores the
choice in st.session_state; pages read it with `time_range()` and
`analyst_name()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboards import queries
from monitor.storage.aggregates import bucket_start

# label -> (width, bucket size): one-minute buckets up to six hours, hourly up to 7 days, daily
# for 30 days and the year, so no chart draws more than ~720 points per series and no range reads
# more than 720 buckets per scope key (issue #15: a 30-day range of hourly buckets summed ~216,000
# ticker rows for the entity picker alone, ~0.5 s whatever the article count). Date-only articles
# (no time of day, e.g. most replayed Reuters and Guardian history) count only in daily buckets.
RANGES: dict[str, tuple[timedelta, int]] = {
    "Last hour": (timedelta(hours=1), 60),
    "Last 6 hours": (timedelta(hours=6), 60),
    "Last 24 hours": (timedelta(hours=24), 3600),
    "Last 7 days": (timedelta(days=7), 3600),
    "Last 30 days": (timedelta(days=30), 86_400),
    "Last 365 days": (timedelta(days=365), 86_400),
}
DEFAULT_RANGE = "Last 24 hours"
BASELINE = timedelta(days=7)  # what "top movers" compare the selected range against


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [since, until) and the aggregate bucket size that charts it.

    since and until lie on bucket boundaries, so the buckets a chart reads
    (bucket_start in [since, until)) hold exactly the articles a list reads
    (published_at in [since, until)): figures, charts and lists agree.
    """

    since: datetime
    until: datetime
    bucket_seconds: int
    label: str
    latest_data: datetime | None  # newest scored article's minute, None when there is no data
    anchored: bool = False  # True: the range ends at the newest data, not now (replayed history, stopped worker)

    @property
    def hourly_since(self) -> datetime:
        """since rounded down to the hour: where hourly aggregates for this range begin."""
        return self.since.replace(minute=0, second=0, microsecond=0)

    @property
    def hourly_until(self) -> datetime:
        """until rounded up to the hour: hourly queries keyed on it stay cached for the hour."""
        return ceil_to_bucket(self.until, 3600)

    @property
    def rollup_seconds(self) -> int:
        """The bucket size top movers read: the range's own, but at least an hour (a week of
        one-minute baseline rows per ticker would be ~10,000 rows each)."""
        return max(self.bucket_seconds, 3600)

    @property
    def rollup_since(self) -> datetime:
        """since on a rollup_seconds boundary (it already is one for hourly and daily ranges)."""
        return self.hourly_since if self.rollup_seconds == 3600 else self.since

    @property
    def rollup_until(self) -> datetime:
        """until on a rollup_seconds boundary (it already is one for hourly and daily ranges)."""
        return self.hourly_until if self.rollup_seconds == 3600 else self.until


def ceil_to_bucket(ts: datetime, bucket_seconds: int) -> datetime:
    """The first bucket boundary at or after ts (UTC epoch-aligned, like monitor.storage.aggregates)."""
    floor = bucket_start(ts, bucket_seconds)
    return floor if floor == ts else floor + timedelta(seconds=bucket_seconds)


def make_time_range(label: str, follow_data: bool, latest_data: datetime | None,
                    now: datetime | None = None) -> TimeRange:
    """The range ending now or, when `follow_data` and the newest article is older than the range's
    start (replayed history, a worker stopped for longer than the range), ending at the newest data,
    so the first screen shows data. A live feed keeps ending now. Both ends lie on bucket boundaries.
    """
    width, bucket_seconds = RANGES[label]
    now = now or datetime.now(UTC)
    until = ceil_to_bucket(now, bucket_seconds)
    anchored = follow_data and latest_data is not None and latest_data < until - width
    if anchored:
        assert latest_data is not None
        until = ceil_to_bucket(latest_data + timedelta(minutes=1), bucket_seconds)  # its minute bucket included
    return TimeRange(since=until - width, until=until, bucket_seconds=bucket_seconds, label=label,
                     latest_data=latest_data, anchored=anchored)


def sidebar_controls(database_url: str) -> TimeRange:
    """Draw the sidebar's range picker and analyst name; remember them for the pages."""
    with st.sidebar:
        label = st.selectbox("Time range", list(RANGES), index=list(RANGES).index(DEFAULT_RANGE), key="range_label")
        follow = st.toggle("Follow the data", value=True, key="follow_data",
                           help="On: when nothing was published between the range's start and now (replayed "
                                "history, a stopped worker), the range ends at the newest scored article "
                                "instead of now. Off: it always ends now.")
        st.text_input("Your name (for actions)", key="analyst_name", placeholder="e.g. j.doe",
                      help="Recorded with silences, acknowledgements and label corrections.")
        st.toggle("Live refresh", value=True, key="live_refresh",
                  help="Re-read the live panels (alerts, worker health) every few seconds.")
    try:
        latest = queries.latest_bucket_start(database_url)
    except Exception:  # the page shows the connection error; the range still needs a value
        latest = None
    chosen = make_time_range(label, follow, latest)
    st.session_state["time_range"] = chosen
    return chosen


def time_range() -> TimeRange:
    """The range chosen in the sidebar on this run."""
    return st.session_state["time_range"]


def analyst_name() -> str:
    return str(st.session_state.get("analyst_name") or "").strip()


def refresh_interval(seconds: int = 10) -> int | None:
    """run_every for live fragments: None when the analyst switched live refresh off."""
    return seconds if st.session_state.get("live_refresh", True) else None


def describe(range_: TimeRange) -> str:
    """A caption like '2026-01-05 09:00 → 2026-01-06 09:00 UTC · hourly buckets'."""
    bucket = {60: "one-minute buckets", 3600: "hourly buckets"}.get(range_.bucket_seconds, "daily buckets")
    return f"{range_.since:%Y-%m-%d %H:%M} → {range_.until:%Y-%m-%d %H:%M} UTC · {bucket}"
