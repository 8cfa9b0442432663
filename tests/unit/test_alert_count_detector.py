"""The count detector on sparse series: a first-ever negative burst fires, a stray headline or good news does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.detectors.count import count_surprise
from monitor.alerts.detectors.observation import Bucket
from monitor.alerts.detectors.prior import FALLBACK_PRIOR, RatePrior, fit_rate_prior
from monitor.alerts.rules.parse import parse_rules
from monitor.alerts.rules.series import build_observations, judge

NOW = datetime(2019, 9, 23, 15, 0, tzinfo=UTC)
RULES = """
rules:
  - name: entity-negative-burst
    scope: entity
    window: 1d
    detector: {type: count, metric: negative_stories, threshold: 5, baseline: 30d, min_count: 4}
    min_stories: 4
    min_sources: 2
route: {receiver: r}
receivers: [{name: r, webhook: {url: "http://127.0.0.1:9/x"}}]
"""
RULE = parse_rules(RULES).rules[0]
DAY = timedelta(days=1)
MIDNIGHT = NOW.replace(hour=0)


def feed_and_pool(days: int = 40, per_day: int = 60) -> list[Bucket]:
    """A quiet feed: 60 stories a day; 40 entities each in the news now and then (one negative story in four)."""
    buckets = [Bucket("all", MIDNIGHT - d * DAY, per_day, per_day, per_day // 4, 0.0, per_day // 4,
                      ("reuters", "guardian")) for d in range(days)]
    for e in range(40):
        for d in range(e % 5 + 1, days, 5):
            negative = 1 if (d + e) % 4 == 0 else 0
            buckets.append(Bucket(f"company {e}", MIDNIGHT - d * DAY, 2, 2, negative, 0.0, 1 - negative,
                                  ("reuters",)))
    return buckets


def observe(buckets: list[Bucket]) -> dict:
    feed = [b for b in buckets if b.scope_key == "all"]
    return build_observations([b for b in buckets if b.scope_key != "all"], RULE, NOW, feed)


def today(key: str, stories: int, negative: int, positive: int, sources: tuple[str, ...]) -> list[Bucket]:
    return [Bucket(key, MIDNIGHT, stories, stories, negative, -0.8 * negative + 0.8 * positive, positive, sources),
            Bucket("all", MIDNIGHT, stories, stories, negative, 0.0, positive, sources)]


def test_a_first_ever_negative_burst_fires() -> None:
    history = feed_and_pool()
    observations = observe(history + today("thomas cook", 30, 22, 2, ("reuters", "guardian")))
    judgement = judge(RULE, observations["thomas cook"])
    assert judgement.detection is not None and judgement.detection.fired
    assert judgement.detection.value == 22 and judgement.detection.baseline < 1
    assert judgement.detection.zscore >= 5


def test_one_stray_negative_headline_does_not_fire() -> None:
    observations = observe(feed_and_pool() + today("acme", 1, 1, 0, ("reuters",)))
    judgement = judge(RULE, observations["acme"])
    assert judgement.detection is None or not judgement.detection.fired


def test_a_positive_burst_does_not_fire() -> None:
    observations = observe(feed_and_pool() + today("zoom", 30, 6, 20, ("reuters", "guardian")))
    judgement = judge(RULE, observations["zoom"])
    assert judgement.detection is None
    assert "does not lean negative" in judgement.reason


def test_the_negative_lean_is_relative_to_how_the_model_scores_the_rest_of_the_feed() -> None:
    """A model that scores the whole feed at -0.3 a story: a burst at -0.1 is good news to it, one at -0.6 not."""
    history = [Bucket(b.scope_key, b.bucket_start, b.article_count, b.story_count, b.negative_count,
                      -0.3 * b.story_count if b.scope_key == "all" else b.score_sum, b.positive_count, b.sources)
               for b in feed_and_pool()]
    sources = ("reuters", "guardian")
    mild = observe(history + [Bucket("zoom", MIDNIGHT, 30, 30, 22, -3.0, 2, sources),
                              Bucket("all", MIDNIGHT, 30, 30, 22, -3.0, 2, sources)])
    assert "does not lean negative (the feed's -0.30)" in judge(RULE, mild["zoom"]).reason
    grave = observe(history + [Bucket("thomas cook", MIDNIGHT, 30, 30, 22, -18.0, 2, sources),
                               Bucket("all", MIDNIGHT, 30, 30, 22, -18.0, 2, sources)])
    judgement = judge(RULE, grave["thomas cook"])
    assert judgement.detection is not None and judgement.detection.fired


def test_a_lean_margin_asks_more_than_a_hair_under_the_feed() -> None:
    """30 stories at -0.05 each, the feed at 0: under the feed, but by less than a margin of 0.1."""
    sources = ("reuters", "guardian")
    hair = observe(feed_and_pool() + [Bucket("sky", MIDNIGHT, 30, 30, 22, -1.5, 2, sources),
                                      Bucket("all", MIDNIGHT, 30, 30, 22, 0.0, 2, sources)])
    assert judge(RULE, hair["sky"]).detection.fired
    strict = RULE.model_copy(update={"detector": RULE.detector.model_copy(update={"lean_margin": 0.1})})
    judgement = judge(strict, hair["sky"])
    assert judgement.detection is None and "does not lean negative by 0.10" in judgement.reason
    grave = observe(feed_and_pool() + today("thomas cook", 30, 22, 2, sources))
    assert judge(strict, grave["thomas cook"]).detection.fired


def test_one_outlet_alone_is_not_enough_evidence_when_the_feed_has_several() -> None:
    history = feed_and_pool()
    observations = observe(history + today("thomas cook", 30, 22, 2, ("reuters",))
                           + [Bucket("all", MIDNIGHT, 5, 5, 0, 0.0, 0, ("guardian",))])
    assert "sources" in judge(RULE, observations["thomas cook"]).reason


def test_a_busy_key_at_its_usual_level_does_not_fire_but_a_multiple_of_it_does() -> None:
    usual = [Bucket("trump", MIDNIGHT - d * DAY, 12, 12, 6, -3.0, 2, ("reuters", "guardian")) for d in range(1, 40)]
    quiet = observe(feed_and_pool() + usual + today("trump", 12, 7, 2, ("reuters", "guardian")))
    assert not judge(RULE, quiet["trump"]).detection.fired
    loud = observe(feed_and_pool() + usual + today("trump", 40, 30, 2, ("reuters", "guardian")))
    assert judge(RULE, loud["trump"]).detection.fired


def test_the_pooled_prior_matches_the_pools_mean_rate() -> None:
    counts = [0, 1, 2, 0, 5, 1, 0, 0, 3, 1] * 3
    prior = fit_rate_prior(counts, exposure=1000.0)
    assert prior.keys == 30
    assert prior.mean_share == pytest.approx(sum(counts) / len(counts) / 1000.0)
    assert fit_rate_prior(counts[:5], exposure=1000.0) == FALLBACK_PRIOR  # too few keys to pool


def test_detection_never_fires_at_or_below_its_baseline() -> None:
    prior = RatePrior(shape=0.3, rate=30.0)
    for count in range(0, 60):
        for before in (0, 5, 50, 300):
            detection = count_surprise(count, before, 3000.0, 100.0, prior, threshold=1.0)
            if detection.fired:
                assert detection.value > detection.baseline and detection.zscore >= 1.0
