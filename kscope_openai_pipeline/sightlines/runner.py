"""Compute the sightlines inside DuckDB: pure functions the Dagster assets call.

Why this shape: the sightlines join millions of usage rows to the Kscope inputs; the work
belongs in DuckDB, set-based, in `.sql` files analysts can read (`sql/`), not in Python
loops. Each sightline runs its SELECT and replaces its whole table (DELETE + INSERT ...
BY NAME), after checking the table's grain inside the transaction, so a failure or a
duplicate leaves the previous rows. `compute_all` returns each table's row count and a
summary (headline numbers, from `summaries`) for the asset's metadata.

Order matters: `gateway_bypass_daily` before `billing_reconciliation` (which sums the
spend of the keys that bypassed the gateway each day), `seat_allocation` before both seat
governance tables (which sum the seat costs). `compute_all` runs the six in that order in
one transaction, after loading the TEMP tables they share: `key_daily_costs` (each key's
cost per day), `daily_members` (who was a member each day, from openai.users_history) and
`email_matches` (which engineers each member address matches).

    params = SightlineParams(as_of=default_as_of(conn))
    results = compute_all(conn, params)
    results["sightlines.gateway_bypass"].summary["headline"]
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import grain, table_name
from kscope_openai_pipeline.sightlines import summaries, summaries_daily
from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    GATEWAY_BYPASS,
    GATEWAY_BYPASS_DAILY,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SEAT_GOVERNANCE_DAILY,
    SightlineError,
    SightlineParams,
    SightlineResult,
)
from kscope_openai_pipeline.warehouse.sql_text import bind_parameters, read_sql

SQL_DIR = Path(__file__).parent / "sql"
#: DDL of the sightlines.* tables, run by `ensure_sightlines_schema` (not by every
#: `warehouse.ensure_schema` call: only the sightlines need these tables).
DDL_FILE = SQL_DIR / "00_sightlines_tables.sql"



@functools.cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql` (without a trailing semicolon)."""
    return read_sql(SQL_DIR, name)


def _values(params: SightlineParams, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {
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


def daily_range(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> tuple[dt.date, dt.date]:
    """The days the daily tables cover: the first to the last day with usage or costs
    (as_of when nothing is stored), widened to the trailing window."""
    first, last = conn.execute(
        """
        SELECT least(
            (SELECT MIN(cost_date) FROM openai.costs),
            (SELECT MIN(usage_date) FROM openai.usage)
        ),
        greatest(
            (SELECT MAX(cost_date) FROM openai.costs),
            (SELECT MAX(usage_date) FROM openai.usage)
        )
        """
    ).fetchone() or (None, None)
    start = min(first or params.window_start, params.window_start)
    end = max(last or params.as_of, params.as_of)
    return start, end


# --------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class _Run:
    """One sightline: its model, SQL and days, and the shared TEMP tables it reads."""

    model: type[Any]
    sql: str
    days: str  # "window", "recon" or "daily"
    needs: tuple[str, ...] = ()


_TEMPS = {  # TEMP table -> (SQL file, the TEMP tables it reads itself)
    "key_daily_costs": ("api_key_daily_costs", ()),
    "daily_members": ("daily_members", ()),
    "email_matches": ("email_matches", ("daily_members",)),
}

_RUNS: dict[str, _Run] = {
    SEAT_ALLOCATION: _Run(models.SeatAllocation, "seat_allocation", "window", ("daily_members",)),
    GATEWAY_BYPASS: _Run(models.GatewayBypass, "gateway_bypass", "window", ("key_daily_costs",)),
    GATEWAY_BYPASS_DAILY: _Run(
        models.GatewayBypassDaily, "gateway_bypass_daily", "daily", ("key_daily_costs",)
    ),
    BILLING_RECONCILIATION: _Run(
        models.BillingReconciliation, "billing_reconciliation", "recon"
    ),
    SEAT_GOVERNANCE: _Run(models.SeatGovernance, "seat_governance", "window", ("email_matches",)),
    SEAT_GOVERNANCE_DAILY: _Run(
        models.SeatGovernanceDaily, "seat_governance_daily", "daily", ("email_matches",)
    ),
}


def _load_temp(
    conn: duckdb.DuckDBPyConnection, name: str, params: SightlineParams, start: dt.date,
    end: dt.date,
) -> None:
    """CREATE OR REPLACE TEMP TABLE `name` from its SQL over [start, end]."""
    sql = load_sql(_TEMPS[name][0])
    values = _values(params, start, end)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS\n{sql}", bind_parameters(sql, values))


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
    values = bind_parameters(sql, _values(params, start, end))
    conn.execute(f"INSERT INTO {table} BY NAME\n{sql}", values)
    rows = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    n_keys, examples = warehouse.duplicate_grain(conn, table, grain(model))
    if n_keys:
        raise SightlineError(
            f"{table}: {n_keys} duplicated grain keys {list(grain(model))}, e.g. {examples}; "
            "the previous rows were kept"
        )
    return rows


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
    for the tables they read (reconciliation reads gateway_bypass_daily, the governance
    tables read seat_allocation); the TEMP tables they need are always loaded. Default:
    all six.
    """
    chosen = set(_RUNS) if tables is None else set(tables)
    unknown = chosen - set(_RUNS)
    if unknown:
        raise ValueError(f"unknown sightline table(s) {sorted(unknown)}; choose from {list(_RUNS)}")
    ensure_sightlines_schema(conn)
    rows: dict[str, int] = {}
    try:
        with warehouse.transaction(conn):
            first, last = daily_range(conn, params)
            days = {
                "window": (params.window_start, params.as_of),
                "recon": recon_range(conn, params),
                "daily": (first, last),
            }
            needed = {t for table in chosen for t in _RUNS[table].needs}
            needed |= {t for name in needed for t in _TEMPS[name][1]}
            for name in _TEMPS:  # in dependency order
                if name in needed:
                    _load_temp(conn, name, params, first, last)
            for table, run in _RUNS.items():
                if table in chosen:
                    start, end = days[run.days]
                    rows[table] = _replace(conn, run.model, run.sql, params, start, end)
    except duckdb.Error as err:
        raise SightlineError(
            f"sightlines could not be computed (previous rows kept): {err}"
        ) from err
    summarize = {
        SEAT_ALLOCATION: summaries.summarize_seat_allocation,
        GATEWAY_BYPASS: summaries.summarize_gateway_bypass,
        GATEWAY_BYPASS_DAILY: summaries_daily.summarize_gateway_bypass_daily,
        BILLING_RECONCILIATION: summaries.summarize_billing_reconciliation,
        SEAT_GOVERNANCE: summaries.summarize_seat_governance,
        SEAT_GOVERNANCE_DAILY: summaries_daily.summarize_seat_governance_daily,
    }
    return {
        table: SightlineResult(table, count, summarize[table](conn, params))
        for table, count in rows.items()
    }
