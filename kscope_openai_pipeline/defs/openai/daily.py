"""Daily-partitioned assets: usage of every family, costs by project x line item, costs by
API key, and the audit log.

A run covers a whole partition range (`BackfillPolicy.single_run()`): the client pages the
API in the fewest requests allowed (at most 31 days a usage page, 180 a costs page, the
days spread evenly over the pages) and each page is validated and inserted as it
arrives, inside ONE transaction that first deletes the window. A failure anywhere rolls
back and leaves the previous rows. Days before the earliest API key creation are written
empty without calling the API (usage only).

The audit log is one more daily table with two particulars: an organization that never
switched audit logging on answers with an error that is not a failure (the asset writes
nothing, says how to switch it on, warns through a check, and the run goes on), and every
write rebuilds the part of the inventory history that comes from the audit log, in the
same transaction.
"""

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import dagster as dg
import pandera.pandas as pandera
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection

from kscope_openai_pipeline import settings, warehouse
from kscope_openai_pipeline.defs.failures import permanent_failures_are_final
from kscope_openai_pipeline.defs.metadata import definition_metadata, preview
from kscope_openai_pipeline.defs.openai import daily_checks
from kscope_openai_pipeline.defs.openai.access import ACCESS_CHECK_KEY
from kscope_openai_pipeline.defs.partitions import daily_partitions, window_days
from kscope_openai_pipeline.defs.policies import API_RETRY, SINGLE_RUN, WRITER_POOL
from kscope_openai_pipeline.defs.resources.openai_admin import OpenAIAdminResource
from kscope_openai_pipeline.openai_admin import (
    API_KEY_COSTS_FIRST_DAY,
    USAGE_FAMILIES,
    AdminApiAuditLogDisabled,
    AdminClient,
    ColumnPage,
)
from kscope_openai_pipeline.schemas import openai as schemas
from kscope_openai_pipeline.warehouse import history

#: (endpoint, one API page as columns)
Pages = Iterator[tuple[str, ColumnPage]]
#: (endpoint, a part of a usage or costs page) -> its Arrow table (see `PageFeed`).
PartTable = Callable[[str, ColumnPage], pa.Table]


#: Each page's successor is requested as soon as the page's cursor is read (the client's
#: read-ahead): the same requests in the same order, the download overlapping the decoding
#: and the write.
READ_AHEAD = True


def usage_pages(client: AdminClient, start: date, end: date, table: PartTable) -> Pages:
    """Every usage family's pages for [start, end), family after family."""
    for family in USAGE_FAMILIES:
        endpoint = f"/organization/usage/{family}"
        with closing(
            client.iter_usage(
                family, start, end, read_ahead=READ_AHEAD, compact=partial(table, endpoint)
            )
        ) as pages:
            for page in pages:
                yield endpoint, page


def cost_pages(client: AdminClient, start: date, end: date, table: PartTable) -> Pages:
    endpoint, by = "/organization/costs", ("project_id", "line_item")
    with closing(
        client.iter_costs(
            start, end, group_by=by, read_ahead=READ_AHEAD, compact=partial(table, endpoint)
        )
    ) as pages:
        for page in pages:
            yield endpoint, page


def api_key_cost_pages(client: AdminClient, start: date, end: date, table: PartTable) -> Pages:
    endpoint = "/organization/costs?group_by=api_key_id"
    with closing(
        client.iter_api_key_costs(
            start, end, read_ahead=READ_AHEAD, compact=partial(table, endpoint)
        )
    ) as pages:
        for page in pages:
            yield endpoint, page


def audit_log_pages(client: AdminClient, start: date, end: date, table: PartTable) -> Pages:
    """Every event of [start, end), all types, 100 a page (one request per 100 events);
    the pages are small, so they come as columns (`table` is not used)."""
    with closing(client.iter_audit_log_pages(start, end, read_ahead=READ_AHEAD)) as pages:
        for records in pages:
            yield "/organization/audit_logs", _as_columns(records)


def _as_columns(records: list[dict[str, Any]]) -> ColumnPage:
    """An audit log page (a few hundred events at most) in the shape the writer takes."""
    names = list(records[0]) if records else []
    return ColumnPage(
        columns={name: [r[name] for r in records] for name in names},
        num_rows=len(records),
        bucket_starts=[],
        has_more=False,
        next_page=None,
    )


def rebuild_history(conn: DuckDBPyConnection, organization_id: str) -> None:
    """The inventory history's audit-log part follows the audit log (same transaction)."""
    history.rebuild_from_audit_log(conn, organization_id)


@dataclass(frozen=True)
class DailyTable:
    """One daily-partitioned table and the API pages that fill it."""

    name: str
    model: type[pandera.DataFrameModel]
    date_column: str
    description: str
    #: The API pages of [start, end); usage and costs pages come as Arrow parts made by
    #: the `PartTable` given (see `PageFeed`).
    pages: Callable[[AdminClient, date, date, PartTable], Pages]
    first_api_day: date | None = None  # the API has no data (or refuses) before this day
    after: tuple[str, ...] = ()  # daily tables this one's checks compare against
    #: Skip days before the earliest API key. Only usage: every usage row needs a key,
    #: but a cost line (seats) can predate all keys, and costs are cheap to page (180
    #: days a request) while usage is 10 families x 31 days a request.
    skip_before_first_key: bool = False
    #: Read after openai/api_keys (to know the earliest key). Not the audit log: the
    #: inventory history is built after it.
    after_keys: bool = True
    #: The API's answer that the source is switched off: not a failure (see the module).
    switched_off: type[Exception] | None = None
    #: Run inside the write's transaction, after the window is replaced.
    after_write: Callable[[DuckDBPyConnection, str], None] | None = None
    #: People expect yesterday's figures by the alerts' stale-data hour (usage, costs).
    expected_daily: bool = False
    #: Write consecutive pages of one endpoint together up to this many rows (0: each
    #: page on its own). Validating and inserting a batch costs about the same whatever
    #: its size up to tens of thousands of rows, so small pages go together; the rows of a
    #: batch are validated when it is complete, so a bad page is found up to a batch later
    #: (nothing is written either way) and is still named by its endpoint.
    batch_rows: int = 0


DAILY_TABLES: tuple[DailyTable, ...] = (
    DailyTable(
        "usage",
        schemas.Usage,
        "usage_date",
        "Daily usage of all ten usage families in one long table "
        "(GET /organization/usage/{family}, bucket_width=1d, up to 31 days a page).",
        usage_pages,
        skip_before_first_key=True,
        after=("audit_logs",),  # its check knows deleted keys from the audit log
        expected_daily=True,
        # A year of a small family is 12 pages of a few thousand rows: one write, not 12.
        batch_rows=50_000,
    ),
    DailyTable(
        "costs",
        schemas.Costs,
        "cost_date",
        "Daily billed cost by project and line item "
        "(GET /organization/costs, group_by=project_id,line_item, up to 180 days a page).",
        cost_pages,
        after=("usage",),
        expected_daily=True,
    ),
    DailyTable(
        "api_key_costs",
        schemas.ApiKeyCosts,
        "cost_date",
        "Daily billed cost by API key (GET /organization/costs, group_by=api_key_id); the "
        "API has it from 2025-12-06, earlier days stay empty.",
        api_key_cost_pages,
        first_api_day=API_KEY_COSTS_FIRST_DAY,
        after=("costs",),
    ),
    DailyTable(
        "audit_logs",
        schemas.AuditLogs,
        "event_date",
        "The organization's audit log, every event type (GET /organization/audit_logs, "
        "effective_at window, limit=100, after cursor). Empty, with a warning, when the "
        "organization has audit logging switched off.",
        audit_log_pages,
        after_keys=False,
        switched_off=AdminApiAuditLogDisabled,
        after_write=rebuild_history,
        batch_rows=10_000,  # 100 pages of 100 events
    ),
)


def earliest_key_day(conn: DuckDBPyConnection, organization_id: str) -> date | None:
    """UTC day of the oldest API key creation in the stored inventory (None: unknown)."""
    rows = conn.execute(
        "SELECT CAST(MIN(created_at) AS DATE) FROM openai.api_keys WHERE organization_id = ?",
        [organization_id],
    ).fetchall()
    return rows[0][0] if rows else None


def fetch_start(spec: DailyTable, start: date, end: date, earliest_key: date | None) -> date:
    """The first day worth asking the API for; >= end means: ask nothing."""
    first = start
    skips = spec.skip_before_first_key and settings.skip_before_first_key()
    if earliest_key is not None and skips:
        first = max(first, earliest_key)
    if spec.first_api_day is not None:
        first = max(first, spec.first_api_day)
    return min(first, end)


class PageFeed:
    """Feeds a table's API pages to the streaming writer, remembering where it is.

    Why: the writer validates each batch with pandera, and its error must name the API
    endpoint the bad page came from (not just the table); and the metadata's page count
    must count every page, empty ones included, so it can be compared with the requests.

    Each page becomes Arrow tables typed like the DDL (no Python object per row, no
    pandas frame): a usage or costs page part by part while the client decodes it (so
    only one part's Python lists are alive beside the page's body, not the whole page's),
    an audit log page once it is read. Where the table says so (`batch_rows`),
    consecutive pages of one endpoint go to the writer together: the audit log comes 100
    events a page, and validating and inserting each page on its own cost more than
    reading it (a year of a large organization's audit log is 772 pages); a small usage
    family's year is 12 pages of a few thousand rows. With the client's read-ahead the
    next page downloads meanwhile, so memory holds at most one batch (or one page) and the
    page arriving, whatever the range.
    """

    def __init__(self, spec: DailyTable, organization_id: str) -> None:
        self.spec = spec
        self.organization_id = organization_id
        self.pages = 0
        self.endpoint: str | None = None  # the page being validated/inserted, if any
        self.endpoints: list[str] = []

    def tables(
        self, client: AdminClient, first: date, end: date, start: date | None = None
    ) -> Iterator[pa.Table]:
        if first >= end:
            return
        batch: list[pa.Table] = []
        batch_endpoint: str | None = None

        def table(endpoint: str, page: ColumnPage) -> pa.Table:
            self.endpoint = endpoint  # a refused value is this endpoint's
            return warehouse.page_table(
                page, self.spec.model, self.organization_id, start=start, end=end
            )

        with closing(self.spec.pages(client, first, end, table)) as pages:
            for endpoint, page in pages:
                self.pages += 1
                if batch and endpoint != batch_endpoint:
                    self.endpoint = batch_endpoint
                    yield pa.concat_tables(batch)
                    batch.clear()
                self.endpoint = batch_endpoint = endpoint
                if endpoint not in self.endpoints:
                    self.endpoints.append(endpoint)
                if page.parts:
                    batch += page.parts
                    page.parts.clear()
                elif page.num_rows:
                    batch.append(table(endpoint, page))
                    page.columns.clear()  # the table holds the values: free the lists now
                del page
                if batch and sum(t.num_rows for t in batch) >= self.spec.batch_rows:
                    yield pa.concat_tables(batch)
                    batch.clear()  # written: do not hold it while the next page is fetched
        if batch:
            yield pa.concat_tables(batch)
            batch.clear()
        self.endpoint = None  # checks after the last page concern every endpoint

    def write(
        self, conn: DuckDBPyConnection, client: AdminClient, start: date, first: date, end: date
    ) -> int:
        """Replace [start, end) with the pages of [first, end) in one transaction."""
        table = self.spec.model.Config.name
        try:
            with closing(self.tables(client, first, end, start)) as tables:
                return warehouse.replace_window_streaming(
                    conn,
                    table,
                    tables,
                    self.spec.date_column,
                    start,
                    end,
                    model=self.spec.model,
                    organization_id=self.organization_id,
                )
        except warehouse.WarehouseValidationError as err:
            where = self.endpoint or ", ".join(self.endpoints) or None
            raise warehouse.WarehouseValidationError(err.table, err.problems, where) from err


def _add_partition_metadata(
    context: dg.AssetExecutionContext,
    conn: DuckDBPyConnection,
    spec: DailyTable,
    organization_id: str,
    first: date,
    earliest_key: date | None,
) -> None:
    """Per-day row counts, and which days were written empty without asking the API.

    A range run yields one materialization per day; without this each day would carry
    the whole range's row count.
    """
    table, column = spec.model.Config.name, spec.date_column
    keys = context.partition_keys
    counts = dict(
        conn.execute(
            f"SELECT {column}, COUNT(*) FROM {table} "
            f"WHERE organization_id = ? AND {column} >= ? AND {column} <= ? GROUP BY 1",
            [organization_id, date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])],
        ).fetchall()
    )
    for key in keys:
        day = date.fromisoformat(key)
        metadata: dict[str, Any] = {
            "dagster/row_count": int(counts.get(day, 0)),
            "fetched_from_api": day >= first,
        }
        if day < first:
            metadata["skipped_reason"] = _skip_reason(spec, day, earliest_key)
        context.add_asset_metadata(metadata, partition_key=key)


def _skip_reason(spec: DailyTable, day: date, earliest_key: date | None) -> str:
    if spec.first_api_day is not None and day < spec.first_api_day:
        why = f"the API has no {spec.name} before {spec.first_api_day}"
    else:
        why = f"before the earliest API key creation ({earliest_key})"
    return f"written empty without an API call: {why}"


def daily_freshness() -> dg.FreshnessPolicy:
    """Updated every day before the stale-data hour (UTC): Dagster 1.13's freshness policy,
    shown as the asset's freshness in the UI (the daemon evaluates it when `freshness:
    enabled` is set in dagster.yaml, as in `instance/dagster.yaml`).

    It looks at the latest materialization of any day, so a backfill of old days also
    counts; the `stale_data` alert checks yesterday's partition itself.
    """
    return dg.FreshnessPolicy.cron(
        deadline_cron=f"0 {settings.alert_stale_hour()} * * *",
        lower_bound_delta=timedelta(hours=24),
        timezone="UTC",
    )


def _daily_asset(spec: DailyTable) -> dg.AssetsDefinition:
    table = spec.model.Config.name
    key = dg.AssetKey(["openai", spec.name])

    @dg.asset(
        key=key,
        description=spec.description,
        group_name="openai_daily",
        partitions_def=daily_partitions,
        backfill_policy=SINGLE_RUN,
        deps=[ACCESS_CHECK_KEY]
        + ([dg.AssetKey(["openai", "api_keys"])] if spec.after_keys else [])
        + [dg.AssetKey(["openai", name]) for name in spec.after],
        pool=WRITER_POOL,
        retry_policy=API_RETRY,
        metadata=definition_metadata(spec.model),
        kinds={"duckdb", "openai"},
        check_specs=daily_checks.check_specs(key, spec.name),
        freshness_policy=daily_freshness() if spec.expected_daily else None,
    )
    def _asset(
        context: dg.AssetExecutionContext,
        openai_admin: OpenAIAdminResource,
        duckdb: DuckDBResource,
    ) -> dg.MaterializeResult:
        org = openai_admin.organization(context)
        start, end = window_days(context.partition_time_window)
        # The cap holds for the checks and metadata too: they scan the range just written,
        # and uncapped DuckDB keeps the pages it read cached (a year of usage: ~170 MiB).
        memory_cap = settings.write_memory_limit()
        with duckdb.get_connection() as conn, warehouse.memory_limit(conn, memory_cap):
            warehouse.ensure_schema(conn)
            earliest = earliest_key_day(conn, org)
            first = fetch_start(spec, start, end, earliest)
            if first > start:
                context.log.info(
                    "%s: %s..%s %s",
                    table,
                    start,
                    first,
                    _skip_reason(spec, start, earliest),
                )
            if earliest is None and spec.skip_before_first_key:
                context.log.warning(
                    "%s: openai.api_keys is empty, so no day can be skipped; materialize "
                    "openai/api_keys first to avoid paging empty history",
                    table,
                )
            feed = PageFeed(spec, org)
            switched_off: Exception | None = None
            off: tuple[type[Exception], ...] = (spec.switched_off,) if spec.switched_off else ()
            with permanent_failures_are_final(), openai_admin.client(context.log) as client:
                try:
                    with warehouse.transaction(conn):
                        rows = feed.write(conn, client, start, first, end)
                        if spec.after_write is not None:
                            spec.after_write(conn, org)
                except off as err:
                    switched_off, rows = err, 0
                    context.log.warning("%s: nothing written, rows kept. %s", table, err)
                stats = client.stats.as_dict()
            context.log.info(
                "%s: replaced %s..%s with %d rows from %d pages (%d requests, %d retries)",
                table,
                start,
                end,
                rows,
                feed.pages,
                stats["requests"],
                stats["retries"],
            )
            _add_partition_metadata(context, conn, spec, org, first, earliest)
            check_results = daily_checks.run_checks(
                conn, key, spec.name, org, start, end, switched_off=switched_off
            )
            extra: dict[str, Any] = {}
            if spec.switched_off is not None:
                extra["switched_on"] = switched_off is None
            return dg.MaterializeResult(
                metadata={
                    **extra,
                    "rows_in_window": rows,
                    "window_start": start.isoformat(),
                    "window_end_exclusive": end.isoformat(),
                    "days": (end - start).days,
                    "days_skipped_before_first_data": (first - start).days,
                    "pages": feed.pages,
                    "requests": stats["requests"],
                    "retries": stats["retries"],
                    "source": openai_admin.source,
                    "write_memory_limit": memory_cap or "DuckDB's default",
                    "preview": preview(
                        conn,
                        f"SELECT * FROM {table} WHERE {spec.date_column} >= ? "
                        f"AND {spec.date_column} < ? ORDER BY ALL",
                        [start, end],
                    ),
                },
                check_results=check_results,
            )

    return _asset


daily_assets = [_daily_asset(spec) for spec in DAILY_TABLES]
