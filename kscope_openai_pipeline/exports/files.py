"""The FOCUS files: one Parquet file per billing month, replaced atomically; CSV on demand.

Why whole months: FOCUS data is exchanged per billing period, and a FinOps tool that loads
`focus_costs_2026-11.parquet` expects all of November in it. So a write of a few days
rewrites the complete month as stored in exports.focus_costs.

Why atomically: a FinOps tool may read the folder at any moment. Each file is written to a
temporary name beside it, fsynced, then renamed over the old one (and the folder fsynced),
as the analyst copy is: a reader sees the old month or the new one, never half of one.

How values are written, so that FOCUS readers (and focus-validator) type them right:
- Parquet: timestamps as TIMESTAMP WITH TIME ZONE in UTC, money as DECIMAL(18,9),
  quantities and unit prices as DOUBLE, text as UTF-8.
- CSV: a header, timestamps as `2026-11-01T00:00:00Z`, numbers with a decimal point
  (`30.000000000`, `1234.0`), empty cells for NULL, RFC 4180 quoting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kscope_openai_pipeline.exports.focus import TABLE, next_month
from kscope_openai_pipeline.schemas.focus_columns import FOCUS_COLUMNS

FORMATS = {".parquet": "parquet", ".csv": "csv"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_TIMESTAMPS = [c.name for c in FOCUS_COLUMNS if c.sql_type == "TIMESTAMP"]
_ORDER = "ChargePeriodStart, BillingAccountId, SubAccountId NULLS FIRST, x_LineItem NULLS FIRST"


@dataclass(frozen=True)
class MonthFile:
    """A month written (or removed, when it has no rows): where, how many rows, the sum."""

    month: dt.date
    path: Path
    rows: int
    billed_usd: str  # exact, as DuckDB prints the DECIMAL sum ("0" when removed)


def parse_month(text: str) -> dt.date:
    """'2026-11' -> 2026-11-01; ValueError with the expected form otherwise."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def file_format(path: str | Path) -> str:
    """'parquet' or 'csv' from the file name; ValueError naming the choices otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{path}: unknown extension {suffix or '(none)'!r}; use .parquet or .csv"
        )
    return FORMATS[suffix]


def month_file(folder: str | Path, month: dt.date) -> Path:
    """Where the month's Parquet file lives: `<folder>/focus_costs_YYYY-MM.parquet`."""
    return Path(folder) / f"focus_costs_{month:%Y-%m}.parquet"


def months_with_rows(conn: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """The billing months exports.focus_costs holds rows for."""
    rows = conn.execute(
        f"SELECT DISTINCT CAST(BillingPeriodStart AS DATE) FROM {TABLE} ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select(month: dt.date, fmt: str) -> str:
    """The month's rows, with the timestamps written as the format needs them."""
    columns = []
    for c in FOCUS_COLUMNS:
        if c.name in _TIMESTAMPS and fmt == "parquet":
            columns.append(f"timezone('UTC', {c.name}) AS {c.name}")
        elif c.name in _TIMESTAMPS:
            columns.append(f"strftime({c.name}, '%Y-%m-%dT%H:%M:%SZ') AS {c.name}")
        else:
            columns.append(c.name)
    first, after = month.isoformat(), next_month(month).isoformat()
    return (
        f"SELECT {', '.join(columns)} FROM {TABLE} "
        f"WHERE BillingPeriodStart >= TIMESTAMP '{first}' "
        f"AND BillingPeriodStart < TIMESTAMP '{after}' ORDER BY {_ORDER}"
    )


def _fsync(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_month(conn: duckdb.DuckDBPyConnection, month: dt.date, path: str | Path) -> MonthFile:
    """Write one billing month of exports.focus_costs to `path` (.parquet or .csv), atomically.

    Returns what was written; a month without rows writes nothing (rows 0) and leaves
    `path` as it was. The folder is created if needed.
    """
    target = Path(path)
    fmt = file_format(target)
    (rows, billed) = conn.execute(
        "SELECT COUNT(*), CAST(coalesce(SUM(BilledCost), 0) AS VARCHAR) "
        f"FROM ({_select(month, fmt)})"
    ).fetchone()  # type: ignore[misc]
    if not rows:
        return MonthFile(month, target, 0, "0")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    options = "FORMAT PARQUET" if fmt == "parquet" else "FORMAT CSV, HEADER, DELIMITER ','"
    try:
        conn.execute(f"COPY ({_select(month, fmt)}) TO {_quote(str(tmp))} ({options})")
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return MonthFile(month, target, int(rows), str(billed))


def write_month_files(
    conn: duckdb.DuckDBPyConnection, months: tuple[dt.date, ...] | list[dt.date], folder: str | Path
) -> list[MonthFile]:
    """Rewrite the Parquet file of each month from the table; remove a month left empty."""
    written = []
    for month in months:
        path = month_file(folder, month)
        result = write_month(conn, month, path)
        if result.rows == 0 and path.exists():
            path.unlink()
            _fsync(path.parent, directory=True)
        written.append(result)
    return written
