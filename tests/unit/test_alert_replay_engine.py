"""The fast replay engine (prefix sums, candidate steps, daily pooled prior) agrees with the alerter's step."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.detectors.observation import Bucket
from monitor.alerts.research.replay import FINER, RuleHistory, carry_states, replay_history
from monitor.alerts.rules.evaluation import evaluate
from monitor.alerts.rules.parse import parse_rules
from monitor.alerts.rules.series import build_observations, load_range

RULES = """
rules:
  - name: entity-burst-1d
    scope: entity
    window: 1d
    detector: {type: count, metric: negative_stories, threshold: 3, baseline: 10d, min_count: 3}
    min_stories: 3
    min_sources: 2
  - name: entity-burst-1h
    scope: entity
    window: 1h
    detector: {type: count, metric: negative_stories, threshold: 3, baseline: 2d, min_count: 2}
    min_stories: 2
  - name: entity-burst-24h
    scope: entity
    window: 1d
    align: rolling
    detector: {type: count, metric: negative_stories, threshold: 3, baseline: 10d, min_count: 3}
    min_stories: 3
  - name: entity-share
    scope: entity
    window: 1h
    detector: {type: zscore, metric: negative_share, threshold: 2, baseline: 1d, min_baseline_windows: 3}
    min_stories: 2
    for: 2h
route: {receiver: r}
receivers: [{name: r, webhook: {url: "http://127.0.0.1:9/x"}}]
"""
START = datetime(2019, 3, 1, tzinfo=UTC)


def random_history(seed: int = 3) -> dict[int, list[Bucket]]:
    """Bucket width -> buckets of 30 entities and the feed over 20 days, with a few bursts."""
    rng = random.Random(seed)
    out: dict[int, list[Bucket]] = {3600: [], 86_400: []}
    for hour in range(20 * 24):
        start = START + timedelta(hours=hour)
        for e in range(30):
            rate = 0.02 if e % 3 else 0.3
            burst = e == 7 and 300 <= hour < 306
            stories = sum(rng.random() < rate for _ in range(3)) + (4 if burst else 0)
            if not stories:
                continue
            negative = min(stories, sum(rng.random() < 0.3 for _ in range(stories)) + (4 if burst else 0))
            sources = tuple(sorted(rng.sample(["reuters", "guardian", "cnbc"], k=rng.randint(1, 2))))
            out[3600].append(Bucket(f"e{e}", start, stories, stories, negative, -0.5 * negative,
                                    (stories - negative) // 2, sources))
    for width in (3600,):
        feed: dict[datetime, list[Bucket]] = {}
        for b in out[width]:
            feed.setdefault(b.bucket_start, []).append(b)
        out[width] += [Bucket("all", t, sum(x.article_count for x in bs) + 5, sum(x.story_count for x in bs) + 5,
                              sum(x.negative_count for x in bs), 0.0, sum(x.positive_count for x in bs),
                              ("cnbc", "guardian", "reuters")) for t, bs in feed.items()]
    daily: dict[tuple[str, datetime], list[Bucket]] = {}
    for b in out[3600]:
        daily.setdefault((b.scope_key, b.bucket_start.replace(hour=0)), []).append(b)
    out[86_400] = [Bucket(k, d, sum(x.article_count for x in bs), sum(x.story_count for x in bs),
                          sum(x.negative_count for x in bs), sum(x.score_sum for x in bs),
                          sum(x.positive_count for x in bs), tuple(sorted({s for x in bs for s in x.sources})))
                   for (k, d), bs in daily.items()]
    return out


def as_of(history: dict[int, list[Bucket]], width: int, now: datetime) -> list[Bucket]:
    """The buckets of one width that the alerter had at `now`: none after it, the bucket in progress filled
    only with the stories before `now` (every story here has a time, so hourly rows say which)."""
    complete = [b for b in history[width] if b.bucket_start + timedelta(seconds=width) <= now]
    if width == 3600:
        return complete
    day = (now - timedelta(seconds=1)).replace(hour=0, minute=0, second=0)
    partial: dict[str, list[Bucket]] = {}
    for b in history[3600]:
        if day <= b.bucket_start < now:
            partial.setdefault(b.scope_key, []).append(b)
    return complete + [Bucket(k, day, sum(x.article_count for x in bs), sum(x.story_count for x in bs),
                              sum(x.negative_count for x in bs), sum(x.score_sum for x in bs),
                              sum(x.positive_count for x in bs), tuple(sorted({s for x in bs for s in x.sources})))
                       for k, bs in partial.items() if day + timedelta(days=1) > now]


# The same rules judged against the number of keys tested (chance_alerts): with up to 30 entities a window,
# a z of about 3.4 or more instead of 3
FAMILY_RULES = RULES.replace("min_count: 3}", "min_count: 3, chance_alerts: 0.005}").replace(
    "min_count: 2}", "min_count: 2, chance_alerts: 0.005}")


@pytest.mark.parametrize("rules_text", [RULES, FAMILY_RULES], ids=["per-key", "family"])
def test_fast_replay_matches_stepping_the_alerter_on_what_it_had_then(rules_text: str) -> None:
    """Each step of the replay sees what the alerter saw at that moment: no story published after it."""
    rules = parse_rules(rules_text)
    history = random_history()
    begin, end, step = START + timedelta(days=11), START + timedelta(days=19), timedelta(hours=1)

    def split(rows: list[Bucket]) -> tuple[list[Bucket], list[Bucket]]:
        return [b for b in rows if b.scope_key != "all"], [b for b in rows if b.scope_key == "all"]

    histories = {}
    for rule in rules.rules:
        timed = split(history[3600]) if rule.bucket_seconds == 86_400 else ([], [])
        histories[rule.name] = RuleHistory(rule, *split(history[rule.bucket_seconds]), *timed)
    fast = [(e.at, e.rule, e.scope_key, e.event, round(e.value or 0, 9), round(e.zscore or 0, 6))
            for e in replay_history(histories, rules, begin, end, step)]

    slow = []
    states: dict = {}
    now = begin
    while now <= end:
        observations = {}
        for rule in rules.rules:
            judged_at = now - timedelta(seconds=1)  # a window that ends at `now` has just closed: it is whole
            first, last = load_range(rule, judged_at)
            rows, feed = split(as_of(history, rule.bucket_seconds, now))
            observations[rule.name] = build_observations(
                [b for b in rows if first <= b.bucket_start < last], rule, judged_at,
                [b for b in feed if first <= b.bucket_start < last])
        results = evaluate(rules, observations, states, now).results
        carry_states(states, results)
        for result in results:
            if result.event in ("firing", "resolved"):
                d = result.judgement.detection
                slow.append((now, result.rule.name, result.scope_key, result.event,
                             round(d.value if d else 0, 9), round(d.zscore if d else 0, 6)))
        now += step
    assert fast == slow
    assert any(e[1] == "entity-burst-1h" and e[2] == "e7" and e[3] == "firing" for e in fast)
    assert any(e[1] == "entity-burst-1d" and e[3] == "firing" for e in fast)
    assert any(e[1] == "entity-burst-24h" and e[3] == "firing" for e in fast)


def test_a_step_never_sees_a_story_published_after_it() -> None:
    """A daily window at 10:00 holds the day's stories before 10:00 only: the burst of 15:00 fires at 16:00."""
    rules = parse_rules(RULES)
    day = START + timedelta(days=12)
    quiet = [Bucket("e1", START + timedelta(days=d, hours=9), 1, 1, 0, 0.0, 0, ("reuters",)) for d in range(12)]
    hourly = [*quiet, Bucket("e1", day + timedelta(hours=15), 6, 6, 6, -3.0, 0, ("cnbc", "reuters"))]
    hourly_feed = [dataclasses.replace(b, scope_key="all", article_count=40, story_count=40) for b in hourly]

    def days(rows: list[Bucket]) -> list[Bucket]:
        return [dataclasses.replace(b, bucket_start=b.bucket_start.replace(hour=0)) for b in rows]

    histories = {rule.name: RuleHistory(rule, []) for rule in rules.rules}  # only the daily rule has data
    histories["entity-burst-1d"] = RuleHistory(rules.rule("entity-burst-1d"), days(hourly), days(hourly_feed),
                                               hourly, hourly_feed)
    events = replay_history(histories, rules, day, day + timedelta(hours=23), timedelta(hours=1))
    assert [(e.at, e.rule, e.event) for e in events] == [(day + timedelta(hours=16), "entity-burst-1d", "firing")]


def test_judging_against_the_keys_tested_keeps_only_the_clearer_bursts() -> None:
    """chance_alerts raises each key's bar with the number of keys in the window: fewer alerts, the burst kept."""
    history = random_history()
    begin, end, step = START + timedelta(days=11), START + timedelta(days=19), timedelta(hours=1)

    def firing(rules_text: str) -> set[tuple]:
        rules = parse_rules(rules_text)
        histories = {}
        for rule in rules.rules:
            rows = history[rule.bucket_seconds]
            histories[rule.name] = RuleHistory(rule, [b for b in rows if b.scope_key != "all"],
                                               [b for b in rows if b.scope_key == "all"])
        return {(e.at, e.rule, e.scope_key) for e in replay_history(histories, rules, begin, end, step)
                if e.event == "firing" and e.rule == "entity-burst-1h"}

    # 5-9 keys an hour: a z of 3.7 or more instead of 3
    per_key, family = firing(RULES), firing(FAMILY_RULES.replace("chance_alerts: 0.005", "chance_alerts: 0.0005"))
    assert family < per_key
    assert {key for _, _, key in family} == {"e7"}  # the planted burst (z 5.4), not e15's z of 3.2


EVENT_RULES = """
rules:
  - name: events-1d
    scope: event
    window: 1d
    detector: {type: threshold, metric: adverse_severity, threshold: 3, baseline: 1d}
    min_stories: 1
  - name: events-24h
    scope: event
    window: 1d
    align: rolling
    detector: {type: threshold, metric: adverse_severity, threshold: 3, baseline: 1d}
    min_stories: 1
route: {receiver: r}
inhibit_rules:
  - source_matchers: {alertname: events-24h}
    target_matchers: {alertname: events-1d}
    equal: [event]
receivers: [{name: r, webhook: {url: "http://127.0.0.1:9/x"}}]
"""


def test_a_rolling_day_joins_an_evening_and_the_next_morning_and_mutes_the_calendar_day() -> None:
    """A guidance cut at 21:00 (severity 2) and a downgrade at 09:00 the next day (1) are one rolling window
    (fires at 10:00) but two calendar days (never 3 in one). Where both fire, the calendar one is inhibited."""
    rules = parse_rules(EVENT_RULES)
    day = START + timedelta(days=3)

    def story(at: datetime, severity: int) -> Bucket:
        return Bucket("acme", at, 1, 1, 1, -float(severity), 0, ("benzinga",))

    def daily(rows: list[Bucket]) -> list[Bucket]:
        return [dataclasses.replace(b, bucket_start=b.bucket_start.replace(hour=0)) for b in rows]

    def replay(hourly: list[Bucket]) -> list:
        histories = {"events-1d": RuleHistory(rules.rule("events-1d"), daily(hourly), timed=hourly),
                     "events-24h": RuleHistory(rules.rule("events-24h"), hourly)}
        return [(e.at, e.rule, e.event, e.inhibited) for e in replay_history(
            histories, rules, day, day + timedelta(days=2), timedelta(hours=1)) if e.event == "firing"]

    evening_and_morning = [story(day + timedelta(hours=21), 2), story(day + timedelta(hours=33), 1)]
    assert replay(evening_and_morning) == [(day + timedelta(hours=34), "events-24h", "firing", False)]
    one_morning = [story(day + timedelta(hours=9), 2), story(day + timedelta(hours=10), 1)]
    assert replay(one_morning) == [(day + timedelta(hours=11), "events-1d", "firing", True),
                                   (day + timedelta(hours=11), "events-24h", "firing", False)]


def test_a_daily_rule_judged_every_ten_minutes_sees_no_story_of_later_in_the_hour() -> None:
    """SigmaTel on the 2007 wire: outlook cut at 13:50 (1), the CEO's exit at 14:44 (2). The daily rule fires
    at the first step after 14:44, not at 14:10 (the replay reads minute rows for what came when)."""
    rules = parse_rules(EVENT_RULES.replace("equal: [event]", "equal: [nothing]"))
    day = START + timedelta(days=3)
    minutes = [Bucket("sigmatel", day + timedelta(hours=13, minutes=50), 1, 1, 1, -1.0, 0, ("reuters",)),
               Bucket("sigmatel", day + timedelta(hours=14, minutes=44), 1, 1, 1, -2.0, 0, ("reuters",))]
    rule = rules.rule("events-1d")
    assert FINER[rule.bucket_seconds] == FINER[rules.rule("events-24h").bucket_seconds] == 60
    whole_day = [dataclasses.replace(minutes[0], bucket_start=day, story_count=2, negative_count=2, score_sum=-3.0)]
    histories = {"events-1d": RuleHistory(rule, whole_day, timed=minutes),
                 "events-24h": RuleHistory(rules.rule("events-24h"), [], timed=[])}
    events = replay_history(histories, rules, day, day + timedelta(hours=20), timedelta(minutes=10))
    assert [(e.at, e.event) for e in events if e.event == "firing"] == [(day + timedelta(hours=14, minutes=50),
                                                                       "firing")]
