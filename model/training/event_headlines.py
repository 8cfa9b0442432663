"""The adverse-event recipe every training profile uses: the judged `tune` event headlines as one more dataset.

The sentence-sentiment training sets call factual bad news ("X collapses",
"X files for bankruptcy") neutral far more often than a risk analyst would.
`with_event_headlines` adds the `tune` half of the events folder's judged
headlines (loaded as Examples by model.data.events.tune_event_examples) with a
loss weight, listed EVENT_REPEAT times, and weights SEntFiN's headlines with a
negative entity higher. `model.training.loop.train` applies it when
`TrainConfig.event_headlines` is on (the quick and full profiles);
`model.training.event_finetune` fine-tunes older versions with the same parts.

Only the `tune` split is read, so `finsent bench events` on `eval` stays a
measurement of headlines no model was trained on. This module imports only
model.data: the loop and the fine-tuning both import it, never each other's
way round.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from model.data.events import EVENTS_SOURCE, tune_event_examples
from model.data.examples import Example
from model.network.labels import SENTIMENT_LABELS

# The recipe the fine-tuning measured (docs/model.md, "Adverse company events"): every training profile
# (model.training.loop.PROFILES) trains with it from scratch too, so no model the monitor serves has to
# wait for a fine-tuning to see adverse events.
EVENT_WEIGHT = 2.0
EVENT_REPEAT = 4


def upweight_negative_entities(examples: list[Example], weight: float) -> list[Example]:
    """SEntFiN examples with at least one negative entity get `weight` (the rest keep theirs)."""
    negative = SENTIMENT_LABELS.index("negative")
    return [replace(ex, weight=weight) if any(t.sentiment == negative for t in ex.entity_sentiments or []) else ex
            for ex in examples]


def with_event_headlines(train_sets: dict[str, list[Example]], sentfin_negative_weight: float,
                         events_dir: Path) -> dict[str, list[Example]]:
    """Training sets plus the tune event headlines (as `event_headlines`), SEntFiN's negative entities reweighted.

    Only the `tune` split is read, so `finsent bench events` on `eval` stays a
    measurement of headlines no model was trained on. The headlines train the
    shared sentiment row (no calibration row of their own): the one serving uses.
    """
    out = dict(train_sets)
    out[EVENTS_SOURCE] = tune_event_examples(events_dir, EVENT_WEIGHT) * EVENT_REPEAT
    if "sentfin" in out and sentfin_negative_weight != 1.0:
        out["sentfin"] = upweight_negative_entities(out["sentfin"], sentfin_negative_weight)
    return out


__all__ = ["EVENT_REPEAT", "EVENT_WEIGHT", "upweight_negative_entities", "with_event_headlines"]
