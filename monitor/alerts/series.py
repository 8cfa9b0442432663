"""From aggregate buckets to what a rule judges: the current window and its baseline windows.

Windows are consecutive, non-overlapping and end at the end of the bucket that
holds `now` (so the newest, still-filling minute counts). Window 0 is the
current one; windows 1..n reach back `detector.baseline`. Summing bucket rows
keeps the query cheap: the stream worker already counts per minute and hour.
`judge(rule, observation)` applies the rule's detector (and its optional
hour-of-week seasonal adjustment) and returns a Detection or why it could not.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.alerts.detectors import Detection, cusum, ewma_zscore, robust_zscore
from monitor.alerts.rules_file import RuleSpec


@dataclass(frozen=True)
class Bucket:
    """One sentiment_aggregates row, the fields the rules read."""

    scope_key: str
    bucket_start: datetime
    article_count: int
    story_count: int
    negative_count: int
    score_sum: float


@dataclass
class WindowStats:
    """Summed counts of one window for one scope key."""

    start: datetime
    articles: int = 0
    stories: int = 0  # sum of per-bucket distinct stories
    negative: int = 0
    score_sum: float = 0.0

    def metric(self, name: str) -> float | None:
        """negative_share or mean_score per distinct story; None for a window without stories.

        The aggregates count sentiment once per story (a headline syndicated by ten
        outlets is one negative event), so stories, not articles, are the denominator.
        """
        if self.stories == 0:
            return None
        return self.negative / self.stories if name == "negative_share" else self.score_sum / self.stories


@dataclass
class Observation:
    """What a rule sees for one scope key at one evaluation time."""

    key: str
    current: WindowStats
    baseline: list[WindowStats] = field(default_factory=list)  # oldest first


def window_end(now: datetime, bucket_seconds: int) -> datetime:
    """The end of the bucket holding now: windows include the still-filling bucket."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket_seconds + bucket_seconds, tz=UTC)


def query_range(rule: RuleSpec, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the buckets a rule needs at now: the baseline windows plus the current one."""
    end = window_end(now, rule.bucket_seconds)
    n_windows = rule.detector.baseline // rule.window + 1
    return end - n_windows * rule.window, end


def build_observations(buckets: Iterable[Bucket], rule: RuleSpec, now: datetime) -> dict[str, Observation]:
    """Group buckets into windows per scope key (keys without a bucket in range are absent)."""
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
        stats = per_key[bucket.scope_key][index]
        stats.articles += bucket.article_count
        stats.stories += bucket.story_count
        stats.negative += bucket.negative_count
        stats.score_sum += bucket.score_sum
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

