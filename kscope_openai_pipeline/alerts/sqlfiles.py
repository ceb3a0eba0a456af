"""The alerts' SQL files, split into statements and bound by name.

Why a module: the detection and merge statements live in `sql/` so analysts can read the
rules next to the table; a merge file holds several statements that run in order, each
bound to exactly the parameters it names (`warehouse.sql_text`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from kscope_openai_pipeline.warehouse.sql_text import bind_parameters, read_sql

SQL_DIR = Path(__file__).parent / "sql"
DDL_FILE = SQL_DIR / "00_alerts_table.sql"


def _has_code(sql: str) -> bool:
    return any(line.split("--", 1)[0].strip() for line in sql.splitlines())


@functools.cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of `sql/<name>.sql`, split at semicolons that end a line."""
    parts = re.split(r";[ \t]*$", read_sql(SQL_DIR, name), flags=re.M)
    return tuple(p.strip() for p in parts if _has_code(p))


def run(
    conn: duckdb.DuckDBPyConnection, name: str, values: Mapping[str, Any]
) -> list[list[tuple]]:
    """Execute every statement of the file in order; return each one's rows (for an
    INSERT or UPDATE: one row holding the count of rows changed)."""
    return [conn.execute(sql, bind_parameters(sql, values)).fetchall() for sql in statements(name)]


def select(conn: duckdb.DuckDBPyConnection, name: str, values: Mapping[str, Any]) -> list[tuple]:
    """The rows of a one-statement SELECT file."""
    (rows,) = run(conn, name, values)
    return rows
