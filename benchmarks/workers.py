"""The stream worker as a subprocess, for the benchmarks and the worker's integration and fault tests.

    env = stream_env(tag, database_url, registry_dir, state_dir)  # its own topics, group, registry and state
    worker = WorkerProcess(env, log_file).start(); worker.kill()  # kill -9, as a crash would
    wait_until(lambda: count_rows(url, "select count(*) from articles") >= n, 60, "n articles stored")

This drives `finsent worker` from outside, as the end-to-end benchmarks
(benchmarks/pipeline.py, benchmarks/scaleout.py) and the integration tests do
(the fault injectors the tests add live in tests/faults.py); nothing in the
serving path imports it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernel.paths import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.25) -> None:
    """Poll condition until true; fail with `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)


class WorkerProcess:
    """`python -m finsent.cli worker ...` as a subprocess with its own environment and log file."""

    def __init__(self, env: dict[str, str], log_file: Path, *args: str) -> None:
        self.env = {**os.environ, **env, "FINSENT_METRICS_PORT": env.get("FINSENT_METRICS_PORT", str(free_port()))}
        self.log_file = log_file
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def metrics_port(self) -> int:
        return int(self.env["FINSENT_METRICS_PORT"])

    def start(self) -> WorkerProcess:
        log = self.log_file.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "finsent.cli", "worker", *self.args],
                                        env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no chance to commit anything."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def terminate(self, timeout_s: float = 60) -> int:
        """SIGTERM and wait: the worker drains its batch and commits."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def health(self) -> dict[str, Any] | None:
        """GET /healthz (its JSON body), or None while the worker is not serving yet."""
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None

    def readiness(self) -> tuple[int, dict[str, object]] | None:
        """GET /readyz: (HTTP status, body), or None while the worker is not serving yet."""
        import httpx

        try:
            response = httpx.get(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=2)
            return response.status_code, response.json()
        except (httpx.HTTPError, ValueError):
            return None

    def handled(self) -> int:
        return int((self.health() or {}).get("handled", 0))

    def summary(self) -> dict[str, object] | None:
        """The JSON line the worker prints when it stops."""
        for line in reversed(self.log_file.read_text(errors="replace").splitlines()):
            if line.startswith('{"stopped"'):
                return json.loads(line)
        return None

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")


def stream_env(tag: str, database_url: str, registry_dir: Path, state_dir: Path) -> dict[str, str]:
    """FINSENT_* variables that give one test its own topics, consumer group, registry and state."""
    return {
        "FINSENT_NEWS_TOPIC": f"{tag}.news", "FINSENT_DEAD_LETTER_TOPIC": f"{tag}.dlq",
        "FINSENT_SCORED_TOPIC": f"{tag}.scored", "FINSENT_WORKER_GROUP": f"{tag}-workers",
        "FINSENT_DATABASE_URL": database_url, "FINSENT_REGISTRY_DIR": str(registry_dir),
        "FINSENT_STATE_DIR": str(state_dir), "FINSENT_DEVICE": "cpu", "FINSENT_LOG_LEVEL": "INFO",
        # tests' tiny models have no parity report: auto would start a background int8 export per worker
        "FINSENT_MODEL_BACKEND": "torch",
    }


def count_rows(database_url: str, sql: str, **params: object) -> int:
    """One integer from the database (a fresh short-lived connection each call)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, poolclass=__import__("sqlalchemy.pool", fromlist=["NullPool"]).NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()
