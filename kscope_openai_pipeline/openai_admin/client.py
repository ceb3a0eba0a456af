"""`AdminClient`: every Admin API read the pipeline needs, over one httpx client.

The public methods choose the endpoint, the frozen query and the parser (usage and costs
in bucket_reads.py); one page goes
through `AdminTransport.get` (transport.py), which owns retries, typed errors and the
counters. Per-project listings fan out over a thread pool bounded by `max_concurrency`
(httpx.Client is thread-safe; its connection pool gets the same bound). Inventory
listings come back as lists of flat dicts; usage and costs as one `ColumnPage` per API
page, so a consumer can write a page before the next one is fetched. The client knows
nothing of Dagster or DuckDB.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import date, datetime
from typing import Any

from . import listing
from .bucket_reads import COSTS_PAGE_LIMIT, USAGE_PAGE_LIMIT, BucketReads
from .errors import AdminApiBadRequest
from .listing import ListKind, ListPage, parse_list_page
from .pagination import Params, iter_list_pages, list_query, logs_page
from .retry import RetryPolicy
from .secret import Secret
from .window import Window, as_unix

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LIST_PAGE_LIMIT = 100  # max items per list page

EP_PROJECTS = "/organization/projects"
EP_PROJECT_API_KEYS = "/organization/projects/{project_id}/api_keys"
EP_PROJECT_SERVICE_ACCOUNTS = "/organization/projects/{project_id}/service_accounts"
EP_PROJECT_USERS = "/organization/projects/{project_id}/users"
EP_ADMIN_API_KEYS = "/organization/admin_api_keys"
EP_USERS = "/organization/users"
EP_INVITES = "/organization/invites"
EP_AUDIT_LOGS = "/organization/audit_logs"

ProjectRef = str | Mapping[str, Any]

#: Where the per-project fan-out's page lines go (DEBUG). Why not the client's logger: in a
#: Dagster run that logger is the step's log, which stores every line as an event, and
#: hundreds of project pages a listing, logged from the pool's threads that queue on the
#: handler's lock, cost more than the requests themselves. The fan-out logs one summary
#: line through the client's logger instead; retries and refusals still go there.
PAGE_LOG = logging.getLogger(f"{__name__}.pages")


class AdminClient(BucketReads):
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
        organization_id: str | None = None,
    ) -> None:
        for name, value, top in (
            ("list_limit", list_limit, LIST_PAGE_LIMIT),
            ("usage_limit", usage_limit, USAGE_PAGE_LIMIT),
            ("costs_limit", costs_limit, COSTS_PAGE_LIMIT),
        ):
            if not 1 <= value <= top:
                raise ValueError(f"{name} must be within 1..{top} (the API maximum), got {value}")
        self.list_limit, self.usage_limit, self.costs_limit = list_limit, usage_limit, costs_limit
        policy = RetryPolicy(
            max_attempts=max_attempts,
            deadline_seconds=deadline_seconds,
            base_delay=base_delay,
            max_delay=max_delay,
            malformed_attempts=malformed_attempts,
            rng=rng or random.Random(),
        )
        self._archived_projects: set[str] = set()
        super().__init__(
            api_key,
            base_url,
            timeout,
            policy,
            max_concurrency,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            logger=logger,
            organization_id=organization_id,
        )

    # ------------------------------------------------------------------ list endpoints

    def _iter_list_pages(
        self,
        endpoint: str,
        path: str,
        params: Params,
        kind: ListKind,
        what: str = "",
        *,
        read_ahead: bool = False,
        log_page: Callable[..., None] | None = None,
    ) -> Iterator[ListPage]:
        ahead, on_cursor = self._read_ahead(
            read_ahead, path, lambda cursor: list_query(params, self.list_limit, cursor)
        )

        def parse(body: bytearray) -> ListPage:
            return parse_list_page(body, endpoint, kind, on_cursor)

        def fetch(query: Params) -> ListPage:
            return self.get(endpoint, path, query, parse, ahead)

        log_page = log_page or self.log.info
        pages = iter_list_pages(fetch, endpoint, params, limit=self.list_limit)
        try:
            for n, page in enumerate(pages, start=1):
                self.stats.record_page(endpoint, len(page.records))
                if logs_page(n, last=not page.has_more):
                    log_page(
                        "GET %s%s page=%d rows=%d requests_so_far=%d",
                        endpoint,
                        what,
                        n,
                        len(page.records),
                        self.stats.requests,
                    )
                yield page
        finally:
            self._close_read_ahead(endpoint, ahead)

    def _list_all(
        self,
        endpoint: str,
        path: str,
        params: Params,
        kind: ListKind,
        what: str = "",
    ) -> list[dict[str, Any]]:
        return [
            record
            for page in self._iter_list_pages(endpoint, path, params, kind, what)
            for record in page.records
        ]

    def list_projects(self, include_archived: bool = True) -> list[dict[str, Any]]:
        """All projects (archived too by default); remembers which are archived."""
        params = [("include_archived", "true" if include_archived else "false")]
        rows = self._list_all(EP_PROJECTS, EP_PROJECTS, params, listing.PROJECTS)
        self._archived_projects.update(r["project_id"] for r in rows if r["status"] == "archived")
        return rows

    def list_admin_api_keys(self) -> list[dict[str, Any]]:
        return self._list_all(
            EP_ADMIN_API_KEYS, EP_ADMIN_API_KEYS, [("order", "asc")], listing.ADMIN_API_KEYS
        )

    def list_users(self) -> list[dict[str, Any]]:
        return self._list_all(EP_USERS, EP_USERS, [], listing.USERS)

    def list_invites(self) -> list[dict[str, Any]]:
        return self._list_all(EP_INVITES, EP_INVITES, [], listing.INVITES)

    def iter_audit_log_pages(
        self,
        start: int | date | datetime,
        end: int | date | datetime,
        event_types: Sequence[str] | None = None,
        *,
        read_ahead: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The audit log of start <= effective_at < end, one list of records per page.

        Unix seconds or dates/datetimes (naive = UTC). Every event type unless
        `event_types` names some; 100 events a page (newest first), paged with `after`, so
        N events cost ceil(N / 100) requests. Raises `AdminApiAuditLogDisabled` when the
        organization has audit logging switched off. `read_ahead` as in `iter_usage`.
        """
        start_ts, end_ts = as_unix(start, "start"), as_unix(end, "end")
        if end_ts < start_ts:
            raise ValueError("end must not be before start")
        if end_ts == start_ts:
            return
        params: Params = [("event_types[]", t) for t in event_types or ()]
        params += [("effective_at[gte]", str(start_ts)), ("effective_at[lt]", str(end_ts))]
        kind = listing.audit_events(Window(start_ts, end_ts))
        what = f" window=[{start_ts},{end_ts})"
        pages = self._iter_list_pages(
            EP_AUDIT_LOGS, EP_AUDIT_LOGS, params, kind, what, read_ahead=read_ahead
        )
        with closing(pages):
            for page in pages:
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
        kind_of: Callable[[str], ListKind],
        params: Params,
        skip_known_archived: bool,
    ) -> list[dict[str, Any]]:
        refs = self._project_refs(project_ids)

        def one(pid: str, archived: bool) -> tuple[list[dict[str, Any]], int]:
            """(the project's records, pages read); ([], 0) when skipped."""
            if archived and skip_known_archived:
                reason = "archived project (the API rejects this listing with 400); not requested"
                self.stats.record_skip(endpoint, pid, reason)
                PAGE_LOG.debug("GET %s project=%s skipped: %s", endpoint, pid, reason)
                return [], 0
            path = endpoint.format(project_id=pid)
            records: list[dict[str, Any]] = []
            pages = 0
            try:
                for page in self._iter_list_pages(
                    endpoint, path, params, kind_of(pid), f" project={pid}", log_page=PAGE_LOG.debug
                ):
                    records.extend(page.records)
                    pages += 1
            except AdminApiBadRequest as exc:
                if "archiv" not in (exc.api_message or "").lower():
                    raise
                reason = f"rejected with 400 as archived: {exc.api_message}"
                self.stats.record_skip(endpoint, pid, reason)
                self.log.warning("GET %s project=%s skipped: %s", endpoint, pid, reason)
                return [], 0
            return records, pages

        if not refs:
            return []
        workers = min(self.max_concurrency, len(refs))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-admin")
        futures: list[Future[tuple[list[dict[str, Any]], int]]] = [
            pool.submit(one, pid, archived) for pid, archived in refs
        ]
        rows: list[dict[str, Any]] = []
        listed = pages = 0
        try:
            for future in futures:
                records, n = future.result()
                rows.extend(records)
                listed += n > 0
                pages += n
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        self.log.info(
            "GET %s: %d of %d projects listed, pages=%d rows=%d requests_so_far=%d",
            endpoint,
            listed,
            len(refs),
            pages,
            len(rows),
            self.stats.requests,
        )
        return rows

    def list_project_api_keys(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Every key of every project (`owner_project_access=any`), archived projects
        included (their keys still show up in usage and costs)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_API_KEYS,
            listing.project_api_keys,
            [("owner_project_access", "any")],
            skip_known_archived=False,
        )

    def list_service_accounts(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Service accounts per project; archived projects are skipped (see stats.skipped)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_SERVICE_ACCOUNTS,
            listing.service_accounts,
            [],
            skip_known_archived=True,
        )

    def list_project_users(self, project_ids: Iterable[ProjectRef]) -> list[dict[str, Any]]:
        """Members per project; archived projects are skipped (see stats.skipped)."""
        return self._per_project(
            project_ids,
            EP_PROJECT_USERS,
            listing.project_users,
            [],
            skip_known_archived=True,
        )
