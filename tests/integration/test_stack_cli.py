"""`finsent stack` on real processes: idempotent up, clean down, clear port errors.

A second, private stack (own state dir and ports) is started here so the
shared one that the other tests use is never disturbed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.stack.processes import pid_alive

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def finsent(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "finsent.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture()
def private_stack_env() -> Iterator[dict[str, str]]:
    # Not pytest's tmp_path: that is private to root, and PostgreSQL runs as `postgres`.
    state = Path(tempfile.mkdtemp(prefix="finsent-stack-"))
    os.chmod(state, 0o755)
    pg_port = free_port()
    env = {
        **os.environ,
        "FINSENT_STATE_DIR": str(state),
        "FINSENT_KAFKA_PORT": str(free_port()),
        "FINSENT_KAFKA_CONTROLLER_PORT": str(free_port()),
        "FINSENT_POSTGRES_PORT": str(pg_port),
        "FINSENT_DATABASE_URL": f"postgresql+psycopg2://finsent@127.0.0.1:{pg_port}/finsent",
        "FINSENT_KAFKA_HEAP": "256m",
    }
    yield env
    finsent(env, "stack", "down")
    shutil.rmtree(state, ignore_errors=True)


def test_up_twice_then_down_leaves_no_process(private_stack_env: dict[str, str]) -> None:
    env = private_stack_env
    first = finsent(env, "stack", "up")
    assert first.returncode == 0, first.stderr
    assert "kafka: started" in first.stdout and "postgres: started" in first.stdout

    second = finsent(env, "stack", "up")
    assert second.returncode == 0, second.stderr
    assert "kafka: already running" in second.stdout and "postgres: already running" in second.stdout

    state = Path(env["FINSENT_STATE_DIR"])
    broker_pid = int((state / "kafka" / "broker.pid").read_text())
    postgres_pid = int((state / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    assert "ready" in finsent(env, "stack", "status").stdout

    down = finsent(env, "stack", "down")
    assert down.returncode == 0, down.stderr
    assert not pid_alive(broker_pid)
    assert not pid_alive(postgres_pid)
    assert "not running" in finsent(env, "stack", "status").stdout


def test_port_in_use_is_named(private_stack_env: dict[str, str]) -> None:
    env = private_stack_env
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["FINSENT_KAFKA_PORT"])))
        holder.listen()
        result = finsent(env, "stack", "up", "--only", "kafka")
    assert result.returncode == 1
    assert f"port {env['FINSENT_KAFKA_PORT']} is already in use" in result.stderr
    assert "FINSENT_KAFKA_PORT" in result.stderr
