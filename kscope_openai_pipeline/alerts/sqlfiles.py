"""The alerts' SQL files: loaded once, split into statements, bound by name.

Why a helper: the detection and merge statements live in `sql/` so analysts can read the
rules next to the table; DuckDB refuses named parameters a statement does not use, so
each statement gets exactly the values it names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).parent / "sql"
DDL_FILE = SQL_DIR / "00_alerts_table.sql"

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _code(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


@functools.cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of `sql/<name>.sql`, split at semicolons that end a line."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    parts = re.split(r";[ \t]*$", text, flags=re.M)
    return tuple(p.strip() for p in parts if _code(p).strip())


def run(
    conn: duckdb.DuckDBPyConnection, name: str, values: Mapping[str, Any]
) -> list[list[tuple]]:
    """Execute every statement of the file in order; return each one's rows (for an
    INSERT or UPDATE: one row holding the count of rows changed)."""
    results = []
    for sql in statements(name):
        used = set(_PARAMETER.findall(_code(sql)))
        missing = used - set(values)
        if missing:
            raise ValueError(f"{name}.sql: no value for parameter(s) {sorted(missing)}")
        results.append(conn.execute(sql, {k: values[k] for k in used}).fetchall())
    return results


def select(conn: duckdb.DuckDBPyConnection, name: str, values: Mapping[str, Any]) -> list[tuple]:
    """The rows of a one-statement SELECT file."""
    (rows,) = run(conn, name, values)
    return rows
