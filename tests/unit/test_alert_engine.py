"""The pure engine: windows from buckets, the lifecycle (pending -> firing after `for` -> resolved), evaluate()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.alerts.detectors.observation import Bucket
from monitor.alerts.rules.evaluation import StoredState, evaluate, fingerprint, render_annotations, series_labels
from monitor.alerts.rules.lifecycle import SeriesState, step
from monitor.alerts.rules.parse import parse_rules
from monitor.alerts.rules.series import build_observations, judge, window_end

NOW = datetime(2026, 11, 30, 14, 30, 20, tzinfo=UTC)
RULES = parse_rules("""\
rules:
  - name: ticker-spike
    scope: ticker
    window: 15m
    detector: {type: zscore, threshold: 3.5, baseline: 1d, min_deviation: 0.05}
    min_stories: 4
    for: 2m
    severity: critical
    labels: {team: markets}
    annotations:
      summary: "{ticker} ({sector}) negative share {value:.0%} vs {baseline:.0%}, z={zscore:.1f}"
route: {receiver: hook}
receivers: [{name: hook, webhook: {url: "http://127.0.0.1:9/"}}]
""")
RULE = RULES.rules[0]


def history(ticker: str, end: datetime, minutes: int = 24 * 60, negative_every: int = 5) -> list[Bucket]:
    """One story a minute about ticker, one in negative_every of them negative (a 20% baseline)."""
    buckets = []
    for i in range(1, minutes + 1):
        start = end - timedelta(minutes=i)
        negative = 1 if i % negative_every == 0 else 0
        buckets.append(Bucket(ticker, start, 1, 1, negative, -0.8 * negative + 0.3 * (1 - negative)))
    return buckets


def burst(ticker: str, end: datetime, minutes: int = 10, per_minute: int = 3) -> list[Bucket]:
    """per_minute extra negative stories a minute in the last minutes."""
    return [Bucket(ticker, end - timedelta(minutes=i), per_minute, per_minute, per_minute, -0.9 * per_minute)
            for i in range(1, minutes + 1)]


def observe(buckets: list[Bucket], now: datetime = NOW) -> dict:
    return {RULE.name: build_observations(buckets, RULE, now)}


def test_windows_end_with_the_bucket_holding_now() -> None:
    assert window_end(NOW, 60) == datetime(2026, 11, 30, 14, 31, tzinfo=UTC)
    end = window_end(NOW, 60)
    observation = build_observations(history("ACME", end, minutes=60), RULE, NOW)["ACME"]
    assert observation.current.articles == 15
    assert len(observation.baseline) == 96
    assert sum(w.articles for w in observation.baseline) == 45
    assert observation.baseline[-1].start == end - timedelta(minutes=30)


def test_quiet_history_does_not_fire_and_a_burst_does() -> None:
    end = window_end(NOW, 60)
    quiet = judge(RULE, build_observations(history("ACME", end), RULE, NOW)["ACME"])
    assert quiet.detection is not None and not quiet.detection.fired
    loud = judge(RULE, build_observations(history("ACME", end) + burst("ACME", end), RULE, NOW)["ACME"])
    assert loud.detection is not None and loud.detection.fired
    assert loud.detection.baseline == 0.2


def test_too_few_stories_is_not_judged() -> None:
    end = window_end(NOW, 60)
    sparse = [b for b in history("ACME", end) if b.bucket_start.minute % 5 == 0]
    judgement = judge(RULE, build_observations(sparse, RULE, NOW)["ACME"])
    assert judgement.detection is None
    assert judgement.reason == "3 stories < min_stories 4"


def test_lifecycle_pending_then_firing_after_for_then_resolved() -> None:
    hold = timedelta(minutes=2)
    t0 = NOW
    state, event = step(SeriesState(), True, t0, hold)
    assert (state.state, event) == ("pending", "pending")
    state, event = step(state, True, t0 + timedelta(minutes=1), hold)
    assert (state.state, event) == ("pending", None)
    state, event = step(state, True, t0 + timedelta(minutes=2), hold)
    assert (state.state, event, state.active_since) == ("firing", "firing", t0)
    state, event = step(state, True, t0 + timedelta(minutes=3), hold)
    assert event is None
    state, event = step(state, False, t0 + timedelta(minutes=4), hold)
    assert (state.state, event) == ("inactive", "resolved")


def test_lifecycle_a_blip_shorter_than_for_is_cancelled() -> None:
    state, _ = step(SeriesState(), True, NOW, timedelta(minutes=5))
    state, event = step(state, False, NOW + timedelta(minutes=1), timedelta(minutes=5))
    assert (state.state, event) == ("inactive", "cancelled")


def test_lifecycle_for_zero_fires_at_once() -> None:
    assert step(SeriesState(), True, NOW, timedelta(0))[1] == "firing"


def test_keep_firing_for_makes_a_flapping_series_one_alert_and_resolves_after_a_clear_spell() -> None:
    """Prometheus' keep_firing_for: clear spells shorter than it do not resolve; a longer one does."""
    keep, minute = timedelta(hours=1), timedelta(minutes=1)
    state, event = step(SeriesState(), True, NOW, timedelta(0), keep)
    assert (state.state, event, state.held_at) == ("firing", "firing", NOW)
    state, event = step(state, False, NOW + 30 * minute, timedelta(0), keep)  # a dip: still firing
    assert (state.state, event) == ("firing", None)
    state, event = step(state, True, NOW + 50 * minute, timedelta(0), keep)  # back: the same alert, held again
    assert (state.state, event, state.active_since, state.held_at) == ("firing", None, NOW, NOW + 50 * minute)
    state, event = step(state, False, NOW + 100 * minute, timedelta(0), keep)
    assert (state.state, event) == ("firing", None)
    state, event = step(state, False, NOW + 110 * minute, timedelta(0), keep)  # clear for an hour
    assert (state.state, event) == ("inactive", "resolved")


def test_keep_firing_for_is_read_from_the_rules_file() -> None:
    rules = parse_rules("""\
rules:
  - name: drift
    scope: all
    window: 1h
    detector: {type: cusum, metric: negative_share, k: 0.5, h: 5, baseline: 14d}
    keep_firing_for: 6h
route: {receiver: hook}
receivers: [{name: hook, webhook: {url: "http://127.0.0.1:9/"}}]
""")
    assert rules.rules[0].keep_firing_for == timedelta(hours=6)


def test_evaluate_fires_only_the_ticker_with_a_burst() -> None:
    end = window_end(NOW, 60)
    buckets = history("ACME", end) + history("GLOBX", end) + burst("ACME", end)
    sectors = {"ACME": "Industrials", "GLOBX": "Technology"}.get
    first = evaluate(RULES, observe(buckets), {}, NOW, sectors)
    by_key = {r.scope_key: r for r in first.results}
    assert (by_key["ACME"].event, by_key["GLOBX"].event) == ("pending", None)
    assert by_key["ACME"].labels == {"alertname": "ticker-spike", "severity": "critical", "scope": "ticker",
                                     "team": "markets", "ticker": "ACME", "sector": "Industrials"}
    states = {(RULE.name, r.fingerprint): StoredState(RULE.name, r.fingerprint, r.scope_key, r.state)
              for r in first.results if r.state.state != "inactive"}
    later = NOW + timedelta(minutes=2)
    second = evaluate(RULES, observe(buckets, later), states, later, sectors)
    acme = next(r for r in second.results if r.scope_key == "ACME")
    assert acme.event == "firing" and acme.state.active_since == NOW
    summary = render_annotations(acme, acme.evidence())["summary"]
    assert summary.startswith("ACME (Industrials) negative share ")
    assert "vs 20%, z=" in summary


def test_a_series_with_state_but_no_data_resolves() -> None:
    fp = fingerprint(RULE.name, "ticker", "ACME")
    states = {(RULE.name, fp): StoredState(RULE.name, fp, "ACME", SeriesState("firing", NOW))}
    result = evaluate(RULES, {}, states, NOW + timedelta(hours=1)).results
    assert [(r.scope_key, r.event, r.judgement.reason) for r in result] == [
        ("ACME", "resolved", "no data in the window")]


def test_fingerprints_are_stable_and_distinct() -> None:
    assert fingerprint("r", "ticker", "ACME") == fingerprint("r", "ticker", "ACME")
    assert len({fingerprint("r", "ticker", "ACME"), fingerprint("r", "ticker", "GLBX"),
                fingerprint("s", "ticker", "ACME")}) == 3
    assert "sector" not in series_labels(RULE, "ACME", lambda t: None)


def test_hour_of_week_seasonality_compares_like_with_like() -> None:
    """Every Monday 9-10 is 60% negative (earnings season chatter): not an anomaly with seasonality."""
    rules = parse_rules("""\
rules:
  - name: seasonal
    scope: all
    window: 1h
    detector: {type: zscore, baseline: 14d, seasonality: hour_of_week, min_deviation: 0.02}
    min_stories: 5
route: {receiver: hook}
receivers: [{name: hook, webhook: {url: "http://127.0.0.1:9/"}}]
""")
    rule = rules.rules[0]
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday
    buckets = []
    for hour in range(1, 15 * 24):
        start = monday_9 - timedelta(hours=hour)
        negative = 12 if (start.weekday(), start.hour) == (0, 9) else 4
        buckets.append(Bucket("all", start, 20, 20, negative, 0.0))
    buckets.append(Bucket("all", monday_9, 20, 20, 12, 0.0))
    now = monday_9 + timedelta(minutes=50)
    observation = build_observations(buckets, rule, now)["all"]
    seasonal = judge(rule, observation)
    assert seasonal.detection is not None and not seasonal.detection.fired
    assert seasonal.detection.baseline == 0.6
    flat = parse_rules(rules.model_dump_json(by_alias=True)
                       .replace('"hour_of_week"', '"none"')).rules[0]
    assert judge(flat, observation).detection.fired


EVENT_RULE = parse_rules("""\
rules:
  - name: company-adverse-events-1h
    scope: event
    window: 1h
    detector: {type: threshold, metric: adverse_severity, threshold: 3, baseline: 1h}
    min_stories: 1
route: {receiver: hook}
receivers: [{name: hook, webhook: {url: "http://127.0.0.1:9/"}}]
""").rules[0]


def test_one_bankruptcy_story_fires_at_once_and_one_downgrade_does_not() -> None:
    """The event scope scores a story polarity x severity (bankruptcy 3, downgrade 1): no baseline needed."""
    end = window_end(NOW, 3600)
    at = end - timedelta(minutes=20)
    buckets = [Bucket("thomas cook", at, 1, 1, 1, -3.0), Bucket("acme", at, 1, 1, 1, -1.0),
               Bucket("globex", at, 2, 2, 0, 2.0)]
    observations = build_observations(buckets, EVENT_RULE, NOW)
    verdicts = {key: judge(EVENT_RULE, observation) for key, observation in observations.items()}
    assert verdicts["thomas cook"].detection is not None and verdicts["thomas cook"].detection.fired
    assert verdicts["thomas cook"].detection.value == 3.0
    assert not verdicts["acme"].detection.fired
    assert verdicts["globex"].detection is None and verdicts["globex"].reason == "no adverse event in the window"
