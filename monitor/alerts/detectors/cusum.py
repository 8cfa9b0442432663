"""The CUSUM detector (`type: cusum`): a slow drift.

The baseline's older half fixes the reference level (median and MAD); the
cumulative sum of standardised excesses over the newer half plus the current
value fires once it passes `h` sigmas, long before any single window looks
unusual. It fires only while the current value is on the bad side of the
reference: an alert never reports a value below its baseline for an upward
rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

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


class CusumConfig(WindowedConfig):
    type: Literal["cusum"] = "cusum"
    k: float = Field(0.5, ge=0, description="CUSUM slack, in sigmas")
    h: float = Field(5.0, gt=0, description="CUSUM decision interval, in sigmas")


def cusum(value: float, baseline: Sequence[float], *, k: float, h: float, min_deviation: float,
          rising_is_bad: bool = True) -> Detection:
    """One-sided tabular CUSUM: reference from the older half of baseline, sums over the rest and value.

    S_t = max(0, S_{t-1} + z_t - k) with z_t the standardised excess; fires when S >= h.
    """
    half = max(len(baseline) // 2, 1)
    reference, recent = baseline[:half], [*baseline[half:], value]
    level, sigma = robust_level(reference, min_deviation)
    total = 0.0
    for x in recent:
        total = max(0.0, total + signed_z(x, level, sigma, rising_is_bad) - k)
    z = signed_z(value, level, sigma, rising_is_bad)
    # A drift that has reversed (current value back on the good side) no longer fires.
    return Detection(fired=total >= h and z > 0, value=value, baseline=level, baseline_sigma=sigma, zscore=z,
                     statistic=total)


def judge(config: CusumConfig, observation: Observation) -> Judgement:
    return judge_windowed(config, observation, lambda value, baseline: cusum(
        value, baseline, k=config.k, h=config.h, min_deviation=config.min_deviation,
        rising_is_bad=config.rising_is_bad))


DETECTOR = Detector("cusum", CusumConfig, judge, METRICS, check=check_baseline_windows)
