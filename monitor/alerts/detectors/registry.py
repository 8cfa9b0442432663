"""The detectors the rules file knows: `type:` name -> config type and judge. Add a new detector here.

`REGISTERED` lists each detector module's `DETECTOR` (base.py says what a
module holds); the rules file's `type:` accepts exactly their names, in this
order, the first being the default. `DetectorSpec`, the model of a rule's
`detector:` mapping, is composed of every registered config type: it accepts
the fields of all of them (a field that another detector reads is accepted and
ignored, so a rule can switch `type:` without deleting fields) and is an
instance of each, so a detector's `judge` reads its own fields off the rule's
`detector:`. The rules-file parser (rules/parse.py) and the engine
(`rules/series.py`'s `judge`) dispatch through `DETECTORS`.
"""

from __future__ import annotations

from typing import Literal

from monitor.alerts.detectors import count, cusum, ewma, threshold, zscore
from monitor.alerts.detectors.base import Detector, DetectorConfig

REGISTERED: tuple[Detector, ...] = (zscore.DETECTOR, ewma.DETECTOR, cusum.DETECTOR, count.DETECTOR,
                                    threshold.DETECTOR)
DETECTORS: dict[str, Detector] = {detector.name: detector for detector in REGISTERED}
DEFAULT = REGISTERED[0].name

# Later bases first, so that the fields keep the order of REGISTERED (the common ones first).
_CONFIG_TYPES: tuple[type[DetectorConfig], ...] = tuple(dict.fromkeys(d.config for d in reversed(REGISTERED)))


class DetectorSpec(*_CONFIG_TYPES):  # type: ignore[misc]
    """How a rule judges a window against its baseline: one registered detector (`type`) and its fields."""

    type: Literal[tuple(DETECTORS)] = DEFAULT  # type: ignore[valid-type]

    @property
    def pooled(self) -> bool:
        """Judged against the feed's volume and a prior pooled over the scope's keys (Detector.pooled)."""
        return DETECTORS[self.type].pooled


def _and(words: list[str] | tuple[str, ...]) -> str:
    return f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0]


def who_judges_what() -> str:
    """`count judges negative_stories and stories; ...`: the detectors with metrics of their own first."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for detector in REGISTERED:
        groups.setdefault(detector.metrics, []).append(detector.name)
    ordered = sorted(groups.items(), key=lambda group: len(group[1]))
    return "; ".join(f"{_and(names)} {'judges' if len(names) == 1 else 'judge'} {_and(metrics)}"
                     for metrics, names in ordered)
