"""The detector registry: the rules file's `type:` names, its `detector:` fields and the judge all come from it."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest

from monitor.alerts.detectors.base import DetectorConfig
from monitor.alerts.detectors.observation import Observation, WindowStats
from monitor.alerts.detectors.registry import DEFAULT, DETECTORS, REGISTERED, DetectorSpec
from monitor.alerts.detectors.threshold import ThresholdConfig
from monitor.alerts.rules.parse import RulesFileError, parse_rules
from monitor.alerts.rules.series import judge

RULES = """\
rules:
  - name: r
    scope: {scope}
    window: 1h
    detector: {{type: {type}, metric: {metric}, baseline: 1d, min_baseline_windows: 12{extra}}}
    min_stories: 1
route: {{receiver: hook}}
receivers: [{{name: hook, webhook: {{url: "http://127.0.0.1:9/"}}}}]
"""


def rules(type_: str, metric: str, scope: str = "ticker", extra: str = "") -> str:
    return RULES.format(type=type_, metric=metric, scope=scope, extra=extra)


def test_the_type_field_names_the_registered_detectors_in_order() -> None:
    assert list(DETECTORS) == ["zscore", "ewma", "cusum", "count", "threshold"]
    assert typing.get_args(DetectorSpec.model_fields["type"].annotation) == tuple(DETECTORS)
    assert DEFAULT == "zscore" and DetectorSpec().type == "zscore"


def test_the_detector_field_accepts_every_registered_config_and_is_each_of_them() -> None:
    for detector in REGISTERED:
        assert issubclass(detector.config, DetectorConfig)
        assert set(detector.config.model_fields) <= set(DetectorSpec.model_fields)
        assert isinstance(DetectorSpec(type=detector.name), detector.config)
        # a config type alone names its own detector
        assert detector.config().type == detector.name
    # a field another detector reads is accepted (and ignored), so a rule can switch `type:` and keep it
    rule = parse_rules(rules("zscore", "negative_share", extra=", alpha: 0.5, min_count: 2")).rules[0]
    assert (rule.detector.type, rule.detector.alpha, rule.detector.min_count) == ("zscore", 0.5, 2)


def test_a_metric_the_detector_cannot_judge_names_what_each_one_judges() -> None:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(rules("count", "negative_share"), source="rules.yaml")
    assert str(caught.value) == (
        "rules.yaml:5: rules[0].detector.metric: detector count cannot judge metric negative_share (count judges "
        "negative_stories and stories; threshold judges adverse_severity; zscore, ewma and cusum judge "
        "negative_share and mean_score)")


def test_each_detectors_own_check_is_reported_with_its_line() -> None:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(rules("threshold", "adverse_severity"), source="rules.yaml")
    assert str(caught.value) == ("rules.yaml:3: rules[0].scope: metric adverse_severity is counted only in the event "
                                 "scope, not ticker")
    with pytest.raises(RulesFileError) as caught:
        parse_rules(rules("count", "stories").replace("baseline: 1d", "baseline: 30m"), source="rules.yaml")
    assert str(caught.value) == "rules.yaml:5: rules[0].detector.baseline: 30m is shorter than the window 1h"
    parse_rules(rules("threshold", "adverse_severity", scope="event"))


def test_judge_dispatches_to_the_rules_detector() -> None:
    rule = parse_rules(rules("threshold", "adverse_severity", scope="event", extra=", threshold: 3")).rules[0]
    start = datetime(2026, 11, 30, tzinfo=UTC)
    bankruptcy = Observation("acme", WindowStats(start, articles=1, stories=1, negative=1, score_sum=-3.0))
    detection = judge(rule, bankruptcy).detection
    assert detection is not None and detection.fired and detection.value == 3.0
    # the same verdict from the detector's module on its own config type
    alone = DETECTORS["threshold"].judge(ThresholdConfig(metric="adverse_severity", threshold=3.5), bankruptcy)
    assert alone.detection is not None and not alone.detection.fired
