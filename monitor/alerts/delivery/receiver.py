"""A local webhook receiver: verifies, de-duplicates and logs what the alerter sends.

    finsent alerts receiver --port 9095 --log .state/logs/alerts.log --secret-env FINSENT_WEBHOOK_SECRET

`make run` starts it so the example rules file's receiver
(`http://127.0.0.1:9095/alerts`) has somewhere to deliver, and so a user sees
each notification as it would arrive at a real receiver: one line per alert,

    2026-11-30T14:00:31Z firing ticker-negative-spike {alertname="ticker-negative-spike", ...} \
        fingerprint=1c9f0e4a7d52b3e8 summary="Negative news spike on BA: ..."

It checks requests the way a production receiver should, with the same code
the dispatcher signs with (`monitor.alerts.delivery.payload`): with a secret, a missing,
wrong or stale signature gets 401; a repeated `Idempotency-Key` (a retry of a
notification it already took) gets 200 and is not logged again; a body that is
not an Alertmanager webhook message gets 400. Everything else gets 200.

With `--log FILE` the keys it took are also appended to `FILE.keys` (JSON
lines: key, seconds since the epoch) and read back on start, so a restarted
receiver still refuses a replay for as long as its signature could verify:
twice `tolerance_s` (a request signed at t verifies until t + tolerance_s, and
may have arrived as early as t - tolerance_s). Older entries are dropped when
the file is read back.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from monitor.alerts.delivery.alertmanager import go_quote, labelset_string
from monitor.alerts.delivery.payload import IDEMPOTENCY_HEADER, signature_problem

_WORD = re.compile(r"^[A-Za-z0-9_.:/-]+$")


@dataclass(frozen=True)
class ReceiverConfig:
    host: str = "127.0.0.1"
    port: int = 9095  # 0: any free port (tests)
    path: str = "/alerts"
    secret: str | None = None  # None: accept unsigned requests
    tolerance_s: float = 300  # how far the signed timestamp may be from now
    remember_keys: int = 100_000  # idempotency keys kept for de-duplication (oldest forgotten first)
    max_body_bytes: int = 16 * 2**20
    seen_keys_path: Path | None = None  # keys also kept here, so a restart remembers them (`--log FILE`: FILE.keys)


class SeenKeys:
    """The idempotency keys already processed, bounded (least recently seen forgotten first).

    With `path`, each new key is appended to that file (one JSON line: key and
    time) and the file is read back on construction, keeping only keys seen
    within `window_s`: a restarted receiver remembers what a replay could still
    carry a valid signature for. The file is rewritten compacted on load.
    """

    def __init__(self, capacity: int, path: Path | None = None, window_s: float = 600,
                 clock: Callable[[], float] = time.time) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._path, self._clock = path, clock
        if path is not None:
            fresh = self._load(path, clock() - window_s)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as out:
                for key, at in fresh:
                    self._keys[key] = None
                    out.write(json.dumps({"key": key, "at": at}) + "\n")
            while len(self._keys) > capacity:
                self._keys.popitem(last=False)

    @staticmethod
    def _load(path: Path, since: float) -> list[tuple[str, float]]:
        """The (key, time) entries newer than since; unreadable lines (a torn last write) are skipped."""
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
                key, at = str(entry["key"]), float(entry["at"])
            except (ValueError, TypeError, KeyError):
                continue
            if at >= since:
                entries.append((key, at))
        return entries

    def first_time(self, key: str) -> bool:
        """Remember key; True when it was not seen before."""
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            while len(self._keys) > self.capacity:
                self._keys.popitem(last=False)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps({"key": key, "at": self._clock()}) + "\n")
            return True


def _word(value: Any) -> str:
    """A value for a space-separated log line: as is when it is one plain word, else quoted."""
    text = str(value)
    return text if _WORD.match(text) else go_quote(text)


def alert_lines(payload: Mapping[str, Any], received_at: datetime) -> list[str]:
    """One log line per alert: time, status, alertname, labels, fingerprint, summary."""
    stamp = received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for alert in payload["alerts"]:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        annotations = alert.get("annotations") or {}
        lines.append(f"{stamp} {_word(alert.get('status', '?'))} {_word(labels.get('alertname', '?'))} "
                     f"{labelset_string(labels)} fingerprint={_word(alert.get('fingerprint', '?'))} "
                     f"summary={go_quote(str(annotations.get('summary', '')))}")
    return lines


def _webhook_message(body: bytes) -> dict[str, Any] | str:
    """The decoded Alertmanager message, or why it is not one."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        return f"body is not JSON: {error}"
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        return "expected an Alertmanager webhook message (version 4) with an `alerts` list"
    if not all(isinstance(a, dict) for a in payload["alerts"]):
        return "every entry of `alerts` must be an object"
    return payload


class AlertReceiver:
    """The HTTP server. `serve_forever()` in the foreground, or `start()` a thread (tests)."""

    def __init__(self, config: ReceiverConfig, emit: Callable[[str], None],
                 warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self.seen = SeenKeys(config.remember_keys, config.seen_keys_path, window_s=2 * config.tolerance_s)
        self.received = 0  # requests that passed every check and were logged
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                # A readiness probe: the path answers GET too.
                self._answer(200 if self.path.split("?")[0] in (config.path, "/healthz") else 404, "ok")

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                status, message = receiver.handle(self.path, dict(self.headers.items()), self._body())
                self._answer(status, message)

            def _body(self) -> bytes | None:
                try:
                    length = max(int(self.headers.get("Content-Length") or 0), 0)
                except ValueError:
                    length = 0  # then an empty body: answered 400
                if length > config.max_body_bytes:
                    return None
                return self.rfile.read(length)

            def _answer(self, status: int, message: str) -> None:
                data = json.dumps({"status": "ok" if status == 200 else "error", "message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass  # one line per alert is the log; requests are not

        self._emit, self._warn, self._clock = emit, warn, clock
        self._emit_lock = threading.Lock()
        self.server = ThreadingHTTPServer((config.host, config.port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address is (host, port)
        return f"http://{host}:{port}{self.config.path}"

    def handle(self, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, str]:
        """Check one POST and log its alerts; returns (HTTP status, message)."""
        if path.split("?")[0] != self.config.path:
            return 404, f"alerts are received on {self.config.path}"
        if body is None:
            return 413, f"body larger than {self.config.max_body_bytes} bytes"
        if self.config.secret is not None:
            problem = signature_problem(self.config.secret, headers, body, tolerance_s=self.config.tolerance_s)
            if problem is not None:
                self._warn(f"rejected (401): {problem}")
                return 401, problem
        payload = _webhook_message(body)
        if isinstance(payload, str):
            self._warn(f"rejected (400): {payload}")
            return 400, payload
        key = {k.lower(): v for k, v in headers.items()}.get(IDEMPOTENCY_HEADER.lower())
        if key and not self.seen.first_time(key):
            self._warn(f"duplicate {IDEMPOTENCY_HEADER} {key}: already received, not logged again")
            return 200, "duplicate"
        with self._emit_lock:
            for line in alert_lines(payload, self._clock()):
                self._emit(line)
            self.received += 1
        return 200, "received"

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def start(self) -> AlertReceiver:
        self._thread = threading.Thread(target=self.server.serve_forever, name="alert-receiver", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
        self.server.server_close()


def line_writer(*streams: TextIO) -> Callable[[str], None]:
    """An emit function writing each line to every stream, flushed (a log someone is tailing)."""

    def emit(line: str) -> None:
        for stream in streams:
            stream.write(line + "\n")
            stream.flush()

    return emit
