"""The count detector (`type: count`): a burst of (negative) stories about a key that is rarely in the news.

Share rates need baseline windows such keys never have; counts do not. The
key's stories are Poisson with a rate proportional to the rest of the feed's
volume (`n`, the other keys' stories, so a key's own burst does not raise its
expectation), `x ~ Poisson(theta * n)`, and `theta` has a Gamma prior pooled
over the scope's keys (prior.py). The key's own baseline updates the prior to
Gamma(shape + Y, rate + N); the current count is judged against the posterior
predictive, a negative binomial, by its upper-tail probability. A key with no
history falls back on the pooled prior (its first large burst fires); a key
with a long, busy history is judged on its own rate. The z-score reported is
the normal quantile of that tail probability, so thresholds read as for the
other detectors.
"""

from __future__ import annotations

import functools
import math
from datetime import timedelta
from typing import Literal

from pydantic import Field
from scipy import special

from monitor.alerts.detectors.base import Detection, Detector, DetectorConfig, Judgement, Problem
from monitor.alerts.detectors.observation import Observation
from monitor.alerts.detectors.prior import FALLBACK_PRIOR, RatePrior
from monitor.alerts.durations import format_duration

METRICS = ("negative_stories", "stories")


class CountConfig(DetectorConfig):
    type: Literal["count"] = "count"
    # The fewest counted stories (of the metric) that may fire, however surprising fewer would be.
    min_count: int = Field(3, ge=1)
    # Fire only when the window's mean sentiment score (p(positive) - p(negative) per story) is below zero
    # and below the rest of the feed's over the baseline (`judge`). An adverse event's coverage leans negative
    # even where most headlines are labelled neutral; a burst of good news, which carries a few misread
    # headlines too, does not.
    negative_lean: bool = True
    # With negative_lean: how far below that reference the window's mean score must be. A burst of
    # neutral stories a hair under the feed's mean (-0.05 against 0) is no adverse event.
    lean_margin: float = Field(0.0, ge=0, le=1)
    # How many alerts per window chance alone may raise over ALL the scope's keys (Bonferroni). Each key
    # is then judged at the larger of `threshold` and the z whose upper tail is chance_alerts / (keys with
    # stories in the window before the current one). A feed of 60 headlines a day tests a few dozen companies
    # a day, a dense wire of 560 about 800: at one z per key the wire raised several chance bursts a day
    # (issue #25). None: off.
    chance_alerts: float | None = Field(None, gt=0)


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


def family_threshold(chance_alerts: float, keys: int) -> float:
    """The z each of `keys` tested keys must reach so that chance raises about `chance_alerts` alerts in all
    (Bonferroni: a one-sided tail of chance_alerts / keys each)."""
    return float(-special.ndtri(min(0.5, chance_alerts / max(keys, 1))))


def judge(config: CountConfig, observation: Observation) -> Judgement:
    """The key's stories against its own history and the pooled prior."""
    baseline = observation.baseline_sum()
    feed_now = observation.feed_current.stories if observation.feed_current else observation.current.stories
    feed_before = observation.feed_baseline.stories if observation.feed_baseline else 0
    current = observation.current
    # The rest of the feed is the exposure: a key's own burst must not raise what it is expected to be.
    others_now = max(feed_now - current.stories, 0)
    others_before = max(feed_before - baseline.stories, 0)
    mean_score = current.score_sum / current.stories
    # "Leans negative": below zero and below how the model scores the rest of the feed over the baseline.
    # A model that labels more headlines negative (a fine-tune on adverse events) lowers every key's mean,
    # and good news scored a little below zero is no adverse event. Never above zero: a feed that reads
    # positive (the minute-precision outlets alone in hourly windows) must not make a burst easier.
    others_score = (observation.feed_baseline.score_sum - baseline.score_sum) if observation.feed_baseline else 0.0
    reference = min(0.0, others_score / others_before) if others_before else 0.0
    if config.negative_lean and mean_score >= reference - config.lean_margin:
        margin = f" by {config.lean_margin:.2f}" if config.lean_margin else ""
        return Judgement(None, f"mean sentiment {mean_score:+.2f} does not lean negative{margin} (the feed's "
                               f"{reference:+.2f})")
    threshold = config.threshold
    if config.chance_alerts is not None:
        threshold = max(threshold, family_threshold(config.chance_alerts, observation.keys_tested))
    detection = count_surprise(current.count(config.metric), baseline.count(config.metric), others_before,
                               others_now, observation.prior or FALLBACK_PRIOR, threshold=threshold,
                               min_count=config.min_count)
    return Judgement(detection)


def check(config: CountConfig, window: timedelta, scope_kind: str) -> list[Problem]:
    """The baseline (summed, not windowed) must reach back at least one window."""
    if config.baseline // window < 1:
        return [(("detector", "baseline"),
                 f"{format_duration(config.baseline)} is shorter than the window {format_duration(window)}")]
    return []


DETECTOR = Detector("count", CountConfig, judge, METRICS, check=check, pooled=True)
