"""Is the worker ready: a pure verdict from state the worker already tracks (no query per probe).

    GET /readyz   200 {"ready": true,  "status": "ok", "reasons": []}
                  503 {"ready": false, "status": "degraded", "reasons": ["database unreachable for 12s: ..."]}
    GET /healthz  liveness: 200 while the process runs (503 only while stopping), with the same verdict in its body

What feeds the verdict (ReadinessState), and who updates it:

- the database: every store attempt of the store loop (a transient connection
  error marks it unreachable, any answer, even a rejection, marks it back), and
  a `SELECT 1` at most every few seconds only while no batch is being stored;
- the broker: a metadata request on the worker's own Kafka producer connection
  every few seconds (aiokafka answers False or times out when no broker answers);
- progress: messages waiting on the news topic (lag, from the lag timer) while
  nothing has been handled for `FINSENT_READINESS_STALL_S` seconds.

`judge` is a pure function of that state and the clock, so it is unit-tested
without Kafka or PostgreSQL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class ReadinessState:
    """Updated by the worker's store loop and timers; read by /readyz and /healthz. Times are monotonic."""

    started_at: float = field(default_factory=time.monotonic)
    stopping: bool = False
    db_down_since: float | None = None
    db_error: str | None = None
    db_checked_at: float | None = None  # the last store attempt or ping, whatever its outcome
    broker_down_since: float | None = None
    broker_error: str | None = None
    lag: int | None = None  # messages on the news topic not yet handled, summed over assigned partitions
    progress_at: float | None = None  # the last time a batch was stored and acknowledged

    def db_failed(self, error: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.db_down_since is None:
            self.db_down_since = now
        self.db_error = error
        self.db_checked_at = now

    def db_answered(self, now: float | None = None) -> None:
        self.db_down_since, self.db_error = None, None
        self.db_checked_at = time.monotonic() if now is None else now

    def broker_failed(self, error: str, now: float | None = None) -> None:
        if self.broker_down_since is None:
            self.broker_down_since = time.monotonic() if now is None else now
        self.broker_error = error

    def broker_answered(self) -> None:
        self.broker_down_since, self.broker_error = None, None

    def progressed(self, now: float | None = None) -> None:
        self.progress_at = time.monotonic() if now is None else now


@dataclass(frozen=True)
class Verdict:
    ready: bool
    status: str  # ok | degraded | stopping
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"ready": self.ready, "status": self.status, "reasons": list(self.reasons)}


def judge(state: ReadinessState, now: float, stall_after_s: float) -> Verdict:
    """The verdict: every reason that applies, in a fixed order (database, broker, stalled consumer)."""
    reasons: list[str] = []
    if state.db_down_since is not None:
        reasons.append(f"database unreachable for {now - state.db_down_since:.0f}s: "
                       f"{state.db_error or 'unknown error'}")
    if state.broker_down_since is not None:
        reasons.append(f"broker unreachable for {now - state.broker_down_since:.0f}s: "
                       f"{state.broker_error or 'unknown error'}")
    quiet_since = state.progress_at if state.progress_at is not None else state.started_at
    if state.lag and now - quiet_since > stall_after_s:
        reasons.append(f"consumer lag {state.lag} with nothing handled for {now - quiet_since:.0f}s "
                       f"(FINSENT_READINESS_STALL_S={stall_after_s:g})")
    if state.stopping:
        return Verdict(False, "stopping", ("stopping", *reasons))
    return Verdict(not reasons, "degraded" if reasons else "ok", tuple(reasons))
