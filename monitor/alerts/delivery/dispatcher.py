"""The outbox dispatcher: POSTs webhook_deliveries rows to their receivers until delivered or dead.

Run it alone (`finsent alerts dispatch`) or inside `finsent alerter`. Each row
is claimed with `SELECT ... FOR UPDATE SKIP LOCKED` and stays locked while it
is sent, so any number of dispatchers can run side by side, and a dispatcher
killed mid-request (even with kill -9) releases its row when PostgreSQL drops
the connection: the next dispatcher sends it again with the same
`Idempotency-Key`, so receivers can drop the repeat. With a receiver's
`secret_env` each attempt is signed afresh over its timestamp, that key and the
body (`payload.signed_headers`), so the key cannot be swapped on a replay.

Outcomes of one attempt:
  2xx                      delivered
  429 / 503 + Retry-After  retried no sooner than the receiver asked
  408, 425, 429, 5xx, network error, timeout
                           retried after exponential backoff with full jitter
  other 4xx (and 3xx)      dead at once: the receiver rejects this body
  older than max_age       dead ("visible in `finsent alerts deliveries --status dead`")
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.delivery.payload import encode_body, signed_headers, slack_body
from monitor.alerts.rules.config import RulesFile
from monitor.storage.models import WebhookDelivery

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""

    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool
    error: str | None = None
    retry_after_s: float | None = None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def classify(response: httpx.Response, now: datetime) -> Outcome:
    """What an HTTP response means for the delivery."""
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(delivered=True, retry=False)
    error = f"HTTP {status}: {response.text[:200]}"
    if status in RETRYABLE_STATUS or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now) if status in (429, 503) else None
        return Outcome(delivered=False, retry=True, error=error, retry_after_s=retry_after)
    return Outcome(delivered=False, retry=False, error=f"rejected by receiver, not retried: {error}")


@dataclass
class DispatchReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.dead


class Dispatcher:
    """Sends due outbox rows. Injectable clock, randomness and HTTP client for tests."""

    def __init__(self, session_factory: sessionmaker[Session], rules: RulesFile, *,
                 client: httpx.Client | None = None, backoff: Backoff = Backoff(),
                 environ: Mapping[str, str] = os.environ, rng: random.Random | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.session_factory = session_factory
        self.rules = rules
        self.client = client or httpx.Client(follow_redirects=False)
        self.backoff = backoff
        self.environ = environ
        self.rng = rng or random.Random()
        self.clock = clock

    def dispatch_once(self, limit: int = 1000) -> DispatchReport:
        """Send every due row (up to limit), one row per transaction."""
        report = DispatchReport()
        while report.attempted < limit:
            if not self._dispatch_one(report):
                break
        return report

    def _dispatch_one(self, report: DispatchReport) -> bool:
        with self.session_factory.begin() as session:
            now = self.clock()
            row = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                return False
            self._attempt(row, now, report)
            return True

    def _attempt(self, row: WebhookDelivery, now: datetime, report: DispatchReport) -> None:
        receivers = {r.name: r for r in self.rules.receivers}
        receiver = receivers.get(row.receiver)
        if receiver is None:
            self._dead(row, f"receiver {row.receiver!r} is not in {self.rules.source}", report)
            return
        webhook = receiver.webhook
        deadline = row.created_at + webhook.max_age
        if now >= deadline:
            self._dead(row, f"older than max_age {webhook.max_age} (last error: {row.last_error})", report)
            return
        body = encode_body(slack_body(row.payload) if webhook.format == "slack" else row.payload)
        secret = self.environ.get(webhook.secret_env) if webhook.secret_env else None
        headers = signed_headers(secret, body, row.idempotency_key, now=now.timestamp())
        row.attempts += 1
        try:
            response = self.client.post(webhook.url, content=body, headers=headers,
                                        timeout=webhook.timeout.total_seconds())
            outcome = classify(response, now)
        except httpx.TimeoutException:
            outcome = Outcome(False, True, f"timed out after {webhook.timeout}")
        except httpx.HTTPError as error:
            outcome = Outcome(False, True, f"{type(error).__name__}: {error}")
        if outcome.delivered:
            row.status, row.delivered_at, row.last_error = "delivered", self.clock(), None
            report.delivered += 1
            log.info("delivery %s to %s delivered (attempt %d)", row.id, row.receiver, row.attempts)
            return
        if not outcome.retry:
            self._dead(row, outcome.error or "rejected", report)
            return
        delay = outcome.retry_after_s if outcome.retry_after_s is not None else self.backoff.delay(
            row.attempts, self.rng)
        next_attempt = self.clock() + timedelta(seconds=delay)
        if next_attempt >= deadline:
            self._dead(row, f"{outcome.error}; next attempt would pass max_age {webhook.max_age}", report)
            return
        row.next_attempt_at, row.last_error = next_attempt, outcome.error
        report.retried += 1
        log.warning("delivery %s to %s failed (attempt %d): %s; retry in %.1fs", row.id, row.receiver,
                    row.attempts, outcome.error, delay)

    @staticmethod
    def _dead(row: WebhookDelivery, error: str, report: DispatchReport) -> None:
        row.status, row.last_error = "dead", error
        report.dead += 1
        log.error("delivery %s to %s is dead: %s", row.id, row.receiver, error)

    def run_forever(self, stop: threading.Event, poll_interval_s: float = 1.0) -> None:
        """Poll the outbox until stop is set; a failed poll (database restart) is retried."""
        while not stop.is_set():
            try:
                self.dispatch_once()
            except Exception:
                log.exception("dispatch failed; retrying")
            stop.wait(poll_interval_s)
