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

# label -> (width, bucket size): one-minute buckets up to six hours, hourly beyond,
# so no chart draws more than ~720 points per series.
RANGES: dict[str, tuple[timedelta, int]] = {
    "Last hour": (timedelta(hours=1), 60),
    "Last 6 hours": (timedelta(hours=6), 60),
    "Last 24 hours": (timedelta(hours=24), 3600),
    "Last 7 days": (timedelta(days=7), 3600),
    "Last 30 days": (timedelta(days=30), 3600),
}
DEFAULT_RANGE = "Last 24 hours"
BASELINE = timedelta(days=7)  # what "top movers" compare the selected range against


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [since, until) and the aggregate bucket size that charts it."""

    since: datetime
    until: datetime
    bucket_seconds: int
    label: str
    latest_data: datetime | None  # newest scored article's minute, None when there is no data

    @property
    def hourly_since(self) -> datetime:
        """since rounded down to the hour: where hourly aggregates for this range begin."""
        return self.since.replace(minute=0, second=0, microsecond=0)

    @property
    def hourly_until(self) -> datetime:
        """until rounded up to the hour: hourly queries keyed on it stay cached for the hour."""
        floor = self.until.replace(minute=0, second=0, microsecond=0)
        return floor if floor == self.until else floor + timedelta(hours=1)


def _ceil_to_minute(ts: datetime) -> datetime:
    floor = ts.replace(second=0, microsecond=0)
    return floor if floor == ts else floor + timedelta(minutes=1)


def make_time_range(label: str, anchor_at_latest: bool, latest_data: datetime | None,
                    now: datetime | None = None) -> TimeRange:
    """The range ending now, or at the newest data (replays, a stopped worker)."""
    width, bucket_seconds = RANGES[label]
    now = now or datetime.now(UTC)
    end = latest_data + timedelta(minutes=1) if anchor_at_latest and latest_data is not None else now
    until = _ceil_to_minute(end)
    return TimeRange(since=until - width, until=until, bucket_seconds=bucket_seconds, label=label,
                     latest_data=latest_data)


def sidebar_controls(database_url: str) -> TimeRange:
    """Draw the sidebar's range picker and analyst name; remember them for the pages."""
    with st.sidebar:
        label = st.selectbox("Time range", list(RANGES), index=list(RANGES).index(DEFAULT_RANGE), key="range_label")
        anchor = st.toggle("End at the newest data", value=True, key="anchor_at_latest",
                           help="On: the range ends at the newest scored article (useful for replays or when "
                                "the worker is stopped). Off: it ends now.")
        st.text_input("Your name (for actions)", key="analyst_name", placeholder="e.g. j.doe",
                      help="Recorded with silences, acknowledgements and label corrections.")
        st.toggle("Live refresh", value=True, key="live_refresh",
                  help="Re-read the live panels (alerts, worker health) every few seconds.")
    try:
        latest = queries.latest_bucket_start(database_url)
    except Exception:  # the page shows the connection error; the range still needs a value
        latest = None
    chosen = make_time_range(label, anchor, latest)
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
    bucket = "one-minute buckets" if range_.bucket_seconds == 60 else "hourly buckets"
    return f"{range_.since:%Y-%m-%d %H:%M} → {range_.until:%Y-%m-%d %H:%M} UTC · {bucket}"
