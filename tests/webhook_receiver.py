"""A webhook receiver on loopback for the alert tests: scripted replies, every request recorded.

    receiver = Receiver([Reply(500), Reply(429, {"Retry-After": "1"})])  # then 200 for ever
    ... point a rules file's webhook url at receiver.url ...
    [r.json["status"] for r in receiver.requests]
    assert receiver.requests[0].signed_by(SECRET)   # the production check, monitor.alerts.delivery.payload

Unlike `finsent alerts receiver` (monitor/alerts/delivery/receiver.py) it rejects
nothing by itself: the tests script its replies and check signatures after.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from monitor.alerts.delivery.payload import IDEMPOTENCY_HEADER, verify_signature


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (a hanging receiver)


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_by(self, secret: str, tolerance_s: float = 600) -> bool:
        """Whether a receiver holding secret accepts this request (body, key and timestamp as signed)."""
        return verify_signature(secret, self.headers, self.body, tolerance_s=tolerance_s)


class Receiver:
    """A threaded HTTP server that answers with scripted replies (then 200) and records every request."""

    def __init__(self, replies: list[Reply] | None = None) -> None:
        self.replies = list(replies or [])
        self.requests: list[Received] = []
        self.release = threading.Event()  # ends any hanging reply at teardown
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Received(time.monotonic(), dict(self.headers), body))
                reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.delay_s:
                    receiver.release.wait(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (timeout, killed)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def unique_by_idempotency_key(self) -> list[Received]:
        """What a receiver that drops repeats (same Idempotency-Key) would process."""
        seen: dict[str, Received] = {}
        for request in self.requests:
            seen.setdefault(request.headers[IDEMPOTENCY_HEADER], request)
        return list(seen.values())
