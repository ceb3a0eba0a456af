"""Small frame builders for the warehouse tests: full rows with explicit overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from kscope_openai_pipeline.openai_admin import USAGE_METRICS
from kscope_openai_pipeline.schemas import column_names
from kscope_openai_pipeline.schemas import openai as so

ORG = "org-test"


def usage_row(day: dt.date, **overrides: Any) -> dict[str, Any]:
    """A completions row with every dimension NULL and every metric 0, then `overrides`."""
    row: dict[str, Any] = {c: None for c in column_names(so.Usage)}
    row.update(organization_id=ORG, usage_date=day, usage_type="completions")
    row.update({m: 0 for m in USAGE_METRICS})
    row.update(overrides)
    return row


def frame(model: type, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a frame with the model's columns, built like an asset would build it."""
    return pd.DataFrame(list(rows), columns=column_names(model))


def usage_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = frame(so.Usage, rows)
    df["batch"] = df["batch"].astype("boolean")
    return df


def cost_row(
    day: dt.date,
    amount: str,
    project_id: str | None = "proj_a",
    line_item: str | None = "gpt-4o, input",
    **overrides: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = dict(
        organization_id=ORG,
        cost_date=day,
        project_id=project_id,
        line_item=line_item,
        amount_usd=Decimal(amount),
        currency="usd",
        quantity=None,
        quantity_unit=None,
    )
    row.update(overrides)
    return row


def user_row(user_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(
        organization_id=ORG,
        user_id=user_id,
        email=f"{user_id}@corp.com",
        name=user_id.title(),
        role="reader",
        added_at=dt.datetime(2025, 1, 1, 12, 30),
    )
    row.update(overrides)
    return row


def day(n: int) -> dt.date:
    """Day n of January 2026 (a UTC calendar day)."""
    return dt.date(2026, 1, n)


def snapshot(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    """Every row of `table`, sorted, as Python tuples (DuckDB returns DECIMAL as Decimal)."""
    return conn.execute(f"SELECT * FROM {table} ORDER BY ALL NULLS FIRST").fetchall()
