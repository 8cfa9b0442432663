"""Scheduled retraining: analysts' labels back into training, a promotion gate, live swap, rollback.

The modules read in the order of a run:

    labels     analysts' corrections -> weighted Examples that outrank the base data
    pipeline   one run: data -> candidate -> evaluation of both models -> gate -> registry + table
               (model_versions through monitor.storage.model_versions: promote_live, record_decision)
    evaluate   fixed dev slices and recent traffic, scored by both models
    gate       the pure promote/reject rule
    summary    the per-task table a run ends with
    notify     a failed run raises the retrain_failed alert through the alert webhooks
    lock       one run at a time across machines (PostgreSQL advisory lock)
    schedule   cron expressions and the scheduler loop
    cli        `finsent retrain` and `finsent scheduler`

See docs/retraining.md.
"""
