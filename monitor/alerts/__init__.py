"""Alerts: anomaly rules over sentiment aggregates, the alert lifecycle and webhook delivery.

The data flow reads top to bottom through the modules:

    rules_file   the YAML rules file, validated with line-precise errors
    series       aggregate buckets -> the current window and its baseline windows
    detectors    pure anomaly tests (robust z-score, EWMA, CUSUM)
    lifecycle    pending -> firing -> resolved per series (fingerprint)
    evaluation   one evaluation step over all rules (pure)
    matching     label matchers, silences and inhibition
    routing      route tree -> receivers and notification groups
    notifications  group_wait / group_interval / repeat_interval -> notifications (pure)
    payload      Alertmanager v4 webhook bodies, Slack bodies, HMAC signatures
    store        the database side: aggregates, states, alerts, outbox rows
    runner       `run_once(session_factory, rules, now)` and the `finsent alerter` loop
    dispatcher   the outbox dispatcher (retries, backoff, dead letters)
    replay       rules over stored history, nothing sent
    cli          `finsent alerts ...` and `finsent alerter`

See docs/alerts.md.
"""
