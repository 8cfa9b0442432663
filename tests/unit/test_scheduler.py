"""Cron parsing, next fire times and the scheduler loop, driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.retrain.lock import RETRAIN_LOCK_NAME, lock_key
from monitor.retrain.schedule import CronError, check_cron, next_fire_time, run_schedule


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_next_fire_time_is_strictly_after() -> None:
    at_three = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert next_fire_time("0 3 * * *", at_three - timedelta(seconds=1)) == at_three
    assert next_fire_time("0 3 * * *", at_three) == at_three + timedelta(days=1)
    assert next_fire_time("*/15 * * * *", datetime(2026, 3, 2, 3, 7, tzinfo=UTC)) == datetime(2026, 3, 2, 3, 15,
                                                                                             tzinfo=UTC)


def test_invalid_cron_is_rejected_with_the_expected_form() -> None:
    with pytest.raises(CronError, match=r"invalid cron expression '0 25 \* \* \*': expected 5 fields"):
        check_cron("0 25 * * *")
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_time("0 3 * * *", datetime(2026, 3, 2))


def test_the_loop_sleeps_until_each_fire_time_and_runs_the_job_once_each() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 2, 58, 30, tzinfo=UTC))
    fired: list[datetime] = []
    runs = run_schedule("0 3 * * *", fired.append, now=clock, sleep=clock.sleep, max_runs=2)
    assert runs == 2
    assert fired == [datetime(2026, 3, 2, 3, 0, tzinfo=UTC), datetime(2026, 3, 3, 3, 0, tzinfo=UTC)]
    assert max(clock.slept) <= 60  # sleeps in slices so a stop request is seen within a minute


def test_a_failing_job_does_not_stop_the_loop_and_overrun_fire_times_are_skipped() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 2, 59, 0, tzinfo=UTC))
    fired: list[datetime] = []

    def slow_failing_job(fire: datetime) -> None:
        fired.append(fire)
        clock.now += timedelta(minutes=40)  # overruns the 03:15 and 03:30 fire times
        raise RuntimeError("training crashed")

    assert run_schedule("*/15 * * * *", slow_failing_job, now=clock, sleep=clock.sleep, max_runs=2) == 2
    assert fired == [datetime(2026, 3, 2, 3, 0, tzinfo=UTC), datetime(2026, 3, 2, 3, 45, tzinfo=UTC)]


def test_should_stop_ends_the_loop_before_the_next_run() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    stop_after = clock.now + timedelta(minutes=5)
    runs = run_schedule("0 3 * * *", lambda fire: None, now=clock, sleep=clock.sleep,
                        should_stop=lambda: clock.now >= stop_after)
    assert runs == 0
    assert clock.now == stop_after


def test_lock_key_is_a_stable_signed_64_bit_integer() -> None:
    key = lock_key(RETRAIN_LOCK_NAME)
    assert key == lock_key("finsent.retrain")
    assert -(2**63) <= key < 2**63
    assert key != lock_key("finsent.other")
