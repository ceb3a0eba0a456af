"""End to end for money: the sandbox's cost records -> warehouse -> analyst copy, exact.

Uses the synthetic organization's own records (no HTTP: the client and assets are tested
elsewhere); what is under test is that no step between a Decimal and an analyst's SUM()
loses a digit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline.schemas import column_names
from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.warehouse import open_analyst, publish, replace_window

from .builders import ORG


def _costs_frame(costs: pd.DataFrame) -> pd.DataFrame:
    """openai.costs rows: per day x project x line item, amounts summed as Decimals."""
    grouped = costs.assign(
        cost_date=[dt.datetime.fromtimestamp(t, dt.UTC).date() for t in costs["ts"]],
    ).groupby(["cost_date", "project_id", "line_item"], dropna=False, sort=True)
    rows = [
        dict(
            organization_id=ORG,
            cost_date=day,
            project_id=None if pd.isna(project) else project,
            line_item=item,
            amount_usd=sum(group["amount"], Decimal(0)),
            currency="usd",
            quantity=float(group["quantity"].sum()),
            quantity_unit=group["quantity_unit"].iloc[0],
        )
        for (day, project, item), group in grouped
    ]
    return pd.DataFrame(rows, columns=column_names(so.Costs))


def test_sandbox_costs_reach_the_analyst_copy_to_the_nanodollar(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    org = build_org(7, "tiny")
    frame = _costs_frame(org.costs)
    start = dt.datetime.fromtimestamp(org.start_day, dt.UTC).date()
    end = dt.datetime.fromtimestamp(org.end_day, dt.UTC).date()
    written = replace_window(conn, "openai.costs", frame, "cost_date", start, end, model=so.Costs)
    assert written == len(frame)
    expected_total = sum(org.costs["amount"], Decimal(0))
    assert expected_total == Decimal(int(org.costs["amount_nanos"].sum())).scaleb(-9)

    dst = tmp_path / "kscope_analytics.duckdb"
    publish(db_path, dst, conn=conn)
    analyst = open_analyst(dst)
    assert analyst.execute("SELECT SUM(amount_usd) FROM openai.costs").fetchone() == (
        expected_total,
    )
    per_day = dict(
        analyst.execute("SELECT cost_date, SUM(amount_usd) FROM openai.costs GROUP BY 1").fetchall()
    )
    expected_per_day = {
        day: sum(group, Decimal(0)) for day, group in frame.groupby("cost_date")["amount_usd"]
    }
    assert per_day == expected_per_day
    assert len(per_day) == (end - start).days
