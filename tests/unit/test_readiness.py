"""The readiness verdict: a pure function of the state the worker tracks, and its /readyz and /healthz pages."""

from __future__ import annotations

import asyncio

import pytest

from monitor.stream.readiness import ReadinessState, Verdict, judge

STALL_S = 60.0


def fresh(now: float = 100.0) -> ReadinessState:
    return ReadinessState(started_at=now)


def test_a_fresh_worker_with_nothing_waiting_is_ready() -> None:
    assert judge(fresh(), 101.0, STALL_S) == Verdict(True, "ok", ())


def test_a_failed_store_attempt_degrades_with_the_database_reason_and_an_answer_restores() -> None:
    state = fresh()
    state.db_failed("OperationalError: connection refused", now=110.0)
    state.db_failed("OperationalError: connection refused again", now=115.0)  # a retry keeps the first time
    verdict = judge(state, 122.0, STALL_S)
    assert (verdict.ready, verdict.status) == (False, "degraded")
    assert verdict.reasons == ("database unreachable for 12s: OperationalError: connection refused again",)
    state.db_answered(now=125.0)
    assert judge(state, 126.0, STALL_S).ready


def test_an_unreachable_broker_degrades_and_an_answer_restores() -> None:
    state = fresh()
    state.broker_failed("no broker answered", now=200.0)
    verdict = judge(state, 230.0, STALL_S)
    assert not verdict.ready and verdict.reasons == ("broker unreachable for 30s: no broker answered",)
    state.broker_answered()
    assert judge(state, 231.0, STALL_S) == Verdict(True, "ok", ())


def test_lag_without_progress_degrades_only_after_the_stall_limit() -> None:
    state = fresh(now=0.0)
    state.lag = 500
    assert judge(state, 59.0, STALL_S).ready  # since start, within the limit
    stalled = judge(state, 61.0, STALL_S)
    assert not stalled.ready and stalled.reasons[0].startswith("consumer lag 500 with nothing handled for 61s")
    state.progressed(now=70.0)
    assert judge(state, 100.0, STALL_S).ready  # handled 30 s ago: not stalled
    assert not judge(state, 131.0, STALL_S).ready
    state.lag = 0
    assert judge(state, 500.0, STALL_S).ready  # idle with nothing waiting is not a stall


def test_every_reason_is_listed_in_order_and_stopping_wins_the_status() -> None:
    state = fresh(now=0.0)
    state.db_failed("db down", now=1.0)
    state.broker_failed("broker down", now=2.0)
    state.lag = 3
    verdict = judge(state, 100.0, STALL_S)
    assert [reason.split()[0] for reason in verdict.reasons] == ["database", "broker", "consumer"]
    state.stopping = True
    stopping = judge(state, 100.0, STALL_S)
    assert (stopping.ready, stopping.status, stopping.reasons[0]) == (False, "stopping", "stopping")
    assert stopping.as_json()["ready"] is False


def test_readiness_stall_setting_has_a_sensible_default_and_reads_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel.settings import SettingsError, load_settings

    monkeypatch.delenv("FINSENT_READINESS_STALL_S", raising=False)
    assert load_settings().readiness_stall_s == 60.0
    monkeypatch.setenv("FINSENT_READINESS_STALL_S", "15")
    assert load_settings().readiness_stall_s == 15.0
    monkeypatch.setenv("FINSENT_READINESS_STALL_S", "0")
    with pytest.raises(SettingsError):
        load_settings()


def test_pages_answer_503_on_readyz_but_200_with_the_verdict_on_healthz_while_degraded() -> None:
    from kernel.settings import load_settings
    from monitor.stream import metrics, worker
    from monitor.stream.pipeline import PipelineTotals, RunControl

    class Pipeline:
        model = type("Model", (), {"version": "v-test"})()
        totals = PipelineTotals()
        last_batch_at = None

    control = RunControl()
    worker.runtime = worker.WorkerRuntime(Pipeline(), control, load_settings())  # type: ignore[arg-type]
    try:
        assert worker.readiness_answer() == (200, {"ready": True, "status": "ok", "reasons": []})
        worker.runtime.readiness.db_failed("OperationalError: connection refused")
        status, body = worker.readiness_answer()
        assert (status, body["status"]) == (503, "degraded") and body["reasons"][0].startswith("database unreachable")
        assert metrics.READY._value.get() == 0
        status, health = worker.health_answer()
        assert status == 200 and (health["ready"], health["status"], health["model_version"]) == \
            (False, "degraded", "v-test")
        control.request_stop("SIGTERM")
        assert worker.health_answer()[0] == 503
    finally:
        worker.runtime = None


def test_a_ping_that_fails_to_connect_degrades_but_a_rejected_query_means_reachable() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from monitor.stream import worker

    def refused() -> None:
        raise OperationalError("select 1", {}, Exception("connection refused"))

    def rejected() -> None:
        raise ProgrammingError("select 1", {}, Exception("permission denied"))

    state = ReadinessState()
    asyncio.run(worker.ping_database(state, refused))
    assert state.db_down_since is not None and state.db_error == "Exception: connection refused"
    asyncio.run(worker.ping_database(state, rejected))
    assert state.db_down_since is None
    asyncio.run(worker.ping_database(state, lambda: None))
    assert state.db_down_since is None and state.db_checked_at is not None


def test_the_dashboard_reads_a_degraded_verdict_and_an_older_healthz() -> None:
    from dashboards.health import WorkerReadiness, parse_readiness

    degraded = {"ready": False, "status": "degraded", "reasons": ["database unreachable for 3s: refused"]}
    assert parse_readiness(degraded) == WorkerReadiness(False, "degraded", ("database unreachable for 3s: refused",))
    assert parse_readiness({"status": "ok", "model_version": "v1"}) == WorkerReadiness(True, "ok", ())  # no /readyz
    assert parse_readiness({"status": "stopping"}).ready is False  # type: ignore[union-attr]
    assert parse_readiness(["not", "a", "verdict"]) is None


def test_the_dashboard_fetches_readyz_even_when_it_answers_503() -> None:
    import http.server
    import threading

    from dashboards.health import fetch_readiness

    class Degraded(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b'{"ready": false, "status": "degraded", "reasons": ["broker unreachable for 4s: x"]}'
            self.send_response(503 if self.path == "/readyz" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Degraded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        readiness = fetch_readiness(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert readiness is not None and not readiness.ready and readiness.reasons == ("broker unreachable for 4s: x",)
    assert fetch_readiness(9) is None  # discard port: nothing listens
