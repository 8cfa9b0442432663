"""Delivery: from firing alerts to notifications, webhook bodies and HTTP requests.

    routing.py           the route tree: which receivers, which notification group
    notifications.py     group_wait / group_interval / repeat_interval -> notifications due now (pure)
    alertmanager.py      Alertmanager's identities (fingerprints, group keys) computed as Alertmanager does
    go_isprint.py        Go's strconv.IsPrint tables, for byte-exact label quoting
    payload.py           Alertmanager v4 webhook bodies, Slack bodies, HMAC signatures
    store.py             the database side: notification groups, alert views, outbox rows
    dispatcher.py        the outbox dispatcher (retries, backoff, dead letters)
    alertmanager_api.py  a real Alertmanager as a sink (its v2 API: alerts, silences)
    receiver.py          `finsent alerts receiver`: a local webhook receiver that verifies and logs

Imports of the alerts package: delivery, silences, rules and durations (never research).
"""
