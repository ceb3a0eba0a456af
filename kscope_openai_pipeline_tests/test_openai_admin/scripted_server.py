"""A real loopback HTTP server whose every answer the test scripts.

Why not only the sandbox: some contract cases are response shapes a correct sandbox
never serves (an error body that echoes the key, a cursor that does not advance, a
bucket outside the window, an HTTP-date `Retry-After`). Those are still exercised over
real HTTP here rather than with a mocked transport.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class Reply:
    """What to answer: status, headers and a body (JSON-encoded unless bytes).

    `drop=True` closes the connection without sending anything.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


Script = Callable[[Seen], Reply]


class ScriptedServer:
    """`with ScriptedServer(script) as srv: srv.base_url ...`; `srv.seen` lists requests."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parts = urlsplit(self.path)
                seen = Seen(
                    "GET",
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                outer.seen.append(seen)
                reply = outer.script(seen)
                if reply.drop:
                    self.close_connection = True
                    return
                body = reply.body
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def list_page(ids: list[str], has_more: bool, **item: Any) -> dict[str, Any]:
    """A list envelope with one minimal item per id."""
    data = [{"id": i, **item} for i in ids]
    return {
        "object": "list",
        "data": data,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
        "has_more": has_more,
    }


def bucket_page(
    buckets: list[tuple[int, list[dict[str, Any]]]], has_more: bool, next_page: str | None
) -> dict[str, Any]:
    """A usage/costs envelope with daily buckets starting at the given Unix seconds."""
    return {
        "object": "page",
        "data": [
            {"object": "bucket", "start_time": s, "end_time": s + 86400, "results": r}
            for s, r in buckets
        ],
        "has_more": has_more,
        "next_page": next_page,
    }


class FakeTime:
    """Injectable sleep + monotonic clock: sleeping advances the clock and is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class MaxJitter(random.Random):
    """A `random.Random` whose uniform(a, b) returns b: backoff becomes its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b
