"""The Kscope inputs loader: exact round trips, and every rejection keeps the stored rows.

Real files in tmp_path, a real DuckDB file; inputs from the `small` sandbox org (seed 7)
written as a user would export them (`write_sandbox_inputs`).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kscope_openai_pipeline.demo import write_sandbox_inputs
from kscope_openai_pipeline.kscope_inputs.loader import (
    InputFileError,
    load_inputs,
    read_input,
)
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline.warehouse import ensure_schema, read_table

ORG_ID = "org-sandbox7"
TABLES = ("kscope.dev_tokens", "kscope.gateway_costs", "kscope.engineers")


@pytest.fixture(scope="session")
def org() -> SyntheticOrg:
    return build_org(7, "small")


@pytest.fixture(scope="session")
def sandbox_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_sandbox_inputs(7, "small", tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def files(sandbox_files: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """A private copy of the sandbox CSVs that a test may edit."""
    out = {}
    for kind, path in sandbox_files.items():
        out[kind] = tmp_path / path.name
        shutil.copy(path, out[kind])
    return out


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def loaded(conn: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """The warehouse after a good load; returns what it stored (the 'before' of rejections)."""
    load_inputs(conn, files)
    return {t: read_table(conn, t) for t in TABLES}


def _unchanged(conn: duckdb.DuckDBPyConnection, before: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(read_table(conn, table), before[table], check_exact=True)


def _edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV (row is the 1-based data row, as the loader counts)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


# --------------------------------------------------------------------------- happy paths


def test_sandbox_csvs_load_exactly(
    conn: duckdb.DuckDBPyConnection, files: dict[str, Path], org: SyntheticOrg
) -> None:
    written = load_inputs(conn, files)
    assert written == {
        "kscope.dev_tokens": len(org.dev_tokens),
        "kscope.gateway_costs": len(org.gateway_costs),
        "kscope.engineers": len(org.engineers),
    }
    tokens = read_table(conn, "kscope.dev_tokens", ["dev_token_id"])
    source = org.dev_tokens.sort_values("dev_token_id").reset_index(drop=True)
    for column in source.columns:
        expected = [None if pd.isna(v) else v for v in source[column]]
        got = [None if pd.isna(v) else v for v in tokens[column]]
        assert got == expected, column
    gateway = read_table(conn, "kscope.gateway_costs", ["usage_date", "provider_key_id", "model"])
    assert sum(gateway["cost_usd"], Decimal(0)) == sum(org.gateway_costs["cost_usd"], Decimal(0))
    assert list(gateway["usage_date"]) == list(
        org.gateway_costs.sort_values(["usage_date", "provider_key_id", "model"])["usage_date"]
    )
    engineers = read_table(conn, "kscope.engineers", ["engineer_id"]).set_index("engineer_id")
    for row in org.engineers.itertuples():
        aliases = row.aliases.split(";") if isinstance(row.aliases, str) else []
        assert engineers.loc[row.engineer_id, "aliases"] == aliases
    assert set(read_table(conn, "kscope.engineers")["organization_id"]) == {ORG_ID}

    departed = {r.engineer_id: r.departed_on for r in org.engineers.itertuples()}
    assert engineers["departed_on"].to_dict() == departed
    assert sum(isinstance(d, dt.date) for d in departed.values()) == 1


def test_departed_on_is_optional(conn: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> None:
    """Registry exports from before departed_on existed still load; the day is then NULL."""
    frame = pd.read_csv(files["engineers"], dtype=str, keep_default_na=False)
    assert list(frame.columns)[-1] == "departed_on"
    frame.drop(columns=["departed_on"]).to_csv(files["engineers"], index=False)
    load_inputs(conn, {"engineers": files["engineers"]})
    stored = read_table(conn, "kscope.engineers")
    assert len(stored) == len(frame) and stored["departed_on"].isna().all()
    _edit_csv(files["engineers"], 1, "status", "departed")  # still no departed_on column
    frame = pd.read_csv(files["engineers"], dtype=str, keep_default_na=False)
    frame["departed_on"] = ["2026-10-09T00:00:00.000"] + [""] * (len(frame) - 1)
    frame.to_csv(files["engineers"], index=False)
    load_inputs(conn, {"engineers": files["engineers"]})
    first = read_table(conn, "kscope.engineers", ["engineer_id"]).iloc[0]
    assert first["departed_on"] == dt.date(2026, 10, 9)
    frame.loc[0, "departed_on"] = "2026-10-09T12:00:00"
    frame.to_csv(files["engineers"], index=False)
    with pytest.raises(InputFileError, match="column departed_on: expected a date"):
        load_inputs(conn, {"engineers": files["engineers"]})


def test_parquet_and_json_load_the_same_rows_as_csv(
    conn: duckdb.DuckDBPyConnection, files: dict[str, Path], tmp_path: Path
) -> None:
    load_inputs(conn, files)
    expected = {t: read_table(conn, t) for t in TABLES}
    other: dict[str, Path] = {}
    for kind, table in zip(("dev_tokens", "gateway_costs", "engineers"), TABLES, strict=True):
        frame = read_table(conn, table)
        if kind == "gateway_costs":  # Parquet with decimal128(18, 9) money
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            arrow = arrow.set_column(
                arrow.schema.get_field_index("cost_usd"),
                "cost_usd",
                pa.array(list(frame["cost_usd"]), type=pa.decimal128(18, 9)),
            )
            other[kind] = tmp_path / "gateway.parquet"
            pq.write_table(arrow, other[kind])
        else:  # JSON with ISO timestamps and money-free columns
            records = json.loads(frame.to_json(orient="records", date_format="iso"))
            other[kind] = tmp_path / f"{kind}.json"
            other[kind].write_text(json.dumps({"data": records}))
    conn.execute("DELETE FROM kscope.dev_tokens; DELETE FROM kscope.gateway_costs;")
    load_inputs(conn, other)
    for table in TABLES:
        pd.testing.assert_frame_equal(read_table(conn, table), expected[table], check_exact=True)


def test_json_lines_money_strings_and_timestamps_with_offsets(tmp_path: Path) -> None:
    path = tmp_path / "tokens.jsonl"
    path.write_text(
        json.dumps({"dev_token_id": "dt_1", "provider": "openai", "provider_key_id": "key_1",
                    "provider_key_redacted": None, "owner_email": "a@x.io", "status": "active",
                    "created_at": "2026-11-25T10:00:00+02:00", "revoked_at": None}) + "\n"
        + json.dumps({"dev_token_id": "dt_2", "provider": "openai", "provider_key_id": None,
                      "provider_key_redacted": "sk-proj-****abcd", "owner_email": None,
                      "status": "revoked", "created_at": 1764028800,
                      "revoked_at": "2026-11-25T00:00:00Z"}) + "\n"
    )
    frame = read_input(path, "dev_tokens", organization_id="org-t")
    assert list(frame["created_at"]) == [
        pd.Timestamp("2026-11-25 08:00:00"),
        pd.Timestamp("2025-11-25 00:00:00"),
    ]
    assert frame["revoked_at"].iloc[1] == pd.Timestamp("2026-11-25")
    money = tmp_path / "gateway.json"
    money.write_text(
        '[{"usage_date": "2026-11-25", "provider_key_id": "key_1", "project_id": null, '
        '"model": "m", "requests": 1, "input_tokens": 2, "output_tokens": 3, '
        '"cached_tokens": 0, "cost_usd": "12345.678901234"},'
        '{"usage_date": "2026-11-25", "provider_key_id": "key_2", "project_id": "p", '
        '"model": "m", "requests": 1, "input_tokens": 2, "output_tokens": 3, '
        '"cached_tokens": 0, "cost_usd": 0.000000001}]'
    )
    frame = read_input(money, "gateway_costs", organization_id="org-t")
    assert list(frame["cost_usd"]) == [Decimal("12345.678901234"), Decimal("0.000000001")]


def test_organization_id_comes_from_the_option_or_the_warehouse(
    conn: duckdb.DuckDBPyConnection, files: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(files["engineers"], dtype=str, keep_default_na=False)
    no_org = tmp_path / "engineers_no_org.csv"
    frame.drop(columns=["organization_id"]).to_csv(no_org, index=False)
    with pytest.raises(InputFileError, match="no organization_id column"):
        load_inputs(conn, {"engineers": no_org})
    conn.execute(
        "INSERT INTO openai.organization VALUES "
        "('org-other', 'Other', 'sandbox', NULL, TRUE, TIMESTAMP '2026-11-26')"
    )
    assert load_inputs(conn, {"engineers": no_org}) == {"kscope.engineers": 50}
    assert set(read_table(conn, "kscope.engineers")["organization_id"]) == {"org-other"}
    load_inputs(conn, {"engineers": files["engineers"]}, organization_id=ORG_ID)
    counts = dict(
        conn.execute(
            "SELECT organization_id, COUNT(*) FROM kscope.engineers GROUP BY ALL"
        ).fetchall()
    )
    assert counts == {"org-other": 50, ORG_ID: 50}  # each organization replaced on its own


# --------------------------------------------------------------------------- rejections


def test_missing_column(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    frame = pd.read_csv(files["gateway_costs"], dtype=str, keep_default_na=False)
    frame.drop(columns=["cost_usd"]).to_csv(files["gateway_costs"], index=False)
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    message = str(err.value)
    assert message.startswith("gateway_costs.csv: header (line 1): missing column(s) cost_usd")
    assert err.value.column == "cost_usd"
    _unchanged(conn, loaded)


def test_bad_type(conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]) -> None:
    _edit_csv(files["gateway_costs"], 3, "requests", "twelve")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == (
        "gateway_costs.csv: row 3 (line 4), column requests: "
        "expected a whole number, got 'twelve'"
    )
    assert (err.value.row, err.value.column) == (3, "requests")
    _unchanged(conn, loaded)


def test_negative_cost(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    _edit_csv(files["gateway_costs"], 2, "cost_usd", "-1.50")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == (
        "gateway_costs.csv: row 2 (line 3), column cost_usd has values < 0: [-1.50]"
    )
    assert (err.value.row, err.value.column) == (2, "cost_usd")
    _unchanged(conn, loaded)


def test_duplicate_id(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    frame = pd.read_csv(files["dev_tokens"], dtype=str, keep_default_na=False)
    _edit_csv(files["dev_tokens"], 4, "dev_token_id", frame.loc[0, "dev_token_id"])
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == (
        "dev_tokens.csv: rows 1 (line 2), 4 (line 5), columns (dev_token_id) have duplicate "
        f"grain values: [('{frame.loc[0, 'dev_token_id']}')] (2 rows)"
    )
    assert (err.value.row, err.value.column) == (1, "(dev_token_id)")
    _unchanged(conn, loaded)


def test_unparseable_date(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    _edit_csv(files["gateway_costs"], 5, "usage_date", "2026-13-01")
    _edit_csv(files["dev_tokens"], 7, "created_at", "yesterday")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == (
        "dev_tokens.csv: row 7 (line 8), column created_at: expected a timestamp (ISO 8601 "
        "like 2026-11-25T13:45:00Z, or Unix seconds), got 'yesterday'"
    )
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, {"gateway_costs": files["gateway_costs"]})
    assert str(err.value) == (
        "gateway_costs.csv: row 5 (line 6), column usage_date: "
        "expected a date (YYYY-MM-DD), got '2026-13-01'"
    )
    _unchanged(conn, loaded)


def test_unknown_file_extension(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    odd = files["engineers"].with_suffix(".xlsx")
    files["engineers"].rename(odd)
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, {**files, "engineers": odd})
    assert str(err.value) == (
        "engineers.xlsx: unknown file extension '.xlsx': "
        "use one of .csv, .json, .jsonl, .ndjson, .parquet, .pq"
    )
    _unchanged(conn, loaded)


def test_empty_file(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path]
) -> None:
    files["engineers"].write_text("")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == "engineers.csv: the file is empty (no header, no rows)"
    header = pd.read_csv(files["dev_tokens"], dtype=str, nrows=0)
    header.to_csv(files["engineers"].with_name("header_only.csv"), index=False)
    only_header = files["engineers"].with_name("header_only.csv")
    with pytest.raises(InputFileError, match="header_only.csv: header"):
        load_inputs(conn, {"engineers": only_header})  # the dev_tokens header: wrong columns
    pd.read_csv(files["gateway_costs"], dtype=str, nrows=0).to_csv(only_header, index=False)
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, {"gateway_costs": only_header})
    assert str(err.value) == (
        "header_only.csv: the file has no rows (pass allow_empty / --allow-empty to clear "
        "kscope.gateway_costs)"
    )
    _unchanged(conn, loaded)
    with pytest.raises(ValueError, match="no rows and no organization"):
        load_inputs(conn, {"gateway_costs": only_header}, allow_empty=True)
    cleared = load_inputs(
        conn, {"gateway_costs": only_header}, allow_empty=True, organization_id=ORG_ID
    )
    assert cleared == {"kscope.gateway_costs": 0}
    assert read_table(conn, "kscope.gateway_costs").empty


def test_one_bad_file_writes_none_of_them(
    conn: duckdb.DuckDBPyConnection, loaded: dict, files: dict[str, Path], tmp_path: Path
) -> None:
    """dev_tokens and gateway_costs are valid (and different), engineers is not: no change."""
    for kind in ("dev_tokens", "gateway_costs"):
        frame = pd.read_csv(files[kind], dtype=str, keep_default_na=False)
        frame.iloc[: len(frame) // 2].to_csv(files[kind], index=False)
    _edit_csv(files["engineers"], 9, "status", "retired")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, files)
    assert str(err.value) == (
        "engineers.csv: row 9 (line 10), column status has values not in "
        "['active', 'departed']: ['retired']"
    )
    _unchanged(conn, loaded)


def test_money_with_more_than_nine_places_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(
        "usage_date,provider_key_id,project_id,model,requests,input_tokens,output_tokens,"
        "cached_tokens,cost_usd\n"
        "2026-11-25,key_1,,m,1,2,3,0,0.0000000001\n"
        "2026-11-25,key_2,,m,1,2,3,0,1.500000000000\n"
    )
    with pytest.raises(InputFileError) as err:
        read_input(path, "gateway_costs", organization_id="org-t")
    assert str(err.value) == (
        "gateway.csv: row 1 (line 2), column cost_usd: more than 9 decimal places: "
        "'0.0000000001'"
    )
    path.write_text(path.read_text().replace("0.0000000001", "0.1"))
    frame = read_input(path, "gateway_costs", organization_id="org-t")
    assert list(frame["cost_usd"]) == [Decimal("0.1"), Decimal("1.500000000")]
    assert frame["project_id"].tolist() == [None, None]
    assert frame["usage_date"].tolist() == [dt.date(2026, 11, 25)] * 2
