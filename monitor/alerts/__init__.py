"""Alerts: anomaly rules over sentiment aggregates, the alert lifecycle and webhook delivery.

By concern, each a package (docs/architecture.md; the import-direction test keeps them apart):

    detectors/   pure anomaly tests, one module each (zscore, ewma, cusum, count, threshold), behind
                 a registry that maps the rules file's `type:` to a config type and a judge function
    rules/       the rules file, windows from aggregates, evaluation, the lifecycle, their database side
    silences/    matchers, silences and inhibition: which alerts are muted
    delivery/    routing, notification planning, webhook bodies and signatures, the outbox dispatcher,
                 the Alertmanager sink, the local receiver
    research/    replay and backtest over stored history (nothing sent)
    runner.py    `run_once` / `run_forever`: one evaluation step wiring rules, silences and delivery
    cli.py       `finsent alerts ...` and `finsent alerter`
    durations.py Prometheus-style durations, shared by the rules file and the CLI

See docs/alerts.md.
"""
