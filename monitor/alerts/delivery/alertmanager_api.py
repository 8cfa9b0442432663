"""A real Alertmanager as a sink: its v2 API, for the alerter (alerts) and the dashboard (silences).

With `FINSENT_ALERTMANAGER_URL` set, `finsent alerter` posts, after each
evaluation that it committed:

- every firing alert, each time (as Prometheus does), with
  `endsAt = now + resend margin` (4 x max(evaluation_interval, 1 min), as
  Prometheus' `4 x max(evaluation_interval, resend_delay)`), so Alertmanager
  never resolves a live alert by timeout, yet does resolve it by itself if the
  alerter dies;
- every alert resolved by that evaluation, with `endsAt` = when it resolved;
  sent until one POST succeeds (kept in memory and retried at the next
  evaluation), then never again.

`POST {url}/api/v2/alerts` takes a JSON list of `postableAlert`s: labels,
annotations (the same as in the embedded webhook body, evidence included),
startsAt, endsAt and generatorURL (the dashboard's alert link). A failed POST
is logged and retried at the next evaluation; it never stops the alerter.

Silences: `list_silences`, `create_silence` and `expire_silence` speak
`/api/v2/silences` and `/api/v2/silence/{id}` with the matchers of
`monitor.alerts.silences.matchers` (already Alertmanager's `{"name", "value",
"isRegex", "isEqual"}`). The dashboard's Alerts page uses them when the sink is
set (dashboards/actions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from monitor.alerts.delivery.alertmanager import label_fingerprint
from monitor.alerts.delivery.notifications import AlertView
from monitor.alerts.delivery.payload import _annotations, _rfc3339
from monitor.alerts.silences.matchers import Matcher

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
MIN_RESEND_DELAY = timedelta(minutes=1)  # Prometheus' --rules.alert.resend-delay default
MAX_PENDING_RESOLVED = 10_000  # resolves kept for a retry while Alertmanager is down


class AlertmanagerError(RuntimeError):
    """Alertmanager could not be reached or refused a request; the message says which and why."""


def resend_margin(evaluation_interval: timedelta) -> timedelta:
    """How far ahead a firing alert's endsAt is set: 4 x max(evaluation interval, 1 min)."""
    return 4 * max(evaluation_interval, MIN_RESEND_DELAY)


def generator_url(external_url: str, alert: AlertView) -> str:
    """The dashboard's link to the alert (the same as the embedded webhook body's generatorURL)."""
    return f"{external_url.rstrip('/')}/alerts?fingerprint={alert.fingerprint}"


def postable_alert(alert: AlertView, external_url: str, now: datetime, margin: timedelta) -> dict[str, Any]:
    """One alert as Alertmanager's v2 `postableAlert`.

    firing: endsAt = now + margin (re-sent every evaluation, so it never lapses while the alert fires);
    resolved: endsAt = when it resolved (now, when that is unknown), never before startsAt.
    """
    if alert.status == "resolved":
        ends_at = max(alert.ends_at or now, alert.starts_at)
    else:
        ends_at = now + margin
    return {
        "labels": {name: str(value) for name, value in sorted(alert.labels.items())},
        "annotations": _annotations(alert),
        "startsAt": _rfc3339(alert.starts_at),
        "endsAt": _rfc3339(ends_at),
        "generatorURL": generator_url(external_url, alert),
    }


def _base(url: str) -> str:
    return url.rstrip("/")


def _request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, url, timeout=kwargs.pop("timeout", TIMEOUT_S), **kwargs)
    except httpx.HTTPError as error:
        raise AlertmanagerError(f"{method} {url}: {type(error).__name__}: {error}") from None
    if not 200 <= response.status_code < 300:
        raise AlertmanagerError(f"{method} {url}: HTTP {response.status_code}: {response.text[:300].strip()}")
    return response


def post_alerts(url: str, alerts: Sequence[dict[str, Any]], client: httpx.Client | None = None,
                timeout: float = TIMEOUT_S) -> None:
    """`POST {url}/api/v2/alerts`; AlertmanagerError when it is unreachable or refuses the list."""
    if not alerts:
        return
    with _client(client) as http:
        _request(http, "POST", f"{_base(url)}/api/v2/alerts", json=list(alerts), timeout=timeout)


def get_alerts(url: str, client: httpx.Client | None = None, **params: Any) -> list[dict[str, Any]]:
    """`GET {url}/api/v2/alerts` (gettableAlerts, with `status.state` and `status.silencedBy`)."""
    with _client(client) as http:
        return list(_request(http, "GET", f"{_base(url)}/api/v2/alerts", params=params).json())


def silence_body(matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime, created_by: str,
                 comment: str) -> dict[str, Any]:
    """Alertmanager's v2 `postableSilence` (comment is required there: an empty one is refused)."""
    return {"matchers": [m.as_dict() for m in matchers], "startsAt": _rfc3339(starts_at),
            "endsAt": _rfc3339(ends_at), "createdBy": created_by, "comment": comment or f"silenced by {created_by}"}


def create_silence(url: str, matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime,
                   created_by: str, comment: str, client: httpx.Client | None = None) -> str:
    """`POST {url}/api/v2/silences`; returns the new silence's id."""
    body = silence_body(matchers, starts_at, ends_at, created_by, comment)
    with _client(client) as http:
        return str(_request(http, "POST", f"{_base(url)}/api/v2/silences", json=body).json()["silenceID"])


def list_silences(url: str, client: httpx.Client | None = None,
                  include_expired: bool = False) -> list[dict[str, Any]]:
    """`GET {url}/api/v2/silences`: active and pending first, then (with include_expired) expired; newest first."""
    with _client(client) as http:
        silences = list(_request(http, "GET", f"{_base(url)}/api/v2/silences").json())
    if not include_expired:
        silences = [s for s in silences if s.get("status", {}).get("state") != "expired"]
    order = {"active": 0, "pending": 1, "expired": 2}
    silences.sort(key=lambda s: s.get("startsAt", ""), reverse=True)
    silences.sort(key=lambda s: order.get(s.get("status", {}).get("state", ""), 3))
    return silences


def expire_silence(url: str, silence_id: str, client: httpx.Client | None = None) -> None:
    """`DELETE {url}/api/v2/silence/{id}`: end it now (Alertmanager keeps it as expired)."""
    with _client(client) as http:
        _request(http, "DELETE", f"{_base(url)}/api/v2/silence/{silence_id}")


def describe_matchers(matchers: Iterable[dict[str, Any]]) -> str:
    """`{ticker="BA", alertname=~"drift.*"}` from API matchers."""
    return "{" + ", ".join(str(Matcher(m["name"], m["value"], bool(m.get("isRegex")), m.get("isEqual", True)))
                           for m in matchers) + "}"


class _client:
    """The given client (left open), or a fresh one closed on exit."""

    def __init__(self, client: httpx.Client | None) -> None:
        self.given = client
        self.own: httpx.Client | None = None

    def __enter__(self) -> httpx.Client:
        if self.given is not None:
            return self.given
        self.own = httpx.Client(follow_redirects=False)
        return self.own

    def __exit__(self, *exc: object) -> None:
        if self.own is not None:
            self.own.close()


@dataclass
class PushReport:
    firing: int = 0
    resolved: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"firing": self.firing, "resolved": self.resolved, "error": self.error}


@dataclass
class AlertmanagerSink:
    """Posts the alerter's alerts to Alertmanager after each evaluation (see the module doc)."""

    url: str
    external_url: str
    margin: timedelta
    client: httpx.Client | None = None
    timeout: float = TIMEOUT_S
    pending_resolved: dict[str, AlertView] = field(default_factory=dict)  # label fingerprint -> alert

    def push(self, firing: Sequence[AlertView], resolved: Sequence[AlertView],
             now: datetime | None = None) -> PushReport:
        """Send every firing alert and the resolves not yet delivered; never raises (errors are logged)."""
        now = now or datetime.now(UTC)
        for alert in resolved:
            self.pending_resolved[label_fingerprint({k: str(v) for k, v in alert.labels.items()})] = alert
        firing_fps = {label_fingerprint({k: str(v) for k, v in a.labels.items()}) for a in firing}
        for fp in firing_fps & set(self.pending_resolved):  # fires again: the firing one is the news
            del self.pending_resolved[fp]
        while len(self.pending_resolved) > MAX_PENDING_RESOLVED:
            del self.pending_resolved[next(iter(self.pending_resolved))]
        resolves = list(self.pending_resolved.values())
        body = [postable_alert(a, self.external_url, now, self.margin) for a in [*firing, *resolves]]
        report = PushReport(firing=len(firing), resolved=len(resolves))
        try:
            post_alerts(self.url, body, self.client, self.timeout)
        except AlertmanagerError as error:
            report.error = str(error)
            log.warning("Alertmanager sink: %s; %d firing and %d resolved alert(s) are sent again at the next "
                        "evaluation", error, len(firing), len(resolves))
            return report
        self.pending_resolved.clear()
        return report
