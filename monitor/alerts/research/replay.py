"""Replay rules over stored history: what would have fired between two times, nothing sent or stored.

    finsent alerts replay --rules my-rules.yaml --from 2026-11-01T00:00Z --to 2026-11-08T00:00Z

The same `evaluate` step as the alerter runs at every `--step`, with the
lifecycle state kept in memory. It is fast enough to tune rules on years of
history (`finsent alerts backtest` runs on it): each rule's buckets are read
once and kept per key as prefix sums (`KeySeries`), so any window's counts
cost two binary searches; a key is only judged at the steps whose current
window holds at least `min_stories` of its stories (at every other step it
could not fire, and a series with a state and no observation resolves as in
the alerter); the pooled prior of count rules is refitted once a day from
running sums over a sliding pool period (`PoolTracker`).

No look-ahead: a step at `now` sees only the stories published before it, as
the alerter did at that moment. Its current window is the one that ends at
or after `now` (at a bucket boundary, the window that has just closed), and
the stories of that window published at or after `now` are taken out, found
in the minute rows (`FINER`), whatever the rule's width: a daily rule judged
every 10 minutes must not see at 14:10 the story of 14:44 (hourly rows would
show it the whole hour). Date-only stories have no time: they count from the
start of their day, their sources' own convention. So an hourly rule fires at
the first step after its evidence completes, a daily rule likewise.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from monitor.alerts.detectors.observation import Bucket, Observation, WindowStats
from monitor.alerts.detectors.prior import FALLBACK_PRIOR, RatePrior, prior_from_sums
from monitor.alerts.rules import store
from monitor.alerts.rules.config import RulesFile, RuleSpec
from monitor.alerts.rules.evaluation import SectorLookup, SeriesResult, StoredState, evaluate, no_sectors
from monitor.alerts.rules.series import load_range, pool_range
from monitor.alerts.silences.matching import inhibiting

COLUMNS = ("article_count", "story_count", "negative_count", "positive_count", "score_sum")
# The bucket width that says when, inside one of a rule's buckets, each timed story came.
FINER = {86_400: 60, 3600: 60}  # rule width -> the rows that say when each timed story came (to the minute)
AS_OF = timedelta(seconds=1)  # a step at `now` is judged as of just before it: a window ending at `now` is whole


@dataclass(frozen=True)
class ReplayEvent:
    at: datetime
    rule: str
    scope_key: str
    event: str  # firing | resolved
    value: float | None
    baseline: float | None
    zscore: float | None
    labels: dict[str, str]
    stories: int = 0
    window_end: datetime | None = None  # the end of the judged window: when its evidence is surely complete
    inhibited: bool = False  # a firing that an inhibit rule mutes when it fires: never notified

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "rule": self.rule, "key": self.scope_key, "event": self.event,
                "value": self.value, "baseline": self.baseline, "zscore": self.zscore, "stories": self.stories,
                "window_end": self.window_end.isoformat() if self.window_end else None, "labels": self.labels,
                "inhibited": self.inhibited}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class KeySeries:
    """One key's buckets (sorted by start) as prefix sums: the counts of any [start, end) in O(log n)."""

    def __init__(self, buckets: Sequence[Bucket]) -> None:
        ordered = sorted(buckets, key=lambda b: b.bucket_start)
        self.times = np.array([_epoch(b.bucket_start) for b in ordered], dtype=np.int64)
        self.time_list = self.times.tolist()  # bisect on a list beats numpy for one lookup
        values = np.array([[getattr(b, c) for c in COLUMNS] for b in ordered], dtype=float).reshape(-1, len(COLUMNS))
        self.cum = np.vstack([np.zeros((1, len(COLUMNS))), np.cumsum(values, axis=0)])
        self.sources = [b.sources for b in ordered]

    def stories_between(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        lo, hi = np.searchsorted(self.times, starts), np.searchsorted(self.times, ends)
        return self.cum[hi, 1] - self.cum[lo, 1]

    def windows(self, bounds: np.ndarray) -> np.ndarray:
        """Sums of each [bounds[i], bounds[i+1]) (bounds ascending), one row of COLUMNS per window."""
        return np.diff(self.cum[np.searchsorted(self.times, bounds)], axis=0)

    def window(self, start: int, end: int, with_sources: bool = False) -> WindowStats:
        lo, hi = bisect.bisect_left(self.time_list, start), bisect.bisect_left(self.time_list, end)
        articles, stories, negative, positive, score_sum = (self.cum[hi] - self.cum[lo]).tolist()
        sources: set[str] = set()
        if with_sources:
            for names in self.sources[lo:hi]:
                sources.update(names)
        return WindowStats(start=_moment(start), articles=int(articles), stories=int(stories),
                           negative=int(negative), positive=int(positive), score_sum=float(score_sum),
                           sources=sources)


def _without(stats: WindowStats, later: WindowStats, sources: set[str] | None) -> WindowStats:
    """stats less the stories of `later` (published at or after the step); `sources` replaces its sources.

    Stories are distinct per bucket, so a story in two finer buckets can be taken out twice: floored at 0.
    """
    return WindowStats(start=stats.start, articles=max(stats.articles - later.articles, 0),
                       stories=max(stats.stories - later.stories, 0), negative=max(stats.negative - later.negative, 0),
                       score_sum=stats.score_sum - later.score_sum, positive=max(stats.positive - later.positive, 0),
                       sources=stats.sources if sources is None else sources)


def _before(full: WindowStats, timed: KeySeries | None, start: int, as_of: int, end: int,
            with_sources: bool) -> WindowStats:
    """A window's stats as of `as_of` < end: less its timed stories published since (see the module docstring).

    Sources come from the timed stories before `as_of`; when the window also holds date-only stories
    (more stories than its timed ones), their sources are not known apart, so the window's are kept.
    """
    if timed is None:
        return full
    later = timed.window(as_of, end)
    sources = None
    if with_sources:
        earlier = timed.window(start, as_of, with_sources=True)
        sources = full.sources if full.stories > earlier.stories + later.stories else earlier.sources
    return _without(full, later, sources)


def _stats(row: np.ndarray, start: int) -> WindowStats:
    articles, stories, negative, positive, score_sum = row
    return WindowStats(start=_moment(start), articles=int(articles), stories=int(stories), negative=int(negative),
                       positive=int(positive), score_sum=float(score_sum))


class PoolTracker:
    """Running per-key sums over a pool period that only moves forward: the pooled prior of a count rule.

    Keeps, for the keys with stories in [start, end), their number and the sum and sum of squares
    of their counted stories, updated bucket by bucket as the period slides (O(buckets) in all).
    """

    def __init__(self, rule: RuleSpec, buckets: Sequence[Bucket], feed: KeySeries | None) -> None:
        ordered = sorted(buckets, key=lambda b: b.bucket_start)
        self.times = [_epoch(b.bucket_start) for b in ordered]
        self.keys = [b.scope_key for b in ordered]
        counted = "negative_count" if rule.detector.metric == "negative_stories" else "story_count"
        self.counts = [getattr(b, counted) for b in ordered]
        self.stories = [b.story_count for b in ordered]
        self.feed = feed
        self.added = self.removed = 0  # buckets [removed, added) are in the period
        self.key_counts: dict[str, int] = defaultdict(int)
        self.key_stories: dict[str, int] = defaultdict(int)
        self.members = 0
        self.total = self.total_sq = 0.0
        self.cache: tuple[int, int, RatePrior] | None = None

    def _change(self, i: int, sign: int) -> None:
        key = self.keys[i]
        before_count, before_stories = self.key_counts[key], self.key_stories[key]
        after_count = before_count + sign * self.counts[i]
        after_stories = before_stories + sign * self.stories[i]
        self.total += after_count - before_count
        self.total_sq += after_count * after_count - before_count * before_count
        self.members += (after_stories > 0) - (before_stories > 0)
        self.key_counts[key], self.key_stories[key] = after_count, after_stories

    def prior(self, start: int, end: int) -> RatePrior:
        if self.cache and self.cache[:2] == (start, end):
            return self.cache[2]
        while self.added < len(self.times) and self.times[self.added] < end:
            self._change(self.added, +1)
            self.added += 1
        while self.removed < self.added and self.times[self.removed] < start:
            self._change(self.removed, -1)
            self.removed += 1
        exposure = float(self.feed.stories_between(np.array([start]), np.array([end]))[0]) if self.feed else 0.0
        prior = prior_from_sums(self.members, self.total, self.total_sq, exposure, FALLBACK_PRIOR)
        self.cache = (start, end, prior)
        return prior


class RuleHistory:
    """One rule's buckets over a replay range: its observation of any key at any time, and when to look."""

    def __init__(self, rule: RuleSpec, buckets: Sequence[Bucket], feed: Sequence[Bucket] = (),
                 timed: Sequence[Bucket] = (), timed_feed: Sequence[Bucket] = ()) -> None:
        """timed, timed_feed: the same rows at the FINER width, which say when each timed story came."""
        self.rule = rule
        self.series = _by_key(buckets)
        self.feed = KeySeries(feed) if feed else None
        self.timed = _by_key(timed)
        self.timed_feed = KeySeries(timed_feed) if timed_feed else None
        self.pool = PoolTracker(rule, buckets, self.feed) if rule.detector.pooled else None
        self.window_s = int(rule.window.total_seconds())
        self.n_baseline = rule.detector.baseline // rule.window
        self.cached: dict[str, Observation] = {}  # key -> its observation at cached_end
        self.cached_end = -1
        self.keys_tested: dict[int, int] = {}  # window end -> keys with stories in the window before (candidates)

    def window_ends(self, times: Sequence[datetime]) -> np.ndarray:
        """The end of each step's current window: the first bucket boundary at or after the step."""
        seconds = self.rule.bucket_seconds
        epochs = np.array([_epoch(t - AS_OF) for t in times], dtype=np.int64)
        return epochs - epochs % seconds + seconds

    def candidates(self, ends: np.ndarray) -> dict[int, list[str]]:
        """Step index -> the keys whose current window (ending at ends[step]) has >= min_stories stories.

        Also counts, per window end, the keys with any story in the window before it (`keys_tested`: the
        family a count rule's chance_alerts divides among, whole at any moment of the current window)."""
        out: dict[int, list[str]] = defaultdict(list)
        tested = np.zeros(len(ends), dtype=np.int64)

        for key, series in self.series.items():
            lo = np.searchsorted(ends, series.times, side="right")
            hi = np.searchsorted(ends, series.times + self.window_s, side="right")
            spans = [np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a]
            if not spans:
                continue
            steps = np.unique(np.concatenate(spans))
            stories = series.stories_between(ends[steps] - self.window_s, ends[steps])
            for step in steps[stories >= self.rule.min_stories]:
                out[int(step)].append(key)
            # the steps whose previous window [end - 2w, end - w) holds one of the key's buckets
            lo = np.searchsorted(ends, series.times + self.window_s, side="right")
            hi = np.searchsorted(ends, series.times + 2 * self.window_s, side="right")
            before = [np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a]
            if before:
                steps = np.unique(np.concatenate(before))
                previous = series.stories_between(ends[steps] - 2 * self.window_s, ends[steps] - self.window_s)
                tested[steps[previous > 0]] += 1
        self.keys_tested = {int(ends[step]): int(n) for step, n in enumerate(tested) if n}
        return out

    def observation(self, key: str, end: int, now: datetime) -> Observation:
        """The key's observation at `now` of the window ending at `end`, without what came at or after `now`."""
        if end != self.cached_end:
            self.cached, self.cached_end = {}, end
        if key not in self.cached:
            self.cached[key] = self._observe(key, end, now - AS_OF)
        whole = self.cached[key]
        as_of = _epoch(now)
        if as_of >= end:
            return whole
        start, with_sources = end - self.window_s, self.rule.min_sources > 1
        current = _before(whole.current, self.timed.get(key), start, as_of, end, with_sources)
        feed_current = whole.feed_current
        if feed_current is not None:
            feed_current = _before(feed_current, self.timed_feed, start, as_of, end, with_sources)
        return dataclasses.replace(whole, current=current, feed_current=feed_current)

    def _observe(self, key: str, end: int, now: datetime) -> Observation:
        rule, series = self.rule, self.series[key]
        start = end - self.window_s
        needs_feed = rule.detector.pooled or rule.min_sources > 1
        current = series.window(start, end, with_sources=rule.min_sources > 1)
        observation = Observation(key=key, current=current, keys_tested=self.keys_tested.get(end, 1))
        first = start - self.n_baseline * self.window_s
        if rule.detector.pooled:
            observation.baseline_total = series.window(first, start)
        else:
            bounds = np.arange(first, end - self.window_s + 1, self.window_s, dtype=np.int64)
            rows = series.windows(bounds)
            observation.baseline = [_stats(row, int(b)) for row, b in zip(rows, bounds[:-1], strict=True)]
        if needs_feed and self.feed is not None:
            observation.feed_current = self.feed.window(start, end, with_sources=rule.min_sources > 1)
            observation.feed_baseline = self.feed.window(first, start)
        if self.pool is not None:
            pool_start, pool_end = pool_range(rule, now)
            observation.prior = self.pool.prior(_epoch(pool_start), _epoch(pool_end))
        return observation


def _by_key(buckets: Sequence[Bucket]) -> dict[str, KeySeries]:
    by_key: dict[str, list[Bucket]] = defaultdict(list)
    for bucket in buckets:
        by_key[bucket.scope_key].append(bucket)
    return {key: KeySeries(rows) for key, rows in by_key.items()}


def _times(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += step


def load_history(session: Session, rules: RulesFile, start: datetime, end: datetime) -> dict[str, RuleHistory]:
    """Each rule's buckets (and the feed's, for count rules) for evaluations in [start, end], one query each."""
    histories = {}
    for rule in rules.rules:
        first, _ = load_range(rule, start)
        _, last = load_range(rule, end)
        needs_feed = rule.detector.pooled or rule.min_sources > 1
        feed = store.load_buckets(session, rule, first, last, feed=True) if needs_feed else []
        timed: list[Bucket] = []
        timed_feed: list[Bucket] = []
        if (finer := FINER.get(rule.bucket_seconds)) is not None:  # only the current windows need them
            timed = store.load_buckets(session, rule, start - rule.window, last, width=finer)
            if needs_feed:
                timed_feed = store.load_buckets(session, rule, start - rule.window, last, feed=True, width=finer)
        histories[rule.name] = RuleHistory(rule, store.load_buckets(session, rule, first, last), feed,
                                           timed, timed_feed)
    return histories


def carry_states(states: dict[tuple[str, str], StoredState], results: Sequence[SeriesResult]) -> None:
    """Keep the lifecycle state of each (rule, fingerprint) in memory, as the alerter keeps it in its table."""
    for result in results:
        key = (result.rule.name, result.fingerprint)
        if result.state.state == "inactive":
            states.pop(key, None)
        else:
            states[key] = StoredState(result.rule.name, result.fingerprint, result.scope_key, result.state)


def replay_history(histories: dict[str, RuleHistory], rules: RulesFile, start: datetime, end: datetime,
                   step: timedelta, sector_of: SectorLookup = no_sectors) -> list[ReplayEvent]:
    """Firing and resolved events over [start, end] from loaded histories (pure: no database)."""
    if end <= start:
        raise ValueError("--to must be after --from")
    times = list(_times(start, end, step))
    ends = {name: history.window_ends(times) for name, history in histories.items()}
    candidates = {name: history.candidates(ends[name]) for name, history in histories.items()}
    states: dict[tuple[str, str], StoredState] = {}
    firing: dict[tuple[str, str], dict[str, str]] = {}  # (rule, fingerprint) -> labels of the alerts firing now
    events: list[ReplayEvent] = []
    for index, now in enumerate(times):
        observations: dict[str, dict[str, Observation]] = {}
        for rule in rules.rules:
            keys: Iterable[str] = candidates[rule.name].get(index, ())
            end_epoch = int(ends[rule.name][index])
            history = histories[rule.name]
            observations[rule.name] = {key: history.observation(key, end_epoch, now) for key in keys}
        if not any(observations.values()) and not states:
            continue
        evaluation = evaluate(rules, observations, states, now, sector_of)
        carry_states(states, evaluation.results)
        for result in evaluation.results:
            key = (result.rule.name, result.fingerprint)
            if result.state.state == "firing":
                firing[key] = result.labels
            else:
                firing.pop(key, None)
        for result in evaluation.results:
            if result.event in ("firing", "resolved"):
                detection = result.judgement.detection
                events.append(ReplayEvent(now, result.rule.name, result.scope_key, result.event,
                                          detection.value if detection else None,
                                          detection.baseline if detection else None,
                                          detection.zscore if detection else None, result.labels,
                                          result.stories, _moment(int(ends[result.rule.name][index])),
                                          inhibited=result.event == "firing" and inhibiting(
                                              result.labels, list(firing.values()), rules.inhibit_rules) is not None))
    return events


def replay(session: Session, rules: RulesFile, start: datetime, end: datetime, step: timedelta,
           sector_of: SectorLookup = no_sectors) -> list[ReplayEvent]:
    """Firing and resolved events that rules would have produced in [start, end]."""
    if end <= start:
        raise ValueError("--to must be after --from")
    return replay_history(load_history(session, rules, start, end), rules, start, end, step, sector_of)
