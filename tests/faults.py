"""Helpers for the worker's integration and fault tests (and for trying failures by hand).

    proxy = TcpProxy("127.0.0.1", 55432).start()     # point FINSENT_DATABASE_URL at proxy.port
    proxy.cut(); ...; proxy.restore()                 # PostgreSQL "goes away" for this worker only
    worker = WorkerProcess(env).start(); worker.kill() # kill -9, as a crash would (benchmarks.workers)
    broker = PrivateBroker(settings, tmp).start(); broker.stop(); broker.start()  # a real Kafka outage
    pg = PrivatePostgres().start(); pg.stop(); pg.start(); pg.close()  # a real PostgreSQL outage (pg.url)

Faults are injected around the shared services, never into them: the real
PostgreSQL and Kafka keep running for everyone else. A real outage uses a
private server (the stack's own Kafka or PostgreSQL binaries, on free ports with
their own data) that the test really stops and starts. The worker subprocess
itself (WorkerProcess, stream_env, count_rows, wait_until) is shared with the
benchmarks: benchmarks/workers.py.
"""

from __future__ import annotations

import selectors
import socket
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.workers import free_port


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
        from kernel.settings import Settings

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
        from kernel.settings import Settings
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
