"""One logical request (one page) of the Admin API: retries, typed errors, counters.

`AdminTransport.get` owns the attempt budget and the deadline, the waits (the server's
`Retry-After` or jittered backoff), the typed errors and the request counters; the
endpoints (`client.AdminClient`) only choose the path, the frozen query and the parser.
A 2xx body that breaks the contract is retried a few times (a proxy may have cut it),
then reported. The key is only ever attached by the auth hook and scrubbed from any text
the API sends back before it reaches an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

import httpx
import msgspec

from .errors import AdminApiResponseError, AdminApiRetryExhausted, status_error
from .organization import OrganizationEvidence, resolve_organization
from .pagination import Params
from .read_ahead import ReadAhead
from .retry import RetryPolicy, is_retryable_status, server_delay
from .secret import BearerAuth, Secret, register_for_log_redaction, unregister_for_log_redaction
from .stats import RequestStats
from .tls import ssl_context

T = TypeVar("T")


class AdminTransport:
    """The HTTP side of `AdminClient` (see the module docstring and `AdminClient`)."""

    def __init__(
        self,
        api_key: str | Secret,
        base_url: str,
        timeout: float,
        policy: RetryPolicy,
        max_concurrency: int,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        logger: logging.Logger | None = None,
        organization_id: str | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self._secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.max_concurrency = max_concurrency
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self.log = logger or logging.getLogger(__name__.rsplit(".", 1)[0] + ".client")
        self.stats = RequestStats()
        self.observed_organization: str | None = None  # `openai-organization` header, if sent
        #: The organization the rows will be stamped with: a response whose header names
        #: another one raises AdminApiOrganizationError before anything of it is parsed.
        self.organization_id = organization_id
        self._closed = False
        register_for_log_redaction(self._secret)
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            auth=BearerAuth(self._secret),
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
            headers={"Accept": "application/json", "User-Agent": "kscope-openai-pipeline"},
            follow_redirects=False,
            verify=ssl_context(),
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection pool and stop redacting this key from httpx logs."""
        if not self._closed:
            self._closed = True
            self._http.close()
            unregister_for_log_redaction(self._secret)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self._secret!r})"

    # ------------------------------------------------------------------ one request

    def get(
        self,
        endpoint: str,
        path: str,
        params: Params,
        parse: Callable[[bytearray], T],
        ahead: ReadAhead | None = None,
    ) -> T:
        """GET `path` and `parse` its body, retrying transient failures (module docstring).

        With `ahead`, the first attempt takes the request `ahead` made for exactly this
        query, if any (see read_ahead.py): received earlier, handled the same."""
        try:
            return self._get_with_retries(endpoint, path, params, parse, ahead)
        except Exception:
            self.stats.record_error(endpoint)
            raise

    def _get_with_retries(
        self,
        endpoint: str,
        path: str,
        params: Params,
        parse: Callable[[bytearray], T],
        ahead: ReadAhead | None,
    ) -> T:
        policy = self.policy
        started = self._clock()
        attempt = 0
        malformed = 0
        while True:
            attempt += 1
            delay: float | None = None
            t0 = self._clock()
            cause: BaseException | None = None
            try:
                if ahead is not None and attempt == 1:
                    response, content = self._taken_or_received(ahead, path, params)
                else:
                    response, content = self._receive(path, params)
            except (httpx.TransportError, httpx.DecodingError) as exc:
                self.stats.record_attempt(
                    endpoint, nbytes=0, seconds=self._clock() - t0, retry=attempt > 1
                )
                outcome: int | str = (
                    "timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
                )
                cause = exc
            else:
                self.stats.record_attempt(
                    endpoint, nbytes=len(content), seconds=self._clock() - t0, retry=attempt > 1
                )
                status = response.status_code
                org = response.headers.get("openai-organization")
                if org:
                    self.observed_organization = org
                    if self.organization_id and org != self.organization_id:
                        resolve_organization(
                            self.organization_id,
                            OrganizationEvidence.of(header=[org]),
                            endpoint=endpoint,
                        )
                if 200 <= status < 300:
                    del response  # only `content` is needed from here on
                    try:
                        return parse(content)
                    except AdminApiResponseError as exc:
                        malformed += 1
                        self._scrub_response_error(exc)
                        if malformed >= policy.malformed_attempts or attempt >= policy.max_attempts:
                            exc.args = (
                                f"{exc.args[0]} [after {attempt} attempt(s), "
                                f"{malformed} malformed]",
                            )
                            raise
                        outcome = f"malformed body: {exc.field} {exc.reason}"
                        cause = exc
                    finally:
                        del content  # a large page: do not hold it over the waits below
                elif is_retryable_status(status):
                    outcome = status
                    delay = server_delay(response.headers, self._wall_clock)
                else:
                    raise self._status_error(endpoint, status, content) from None
            if attempt >= policy.max_attempts:
                raise AdminApiRetryExhausted(
                    f"{endpoint}: gave up after {attempt} attempts (max_attempts="
                    f"{policy.max_attempts}); last status: {outcome}",
                    endpoint=endpoint,
                    attempts=attempt,
                    last_status=outcome,
                ) from cause
            if delay is None:
                delay = policy.backoff(attempt)
            elapsed = self._clock() - started
            if elapsed + delay > policy.deadline_seconds:
                raise AdminApiRetryExhausted(
                    f"{endpoint}: gave up after {attempt} attempts: waiting {delay:.2f}s more "
                    f"would pass the {policy.deadline_seconds:g}s deadline; last status: "
                    f"{outcome}",
                    endpoint=endpoint,
                    attempts=attempt,
                    last_status=outcome,
                ) from cause
            self.log.warning(
                "GET %s attempt %d/%d failed (%s); retrying in %.3fs",
                endpoint,
                attempt,
                policy.max_attempts,
                outcome,
                delay,
            )
            self._sleep(delay)

    def _read_ahead(
        self, enabled: bool, path: str, next_query: Callable[[str], Params]
    ) -> tuple[ReadAhead | None, Callable[[str], None] | None]:
        """A pagination's read-ahead and the `on_cursor` hook its parser calls with the next
        page's cursor (both None when not reading ahead); close it with `_close_read_ahead`."""
        if not enabled:
            return None, None
        ahead = ReadAhead(self._receive)

        def request_next(cursor: str) -> None:
            ahead.request(path, next_query(cursor))

        return ahead, request_next

    def _close_read_ahead(self, endpoint: str, ahead: ReadAhead | None) -> None:
        """Join the read-ahead worker; a request ahead nobody asked for was made: count it."""
        for nbytes in ahead.close() if ahead is not None else ():
            self.stats.record_attempt(endpoint, nbytes=nbytes, seconds=0.0, retry=False)

    def _taken_or_received(
        self, ahead: ReadAhead, path: str, params: Params
    ) -> tuple[httpx.Response, bytearray]:
        """What `ahead` received for this query (its transport error raised here, as if
        received now), or a request made now when none went ahead."""
        early = ahead.take(path, params)
        return self._receive(path, params) if early is None else early.result()

    def _receive(self, path: str, params: Params) -> tuple[httpx.Response, bytearray]:
        """GET `path` and read the whole body into one growing buffer.

        Why not `response.content`: httpx collects the body as a list of ~64 KiB chunks
        and joins them, so a 160 MB costs page briefly costs twice its size, and the
        chunks' heap memory is not given back for the parse that follows.
        """
        with self._http.stream("GET", path.lstrip("/"), params=params) as response:
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
        return response, content

    def _scrub_response_error(self, exc: AdminApiResponseError) -> None:
        """A body could echo the key; it must not reach the message or `.value`."""
        exc.args = tuple(self._secret.scrub(a) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc.value, str):
            exc.value = self._secret.scrub(exc.value)
        elif self._secret.reveal() in repr(exc.value):
            exc.value = "<value withheld: contained the admin key>"

    def _status_error(self, endpoint: str, status: int, content: bytes | bytearray) -> Exception:
        """Typed error from the `{"error": {...}}` envelope, with the key scrubbed out."""
        api_message = param = code = None
        try:
            body = msgspec.json.decode(content)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            text = content[:300].decode("utf-8", "replace").strip()
            api_message = text or None
        else:  # any shape: take what is there and is text
            err = body.get("error") if isinstance(body, dict) else None
            if isinstance(err, dict):
                api_message, param, code = (
                    value if isinstance(value, str) else None
                    for value in (err.get("message"), err.get("param"), err.get("code"))
                )
        scrub = self._secret.scrub
        return status_error(
            endpoint=endpoint,
            status=status,
            api_message=scrub(api_message) if api_message else None,
            param=scrub(param) if param else None,
            code=scrub(code) if code else None,
        )
