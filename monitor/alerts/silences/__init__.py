"""Muting: Alertmanager matchers, silences and inhibition.

    matchers.py   `name=value`, `!=`, `=~`, `!~` with Alertmanager's syntax and meaning (RE2 regexes)
    matching.py   which alerts are muted and by what: active silences, inhibit rules
    store.py      the database side of silences: create (bounded, signed), expire, list, load, preview

Imports of the alerts package: silences and rules (the rules file's inhibit rules) only.
"""
