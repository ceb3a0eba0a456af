"""The admin key as a value that cannot leak by accident.

The key is a bearer credential for the whole organization. It is wrapped in `Secret` as
soon as it enters the client so that `repr`, `str`, f-strings, logging and tracebacks
only ever see a redacted placeholder, and it is attached to requests by an httpx auth
hook rather than as a default client header, so it is not part of the client's own
state that other code may print. `scrub` removes it from any text we did not write
ourselves (an API error message that echoes the key) before that text goes into an
exception.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator

import httpx

REDACTED = "<redacted admin key>"


class Secret:
    """A string credential whose textual forms never reveal it.

    Only `reveal()` returns the value; it is called in exactly one place (the auth hook).
    The value is validated here because a key with whitespace or non-ASCII characters
    would make httpx raise an encoding error whose message quotes the header value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str) or not value:
            raise ValueError("the admin key is empty: set OPENAI_ADMIN_KEY to an admin key")
        if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
            raise ValueError(
                "the admin key contains whitespace or non-printable/non-ASCII characters: "
                "check OPENAI_ADMIN_KEY (value not shown)"
            )
        self._value = value

    def reveal(self) -> str:
        """Return the raw key. Call only where the key must go on the wire."""
        return self._value

    def scrub(self, text: str) -> str:
        """Return `text` with every occurrence of the key replaced by a placeholder."""
        return text.replace(self._value, REDACTED) if self._value in text else text

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


# httpcore's DEBUG trace prints response headers verbatim; a server (or proxy) echoing
# the key in one would leak it. These loggers get a filter that scrubs live keys.
HTTP_LOGGERS: tuple[str, ...] = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _RedactingFilter(logging.Filter):
    """Replaces any registered key in a record's rendered message by a placeholder."""

    def __init__(self) -> None:
        super().__init__("kscope-secret-redaction")
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            self._values[value] = self._values.get(value, 0) + 1

    def discard(self, value: str) -> None:
        with self._lock:
            left = self._values.get(value, 0) - 1
            if left > 0:
                self._values[value] = left
            else:
                self._values.pop(value, None)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        with self._lock:
            values = list(self._values)
        if any(v in message for v in values):
            for v in values:
                message = message.replace(v, REDACTED)
            record.msg, record.args = message, ()
        return True


_FILTER = _RedactingFilter()
for _name in HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


def register_for_log_redaction(secret: Secret) -> None:
    """Scrub this key from httpx/httpcore log records while a client uses it."""
    _FILTER.add(secret.reveal())


def unregister_for_log_redaction(secret: Secret) -> None:
    _FILTER.discard(secret.reveal())


class BearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer <key>` to each request at send time.

    httpx obfuscates the Authorization header in `Headers.__repr__`, and httpcore's DEBUG
    trace logs only `<Request [b'GET']>`, so the key reaches the socket and nothing else.
    """

    def __init__(self, secret: Secret) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth({self._secret!r})"
