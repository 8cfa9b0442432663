"""From aggregate buckets to what a rule judges: the current window and its baseline windows.

Windows are consecutive, non-overlapping and end at the end of the bucket that
holds `now` (so the newest, still-filling minute counts). Window 0 is the
current one; windows 1..n reach back `detector.baseline`. Summing bucket rows
keeps the query cheap: the stream worker already counts per minute and hour.
`judge(rule, observation)` applies the rule's detector (and its optional
hour-of-week seasonal adjustment) and returns a Detection or why it could not.

Count rules (detector `count`) also need the whole feed's volume in the same
windows (the `global` scope) and a prior pooled over the scope's keys: the
keys with stories in the `baseline` before the current UTC day (refitted once
a day, so the alerter and a replay agree), or, when that pool is too thin (a
new installation, a feed back after a gap), the fallback prior.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scipy import special

from monitor.alerts.detectors import (
    FALLBACK_PRIOR,
    Detection,
    RatePrior,
    count_surprise,
    cusum,
    ewma_zscore,
    fit_rate_prior,
    robust_zscore,
)
from monitor.alerts.rules_file import RuleSpec

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Bucket:
    """One sentiment_aggregates row, the fields the rules read."""

    scope_key: str
    bucket_start: datetime
    article_count: int
    story_count: int
    negative_count: int
    score_sum: float
    positive_count: int = 0
    sources: tuple[str, ...] = ()


@dataclass
class WindowStats:
    """Summed counts of one window for one scope key."""

    start: datetime
    articles: int = 0
    stories: int = 0  # sum of per-bucket distinct stories
    negative: int = 0
    score_sum: float = 0.0
    positive: int = 0
    sources: set[str] = field(default_factory=set)

    def add(self, bucket: Bucket) -> None:
        self.articles += bucket.article_count
        self.stories += bucket.story_count
        self.negative += bucket.negative_count
        self.positive += bucket.positive_count
        self.score_sum += bucket.score_sum
        self.sources.update(bucket.sources)

    def count(self, name: str) -> int:
        """negative_stories or stories: what a count rule counts."""
        return self.negative if name == "negative_stories" else self.stories

    def metric(self, name: str) -> float | None:
        """negative_share or mean_score per distinct story (or a count); None for a window without stories.

        The aggregates count sentiment once per story (a headline syndicated by ten
        outlets is one negative event), so stories, not articles, are the denominator.
        """
        if self.stories == 0:
            return None
        if name in ("negative_stories", "stories"):
            return float(self.count(name))
        return self.negative / self.stories if name == "negative_share" else self.score_sum / self.stories


@dataclass
class Observation:
    """What a rule sees for one scope key at one evaluation time."""

    key: str
    current: WindowStats
    baseline: list[WindowStats] = field(default_factory=list)  # oldest first
    # Count rules: the whole feed in the current window and over the baseline, the key's
    # baseline total (when the windows are not listed), and the scope's pooled prior.
    feed_current: WindowStats | None = None
    feed_baseline: WindowStats | None = None
    baseline_total: WindowStats | None = None
    prior: RatePrior | None = None
    # count rules: how many of the scope's keys had stories in the window before the current one (the feed's
    # breadth, whole at any moment of the current window), the family that chance_alerts is divided among
    keys_tested: int = 1

    def baseline_sum(self) -> WindowStats:
        if self.baseline_total is not None:
            return self.baseline_total
        total = WindowStats(start=self.baseline[0].start if self.baseline else self.current.start)
        for window in self.baseline:
            total.articles += window.articles
            total.stories += window.stories
            total.negative += window.negative
            total.positive += window.positive
            total.score_sum += window.score_sum
        return total


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
    if rule.detector.type == "count":
        start = min(start, pool_range(rule, now)[0])
    return start, end


def pooled_prior(buckets: Iterable[Bucket], feed: Iterable[Bucket], rule: RuleSpec, now: datetime) -> RatePrior:
    """The Gamma prior of the scope's per-key rates over the pool period (see detectors.fit_rate_prior)."""
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
    if rule.detector.type == "count" or rule.min_sources > 1:
        feed = list(feed)
        feed_windows = _windows(feed, rule, now).get("all")
        prior = pooled_prior(buckets, feed, rule, now) if rule.detector.type == "count" else None
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


def hour_of_week(moment: datetime) -> int:
    moment = moment.astimezone(UTC)
    return moment.weekday() * 24 + moment.hour


@dataclass(frozen=True)
class Judgement:
    """A detection, or the reason there is none (too little volume or baseline)."""

    detection: Detection | None
    reason: str = ""


def judge(rule: RuleSpec, observation: Observation) -> Judgement:
    """Apply the rule's volume gate, seasonality and detector to one observation."""
    spec = rule.detector
    if observation.current.stories < rule.min_stories:
        return Judgement(None, f"{observation.current.stories} stories < min_stories {rule.min_stories}")
    if rule.min_sources > 1:
        feed_sources = len(observation.feed_current.sources) if observation.feed_current else rule.min_sources
        needed = max(1, min(rule.min_sources, feed_sources))
        if len(observation.current.sources) < needed:
            return Judgement(None, f"{len(observation.current.sources)} sources < {needed} (min_sources "
                                   f"{rule.min_sources}, the feed had {feed_sources})")
    if spec.type == "count":
        return _judge_count(rule, observation)
    if spec.type == "threshold":
        return _judge_threshold(rule, observation)
    value = observation.current.metric(spec.metric)
    assert value is not None  # min_stories >= 1
    points = [(w.start, m) for w in observation.baseline if (m := w.metric(spec.metric)) is not None]
    offset = 0.0
    if spec.seasonality == "hour_of_week":
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
    if len(points) < spec.min_baseline_windows:
        return Judgement(None, f"{len(points)} baseline windows with data < {spec.min_baseline_windows}")
    baseline = [m for _, m in points]
    common = {"min_deviation": spec.min_deviation, "rising_is_bad": spec.rising_is_bad}
    if spec.type == "zscore":
        detection = robust_zscore(value, baseline, threshold=spec.threshold, **common)
    elif spec.type == "ewma":
        detection = ewma_zscore(value, baseline, alpha=spec.alpha, threshold=spec.threshold, **common)
    else:
        detection = cusum(value, baseline, k=spec.k, h=spec.h, **common)
    if offset:
        detection = Detection(detection.fired, detection.value + offset, detection.baseline + offset,
                              detection.baseline_sigma, detection.zscore, detection.statistic)
    return Judgement(detection)



def _judge_threshold(rule: RuleSpec, observation: Observation) -> Judgement:
    """Net adverse severity of the window's events against a fixed threshold: no baseline, because one
    bankruptcy story is news however often the company was in the news before."""
    current = observation.current
    value = -current.score_sum  # the event scope scores each story polarity x severity
    if current.negative == 0:
        return Judgement(None, "no adverse event in the window")
    threshold = rule.detector.threshold
    return Judgement(Detection(fired=value >= threshold, value=value, baseline=0.0, baseline_sigma=1.0,
                               zscore=value, statistic=value))


def _judge_count(rule: RuleSpec, observation: Observation) -> Judgement:
    """The count detector on the key's stories against its own history and the pooled prior."""
    spec = rule.detector
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
    if spec.negative_lean and mean_score >= reference - spec.lean_margin:
        margin = f" by {spec.lean_margin:.2f}" if spec.lean_margin else ""
        return Judgement(None, f"mean sentiment {mean_score:+.2f} does not lean negative{margin} (the feed's "
                               f"{reference:+.2f})")
    threshold = spec.threshold
    if spec.chance_alerts is not None:
        threshold = max(threshold, family_threshold(spec.chance_alerts, observation.keys_tested))
    detection = count_surprise(current.count(spec.metric), baseline.count(spec.metric), others_before,
                               others_now, observation.prior or FALLBACK_PRIOR, threshold=threshold,
                               min_count=spec.min_count)
    return Judgement(detection)


def family_threshold(chance_alerts: float, keys: int) -> float:
    """The z each of `keys` tested keys must reach so that chance raises about `chance_alerts` alerts in all
    (Bonferroni: a one-sided tail of chance_alerts / keys each)."""
    return float(-special.ndtri(min(0.5, chance_alerts / max(keys, 1))))
