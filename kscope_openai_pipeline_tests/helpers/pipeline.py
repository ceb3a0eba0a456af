"""What the Dagster-level tests share: running assets, reading DuckDB, expected values.

Expected values come from `sandbox/ground_truth.py` (which reads the synthetic org, never
HTTP) and from the org's own records; nothing here is copied from a run. Request minima
are computed from the API's page limits and the org's sizes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.openai.daily import daily_assets
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets, organization
from kscope_openai_pipeline.openai_admin import API_KEY_COSTS_FIRST_DAY, USAGE_METRICS
from kscope_openai_pipeline.openai_admin.bucket_reads import COSTS_PAGE_LIMIT, USAGE_PAGE_LIMIT
from kscope_openai_pipeline.openai_admin.client import LIST_PAGE_LIMIT
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import FAMILY_METRICS, USAGE_FAMILIES, SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox, ServedRequest
from kscope_openai_pipeline_tests.helpers.fill_from_org import usage_frame

INVENTORY = [*inventory_assets, organization]
AUDIT_LOG_KEY = dg.AssetKey(["openai", "audit_logs"])
#: The usage and cost assets (the audit log, also daily, has its own tests and helpers).
DAILY = [a for a in daily_assets if a.key != AUDIT_LOG_KEY]
DAILY_KEYS = [a.key for a in DAILY]
AUDIT_LOG = next(a for a in daily_assets if a.key == AUDIT_LOG_KEY)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class Pipeline:
    """A sandbox, the warehouse file the pipeline writes, and the resources pointing there."""

    sandbox: Sandbox
    db_path: Path
    resources: dict[str, object]

    @property
    def org(self) -> SyntheticOrg:
        return self.sandbox.org

    def day(self, offset: int) -> date:
        """The sandbox's first data day plus `offset` days (negative: before any data)."""
        return gt.to_date(self.org.start_day) + timedelta(days=offset)

    def materialize(
        self,
        assets: Sequence[dg.AssetsDefinition],
        first: date | None = None,
        last: date | None = None,
        *,
        raise_on_error: bool = True,
        instance: dg.DagsterInstance | None = None,
    ) -> dg.ExecuteInProcessResult:
        """One real Dagster run of `assets`; with `first`, the partition range first..last."""
        tags = {}
        if first is not None:
            tags = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: (last or first).isoformat()}
        return dg.materialize(
            assets,
            resources=self.resources,
            instance=instance or dg.DagsterInstance.ephemeral(),
            tags=tags,
            raise_on_error=raise_on_error,
        )


def days(first: date, last: date) -> list[date]:
    """first..last inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- reading the warehouse ---------------------------------------------------------------


def query(db_path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query; the connection is closed and dropped before returning.

    The warehouse file must not stay attached in this process between runs (a read-only
    attachment would refuse the next run's writer), hence no connection ever escapes.
    """
    conn = warehouse.connect(db_path, read_only=True)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()
        del conn  # a failing query's traceback must not keep the file attached


def execute(db_path: Path, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement against the warehouse for writing (tests that damage a table)."""
    conn = warehouse.connect(db_path)
    try:
        conn.execute(sql, list(params))
    finally:
        conn.close()
        del conn


def table_rows(db_path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table, sorted: equal lists mean identical tables (exact Decimals)."""
    return query(db_path, f"SELECT * FROM {table} ORDER BY ALL")


def table_checksum(db_path: Path, table: str) -> tuple[int, int]:
    """(rows, order-independent hash of every row) as DuckDB computes it."""
    ((n, digest),) = query(db_path, f"SELECT COUNT(*), BIT_XOR(HASH(t)) FROM {table} AS t")
    return int(n), int(digest or 0)


def stored_usage(db_path: Path, first: date, last: date) -> dict[str, dict[date, dict[str, int]]]:
    """openai.usage summed per family and day, every metric column."""
    sums = ", ".join(f"SUM({m})" for m in USAGE_METRICS)
    rows = query(
        db_path,
        f"SELECT usage_type, usage_date, {sums} FROM openai.usage "
        "WHERE usage_date BETWEEN ? AND ? GROUP BY ALL",
        [first, last],
    )
    out: dict[str, dict[date, dict[str, int]]] = defaultdict(dict)
    for family, day, *values in rows:
        out[family][day] = {m: int(v) for m, v in zip(USAGE_METRICS, values, strict=True)}
    return dict(out)


# -- expected values -------------------------------------------------------------------------


def expected_usage(
    org: SyntheticOrg, first: date, last: date
) -> dict[str, dict[date, dict[str, int]]]:
    """Ground truth per family and day, with every other metric column at 0."""
    out: dict[str, dict[date, dict[str, int]]] = {}
    for family in USAGE_FAMILIES:
        truth = gt.usage_totals(org, family, first, last + timedelta(days=1))
        if not truth.per_day:
            continue
        out[family] = {
            day: {m: metrics.get(m, 0) for m in USAGE_METRICS}
            for day, metrics in truth.per_day.items()
        }
        for metrics in out[family].values():
            assert set(metrics) >= set(FAMILY_METRICS[family])
    return out


def expected_usage_rows(org: SyntheticOrg, first: date, last: date) -> list[tuple[Any, ...]]:
    """openai.usage rows for first..last as the org's events aggregate to (sorted by repr).

    From the test helper that fills a warehouse straight from the org's records: one row
    per day x family x the dimensions the pipeline groups by, metrics summed.
    """
    frame = usage_frame(org)
    frame = frame[(frame["usage_date"] >= first) & (frame["usage_date"] <= last)]
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return sorted(map(tuple, values), key=repr)


def stored_usage_rows(db_path: Path, first: date, last: date) -> list[tuple[Any, ...]]:
    rows = query(db_path, "SELECT * FROM openai.usage WHERE usage_date BETWEEN ? AND ?",
                 [first, last])  # fmt: skip
    return sorted(rows, key=repr)


def expected_costs(
    org: SyntheticOrg, first: date, last: date
) -> dict[tuple[date, str | None, str], Decimal]:
    return gt.cost_totals(org, first, last + timedelta(days=1)).per_day_project_line_item


def expected_api_key_costs(
    org: SyntheticOrg, first: date, last: date
) -> dict[tuple[date, str | None], Decimal]:
    start = max(first, API_KEY_COSTS_FIRST_DAY)
    return gt.api_key_cost_totals(org, start, last + timedelta(days=1))


def _pages(items: int, limit: int) -> int:
    """Requests a listing needs: an empty listing still costs one request."""
    return max(1, math.ceil(items / limit))


def minimum_daily_requests(first: date, last: date) -> dict[str, int]:
    """Fewest requests for first..last: 31 days a usage page, 180 a costs page."""
    n = (last - first).days + 1
    key_days = max(0, (last - max(first, API_KEY_COSTS_FIRST_DAY)).days + 1)
    out = {f"/organization/usage/{f}": math.ceil(n / USAGE_PAGE_LIMIT) for f in USAGE_FAMILIES}
    out["/organization/costs"] = math.ceil(n / COSTS_PAGE_LIMIT) + math.ceil(
        key_days / COSTS_PAGE_LIMIT
    )
    return out


def minimum_audit_log_requests(org: SyntheticOrg, first: date, last: date) -> dict[str, int]:
    """Fewest requests for first..last of the audit log: one per 100 events (at least one)."""
    lo, hi = gt.to_epoch(first), gt.to_epoch(last + timedelta(days=1))
    events = sum(lo <= e.effective_at < hi for e in org.audit_events)
    return {"/organization/audit_logs": _pages(events, LIST_PAGE_LIMIT)}


def minimum_inventory_requests(org: SyntheticOrg) -> dict[str, int]:
    """Fewest requests to list the inventory, per path (projects listed once).

    Keys are listed for every project (archived ones still carry usage); service
    accounts and members only for active projects (the API refuses archived ones).
    """
    listed = [k for k in org.api_keys if not k.deleted]
    out = {
        "/organization/projects": _pages(len(org.projects), LIST_PAGE_LIMIT),
        "/organization/admin_api_keys": _pages(
            sum(k.kind == "admin" for k in listed), LIST_PAGE_LIMIT
        ),
        "/organization/users": _pages(len(org.users), LIST_PAGE_LIMIT),
        "/organization/invites": _pages(len(org.invites), LIST_PAGE_LIMIT),
    }
    for p in org.projects:
        keys = sum(k.project_id == p.id and k.kind == "project" for k in listed)
        out[f"/organization/projects/{p.id}/api_keys"] = _pages(keys, LIST_PAGE_LIMIT)
        if p.status == "archived":
            continue
        accounts = sum(s.project_id == p.id for s in org.service_accounts)
        members = sum(m.project_id == p.id for m in org.project_users)
        out[f"/organization/projects/{p.id}/service_accounts"] = _pages(accounts, LIST_PAGE_LIMIT)
        out[f"/organization/projects/{p.id}/users"] = _pages(members, LIST_PAGE_LIMIT)
    return out


def minimum_access_check_requests(org: SyntheticOrg) -> dict[str, int]:
    """What the access check (`openai/access_check`) adds to a run: one request per
    permission, seven in all; the project keys probed are those of the first listed
    project (the sandbox lists projects in the org's order)."""
    return {
        "/organization/admin_api_keys": 1,
        "/organization/projects": 1,
        f"/organization/projects/{org.projects[0].id}/api_keys": 1,
        "/organization/users": 1,
        "/organization/usage/completions": 1,
        "/organization/costs": 1,
        "/organization/audit_logs": 1,
    }


def merged_requests(*counts: Mapping[str, int]) -> dict[str, int]:
    """Request counts per path, added up (the same path in several minima)."""
    out: dict[str, int] = defaultdict(int)
    for c in counts:
        for path, n in c.items():
            out[path] += n
    return dict(out)


def requests_per_path(requests: Sequence[ServedRequest]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in requests:
        counts[r.path] += 1
    return dict(counts)


# -- reading a run's events ----------------------------------------------------------------


def events_of(result: dg.ExecuteInProcessResult, event_type: str, step: str | None = None):
    return [
        e
        for e in result.all_events
        if e.event_type_value == event_type and (step is None or e.step_key == step)
    ]


def partition_metadata(
    result: dg.ExecuteInProcessResult, key: dg.AssetKey
) -> dict[str, Mapping[str, Any]]:
    """partition -> metadata values of the run's materializations of `key`."""
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key == key:
            out[mat.partition] = {k: v.value for k, v in mat.metadata.items()}
    return out
