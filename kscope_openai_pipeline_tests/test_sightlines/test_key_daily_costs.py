"""The token-share allocation is exact to the nano-dollar, even where DOUBLE is not.

Handmade warehouse rows (exact numbers chosen by hand): costs near the DECIMAL(18,9) limit
make the DOUBLE estimate of the quotient wrong by more than one, so the exact integer
correction is exercised; a credit (negative cost) floors the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sightlines import runner
from kscope_openai_pipeline.warehouse.sql_text import bind_parameters

DAY = dt.date(2025, 11, 1)


def _key_costs(conn: duckdb.DuckDBPyConnection, day: dt.date = DAY) -> dict[str, Decimal]:
    params = sightlines.SightlineParams(as_of=day)
    sql = runner.load_sql("api_key_daily_costs")
    rows = conn.execute(sql, bind_parameters(sql, runner._values(params, day, day))).fetchall()
    return {r[2]: r[3] for r in rows}


def _usage(conn: duckdb.DuckDBPyConnection, key: str | None, tokens: int, model: str) -> None:
    conn.execute(
        "INSERT INTO openai.usage (organization_id, usage_date, usage_type, project_id, "
        "api_key_id, model, input_tokens, output_tokens, num_model_requests) "
        "VALUES ('org-t', ?, 'completions', 'proj_1', ?, ?, ?, 0, 1)",
        [DAY, key, model, tokens],
    )


def _cost(conn: duckdb.DuckDBPyConnection, line: str, amount: str) -> None:
    conn.execute(
        "INSERT INTO openai.costs (organization_id, cost_date, project_id, line_item, "
        "amount_usd, currency) VALUES ('org-t', ?, 'proj_1', ?, CAST(? AS DECIMAL(18, 9)), 'usd')",
        [DAY, line, amount],
    )


@pytest.fixture
def conn(tmp_path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    sightlines.ensure_sightlines_schema(connection)
    yield connection
    connection.close()


def test_huge_costs_split_exactly_by_token_share(conn: duckdb.DuckDBPyConnection) -> None:
    for key, tokens in (("key_a", 7), ("key_b", 11), ("key_c", 13), (None, 3)):
        _usage(conn, key, tokens, "big-model")
    _cost(conn, "big-model, input", "600000000.000000000")
    _cost(conn, "big-model, output", "399999999.999999999")
    _cost(conn, "Vector store storage", "5.000000000")  # names no model: not allocated
    nanos = 999_999_999_999_999_999
    bases = {k: nanos * w // 34 for k, w in (("key_a", 7), ("key_b", 11), ("key_c", 13))}
    remainders = {k: nanos * w % 34 for k, w in (("key_a", 7), ("key_b", 11), ("key_c", 13))}
    null_base, null_remainder = nanos * 3 // 34, nanos * 3 % 34
    residue = nanos - sum(bases.values()) - null_base
    assert residue == 2  # nano-dollars left over by the floors (fewer than the 4 parts)
    winner = max([*remainders.items(), ("", null_remainder)], key=lambda kv: (kv[1], kv[0]))[0]
    expected = {
        k: (Decimal(v + (residue if k == winner else 0)) / Decimal(10**9)).quantize(
            Decimal("1E-9")
        )
        for k, v in bases.items()
    }
    got = _key_costs(conn)
    assert got == expected
    assert sum(got.values()) + Decimal(null_base) / 10**9 + (
        Decimal(residue) / 10**9 if winner == "" else 0
    ) == Decimal("999999999.999999999")


def test_a_credit_floors_and_still_sums_exactly(conn: duckdb.DuckDBPyConnection) -> None:
    _usage(conn, "key_a", 1, "m")
    _usage(conn, "key_b", 2, "m")
    _cost(conn, "m, input", "-0.000000010")
    # -10 nanos x 1/3 = -3.33 -> -4 (remainder 2); x 2/3 = -6.67 -> -7 (remainder 1);
    # the residue of +1 goes to key_a, which has the larger remainder
    assert _key_costs(conn) == {"key_a": Decimal("-0.000000003"), "key_b": Decimal("-0.000000007")}


def test_without_tokens_requests_weigh_and_covered_days_use_billed_rows(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    for key, requests in (("key_a", 1), ("key_b", 3)):
        conn.execute(
            "INSERT INTO openai.usage (organization_id, usage_date, usage_type, project_id, "
            "api_key_id, model, images, num_model_requests) "
            "VALUES ('org-t', ?, 'images', 'proj_1', ?, 'dall-e-3', 2, ?)",
            [DAY, key, requests],
        )
    _cost(conn, "dall-e-3, images", "1.000000000")
    assert _key_costs(conn) == {"key_a": Decimal("0.250000000"), "key_b": Decimal("0.750000000")}
    conn.execute(
        "INSERT INTO openai.api_key_costs VALUES ('org-t', ?, 'key_b', 0.9, 'usd'), "
        "('org-t', ?, NULL, 0.1, 'usd')",
        [DAY, DAY],
    )
    assert _key_costs(conn) == {"key_b": Decimal("0.900000000")}  # key_a billed nothing
