"""What a detector sees: one scope key's current window and its baseline, summed from aggregate buckets.

`rules/series.py` builds an `Observation` per scope key from `Bucket`s (the
`sentiment_aggregates` rows a rule reads); a detector's `judge` reads it and
nothing else, so detectors stay pure and testable on constructed series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.alerts.detectors.prior import RatePrior


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
