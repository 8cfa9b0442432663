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
  window looks unusual. It fires only while the current value is on the bad
  side of the reference: an alert never reports a value below its baseline
  for an upward rule.
- `count_surprise`: a burst of (negative) stories about a key that is rarely
  in the news. Share rates need baseline windows such keys never have; counts
  do not. The key's stories are Poisson with a rate proportional to the
  rest of the feed's volume (`n`, the other keys' stories, so a key's own
  burst does not raise its expectation), `x ~ Poisson(theta * n)`, and `theta` has a Gamma prior
  pooled over the scope's keys (empirical Bayes, the Gamma-Poisson model of
  Clayton & Kaldor 1987 and of DuMouchel's 1999 Gamma-Poisson Shrinker for
  sparse count tables). The key's own baseline updates the prior to
  Gamma(shape + Y, rate + N); the current count is judged against the
  posterior predictive, a negative binomial, by its upper-tail probability.
  A key with no history falls back on the pooled prior (its first large burst
  fires); a key with a long, busy history is judged on its own rate. The
  z-score reported is the normal quantile of that tail probability, so
  thresholds read as for the other detectors.

"Bad" is a rise (`rising_is_bad=True`, e.g. negative share) or a fall (mean
score); z-scores are signed so that positive means worse. Unit tests in
tests/unit/test_alert_detectors.py run each detector on constructed series.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

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
    # A drift that has reversed (current value back on the good side) no longer fires.
    return Detection(fired=total >= h and z > 0, value=value, baseline=level, baseline_sigma=sigma, zscore=z,
                     statistic=total)


@dataclass(frozen=True)
class RatePrior:
    """Gamma(shape, rate) prior of a key's stories per story of the whole feed, pooled over a scope's keys."""

    shape: float
    rate: float  # in feed stories: the prior mean share is shape / rate
    keys: int = 0  # how many keys it was fitted on (0: the fallback)

    @property
    def mean_share(self) -> float:
        return self.shape / self.rate


# When no pool can be fitted (a new installation, a feed back after a long gap): a key is expected to be
# about 0.5% of the feed, exponentially spread (shape 1), so a key at 5% of a busy feed is not yet
# surprising (z ~ 3.8 for 100 of 2,000 stories) while one that is a quarter of it is.
FALLBACK_PRIOR = RatePrior(shape=1.0, rate=200.0)
MIN_POOL_KEYS = 20


def fit_rate_prior(counts: Sequence[float], exposure: float, fallback: RatePrior = FALLBACK_PRIOR) -> RatePrior:
    """Method-of-moments Gamma prior of per-key rates from the keys' counts over a shared exposure.

    counts: each pooled key's stories over the period; exposure: the feed's stories over it. With
    rate_k = count_k / exposure, Var(rate_k) = Var(theta) + E(theta) / exposure (Poisson noise), so
    Var(theta) = s^2 - m / exposure (Clayton & Kaldor 1987). Too few keys, no exposure or no spread
    beyond Poisson noise: the fallback (or a near-Poisson prior at the pooled mean).
    """
    values = np.asarray(counts, dtype=float)
    return prior_from_sums(len(values), float(values.sum()), float((values * values).sum()), exposure, fallback)


def prior_from_sums(keys: int, total: float, total_sq: float, exposure: float,
                    fallback: RatePrior = FALLBACK_PRIOR) -> RatePrior:
    """fit_rate_prior from the pool's sums (number of keys, sum and sum of squares of their counts).

    Sums can be kept up to date as a window slides, which is how the replay engine refits daily.
    """
    if keys < MIN_POOL_KEYS or exposure <= 0 or total <= 0:
        return fallback
    mean = total / keys / exposure
    spread = total_sq / keys / (exposure * exposure) - mean * mean
    between = max(spread - mean / exposure, mean * mean / 100.0)  # at most shape 100: shrink, never pin
    return RatePrior(shape=mean * mean / between, rate=mean / between, keys=keys)


def count_surprise(count: int, baseline_count: float, baseline_exposure: float, exposure: float,
                   prior: RatePrior, *, threshold: float, min_count: int = 1) -> Detection:
    """Upper-tail test of `count` stories in a window of `exposure` feed stories.

    The key had `baseline_count` stories over `baseline_exposure` feed stories before. Posterior
    Gamma(a, b) = Gamma(prior.shape + baseline_count, prior.rate + baseline_exposure); predictive
    NegBin(a, b / (b + exposure)), mean a * exposure / b. Fires when count >= min_count, count is above
    that mean and the tail probability P(X >= count) is below the one-sided normal tail of `threshold`.
    """
    shape = prior.shape + baseline_count
    rate = prior.rate + baseline_exposure
    exposure = max(exposure, 1.0)  # a feed of this key alone: judged as if one other story came in
    expected = shape * exposure / rate
    z, log10_tail = _negbin_surprise(int(count), shape, rate / (rate + exposure))
    sigma = math.sqrt(expected * (1.0 + exposure / rate))  # predictive standard deviation
    fired = count >= min_count and count > expected and z >= threshold
    return Detection(fired=fired, value=float(count), baseline=expected, baseline_sigma=sigma, zscore=z,
                     statistic=log10_tail)


@functools.lru_cache(maxsize=65_536)
def _negbin_surprise(count: int, shape: float, p: float) -> tuple[float, float]:
    """(normal quantile, -log10) of P(X >= count) for X ~ NegBin(shape, p) (a replay asks the same often).

    P(X >= x) = I_{1-p}(x, shape), the regularised incomplete beta function; below the float range
    the log tail is approximated and the quantile taken from its asymptote sqrt(-2 log p).
    """
    if count <= 0:
        return -math.inf, 0.0
    tail = float(special.betainc(count, shape, 1.0 - p))
    if tail > 1e-300:
        return float(-special.ndtri(tail)), -math.log10(tail)
    # Far below the float range: the tail is about pmf(count) / p (its terms fall geometrically by ~1 - p).
    log_tail = float(special.gammaln(count + shape) - special.gammaln(shape) - special.gammaln(count + 1)
                + shape * math.log(p) + count * math.log1p(-p) - math.log(p))
    return math.sqrt(-2.0 * log_tail), -log_tail / math.log(10)
