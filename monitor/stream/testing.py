"""Helpers for the worker's integration and fault tests (and for trying failures by hand).

    proxy = TcpProxy("127.0.0.1", 55432).start()     # point FINSENT_DATABASE_URL at proxy.port
    proxy.cut(); ...; proxy.restore()                 # PostgreSQL "goes away" for this worker only
    worker = WorkerProcess(env).start(); worker.kill() # kill -9, as a crash would
    broker = PrivateBroker(settings, tmp).start(); broker.stop(); broker.start()  # a real Kafka outage
    pg = PrivatePostgres().start(); pg.stop(); pg.start(); pg.close()  # a real PostgreSQL outage (pg.url)

Faults are injected around the shared services, never into them: the real
PostgreSQL and Kafka keep running for everyone else. A real outage uses a
private server (the stack's own Kafka or PostgreSQL binaries, on free ports with
their own data) that the test really stops and starts.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from finsent.settings import PROJECT_ROOT


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


class TcpProxy:
    """A loopback TCP forwarder that can drop every connection and refuse new ones, then come back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True, name="tcp-proxy")

    def start(self) -> TcpProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Drop every open connection; new ones are accepted and closed at once (like a dead server)."""
        self._up.clear()
        with self._lock:
            for client, upstream in self._pairs:
                for sock in (client, upstream):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
            self._pairs.clear()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while self._up.is_set() and not self._stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                try:
                    sock.close()
                except OSError:
                    pass


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

    def health(self) -> dict[str, object] | None:
        """GET /healthz, or None while the worker is not serving yet."""
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
        return int((self.health() or {}).get("handled", 0))  # type: ignore[arg-type]

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


class PacedProducer:
    """Sends items to the news topic at a steady rate in a thread, so faults hit a live stream."""

    def __init__(self, settings: object, items: list, per_second: float) -> None:  # noqa: ANN401
        from monitor.wire import make_producer

        self.settings = settings
        self.items = items
        self.per_second = per_second
        self.sent = 0  # handed to the client
        self.delivered = 0  # acknowledged by the broker (acks=all)
        self.failed = 0  # given up by the client: not in Kafka
        self._count_lock = threading.Lock()
        self._stop = threading.Event()
        self._producer = make_producer(settings)  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._run, daemon=True, name="paced-producer")

    def start(self) -> PacedProducer:
        self._thread.start()
        return self

    def _run(self) -> None:
        from monitor.wire import send_item

        started = time.monotonic()
        for index, item in enumerate(self.items):
            if self._stop.is_set():
                break
            delay = started + index / self.per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            future = send_item(self._producer, self.settings.news_topic, item)  # type: ignore[attr-defined]
            future.add_callback(self._count, "delivered")
            future.add_errback(self._count, "failed")
            self.sent += 1
        self._producer.flush()

    def _count(self, field: str, _result: object) -> None:
        with self._count_lock:
            setattr(self, field, getattr(self, field) + 1)

    def stop(self) -> None:
        """Stop sending (the items sent so far are flushed)."""
        self._stop.set()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout=timeout_s)
        self._producer.close()


class PrivateBroker:
    """A real single-node Kafka broker (monitor/stack/kafka.py) on free ports, for tests that stop the broker.

    It has its own state directory, so stopping it touches nothing the shared broker serves.
    """

    def __init__(self, settings: object, state_dir: Path) -> None:
        from finsent.settings import Settings

        base: Settings = settings  # type: ignore[assignment]
        self.settings = Settings(**{**base.model_dump(), "state_dir": state_dir, "kafka_port": free_port(),
                                    "kafka_controller_port": free_port(), "kafka_bootstrap_servers": ""})

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    def start(self) -> PrivateBroker:
        from monitor.stack import kafka

        kafka.start(self.settings)
        return self

    def stop(self) -> None:
        """SIGTERM and wait until the process is gone (the next start reuses its data: topics, offsets)."""
        from monitor.stack import kafka

        kafka.stop(self.settings)


class PrivatePostgres:
    """A real PostgreSQL server of its own (monitor/stack/postgres.py's binaries), for tests that stop the database.

    It runs on a free loopback port with its data directory in a fresh temporary directory, has the
    `finsent` role and database, migrated to head, and can be stopped (`pg_ctl stop -m fast`) and
    started again on the same port and data. `close()` stops it and removes the directory. As root,
    the server runs as the `postgres` user, as the stack's does.
    """

    def __init__(self, role: str = "finsent", database: str = "finsent") -> None:
        import tempfile

        self.role, self.database = role, database
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="finsent-private-pg-"))
        self.data, self.run_dir, self.log_file = self.root / "data", self.root / "run", self.root / "server.log"
        self._prepared = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.role}@127.0.0.1:{self.port}/{self.database}"

    def running(self) -> bool:
        from monitor.stack.processes import read_pid

        return read_pid(self.data / "postmaster.pid") is not None

    def _pg_ctl(self, *args: str, **popen: object) -> subprocess.CompletedProcess[str]:
        from monitor.stack import postgres

        return subprocess.run(postgres._as_server_user([str(postgres.bin_dir() / "pg_ctl"), "-D", str(self.data),
                                                        *args]),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, **popen)  # type: ignore[call-overload]

    def start(self) -> PrivatePostgres:
        """Start the server (initdb, role, database and migrations the first time); returns once it answers."""
        from monitor.stack import postgres
        from monitor.stack.processes import StackError, ensure_port_free, log_tail

        if self.running():
            return self
        ensure_port_free(self.port, "the private PostgreSQL", "nothing (it picks a free port)")
        for directory in (self.root, self.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
            postgres._chown_for_server(directory)
        if not (self.data / "PG_VERSION").exists():
            result = subprocess.run(
                postgres._as_server_user([str(postgres.bin_dir() / "initdb"), "-D", str(self.data),
                                          "-U", postgres.SERVER_USER, "--auth=trust", "-E", "UTF8",
                                          "--locale=C.UTF-8", "--no-sync"]),
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")
        options = (f"-p {self.port} -k {self.run_dir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                   "-c fsync=off")
        result = self._pg_ctl("-l", str(self.log_file), "-o", options, "-w", "-t", "60", "start",
                              start_new_session=True)
        if result.returncode != 0:
            raise StackError(f"private PostgreSQL did not start:\n{result.stdout}{result.stderr}\n"
                             f"{log_tail(self.log_file)}")
        if not self._prepared:
            self._prepare()
        return self

    def _prepare(self) -> None:
        from finsent.settings import Settings
        from monitor.stack import postgres
        from monitor.storage import migrate

        # _ensure_role_and_database only reads settings.database_url
        postgres._ensure_role_and_database(Settings.model_construct(database_url=self.url), self.port)
        migrate.upgrade("head", url=self.url)
        self._prepared = True

    def stop(self) -> None:
        """Fast shutdown (open connections are terminated); waits until the server is gone."""
        from monitor.stack.processes import StackError

        if not self.running():
            return
        result = self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop")
        if result.returncode != 0:
            raise StackError(f"pg_ctl stop failed:\n{result.stdout}{result.stderr}")

    def close(self) -> None:
        """Stop the server (immediate mode if a fast stop fails) and remove its directory."""
        import shutil

        try:
            self.stop()
        except Exception:  # noqa: BLE001 - clean up regardless
            self._pg_ctl("-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()
