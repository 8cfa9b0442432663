"""From aggregate buckets to what a rule judges: the current window and its baseline windows.

Windows are consecutive, non-overlapping and end at the end of the bucket that
holds `now` (so the newest, still-filling minute counts). Window 0 is the
current one; windows 1..n reach back `detector.baseline`. Summing bucket rows
keeps the query cheap: the stream worker already counts per minute and hour.
`judge(rule, observation)` applies the rule's volume gates (`min_stories`,
`min_sources`), then its detector, looked up in the detector registry by the
rule's `type:` (monitor/alerts/detectors/), and returns a Detection or why it
could not.

Pooled rules (detector `count`) also need the whole feed's volume in the same
windows (the `global` scope) and a prior pooled over the scope's keys: the
keys with stories in the `baseline` before the current UTC day (refitted once
a day, so the alerter and a replay agree), or, when that pool is too thin (a
new installation, a feed back after a gap), the fallback prior.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from monitor.alerts.detectors.base import Judgement
from monitor.alerts.detectors.observation import Bucket, Observation, WindowStats
from monitor.alerts.detectors.prior import FALLBACK_PRIOR, RatePrior, fit_rate_prior
from monitor.alerts.detectors.registry import DETECTORS
from monitor.alerts.rules.config import RuleSpec

DAY = timedelta(days=1)


def window_end(now: datetime, bucket_seconds: int) -> datetime:
    """The end of the bucket holding now: windows include the still-filling bucket."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket_seconds + bucket_seconds, tz=UTC)


def query_range(rule: RuleSpec, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the buckets a rule needs at now: the baseline windows plus the current one."""
    end = window_end(now, rule.bucket_seconds)
    n_windows = rule.detector.baseline // rule.window + 1
    return end - n_windows * rule.window, end


def pool_range(rule: RuleSpec, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) over which a count rule's prior is pooled: `baseline` before the current window's UTC day."""
    end = window_end(now, rule.bucket_seconds)
    day = window_end(end - rule.window, 86_400) - DAY  # midnight UTC at or before the current window's start
    return day - rule.detector.baseline, day


def load_range(rule: RuleSpec, now: datetime) -> tuple[datetime, datetime]:
    """Everything a rule reads at now: its windows and, for count rules, the pool period."""
    start, end = query_range(rule, now)
    if rule.detector.pooled:
        start = min(start, pool_range(rule, now)[0])
    return start, end


def pooled_prior(buckets: Iterable[Bucket], feed: Iterable[Bucket], rule: RuleSpec, now: datetime) -> RatePrior:
    """The Gamma prior of the scope's per-key rates over the pool period (see detectors/prior.py, fit_rate_prior)."""
    start, end = pool_range(rule, now)
    counts: dict[str, int] = defaultdict(int)
    stories: dict[str, int] = defaultdict(int)
    for bucket in buckets:
        if start <= bucket.bucket_start < end:
            counts[bucket.scope_key] += bucket.negative_count if rule.detector.metric == "negative_stories" \
                else bucket.story_count
            stories[bucket.scope_key] += bucket.story_count
    exposure = sum(b.story_count for b in feed if start <= b.bucket_start < end)
    return fit_rate_prior([counts[k] for k, n in stories.items() if n > 0], exposure, FALLBACK_PRIOR)


def build_observations(buckets: Iterable[Bucket], rule: RuleSpec, now: datetime,
                       feed: Iterable[Bucket] = ()) -> dict[str, Observation]:
    """Group buckets into windows per scope key (keys without a bucket in range are absent).

    feed: the `global` buckets of the same width, which count rules need (volume and sources).
    """
    buckets = list(buckets)
    observations = _windows(buckets, rule, now)
    if rule.detector.pooled or rule.min_sources > 1:
        feed = list(feed)
        feed_windows = _windows(feed, rule, now).get("all")
        prior = pooled_prior(buckets, feed, rule, now) if rule.detector.pooled else None
        tested = sum(bool(o.baseline) and o.baseline[-1].stories > 0 for o in observations.values())
        for observation in observations.values():
            observation.keys_tested = max(tested, 1)
            if feed_windows is not None:
                observation.feed_current = feed_windows.current
                observation.feed_baseline = feed_windows.baseline_sum()
            observation.prior = prior
    return observations


def _windows(buckets: Iterable[Bucket], rule: RuleSpec, now: datetime) -> dict[str, Observation]:
    start, end = query_range(rule, now)
    n_windows = rule.detector.baseline // rule.window + 1
    window_s = rule.window.total_seconds()
    per_key: dict[str, list[WindowStats]] = defaultdict(
        lambda: [WindowStats(start=end - (i + 1) * rule.window) for i in range(n_windows)])
    for bucket in buckets:
        if not start <= bucket.bucket_start < end:
            continue
        index = int((end - bucket.bucket_start).total_seconds() // window_s)
        if (end - bucket.bucket_start).total_seconds() % window_s == 0:
            index -= 1  # a bucket starting exactly on a window start belongs to that window
        per_key[bucket.scope_key][index].add(bucket)
    return {key: Observation(key=key, current=windows[0], baseline=windows[:0:-1]) for key, windows in per_key.items()}


def judge(rule: RuleSpec, observation: Observation) -> Judgement:
    """Apply the rule's volume gates, then its detector (through the registry) to one observation."""
    if observation.current.stories < rule.min_stories:
        return Judgement(None, f"{observation.current.stories} stories < min_stories {rule.min_stories}")
    if rule.min_sources > 1:
        feed_sources = len(observation.feed_current.sources) if observation.feed_current else rule.min_sources
        needed = max(1, min(rule.min_sources, feed_sources))
        if len(observation.current.sources) < needed:
            return Judgement(None, f"{len(observation.current.sources)} sources < {needed} (min_sources "
                                   f"{rule.min_sources}, the feed had {feed_sources})")
    return DETECTORS[rule.detector.type].judge(rule.detector, observation)
