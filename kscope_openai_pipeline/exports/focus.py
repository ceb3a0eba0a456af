"""Build exports.focus_costs: openai.costs as FOCUS 1.2 rows, one window of days at a time.

Why this shape: the mapping is SQL (`sql/focus_costs.sql`) that analysts and FinOps
engineers can read beside the column dictionary. `replace_window` stages the rows of one
calendar month at a time in a TEMP table, gates them with the pandera model, inserts them,
and before COMMIT checks the FOCUS rules the validator skips (`sql/focus_rules.sql`), the
grain, and that every cost row became exactly one FOCUS row with its exact amount
(`sql/focus_vs_costs.sql`). Any failure rolls back: the previous rows stay.

    result = replace_window(conn, date(2026, 11, 1), date(2026, 12, 1))
    result.months  # the billing months whose files must be rewritten
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import exports as models
from kscope_openai_pipeline.schemas.base import grain
from kscope_openai_pipeline.sightlines import (
    DEFAULT_SUBSCRIPTION_PATTERNS,
    ensure_sightlines_schema,
)
from kscope_openai_pipeline.warehouse.sql_text import bind_parameters, read_sql

SQL_DIR = Path(__file__).parent / "sql"
#: DDL of the exports.* tables, run by `ensure_exports_schema`.
DDL_FILE = SQL_DIR / "00_exports_tables.sql"
TABLE = "exports.focus_costs"
_STAGE = "focus_costs_stage"


class FocusExportError(ValueError):
    """Rows that must not be exported: names the rule, the rows and an example."""


@dataclass(frozen=True)
class MonthCheck:
    """One organization's billing month: the export against openai.costs."""

    organization_id: str
    month: dt.date
    focus_rows: int
    cost_rows: int
    focus_billed_usd: Decimal
    costs_billed_usd: Decimal
    unmatched_keys: int

    @property
    def exact(self) -> bool:
        return (
            self.focus_rows == self.cost_rows
            and self.focus_billed_usd == self.costs_billed_usd
            and self.unmatched_keys == 0
        )


@dataclass(frozen=True)
class WindowResult:
    """What `replace_window` stored: rows per day and the billing months touched."""

    start: dt.date
    end: dt.date
    rows: int
    rows_per_day: dict[dt.date, int] = field(default_factory=dict)
    months: tuple[dt.date, ...] = ()


@functools.cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql` (without a trailing semicolon)."""
    return read_sql(SQL_DIR, name)


def run_sql(
    conn: duckdb.DuckDBPyConnection, name: str, **values: Any
) -> duckdb.DuckDBPyConnection:
    """Execute `sql/<name>.sql` with its named parameters."""
    sql = load_sql(name)
    return conn.execute(sql, bind_parameters(sql, values))


def ensure_exports_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse, sightlines and exports tables if missing, with comments.

    The sightlines tables are needed too: the mapping reads the reconciliation (an empty
    one just leaves the x_ columns NULL).
    """
    ensure_sightlines_schema(conn)
    warehouse.ensure_schema(
        conn, [DDL_FILE], models=[*warehouse.default_models(), *models.MODELS]
    )


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_touched(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """First days of the calendar months that [start, end) overlaps."""
    months = []
    month = month_start(start)
    while month < end:
        months.append(month)
        month = next_month(month)
    return tuple(months)


def _chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[start, end) cut at month boundaries: memory stays bounded by one month's rows."""
    return [(max(m, start), min(next_month(m), end)) for m in months_touched(start, end)]


def replace_window(
    conn: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    *,
    subscription_patterns: Sequence[str] = DEFAULT_SUBSCRIPTION_PATTERNS,
    on_deleted: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> WindowResult:
    """Replace the FOCUS rows of the days [start, end) from openai.costs, in one transaction.

    Refuses (FocusExportError / WarehouseValidationError, previous rows kept) rows the
    pandera model rejects, a broken FOCUS rule, a duplicated grain and any cost row not
    exported exactly. Joins the caller's `warehouse.transaction` when there is one.
    """
    if end <= start:
        raise ValueError(f"empty or inverted window: [{start}, {end})")
    ensure_exports_schema(conn)
    values = {
        "start_date": start,
        "end_date": end,
        "subscription_patterns": list(subscription_patterns),
    }
    with warehouse.transaction(conn):
        conn.execute(
            f"DELETE FROM {TABLE} WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ?",
            [start, end],
        )
        if on_deleted is not None:
            on_deleted(conn)
        for chunk_start, chunk_end in _chunks(start, end):
            _insert_chunk(conn, {**values, "start_date": chunk_start, "end_date": chunk_end})
        _check_window(conn, start, end)
        rows_per_day = {
            day: int(n)
            for day, n in conn.execute(
                f"SELECT CAST(ChargePeriodStart AS DATE), COUNT(*) FROM {TABLE} "
                "WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? GROUP BY 1 ORDER BY 1",
                [start, end],
            ).fetchall()
        }
    return WindowResult(
        start, end, sum(rows_per_day.values()), rows_per_day, months_touched(start, end)
    )


def _insert_chunk(conn: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Stage one month's rows, gate them with the pandera model, insert them.

    The gate runs over the staged rows as Arrow (`warehouse.validate_table`): the mapping
    yields exactly the table's column types, so no value becomes a Python object (a
    pandas frame of Decimals took a second and a half for a few days of a large org).
    A duplicated grain is refused by `_check_window` before COMMIT.
    """
    sql = load_sql("focus_costs")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS\n{sql}", bind_parameters(sql, values))
    try:
        staged = conn.sql(f"SELECT * FROM {_STAGE}").to_arrow_table()
        if staged.num_rows:
            warehouse.validate_table(models.FocusCosts, staged, TABLE)
            del staged
            conn.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM {_STAGE}")
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {_STAGE}")


def rule_violations(
    conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
) -> list[tuple[str, int, str | None]]:
    """(rule, rows breaking it, an example line item) for every rule of focus_rules.sql."""
    rows = run_sql(conn, "focus_rules", start_date=start, end_date=end).fetchall()
    return [(rule, int(n), example) for rule, n, example in rows]


def compare_with_costs(
    conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
) -> list[MonthCheck]:
    """The export against openai.costs per organization and billing month in [start, end)."""
    rows = run_sql(conn, "focus_vs_costs", start_date=start, end_date=end).fetchall()
    return [
        MonthCheck(org, month, int(fr), int(cr), Decimal(fb), Decimal(cb), int(un))
        for org, month, fr, cr, fb, cb, un in rows
    ]


def reconciliation_differences(
    conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """Reconciled (day, project) figures the x_ columns do not carry, and unreconciled days."""
    cursor = run_sql(conn, "focus_vs_reconciliation", start_date=start, end_date=end)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _check_window(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> None:
    """Raise FocusExportError unless the staged window is a faithful FOCUS export."""
    problems = [
        f"{rule}: {n} rows, e.g. {example!r}"
        for rule, n, example in rule_violations(conn, start, end)
        if n
    ]
    n_keys, examples = warehouse.duplicate_grain(
        conn,
        TABLE,
        grain(models.FocusCosts),
        "ChargePeriodStart >= ? AND ChargePeriodStart < ?",
        [start, end],
    )
    if n_keys:
        problems.append(f"{n_keys} duplicated grain keys {list(grain(models.FocusCosts))}, "
                        f"e.g. {examples}")
    problems += [
        f"{m.organization_id} {m.month:%Y-%m}: {m.focus_rows} FOCUS rows / "
        f"{m.cost_rows} cost rows, BilledCost {m.focus_billed_usd} / amount_usd "
        f"{m.costs_billed_usd}, {m.unmatched_keys} unmatched"
        for m in compare_with_costs(conn, start, end)
        if not m.exact
    ]
    if problems:
        raise FocusExportError(
            f"{TABLE} {start}..{end}: not exported (previous rows kept): " + "; ".join(problems)
        )
