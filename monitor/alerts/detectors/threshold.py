"""The threshold detector (`type: threshold`): the window's net adverse severity of financial events.

The `event` scope scores each story polarity x severity
(monitor/storage/aggregates.py), so one bankruptcy (3) fires at `threshold: 3`
and one downgrade (1) does not. No baseline: one bankruptcy story is news
however often the company was in the news before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from monitor.alerts.detectors.base import Detection, Detector, DetectorConfig, Judgement, Problem
from monitor.alerts.detectors.observation import Observation

METRICS = ("adverse_severity",)


class ThresholdConfig(DetectorConfig):
    type: Literal["threshold"] = "threshold"


def judge(config: ThresholdConfig, observation: Observation) -> Judgement:
    """Net adverse severity of the window's events against a fixed threshold: no baseline, because one
    bankruptcy story is news however often the company was in the news before."""
    current = observation.current
    value = -current.score_sum  # the event scope scores each story polarity x severity
    if current.negative == 0:
        return Judgement(None, "no adverse event in the window")
    return Judgement(Detection(fired=value >= config.threshold, value=value, baseline=0.0, baseline_sigma=1.0,
                               zscore=value, statistic=value))


def check(config: ThresholdConfig, window: timedelta, scope_kind: str) -> list[Problem]:
    """Adverse severity is counted in the event scope only; judged on the current window alone (no baseline)."""
    if scope_kind != "event":
        return [(("scope",), f"metric {config.metric} is counted only in the event scope, not {scope_kind}")]
    return []


DETECTOR = Detector("threshold", ThresholdConfig, judge, METRICS, check=check)
