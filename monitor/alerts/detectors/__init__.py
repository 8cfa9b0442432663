"""Anomaly detectors, one module each, behind a small registry (registry.py).

    base.py         the config base, Detection / Judgement, the registry entry (what a detector module holds)
    observation.py  what a detector sees: buckets summed into the current window and its baseline
    windowed.py     what zscore, ewma and cusum share: baseline windows, seasonality, the robust level
    prior.py        the Gamma prior of per-key rates the count detector pools over a scope's keys
    zscore.py       a sudden spike (median and MAD)            ewma.py     a spike against a wandering level
    cusum.py        a slow drift                                count.py    a burst of stories about a rare key
    threshold.py    the net adverse severity of financial events in the window
    registry.py     `type:` name -> config type and judge; the rules file's `detector:` model

A new detector is one module here (its config type, `judge`, `DETECTOR`), one
line in registry.py's `REGISTERED` and a unit test (docs/architecture.md).
Detectors import nothing of the alerts package but this one and
`monitor.alerts.durations`.
"""
