"""The robust z-score detector (`type: zscore`, the default): a sudden spike.

The baseline level is the median of the baseline windows and its spread the
MAD (windowed.py), so yesterday's one-off spike does not hide today's. Fires
when the current window sits `threshold` robust sigmas beyond the median, in
the bad direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from monitor.alerts.detectors.base import Detection, Detector, Judgement
from monitor.alerts.detectors.observation import Observation
from monitor.alerts.detectors.windowed import (
    METRICS,
    WindowedConfig,
    check_baseline_windows,
    judge_windowed,
    robust_level,
    signed_z,
)


class ZScoreConfig(WindowedConfig):
    type: Literal["zscore"] = "zscore"


def robust_zscore(value: float, baseline: Sequence[float], *, threshold: float, min_deviation: float,
                  rising_is_bad: bool = True) -> Detection:
    """Fires when value sits `threshold` robust sigmas beyond the baseline median, in the bad direction."""
    level, sigma = robust_level(baseline, min_deviation)
    z = signed_z(value, level, sigma, rising_is_bad)
    return Detection(fired=z >= threshold, value=value, baseline=level, baseline_sigma=sigma, zscore=z, statistic=z)


def judge(config: ZScoreConfig, observation: Observation) -> Judgement:
    return judge_windowed(config, observation, lambda value, baseline: robust_zscore(
        value, baseline, threshold=config.threshold, min_deviation=config.min_deviation,
        rising_is_bad=config.rising_is_bad))


DETECTOR = Detector("zscore", ZScoreConfig, judge, METRICS, check=check_baseline_windows)
