"""Anomaly detectors: pure functions from (current value, baseline values) to a Detection.

Three detectors, each for a different shape of trouble:

- `robust_zscore`: a sudden spike. The baseline level is the median and its
  spread the MAD (scaled by 1.4826 to match a standard deviation for normal
  data), so yesterday's one-off spike does not hide today's.
- `ewma_zscore`: a spike against a baseline that follows recent levels
  (exponentially weighted mean and variance), for series whose level wanders.
- `cusum`: a slow drift. The baseline's older half fixes the reference level;
  the cumulative sum of standardised excesses over the newer half plus the
  current value fires once it passes `h` sigmas, long before any single
  window looks unusual.

"Bad" is a rise (`rising_is_bad=True`, e.g. negative share) or a fall (mean
score); z-scores are signed so that positive means worse. Unit tests in
tests/unit/test_alert_detectors.py run each detector on constructed series.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826  # sigma = 1.4826 * MAD for normally distributed data


@dataclass(frozen=True)
class Detection:
    """A detector's verdict and the numbers an analyst needs to judge it."""

    fired: bool
    value: float  # the current window's metric
    baseline: float  # the level the detector expected
    baseline_sigma: float  # the spread it used (after the min_deviation floor)
    zscore: float  # (value - baseline) / baseline_sigma, positive = worse
    statistic: float  # the decision statistic: the z-score, or the CUSUM sum


def robust_level(values: Sequence[float], min_deviation: float) -> tuple[float, float]:
    """(median, max(1.4826 * MAD, min_deviation)) of values."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return median, max(MAD_TO_SIGMA * mad, min_deviation)


def _signed(value: float, level: float, sigma: float, rising_is_bad: bool) -> float:
    return (value - level) / sigma * (1.0 if rising_is_bad else -1.0)


def robust_zscore(value: float, baseline: Sequence[float], *, threshold: float, min_deviation: float,
                  rising_is_bad: bool = True) -> Detection:
    """Fires when value sits `threshold` robust sigmas beyond the baseline median, in the bad direction."""
    level, sigma = robust_level(baseline, min_deviation)
    z = _signed(value, level, sigma, rising_is_bad)
    return Detection(fired=z >= threshold, value=value, baseline=level, baseline_sigma=sigma, zscore=z, statistic=z)


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
    z = _signed(value, mean, sigma, rising_is_bad)
    return Detection(fired=z >= threshold, value=value, baseline=mean, baseline_sigma=sigma, zscore=z, statistic=z)


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
        total = max(0.0, total + _signed(x, level, sigma, rising_is_bad) - k)
    z = _signed(value, level, sigma, rising_is_bad)
    return Detection(fired=total >= h, value=value, baseline=level, baseline_sigma=sigma, zscore=z, statistic=total)
