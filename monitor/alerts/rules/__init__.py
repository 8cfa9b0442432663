"""Rules and their evaluation: the rules file, windows, detectors applied, the alert lifecycle.

All pure except store.py, the database side.

    config.py      the rules file's types (rules, route, inhibit_rules, receivers, global)
    parse.py       YAML -> RulesFile, with line-precise errors (`parse_rules`, `load_rules`, `check_secrets`)
    series.py      aggregate buckets -> the current window and its baseline windows; `judge` via the registry
    lifecycle.py   pending -> firing -> resolved per series (fingerprint)
    evaluation.py  one evaluation step over all rules (pure)
    store.py       the database side: aggregates, rule states, alert rows and their evidence

Imports of the alerts package: rules, detectors and durations only (never delivery, silences or research).
"""
