"""What every detector shares: the config base its own config type extends, what it returns, its registry entry.

A detector is one module of this package (zscore.py, count.py, ...) holding

- its config type: a `DetectorConfig` subclass with `type: Literal["<name>"]`
  and the `detector:` fields it reads (pydantic, validated like the rest of
  the rules file);
- `judge(config, observation) -> Judgement`, pure: the config is the rule's
  `detector:` (an instance of the config type), the observation what the rule
  sees for one scope key (observation.py);
- optionally `check(config, window, scope_kind) -> list[Problem]`, what the
  field types cannot say (enough baseline windows, the right scope), reported
  by the rules-file parser with the line of the field;
- `DETECTOR = Detector(...)`, listed once in registry.py, which maps the rules
  file's `type:` to it.

"Bad" is a rise (`rising_is_bad=True`, e.g. negative share) or a fall (mean
score); z-scores are signed so that positive means worse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.alerts.detectors.observation import Observation
from monitor.alerts.durations import Duration

Metric = Literal["negative_share", "mean_score", "negative_stories", "stories", "adverse_severity"]
# A problem a detector's check finds: the field's path inside the rule (("detector", "baseline")) and the message.
Problem = tuple[tuple[str, ...], str]


class DetectorConfig(BaseModel):
    """The `detector:` fields every detector has; a detector's own config type adds the ones it reads."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: str  # each config type narrows it to its name: type: Literal["zscore"] = "zscore"
    # Shares and scores for zscore/ewma/cusum; story counts (negative_stories, stories) for count;
    # adverse_severity (the `event` scope) for threshold: each detector's `metrics`.
    metric: Metric = "negative_share"
    # up: alert when the metric rises; default up for negative_share, down for mean_score.
    direction: Literal["up", "down"] | None = None
    threshold: float = Field(3.5, gt=0, description="z-score (zscore, ewma) or value (threshold) that fires")
    baseline: Duration = timedelta(days=1)  # how far back the baseline windows reach

    @property
    def rising_is_bad(self) -> bool:
        if self.direction is not None:
            return self.direction == "up"
        return self.metric != "mean_score"


@dataclass(frozen=True)
class Detection:
    """A detector's verdict and the numbers an analyst needs to judge it."""

    fired: bool
    value: float  # the current window's metric
    baseline: float  # the level the detector expected
    baseline_sigma: float  # the spread it used (after the min_deviation floor)
    zscore: float  # (value - baseline) / baseline_sigma, positive = worse
    statistic: float  # the decision statistic: the z-score, or the CUSUM sum


@dataclass(frozen=True)
class Judgement:
    """A detection, or the reason there is none (too little volume or baseline)."""

    detection: Detection | None
    reason: str = ""


def no_problems(config: Any, window: timedelta, scope_kind: str) -> list[Problem]:
    return []


@dataclass(frozen=True)
class Detector:
    """A registry entry: the rules file's `type:` name and what the engine calls."""

    name: str
    config: type[DetectorConfig]
    # (the rule's detector config, an instance of `config`; one scope key's observation) -> the verdict
    judge: Callable[[Any, Observation], Judgement]
    metrics: tuple[str, ...]  # the metrics it can judge; the parser refuses the others
    # (config, the rule's window, its scope kind) -> problems the parser reports with their lines
    check: Callable[[Any, timedelta, str], list[Problem]] = no_problems
    # Judged against the whole feed's volume and a prior pooled over all the scope's keys (count): the engine
    # then reads every key of the scope and the feed's rows, and sums the baseline instead of listing windows.
    pooled: bool = False
