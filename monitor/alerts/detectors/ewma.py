"""The EWMA detector (`type: ewma`): a spike against a baseline that follows recent levels.

The baseline windows' exponentially weighted mean and variance (Roberts'
EWMA recursion, smoothing `alpha`), for series whose level wanders. Fires when
the current window sits `threshold` EWMA sigmas beyond the EWMA mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from monitor.alerts.detectors.base import Detection, Detector, Judgement
from monitor.alerts.detectors.observation import Observation
from monitor.alerts.detectors.windowed import METRICS, WindowedConfig, check_baseline_windows, judge_windowed, signed_z


class EwmaConfig(WindowedConfig):
    type: Literal["ewma"] = "ewma"
    alpha: float = Field(0.2, gt=0, le=1, description="EWMA smoothing factor")


def ewma_level(values: Sequence[float], alpha: float) -> tuple[float, float]:
    """Exponentially weighted (mean, variance) of values, oldest first (Roberts' EWMA recursion)."""
    mean, variance = values[0], 0.0
    for x in values[1:]:
        delta = x - mean
        mean += alpha * delta
        variance = (1 - alpha) * (variance + alpha * delta * delta)
    return mean, variance


def ewma_zscore(value: float, baseline: Sequence[float], *, alpha: float, threshold: float, min_deviation: float,
                rising_is_bad: bool = True) -> Detection:
    """Fires when value sits `threshold` EWMA sigmas beyond the EWMA mean of the baseline."""
    mean, variance = ewma_level(baseline, alpha)
    sigma = max(math.sqrt(variance), min_deviation)
    z = signed_z(value, mean, sigma, rising_is_bad)
    return Detection(fired=z >= threshold, value=value, baseline=mean, baseline_sigma=sigma, zscore=z, statistic=z)


def judge(config: EwmaConfig, observation: Observation) -> Judgement:
    return judge_windowed(config, observation, lambda value, baseline: ewma_zscore(
        value, baseline, alpha=config.alpha, threshold=config.threshold, min_deviation=config.min_deviation,
        rising_is_bad=config.rising_is_bad))


DETECTOR = Detector("ewma", EwmaConfig, judge, METRICS, check=check_baseline_windows)
