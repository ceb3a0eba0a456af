"""A real webhook receiver on loopback: records every POST, answers as the test scripts.

Why a real server: the alerts' promises (exactly once, retried after a 500, a timeout or
a refused connection, never the URL in a log) are about what reaches the wire, so the
tests count what a server received, not what a mock was called with. The URL carries a
secret-looking token in its path, as Slack's incoming webhooks do.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One POST as received, and the status it was answered with (None: it hung, the
    client gave up, and the message was never processed)."""

    path: str
    body: dict[str, Any]
    status: int | None


class WebhookReceiver:
    """`with WebhookReceiver() as hook: hook.url ...`.

    `answer(500, 200)` scripts the next answers (then 200 again); `slow(seconds)` makes
    the server hang that long and drop each request unprocessed (a client with a shorter
    timeout gives up first); `hook.accepted` are the bodies answered 2xx.
    """

    def __init__(self) -> None:
        self.token = "tok" + secrets.token_hex(12)
        self.received: list[Received] = []
        self._script: list[int] = []
        self._delay = 0.0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if outer._delay:  # an overloaded server: hangs, never processes it
                    time.sleep(outer._delay)
                    with outer._lock:
                        outer.received.append(Received(self.path, body, None))
                    self.close_connection = True
                    return
                status = outer._next_status()
                with outer._lock:
                    outer.received.append(Received(self.path, body, status))
                payload = b"ok" if status < 300 else b"error"
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Silent."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T0KSCOPE/B0ALERTS/{self.token}"

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def slow(self, seconds: float) -> None:
        self._delay = seconds

    def _next_status(self) -> int:
        with self._lock:
            return self._script.pop(0) if self._script else 200

    @property
    def accepted(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.received if r.status and 200 <= r.status < 300]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def refused_url() -> str:
    """A loopback URL nothing listens on (connection refused), with a token path."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/T0KSCOPE/B0ALERTS/tok{secrets.token_hex(12)}"

