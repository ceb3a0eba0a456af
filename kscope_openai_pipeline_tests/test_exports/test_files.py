"""The FOCUS files: a whole billing month per file, typed for FOCUS readers, replaced
atomically, removed when the month is left empty; and the DDL agreeing with the model."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import exports, warehouse
from kscope_openai_pipeline.schemas import exports as models
from kscope_openai_pipeline.schemas.base import sql_type
from kscope_openai_pipeline.schemas.focus_columns import FOCUS_COLUMN_NAMES
from kscope_openai_pipeline_tests.test_exports.conftest import COSTS, DEC1, NOV29, NOV30

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


def test_ddl_and_model_agree(conn: duckdb.DuckDBPyConnection) -> None:
    stored = warehouse.table_columns(conn, "exports.focus_costs")
    declared = [
        (name, sql_type(models.FocusCosts, name), column.nullable)
        for name, column in models.FocusCosts.to_schema().columns.items()
    ]
    assert stored == declared
    assert [c for c, _, _ in stored] == list(FOCUS_COLUMN_NAMES)


@pytest.mark.parametrize(
    ("text", "month"), [("2026-11", NOV), (" 2026-01 ", date(2026, 1, 1))]
)
def test_parse_month(text: str, month: date) -> None:
    assert exports.parse_month(text) == month


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "11/2026", "2026-11-01", ""])
def test_parse_month_refuses_with_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM, e.g. 2026-11"):
        exports.parse_month(text)


def test_file_format_from_the_extension() -> None:
    assert exports.file_format("a/b.PARQUET") == "parquet"
    assert exports.file_format("b.csv") == "csv"
    with pytest.raises(ValueError, match=r"unknown extension '\.json'; use \.parquet or \.csv"):
        exports.file_format("b.json")


def test_month_files_hold_whole_months_exactly(conn, tmp_path: Path) -> None:
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    folder = tmp_path / "exports" / "focus"
    written = exports.write_month_files(conn, (NOV, DEC), folder)
    assert [(f.month, f.path.name, f.rows) for f in written] == [
        (NOV, "focus_costs_2026-11.parquet", 9),
        (DEC, "focus_costs_2026-12.parquet", 3),
    ]
    assert sorted(p.name for p in folder.iterdir()) == [  # no temporary file left behind
        "focus_costs_2026-11.parquet",
        "focus_costs_2026-12.parquet",
    ]
    reader = duckdb.connect()
    for f in written:
        rows, billed = reader.execute(
            "SELECT COUNT(*), SUM(BilledCost) FROM read_parquet(?)", [str(f.path)]
        ).fetchone()
        expected = sum(Decimal(c[3]) for c in COSTS if c[0].month == f.month.month)
        assert (rows, billed, Decimal(f.billed_usd)) == (f.rows, expected, expected)
    described = f"DESCRIBE SELECT * FROM read_parquet('{written[0].path}')"
    types = dict(reader.execute(
        f"SELECT column_name, column_type FROM ({described})"
    ).fetchall())
    assert list(types) == list(FOCUS_COLUMN_NAMES)
    assert types["ChargePeriodStart"] == "TIMESTAMP WITH TIME ZONE"
    assert (types["BilledCost"], types["PricingQuantity"]) == ("DECIMAL(18,9)", "DOUBLE")
    reader.execute("SET TimeZone = 'UTC'")
    (start,) = reader.execute(
        "SELECT MIN(ChargePeriodStart) FROM read_parquet(?)", [str(written[0].path)]
    ).fetchone()
    assert start.replace(tzinfo=None) == datetime(2026, 11, 30) and start.utcoffset().seconds == 0


def test_csv_is_typed_for_focus_readers(conn, tmp_path: Path) -> None:
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    path = exports.write_month(conn, NOV, tmp_path / "nov.csv").path
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(FOCUS_COLUMN_NAMES) and len(rows) == 9
    seat = next(r for r in rows if r["x_LineItem"] == "ChatGPT Team seats")
    assert (seat["ChargePeriodStart"], seat["BillingPeriodEnd"]) == (
        "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z",
    )
    assert (seat["BilledCost"], seat["EffectiveCost"], seat["PricingQuantity"]) == (
        "29.589041100", "0.000000000", "30.0",
    )
    assert seat["SubAccountId"] == "" and seat["Tags"] == ""  # NULL is an empty cell
    assert all("." in r["PricingQuantity"] for r in rows if r["PricingQuantity"])
    assert all(r["ChargeDescription"].isascii() for r in rows)


def test_a_rewrite_replaces_the_file_and_an_empty_month_removes_it(conn, tmp_path: Path) -> None:
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    folder = tmp_path / "focus"
    (dec,) = exports.write_month_files(conn, (DEC,), folder)
    first = dec.path.read_bytes()
    exports.replace_window(conn, DEC1, date(2026, 12, 2))
    (again,) = exports.write_month_files(conn, (DEC,), folder)
    assert again.path.read_bytes() == first  # same rows, same bytes
    conn.execute("DELETE FROM openai.costs WHERE cost_date = ?", [DEC1])
    exports.replace_window(conn, DEC1, date(2026, 12, 2))
    (gone,) = exports.write_month_files(conn, (DEC,), folder)
    assert (gone.rows, dec.path.exists()) == (0, False)
    assert exports.months_with_rows(conn) == [NOV]
    assert exports.months_touched(NOV30, date(2027, 1, 2)) == (NOV, DEC, date(2027, 1, 1))
