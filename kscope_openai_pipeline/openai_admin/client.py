"""`AdminClient`: every Admin API read the pipeline needs, over one httpx client.

One logical request (one page) goes through `_get`, which owns retries, the attempt
budget and deadline, the typed errors and the counters; the public methods only choose
the endpoint, the frozen query and the normalizer. Per-project listings fan out over a
thread pool bounded by `max_concurrency` (httpx.Client is thread-safe; its connection
pool gets the same bound). The client knows nothing of Dagster or DuckDB.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from .errors import (
    AdminApiBadRequest,
    AdminApiResponseError,
    AdminApiRetryExhausted,
    status_error,
)
from .gcpause import paused_gc
from .pagination import (
    Params,
    as_day,
    as_unix,
    iter_bucket_pages,
    iter_list_pages,
    utc_midnight,
)
from .records import (
    COST_KEY_COLUMNS,
    USAGE_GROUP_BY,
    USAGE_KEY_COLUMNS,
    ItemNormalizer,
    Window,
    audit_event_normalizer,
    normalize_admin_api_key,
    normalize_cost,
    normalize_invite,
    normalize_project,
    normalize_user,
    parse_bucket_page,
    parse_bucket_text,
    parse_json,
    parse_list_page,
    project_api_key_normalizer,
    project_user_normalizer,
    service_account_normalizer,
    usage_normalizer,
)
from .retry import RetryPolicy, is_retryable_status, server_delay
from .secret import (
    BearerAuth,
    Secret,
    register_for_log_redaction,
    unregister_for_log_redaction,
)
from .stats import RequestStats

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
USAGE_PAGE_LIMIT = 31  # max daily buckets per usage page
COSTS_PAGE_LIMIT = 180  # max daily buckets per costs page
LIST_PAGE_LIMIT = 100  # max items per list page
# The Costs API accepts group_by=api_key_id only for windows starting on or after this day.
API_KEY_COSTS_FIRST_DAY = date(2025, 12, 6)
COSTS_GROUP_BY = frozenset({"project_id", "line_item", "api_key_id"})

EP_PROJECTS = "/organization/projects"
EP_PROJECT_API_KEYS = "/organization/projects/{project_id}/api_keys"
EP_PROJECT_SERVICE_ACCOUNTS = "/organization/projects/{project_id}/service_accounts"
EP_PROJECT_USERS = "/organization/projects/{project_id}/users"
EP_ADMIN_API_KEYS = "/organization/admin_api_keys"
EP_USERS = "/organization/users"
EP_INVITES = "/organization/invites"
EP_AUDIT_LOGS = "/organization/audit_logs"
EP_COSTS = "/organization/costs"
EP_USAGE = "/organization/usage/{family}"

ProjectRef = str | Mapping[str, Any]


def _as_text(content: bytes | bytearray) -> bytes | bytearray | str:
    """The body as text when it is plain UTF-8, so that the caller's bytes can be freed
    while it is parsed (a large costs page is ~160 MB); else the bytes unchanged."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content


class AdminClient:
    """Read-only client for the OpenAI Admin API (or the sandbox that mimics it).

    `deadline_seconds` bounds one logical request (a page) across all its attempts and
    waits, not a whole multi-page call: a long back-fill is many pages, each of which may
    legitimately take a while under rate limiting. `sleep`, `clock` (monotonic), `wall_clock`
    (Unix seconds, for HTTP-date `Retry-After`) and `rng` (jitter) are injectable so tests
    run fast and can assert the exact waits requested. The page limits default to the API
    maxima (fewest requests); smaller values exist for tests of page boundaries.
    """

    def __init__(
        self,
        api_key: str | Secret,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_attempts: int = 6,
        deadline_seconds: float = 300.0,
        max_concurrency: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        malformed_attempts: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        list_limit: int = LIST_PAGE_LIMIT,
        usage_limit: int = USAGE_PAGE_LIMIT,
        costs_limit: int = COSTS_PAGE_LIMIT,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        for name, value, top in (
            ("list_limit", list_limit, LIST_PAGE_LIMIT),
            ("usage_limit", usage_limit, USAGE_PAGE_LIMIT),
            ("costs_limit", costs_limit, COSTS_PAGE_LIMIT),
        ):
            if not 1 <= value <= top:
                raise ValueError(f"{name} must be within 1..{top} (the API maximum), got {value}")
        self.list_limit, self.usage_limit, self.costs_limit = list_limit, usage_limit, costs_limit
        self._secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.base_url = base_url.rstrip("/")
        self.policy = RetryPolicy(
            max_attempts=max_attempts,
            deadline_seconds=deadline_seconds,
            base_delay=base_delay,
            max_delay=max_delay,
            malformed_attempts=malformed_attempts,
            rng=rng or random.Random(),
        )
        self.max_concurrency = max_concurrency
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self.log = logger or logging.getLogger(__name__)
        self.stats = RequestStats()
        self.observed_organization: str | None = None  # `openai-organization` header, if sent
        self._archived_projects: set[str] = set()
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
        )

    @classmethod
    def from_env(cls, env_var: str = "OPENAI_ADMIN_KEY", **kwargs: Any) -> AdminClient:
        """Build a client with the key read from the environment."""
        return cls(Secret.from_env(env_var), **kwargs)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection pool and stop redacting this key from httpx logs."""
        if not self._closed:
            self._closed = True
            self._http.close()
            unregister_for_log_redaction(self._secret)

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AdminClient(base_url={self.base_url!r}, api_key={self._secret!r})"

    # ------------------------------------------------------------------ one request

    def _get(
        self,
        endpoint: str,
        path: str,
        params: Params,
        parse: Callable[[Any], T],
        parse_bytes: Callable[[bytes | bytearray | str], T] | None = None,
    ) -> T:
        """GET `path` and parse it, retrying transient failures; see the module docstring.

        `parse_bytes`, when given, parses the raw body instead of `parse(json body)` (the
        usage/costs pages decode bucket by bucket to bound memory)."""
        try:
            return self._get_with_retries(endpoint, path, params, parse, parse_bytes)
        except Exception:
            self.stats.record_error(endpoint)
            raise

    def _get_with_retries(
        self,
        endpoint: str,
        path: str,
        params: Params,
        parse: Callable[[Any], T],
        parse_bytes: Callable[[bytes | bytearray | str], T] | None = None,
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
                if 200 <= status < 300:
                    try:
                        with paused_gc():  # millions of acyclic objects: see gcpause.py
                            del response  # only `content` is needed from here on
                            if parse_bytes is not None:
                                text = _as_text(content)
                                del content  # the decoded text is all the parser needs
                                return parse_bytes(text)
                            body = parse_json(content, endpoint)
                            del content  # free the raw bytes before normalizing
                            return parse(body)
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

    def _status_error(
        self, endpoint: str, status: int, content: bytes | bytearray
    ) -> Exception:
        """Typed error from the `{"error": {...}}` envelope, with the key scrubbed out."""
        api_message = param = code = None
        try:
            body = json.loads(content)
            err = body.get("error") if isinstance(body, dict) else None
            if isinstance(err, dict):
                api_message = err.get("message") if isinstance(err.get("message"), str) else None
                param = err.get("param") if isinstance(err.get("param"), str) else None
                code = err.get("code") if isinstance(err.get("code"), str) else None
        except ValueError:
            text = content[:300].decode("utf-8", "replace").strip()
            api_message = text or None
        scrub = self._secret.scrub
        return status_error(
            endpoint=endpoint,
            status=status,
            api_message=scrub(api_message) if api_message else None,
            param=scrub(param) if param else None,
            code=scrub(code) if code else None,
        )

    # ------------------------------------------------------------------ list endpoints

    def _list_all(
        self,
        endpoint: str,
        path: str,
        params: Params,
        normalize: ItemNormalizer,
        what: str = "",
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        def fetch(query: Params, parse: Callable[[Any], Any]) -> Any:
            return self._get(endpoint, path, query, parse)

        def parse(body: Any) -> Any:
            return parse_list_page(body, endpoint, normalize)

        for n, page in enumerate(
            iter_list_pages(fetch, endpoint, params, parse, limit=self.list_limit), start=1
        ):
            out.extend(page.records)
            self.stats.record_page(endpoint, len(page.records))
            self.log.info(
                "GET %s%s page=%d rows=%d requests_so_far=%d",
                endpoint,
                what,
                n,
                len(page.records),
                self.stats.requests,
            )
        return out

    def list_projects(self, include_archived: bool = True) -> list[dict[str, Any]]:
        """All projects (archived too by default); remembers which are archived."""
        params = [("include_archived", "true" if include_archived else "false")]
        rows = self._list_all(EP_PROJECTS, EP_PROJECTS, params, normalize_project)
        self._archived_projects.update(r["project_id"] for r in rows if r["status"] == "archived")
        return rows

    def list_admin_api_keys(self) -> list[dict[str, Any]]:
        return self._list_all(
            EP_ADMIN_API_KEYS, EP_ADMIN_API_KEYS, [("order", "asc")], normalize_admin_api_key
        )

    def list_users(self) -> list[dict[str, Any]]:
        return self._list_all(EP_USERS, EP_USERS, [], normalize_user)

    def list_invites(self) -> list[dict[str, Any]]:
        return self._list_all(EP_INVITES, EP_INVITES, [], normalize_invite)

    def iter_audit_log_pages(
        self,
        start: int | date | datetime,
        end: int | date | datetime,
        event_types: Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The audit log of start <= effective_at < end, one list of records per page.

        Unix seconds or dates/datetimes (naive = UTC). Every event type unless
        `event_types` names some; 100 events a page (newest first), paged with `after`, so
        N events cost ceil(N / 100) requests. Raises `AdminApiAuditLogDisabled` when the
        organization has audit logging switched off.
        """
        start_ts, end_ts = as_unix(start, "start"), as_unix(end, "end")
        if end_ts < start_ts:
            raise ValueError("end must not be before start")
        if end_ts == start_ts:
            return
        params: Params = [("event_types[]", t) for t in event_types or ()]
        params += [("effective_at[gte]", str(start_ts)), ("effective_at[lt]", str(end_ts))]
        normalize = audit_event_normalizer(Window(start_ts, end_ts))
        endpoint = EP_AUDIT_LOGS

        def fetch(query: Params, parse: Callable[[Any], Any]) -> Any:
            return self._get(endpoint, endpoint, query, parse)

        def parse(body: Any) -> Any:
            return parse_list_page(body, endpoint, normalize)

        pages = iter_list_pages(fetch, endpoint, params, parse, limit=self.list_limit)
        for n, page in enumerate(pages, start=1):
            self.stats.record_page(endpoint, len(page.records))
            self.log.info(
                "GET %s window=[%d,%d) page=%d rows=%d requests_so_far=%d",
                endpoint,
                start_ts,
                end_ts,
                n,
                len(page.records),
                self.stats.requests,
            )
            yield page.records

    def list_audit_events(
        self,
        event_types: Sequence[str] | None,
        start: int | date | datetime,
        end: int | date | datetime,
    ) -> list[dict[str, Any]]:
        """Audit events with start <= effective_at < end, of the given types (None: all),
        as one list. Needs audit logging switched on in the org."""
        return [r for page in self.iter_audit_log_pages(start, end, event_types) for r in page]

    # ------------------------------------------------------------------ per project

    def _project_refs(self, project_ids: Iterable[ProjectRef]) -> list[tuple[str, bool]]:
        """(project_id, known_archived) in first-seen order, duplicates dropped."""
        out: dict[str, bool] = {}
        for ref in project_ids:
            if isinstance(ref, str):
                pid, status = ref, None
            else:
                pid = ref.get("project_id") or ref.get("id")
                status = ref.get("status")
                if not isinstance(pid, str):
                    raise ValueError("project record without a project_id")
            archived = status == "archived" or pid in self._archived_projects
            out[pid] = out.get(pid, False) or archived
        return list(out.items())

    def _per_project(
        self,
        project_ids: Iterable[ProjectRef],
        endpoint: str,
        normalizer: Callable[[str], ItemNormalizer],
        params: Params,
        skip_known_archived: bool,
    ) -> list[dict[str, Any]]:
        refs = self._project_refs(project_ids)

        def one(pid: str, archived: bool) -> list[dict[str, Any]]:
            if archived and skip_known_archived:
                reason = "archived project (the API rejects this listing with 400); not requested"
                self.stats.record_skip(endpoint, pid, reason)
                self.log.info("GET %s project=%s skipped: %s", endpoint, pid, reason)
                return []
            path = endpoint.format(project_id=pid)
            try:
                return self._list_all(
                    endpoint, path, params, normalizer(pid), what=f" project={pid}"
                )
            except AdminApiBadRequest as exc:
                if "archiv" not in (exc.api_message or "").lower():
                    raise
                reason = f"rejected with 400 as archived: {exc.api_message}"
                self.stats.record_skip(endpoint, pid, reason)
                self.log.warning("GET %s project=%s skipped: %s", endpoint, pid, reason)
                return []

        if not refs:
            return []
        workers = min(self.max_concurrency, len(refs))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-admin")
        futures: list[Future[list[dict[str, Any]]]] = [
            pool.submit(one, pid, archived) for pid, archived in refs
        ]
        rows: list[dict[str, Any]] = []
        try:
            for future in futures:
                rows.extend(future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return rows

    def list_project_api_keys(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Every key of every project (`owner_project_access=any`), archived projects
        included (their keys still show up in usage and costs)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_API_KEYS,
            project_api_key_normalizer,
            [("owner_project_access", "any")],
            skip_known_archived=False,
        )

    def list_service_accounts(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Service accounts per project; archived projects are skipped (see stats.skipped)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_SERVICE_ACCOUNTS,
            service_account_normalizer,
            [],
            skip_known_archived=True,
        )

    def list_project_users(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Members per project; archived projects are skipped (see stats.skipped)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_USERS,
            project_user_normalizer,
            [],
            skip_known_archived=True,
        )

    # ------------------------------------------------------------------ usage / costs

    def _iter_buckets(
        self,
        endpoint: str,
        path: str,
        start: date,
        end: date,
        params: Params,
        normalize: Callable[..., dict[str, Any]],
        key_columns: Sequence[str],
    ) -> Iterator[list[dict[str, Any]]]:
        window = Window(utc_midnight(start), utc_midnight(end))
        frozen: Params = [
            ("start_time", str(window.start_ts)),
            ("end_time", str(window.end_ts)),
            ("bucket_width", "1d"),
            *params,
        ]

        def fetch(query: Params, parse: Callable[[Any], Any]) -> Any:
            return self._get(endpoint, path, query, parse, parse_bytes)

        def parse(body: Any) -> Any:
            return parse_bucket_page(body, endpoint, window, normalize, key_columns)

        def parse_bytes(content: bytes | bytearray | str) -> Any:
            return parse_bucket_text(content, endpoint, window, normalize, key_columns)

        for n, page in enumerate(iter_bucket_pages(fetch, endpoint, frozen, parse), start=1):
            self.stats.record_page(endpoint, len(page.records))
            self.log.info(
                "GET %s window=%s..%s page=%d buckets=%d rows=%d requests_so_far=%d",
                path,
                start.isoformat(),
                end.isoformat(),
                n,
                len(page.bucket_starts),
                len(page.records),
                self.stats.requests,
            )
            yield page.records

    @staticmethod
    def _days(start: date | datetime, end: date | datetime) -> tuple[date, date]:
        s, e = as_day(start, "start"), as_day(end, "end")
        if e < s:
            raise ValueError(f"end {e} is before start {s}")
        return s, e

    def iter_usage(
        self, family: str, start: date | datetime, end: date | datetime
    ) -> Iterator[list[dict[str, Any]]]:
        """Daily usage of one family for UTC days start <= day < end, one list of
        normalized records per API page (31 days a page, one frozen query)."""
        if family not in USAGE_GROUP_BY:
            raise ValueError(
                f"unknown usage family {family!r}; expected one of {tuple(USAGE_GROUP_BY)}"
            )
        s, e = self._days(start, end)
        if s == e:
            return
        endpoint = EP_USAGE.format(family=family)
        params: Params = [("limit", str(self.usage_limit))]
        params += [("group_by", g) for g in USAGE_GROUP_BY[family]]
        yield from self._iter_buckets(
            endpoint, endpoint, s, e, params, usage_normalizer(family), USAGE_KEY_COLUMNS
        )

    def iter_costs(
        self,
        start: date | datetime,
        end: date | datetime,
        group_by: Sequence[str] = ("project_id", "line_item"),
    ) -> Iterator[list[dict[str, Any]]]:
        """Daily costs for UTC days start <= day < end, 180 days a page.

        With `api_key_id` in `group_by` it must be the only dimension, and days before
        2025-12-06 are not requested (the API refuses them); see `iter_api_key_costs`.
        """
        dims = tuple(dict.fromkeys(group_by))
        unknown = set(dims) - COSTS_GROUP_BY
        if unknown:
            raise ValueError(f"costs group_by {sorted(unknown)} not in {sorted(COSTS_GROUP_BY)}")
        s, e = self._days(start, end)
        if "api_key_id" in dims:
            if len(dims) > 1:
                raise ValueError("the Costs API accepts api_key_id only as the sole group_by")
            s = max(s, API_KEY_COSTS_FIRST_DAY)
        if s >= e:
            return
        params: Params = [("limit", str(self.costs_limit))]
        params += [("group_by", g) for g in dims]
        yield from self._iter_buckets(
            EP_COSTS, EP_COSTS, s, e, params, normalize_cost, COST_KEY_COLUMNS
        )

    def iter_api_key_costs(
        self, start: date | datetime, end: date | datetime
    ) -> Iterator[list[dict[str, Any]]]:
        """Daily costs by API key, only for days on or after 2025-12-06."""
        return self.iter_costs(start, end, group_by=("api_key_id",))
