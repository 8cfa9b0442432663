"""The pooled prior of the count detector: a Gamma prior of per-key story rates, fitted over a scope's keys.

A key's stories are Poisson with a rate proportional to the rest of the
feed's volume, and that rate has a Gamma prior pooled over the scope's keys
(empirical Bayes, the Gamma-Poisson model of Clayton & Kaldor 1987 and of
DuMouchel's 1999 Gamma-Poisson Shrinker for sparse count tables). The alerter
fits it from the pool period's rows (`rules/series.py`, `pooled_prior`), the
replay from running sums (`research/replay.py`, `PoolTracker`); the count
detector (count.py) judges with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


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
