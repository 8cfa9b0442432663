"""What the window detectors (zscore, ewma, cusum) share: the current window against its baseline windows.

They judge a share or a score (`negative_share`, `mean_score`) of the current
window against the same metric in each of the baseline windows that had
stories; with `seasonality: hour_of_week` each window is first compared with
the median of the baseline windows at the same hour of the week. Fewer usable
windows than `min_baseline_windows`: not judged. Their robust level is the
median and its spread the MAD (scaled by 1.4826 to match a standard deviation
for normal data), so yesterday's one-off spike does not hide today's.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field

from monitor.alerts.detectors.base import Detection, DetectorConfig, Judgement, Problem
from monitor.alerts.detectors.observation import Observation
from monitor.alerts.durations import format_duration

METRICS = ("negative_share", "mean_score")
MAD_TO_SIGMA = 1.4826  # sigma = 1.4826 * MAD for normally distributed data


class WindowedConfig(DetectorConfig):
    """The fields of the detectors that judge against baseline windows."""

    min_baseline_windows: int = Field(12, ge=3)  # fewer usable windows: not evaluated
    # Floor under the robust sigma: a baseline of identical values must not make tiny moves infinite.
    min_deviation: float = Field(0.05, gt=0)
    seasonality: Literal["none", "hour_of_week"] = "none"


def robust_level(values: Sequence[float], min_deviation: float) -> tuple[float, float]:
    """(median, max(1.4826 * MAD, min_deviation)) of values."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return median, max(MAD_TO_SIGMA * mad, min_deviation)


def signed_z(value: float, level: float, sigma: float, rising_is_bad: bool) -> float:
    """(value - level) / sigma, positive when worse."""
    return (value - level) / sigma * (1.0 if rising_is_bad else -1.0)


def hour_of_week(moment: datetime) -> int:
    moment = moment.astimezone(UTC)
    return moment.weekday() * 24 + moment.hour


def judge_windowed(config: WindowedConfig, observation: Observation,
                   test: Callable[[float, list[float]], Detection]) -> Judgement:
    """Seasonality and the baseline-window gate around a detector's `test(value, baseline values)`."""
    value = observation.current.metric(config.metric)
    assert value is not None  # min_stories >= 1
    points = [(w.start, m) for w in observation.baseline if (m := w.metric(config.metric)) is not None]
    offset = 0.0
    if config.seasonality == "hour_of_week":
        profile: dict[int, list[float]] = defaultdict(list)
        for start, m in points:
            profile[hour_of_week(start)].append(m)
        level = {how: statistics.median(ms) for how, ms in profile.items()}
        current_how = hour_of_week(observation.current.start)
        if current_how not in level:
            return Judgement(None, "no baseline window at this hour of the week")
        points = [(start, m - level[hour_of_week(start)]) for start, m in points]
        offset = level[current_how]
        value -= offset
    if len(points) < config.min_baseline_windows:
        return Judgement(None, f"{len(points)} baseline windows with data < {config.min_baseline_windows}")
    detection = test(value, [m for _, m in points])
    if offset:
        detection = Detection(detection.fired, detection.value + offset, detection.baseline + offset,
                              detection.baseline_sigma, detection.zscore, detection.statistic)
    return Judgement(detection)


def check_baseline_windows(config: WindowedConfig, window: timedelta, scope_kind: str) -> list[Problem]:
    """The baseline must hold min_baseline_windows windows of the rule's width."""
    windows = config.baseline // window
    if windows < config.min_baseline_windows:
        return [(("detector", "baseline"),
                 f"{format_duration(config.baseline)} holds only {windows} windows of {format_duration(window)}; "
                 f"need at least min_baseline_windows={config.min_baseline_windows}")]
    return []
