"""The rules file: the shipped example loads, and every invalid case names its line and field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.settings import PROJECT_ROOT
from monitor.alerts.rules.parse import RulesFileError, check_secrets, load_rules, parse_rules

VALID = """\
rules:
  - name: ticker-spike
    scope: ticker
    window: 15m
    detector:
      type: zscore
      baseline: 1d
route:
  receiver: hook
receivers:
  - name: hook
    webhook:
      url: http://127.0.0.1:9095/alerts
"""


def error_of(text: str) -> str:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(text, source="rules.yaml")
    return str(caught.value)


def test_the_example_rules_file_loads() -> None:
    rules = load_rules(PROJECT_ROOT / "monitor" / "alerts" / "rules.example.yaml")
    assert [r.name for r in rules.rules] == ["entity-negative-burst", "entity-negative-burst-1h",
                                             "company-adverse-events-24h", "company-adverse-events",
                                             "ticker-negative-burst-1h",
                                             "ticker-negative-spike", "sector-negative-spike",
                                             "topic-sentiment-drop", "market-negative-drift"]
    bursts = [r for r in rules.rules if r.detector.type == "count"]
    # A daily window (sparse history, date-only sources) and hourly ones (a dense live feed).
    assert {(r.scope.kind, r.bucket_seconds) for r in bursts} == {("entity", 86_400), ("entity", 3600),
                                                                   ("ticker", 3600)}
    assert all(r.detector.negative_lean and r.detector.lean_margin > 0 for r in bursts)
    # financial events: one grave story fires; timed sources in a day rolling by the hour, date-only ones in
    # the calendar day, muted where the rolling one fires on the same company
    thresholds = [r for r in rules.rules if r.detector.type == "threshold"]
    assert {(r.scope.kind, r.window, r.bucket_seconds, r.min_stories) for r in thresholds} == {
        ("event", timedelta(days=1), 3600, 1), ("event", timedelta(days=1), 86_400, 1)}
    inhibits = [(i.source_matchers, i.target_matchers, i.equal) for i in rules.inhibit_rules]
    assert ({"alertname": "company-adverse-events-24h"}, {"alertname": "company-adverse-events"}, ["event"]) \
        in inhibits
    # one burst, one alert: the hourly burst mutes the daily one on the company, which also outlives midnight
    assert ({"alertname": "entity-negative-burst-1h"}, {"alertname": "entity-negative-burst"}, ["entity"]) \
        in inhibits
    assert all(r.keep_firing_for == timedelta(days=1) for r in bursts)
    spike = rules.rule("ticker-negative-spike")
    assert spike.window == timedelta(minutes=15)
    assert spike.for_ == timedelta(minutes=2)
    assert rules.inhibit_rules[0].equal == ["sector"]


def test_count_detectors_only_judge_counts() -> None:
    text = VALID.replace("type: zscore", "type: count")
    with pytest.raises(RulesFileError, match=r"rules\[0\]\.detector\.metric: detector count cannot judge metric "
                                             "negative_share"):
        parse_rules(text)


def test_a_minimal_file_gets_the_documented_defaults() -> None:
    rules = parse_rules(VALID)
    rule = rules.rules[0]
    assert (rule.scope.kind, rule.scope.keys, rule.severity, rule.min_stories) == ("ticker", "*", "warning", 3)
    assert rule.detector.rising_is_bad and rule.bucket_seconds == 60
    assert rules.global_.evaluation_interval == timedelta(seconds=30)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("window: 15m", "window: 15 minutes",
     "rules.yaml:4: rules[0].window: expected a duration like 15m, got '15 minutes'"),
    ("window: 15m", "window: 90s",
     "rules.yaml:4: rules[0].window: expected a whole number of minutes (aggregates are per minute), got 0:01:30"),
    ("scope: ticker", "scope: company",
     "rules.yaml:3: rules[0].scope.kind: input should be 'ticker', 'entity', 'event', 'person', 'institution', "
     "'place', 'topic', 'sector', 'source' or 'all', got 'company'"),
    ("      type: zscore", "      type: prophet",
     "rules.yaml:6: rules[0].detector.type: input should be 'zscore', 'ewma', 'cusum', 'count' or 'threshold', "
     "got 'prophet'"),
    ("      baseline: 1d", "      baseline: 1h",
     "rules.yaml:7: rules[0].detector.baseline: 1h holds only 4 windows of 15m; need at least "
     "min_baseline_windows=12"),
    ("      baseline: 1d", "      baseline: 1d\n      treshold: 3",
     "rules.yaml:8: rules[0].detector.treshold: unknown field (expected one of: alpha, baseline, chance_alerts, "
     "direction, h, k, lean_margin, metric, min_baseline_windows, min_count, min_deviation, negative_lean, "
     "seasonality, threshold, "
     "type)"),
    ("    window: 15m\n", "", "rules.yaml:2: rules[0].window: missing required field"),
    ("    window: 15m\n", "    window: 15m\n    window: 30m\n", "rules.yaml:5: rules[0].window: duplicate key"),
    ("  receiver: hook", "  receiver: pager", "rules.yaml:9: route.receiver: unknown receiver 'pager' (defined: hook)"),
    ("      url: http://127.0.0.1:9095/alerts", "      url: 127.0.0.1:9095",
     "rules.yaml:13: receivers[0].webhook.url: expected an http(s) URL, got '127.0.0.1:9095'"),
    ("      url: http://127.0.0.1:9095/alerts", "      url: http://127.0.0.1:9095/alerts\n      secret_env: s3cr3t",
     "rules.yaml:14: receivers[0].webhook.secret_env: expected an environment variable name like "
     "FINSENT_WEBHOOK_SECRET (the secret itself never goes in the file), got 's3cr3t'"),
    ("    window: 15m\n", "    window: 15m\n    for: 5\n",
     "rules.yaml:5: rules[0].for: expected a duration like 15m, got 5"),
    ("    window: 15m\n", "    window: 15m\n    annotations:\n      summary: '{tickr} is down'\n",
     "rules.yaml:6: rules[0].annotations.summary: unknown template field tickr (known: alertname, articles, baseline, "
     "baseline_sigma, key, rule, scope, sector, severity, statistic, stories, ticker, top_headline, value, window, "
     "zscore)"),
    ("    scope: ticker", "    scope: [ticker", "rules.yaml:4: invalid YAML: expected ',' or ']', but got ':'"),
])
def test_invalid_files_name_the_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in VALID
    assert error_of(VALID.replace(old, new, 1)) == expected


def test_duplicate_rule_names_point_at_the_second_one() -> None:
    text = VALID.replace("route:", "  - name: ticker-spike\n    scope: all\n    window: 15m\nroute:")
    assert error_of(text) == "rules.yaml:8: rules[1].name: duplicate rule name 'ticker-spike'"


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = VALID.replace("window: 15m", "window: soon").replace("scope: ticker", "scope: company")
    assert error_of(text).splitlines() == [
        "rules.yaml:3: rules[0].scope.kind: input should be 'ticker', 'entity', 'event', 'person', 'institution', "
        "'place', 'topic', 'sector', 'source' or 'all', got 'company'",
        "rules.yaml:4: rules[0].window: expected a duration like 15m, got 'soon'",
    ]


def test_a_child_route_with_an_unknown_receiver() -> None:
    text = VALID.replace("  receiver: hook\n", "  receiver: hook\n  routes:\n    - matchers: {severity: critical}\n"
                                               "      receiver: pagerduty\n")
    assert error_of(text) == ("rules.yaml:12: route.routes[0].receiver: unknown receiver 'pagerduty' "
                              "(defined: hook)")


def test_not_a_mapping() -> None:
    assert error_of("- just\n- a list\n") == ("rules.yaml:1: (top level): expected a mapping with rules, "
                                             "route and receivers")


def test_missing_secret_variable_is_reported_at_start() -> None:
    rules = parse_rules(VALID.replace("/alerts", "/alerts\n      secret_env: FINSENT_TEST_HOOK_SECRET"),
                        source="rules.yaml")
    with pytest.raises(RulesFileError) as caught:
        check_secrets(rules, environ={})
    assert str(caught.value) == ("rules.yaml: receivers[0].webhook.secret_env: environment variable "
                                 "FINSENT_TEST_HOOK_SECRET is not set")
    check_secrets(rules, environ={"FINSENT_TEST_HOOK_SECRET": "x"})


def test_unreadable_file(tmp_path) -> None:
    with pytest.raises(RulesFileError, match="cannot read rules file"):
        load_rules(tmp_path / "absent.yaml")


def test_a_place_scope_reads_the_place_aggregates() -> None:
    """Places and nationalities have their own scope (monitor/storage/aggregates.py); rules may watch it."""
    rule = parse_rules(VALID.replace("scope: ticker", "scope: {kind: place, keys: [china]}")).rules[0]
    assert (rule.scope.kind, rule.scope.aggregate_kind, rule.scope.keys) == ("place", "place", ["china"])


def test_adverse_severity_is_judged_by_threshold_in_the_event_scope_only() -> None:
    text = VALID.replace("      type: zscore", "      type: zscore\n      metric: adverse_severity")
    assert "detector zscore cannot judge metric adverse_severity" in error_of(text)
    text = VALID.replace("      type: zscore", "      type: threshold\n      metric: adverse_severity")
    assert "metric adverse_severity is counted only in the event scope, not ticker" in error_of(text)


def test_a_rolling_window_slides_by_the_next_finer_bucket() -> None:
    """align: rolling reads hourly rows for a day window (minute rows for an hour window): it ends with the
    current hour, so an evening's guidance cut and the next morning's downgrades share one window."""
    def rule(window: str) -> str:
        return VALID.replace("window: 15m", window).replace("baseline: 1d", "baseline: 30d")

    daily = parse_rules(rule("window: 1d")).rules[0]
    rolling = parse_rules(rule("window: 1d\n    align: rolling")).rules[0]
    hourly = parse_rules(rule("window: 1h\n    align: rolling")).rules[0]
    assert (daily.bucket_seconds, rolling.bucket_seconds, hourly.bucket_seconds) == (86_400, 3600, 60)
    assert "rules.yaml:5: rules[0].align: input should be 'calendar' or 'rolling', got 'sliding'" in error_of(
        rule("window: 1d\n    align: sliding"))
