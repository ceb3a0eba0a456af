"""Compute the sightlines inside DuckDB: pure functions the Dagster assets call.

Why this shape: the sightlines join millions of usage rows to the Kscope inputs; the work
belongs in DuckDB, set-based, in `.sql` files analysts can read (`sql/`), not in Python
loops. Each `compute_*` function runs its SELECT and replaces the whole sightline table
in ONE transaction (DELETE + INSERT ... BY NAME), after checking the table's grain inside
that transaction, so a failure or a duplicate leaves the previous rows. It returns the
row count and a summary dict (headline numbers) for the asset's metadata.

Order matters: `gateway_bypass` before `billing_reconciliation` (which reads the bypass
statuses), `seat_allocation` before `seat_governance` (which sums the seat costs).
`compute_all` runs the four in that order in one transaction.

    params = SightlineParams(as_of=default_as_of(conn))
    results = compute_all(conn, params)
    results["sightlines.gateway_bypass"].summary["headline"]
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import grain, table_name

SQL_DIR = Path(__file__).parent / "sql"
#: DDL of the sightlines.* tables, run by `ensure_sightlines_schema` (deliberately not a
#: global `warehouse.register_ddl`: importing this module must not change what every
#: other `warehouse.ensure_schema` call creates).
DDL_FILE = SQL_DIR / "00_sightlines_tables.sql"

#: Default ILIKE patterns of subscription (seat) line items in openai.costs.
#: Only `%seat%`: a broader pattern such as `ChatGPT%` would also match (ILIKE ignores case)
#: the API spend of the `chatgpt-4o-latest` model and drop it from reconciliation.
DEFAULT_SUBSCRIPTION_PATTERNS: tuple[str, ...] = ("%seat%",)

GATEWAY_BYPASS = table_name(models.GatewayBypass)
BILLING_RECONCILIATION = table_name(models.BillingReconciliation)
SEAT_ALLOCATION = table_name(models.SeatAllocation)
SEAT_GOVERNANCE = table_name(models.SeatGovernance)

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


class SightlineError(RuntimeError):
    """A sightline could not be computed or broke its grain; the previous rows were kept."""


@dataclass(frozen=True)
class SightlineParams:
    """Everything the sightlines depend on besides the warehouse.

    as_of: last UTC day of the trailing window (inclusive); window_days: its length.
    tolerance_pct / tolerance_usd: a reconciliation gap is `matched` when
    |gap| <= max(tolerance_pct x billed, tolerance_usd).
    subscription_patterns: ILIKE patterns of seat line items (excluded from the billed side
    of reconciliation, allocated by seat_allocation).
    strip_plus_addresses / domain_aliases ((alias domain, canonical domain) pairs): the
    seat-governance matching rules. recon_start / recon_end: the days reconciled (inclusive;
    None = the first / last day of openai.costs).
    """

    as_of: dt.date
    window_days: int = 30
    tolerance_pct: Decimal = Decimal("0.01")
    tolerance_usd: Decimal = Decimal("0.01")
    subscription_patterns: tuple[str, ...] = DEFAULT_SUBSCRIPTION_PATTERNS
    strip_plus_addresses: bool = True
    domain_aliases: tuple[tuple[str, str], ...] = ()
    recon_start: dt.date | None = None
    recon_end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {self.window_days}")
        if self.tolerance_pct < 0 or self.tolerance_usd < 0:
            raise ValueError("tolerances cannot be negative")
        if not self.subscription_patterns:
            raise ValueError("give at least one subscription line-item pattern")

    @property
    def window_start(self) -> dt.date:
        """First day of the trailing window."""
        return self.as_of - dt.timedelta(days=self.window_days - 1)


@dataclass(frozen=True)
class SightlineResult:
    """What one sightline run wrote: the table, its row count and a summary for metadata."""

    table: str
    rows: int
    summary: dict[str, Any] = field(default_factory=dict)


@functools.cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql` (without a trailing semicolon)."""
    return (SQL_DIR / f"{name}.sql").read_text().strip().rstrip(";")


def _bind(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Only the named parameters `sql` uses (DuckDB refuses unused ones)."""
    used = set(_PARAMETER.findall(_strip_comments(sql)))
    missing = used - set(values)
    if missing:
        raise ValueError(f"no value for SQL parameter(s) {sorted(missing)}")
    return {name: values[name] for name in used}


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def _values(
    params: SightlineParams, start: dt.date, end: dt.date, *, bypass_keys_only: bool = False
) -> dict[str, Any]:
    return {
        "bypass_keys_only": bypass_keys_only,
        "as_of": params.as_of,
        "window_days": params.window_days,
        "tolerance_pct": params.tolerance_pct,
        "tolerance_usd": params.tolerance_usd,
        "subscription_patterns": list(params.subscription_patterns),
        "strip_plus_addresses": params.strip_plus_addresses,
        "alias_domains": [a for a, _ in params.domain_aliases],
        "canonical_domains": [c for _, c in params.domain_aliases],
        "start_date": start,
        "end_date": end,
    }


def default_as_of(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last day with billing or usage in the warehouse (None for an empty warehouse).

    The natural `as_of`: today is partial and OpenAI restates recent days, so the last
    stored day is what the trailing window should end on.
    """
    row = conn.execute(
        """
        SELECT greatest(
            (SELECT MAX(cost_date) FROM openai.costs),
            (SELECT MAX(usage_date) FROM openai.usage)
        )
        """
    ).fetchone()
    return row[0] if row else None


def recon_range(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> tuple[dt.date, dt.date]:
    """The days billing_reconciliation covers: the params', else openai.costs' first/last."""
    first, last = conn.execute(
        "SELECT MIN(cost_date), MAX(cost_date) FROM openai.costs"
    ).fetchone() or (None, None)
    start = params.recon_start or first or params.window_start
    end = params.recon_end or last or params.as_of
    if end < start:
        raise ValueError(f"empty reconciliation range: {start} is after {end}")
    return start, end


# --------------------------------------------------------------------------- the runs


def _load_key_daily_costs(
    conn: duckdb.DuckDBPyConnection,
    params: SightlineParams,
    start: dt.date,
    end: dt.date,
    *,
    bypass_keys_only: bool,
) -> None:
    """TEMP key_daily_costs for [start, end]; see api_key_daily_costs.sql for the rules."""
    sql = load_sql("api_key_daily_costs")
    values = _values(params, start, end, bypass_keys_only=bypass_keys_only)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE key_daily_costs AS\n{sql}", _bind(sql, values))


def _replace(
    conn: duckdb.DuckDBPyConnection,
    model: type[Any],
    sql_name: str,
    params: SightlineParams,
    start: dt.date,
    end: dt.date,
) -> int:
    """DELETE + INSERT the sightline's SELECT, then refuse a broken grain (caller's txn)."""
    table = warehouse.checked_table(table_name(model))
    sql = load_sql(sql_name)
    conn.execute(f"DELETE FROM {table}")
    conn.execute(f"INSERT INTO {table} BY NAME\n{sql}", _bind(sql, _values(params, start, end)))
    rows = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    n_keys, examples = warehouse.duplicate_grain(conn, table, grain(model))
    if n_keys:
        raise SightlineError(
            f"{table}: {n_keys} duplicated grain keys {list(grain(model))}, e.g. {examples}; "
            "the previous rows were kept"
        )
    return rows


def _bypass(conn: duckdb.DuckDBPyConnection, params: SightlineParams) -> int:
    _load_key_daily_costs(conn, params, params.window_start, params.as_of, bypass_keys_only=False)
    return _replace(
        conn, models.GatewayBypass, "gateway_bypass", params, params.window_start, params.as_of
    )


def _reconciliation(conn: duckdb.DuckDBPyConnection, params: SightlineParams) -> int:
    start, end = recon_range(conn, params)
    # only the unregistered keys' spend is needed (bypass_explained_usd)
    _load_key_daily_costs(conn, params, start, end, bypass_keys_only=True)
    return _replace(
        conn, models.BillingReconciliation, "billing_reconciliation", params, start, end
    )


def _allocation(conn: duckdb.DuckDBPyConnection, params: SightlineParams) -> int:
    return _replace(
        conn, models.SeatAllocation, "seat_allocation", params, params.window_start, params.as_of
    )


def _governance(conn: duckdb.DuckDBPyConnection, params: SightlineParams) -> int:
    return _replace(
        conn, models.SeatGovernance, "seat_governance", params, params.window_start, params.as_of
    )


_RUNS: dict[str, Callable[[duckdb.DuckDBPyConnection, SightlineParams], int]] = {
    SEAT_ALLOCATION: _allocation,
    GATEWAY_BYPASS: _bypass,
    BILLING_RECONCILIATION: _reconciliation,
    SEAT_GOVERNANCE: _governance,
}


def ensure_sightlines_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse and sightlines tables if missing, with column comments."""
    from kscope_openai_pipeline.warehouse.ddl import default_models

    warehouse.ensure_schema(conn, [DDL_FILE], models=[*default_models(), *models.MODELS])


def _run_one(conn: duckdb.DuckDBPyConnection, table: str, params: SightlineParams) -> int:
    ensure_sightlines_schema(conn)
    try:
        with warehouse.transaction(conn):
            return _RUNS[table](conn, params)
    except duckdb.Error as err:
        raise SightlineError(f"{table} could not be computed (previous rows kept): {err}") from err


def compute_seat_allocation(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> SightlineResult:
    """Replace sightlines.seat_allocation (subscription line items split across members)."""
    from kscope_openai_pipeline.defs.sightlines import report

    rows = _run_one(conn, SEAT_ALLOCATION, params)
    return SightlineResult(SEAT_ALLOCATION, rows, report.summarize_seat_allocation(conn, params))


def compute_gateway_bypass(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> SightlineResult:
    """Replace sightlines.gateway_bypass (every project key's registration and window cost)."""
    from kscope_openai_pipeline.defs.sightlines import report

    rows = _run_one(conn, GATEWAY_BYPASS, params)
    return SightlineResult(GATEWAY_BYPASS, rows, report.summarize_gateway_bypass(conn, params))


def compute_billing_reconciliation(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> SightlineResult:
    """Replace sightlines.billing_reconciliation; needs sightlines.gateway_bypass computed."""
    from kscope_openai_pipeline.defs.sightlines import report

    rows = _run_one(conn, BILLING_RECONCILIATION, params)
    return SightlineResult(
        BILLING_RECONCILIATION, rows, report.summarize_billing_reconciliation(conn, params)
    )


def compute_seat_governance(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> SightlineResult:
    """Replace sightlines.seat_governance; needs sightlines.seat_allocation computed."""
    from kscope_openai_pipeline.defs.sightlines import report

    rows = _run_one(conn, SEAT_GOVERNANCE, params)
    return SightlineResult(SEAT_GOVERNANCE, rows, report.summarize_seat_governance(conn, params))


def compute_all(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, SightlineResult]:
    """All four sightlines in dependency order, in ONE transaction (all or nothing)."""
    from kscope_openai_pipeline.defs.sightlines import report

    ensure_sightlines_schema(conn)
    rows: dict[str, int] = {}
    try:
        with warehouse.transaction(conn):
            for table, run in _RUNS.items():
                rows[table] = run(conn, params)
    except duckdb.Error as err:
        raise SightlineError(
            f"sightlines could not be computed (previous rows kept): {err}"
        ) from err
    summarize = {
        SEAT_ALLOCATION: report.summarize_seat_allocation,
        GATEWAY_BYPASS: report.summarize_gateway_bypass,
        BILLING_RECONCILIATION: report.summarize_billing_reconciliation,
        SEAT_GOVERNANCE: report.summarize_seat_governance,
    }
    return {
        table: SightlineResult(table, count, summarize[table](conn, params))
        for table, count in rows.items()
    }
