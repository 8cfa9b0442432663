"""When retraining runs: a cron expression, its next fire times, and the scheduler loop.

The loop is written against an injected clock, sleep and job so unit tests
drive it without waiting; `finsent scheduler` passes the real ones. Each fire
time runs the job once; if a run overruns later fire times, those are skipped
(not queued), like a Kubernetes CronJob with `concurrencyPolicy: Forbid`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import CroniterBadCronError, croniter

log = logging.getLogger(__name__)

DEFAULT_CRON = "0 3 * * *"  # 03:00 UTC: after the analysts' day, before the European open


class CronError(ValueError):
    """A cron expression that croniter cannot read; the message quotes it and the expected form."""


def check_cron(expression: str) -> str:
    """The expression itself when croniter accepts it (5 fields: minute hour day month weekday)."""
    if not croniter.is_valid(expression):
        raise CronError(f"invalid cron expression {expression!r}: expected 5 fields "
                        "'minute hour day-of-month month day-of-week', e.g. '0 3 * * *'")
    return expression


def next_fire_time(expression: str, after: datetime) -> datetime:
    """The first fire time strictly after `after` (timezone-aware, UTC)."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    try:
        return croniter(check_cron(expression), after.astimezone(UTC)).get_next(datetime)
    except CroniterBadCronError as error:  # pragma: no cover - is_valid catches these first
        raise CronError(str(error)) from None


def run_schedule(expression: str, job: Callable[[datetime], object], *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None], max_runs: int | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> int:
    """Sleep until each fire time and call `job(fire_time)`; return how many times it ran.

    A job that raises is logged and the loop continues (the job itself raises
    the alert); `max_runs` and `should_stop` bound the loop for tests and signals.
    """
    runs = 0
    fire_at = next_fire_time(expression, now())
    while (max_runs is None or runs < max_runs) and not should_stop():
        wait = (fire_at - now()).total_seconds()
        if wait > 0:
            # Sleep in slices of at most a minute so a stop request is honoured promptly.
            sleep(min(wait, 60.0))
            continue
        log.info("scheduled retraining due at %s", fire_at.isoformat())
        try:
            job(fire_at)
        except Exception:  # noqa: BLE001 - the scheduler must outlive one failed run
            log.exception("scheduled retraining at %s failed", fire_at.isoformat())
        runs += 1
        fire_at = next_fire_time(expression, max(now(), fire_at))
    return runs
