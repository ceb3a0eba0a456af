"""Compute the sightlines inside DuckDB: pure functions the Dagster assets call.

Why this shape: the sightlines join millions of usage rows to the Kscope inputs; the work
belongs in DuckDB, set-based, in `.sql` files analysts can read (`sql/`), not in Python
loops. Each sightline runs its SELECT and replaces its whole table (DELETE + INSERT ...
BY NAME), after checking the table's grain inside the transaction, so a failure or a
duplicate leaves the previous rows. `compute_all` returns each table's row count and a
summary (headline numbers, from `summaries`) for the asset's metadata.

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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import grain, table_name
from kscope_openai_pipeline.sightlines import summaries
from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    GATEWAY_BYPASS,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SightlineError,
    SightlineParams,
    SightlineResult,
)

SQL_DIR = Path(__file__).parent / "sql"
#: DDL of the sightlines.* tables, run by `ensure_sightlines_schema` (not by every
#: `warehouse.ensure_schema` call: only the sightlines need these tables).
DDL_FILE = SQL_DIR / "00_sightlines_tables.sql"

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


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
    warehouse.ensure_schema(conn, [DDL_FILE], models=[*warehouse.default_models(), *models.MODELS])


def compute_all(
    conn: duckdb.DuckDBPyConnection,
    params: SightlineParams,
    tables: Iterable[str] | None = None,
) -> dict[str, SightlineResult]:
    """The sightlines in dependency order, in ONE transaction (all or nothing).

    `tables` picks some of them (e.g. to time one alone); the caller is then responsible
    for what they read (reconciliation reads gateway_bypass, governance reads
    seat_allocation). Default: all four.
    """
    chosen = set(_RUNS) if tables is None else set(tables)
    unknown = chosen - set(_RUNS)
    if unknown:
        raise ValueError(f"unknown sightline table(s) {sorted(unknown)}; choose from {list(_RUNS)}")
    ensure_sightlines_schema(conn)
    rows: dict[str, int] = {}
    try:
        with warehouse.transaction(conn):
            for table, run in _RUNS.items():
                if table in chosen:
                    rows[table] = run(conn, params)
    except duckdb.Error as err:
        raise SightlineError(
            f"sightlines could not be computed (previous rows kept): {err}"
        ) from err
    summarize = {
        SEAT_ALLOCATION: summaries.summarize_seat_allocation,
        GATEWAY_BYPASS: summaries.summarize_gateway_bypass,
        BILLING_RECONCILIATION: summaries.summarize_billing_reconciliation,
        SEAT_GOVERNANCE: summaries.summarize_seat_governance,
    }
    return {
        table: SightlineResult(table, count, summarize[table](conn, params))
        for table, count in rows.items()
    }
