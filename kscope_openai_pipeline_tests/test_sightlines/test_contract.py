"""The sightlines DDL, pandera models and SQL files agree and follow the house style."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import grain, sql_type, table_name, table_schema_columns
from kscope_openai_pipeline.sightlines import runner
from kscope_openai_pipeline.warehouse import table_columns
from kscope_openai_pipeline.warehouse.sql_text import bind_parameters

SELECTS = sorted(p for p in runner.SQL_DIR.glob("*.sql") if p != runner.DDL_FILE)
KEYWORDS = (
    "select", "from", "where", "group by", "order by", "join", "left join", "anti join",
    "semi join", "with", "union all", "case", "when", "then", "else", "end", "as", "on",
    "and", "or", "not", "is", "null", "distinct", "having", "qualify", "window", "over",
    "partition by", "cast", "between", "in",
)


@pytest.fixture
def db(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    sightlines.ensure_sightlines_schema(conn)
    yield conn
    conn.close()


@pytest.mark.parametrize("model", models.MODELS, ids=lambda m: table_name(m))
def test_ddl_and_model_agree(db: duckdb.DuckDBPyConnection, model: type) -> None:
    declared = [
        (name, sql_type(model, name), column.nullable)
        for name, column in model.to_schema().columns.items()
    ]
    assert table_columns(db, table_name(model)) == declared
    columns = table_schema_columns(model)
    assert columns[0][0] == "organization_id"
    assert all(description for _, _, description in columns)
    assert all(kind == "DECIMAL(18,9)" for name, kind, _ in columns if name.endswith("_usd"))
    assert set(grain(model)) <= {name for name, _, _ in columns}


def test_column_comments_are_the_model_descriptions(db: duckdb.DuckDBPyConnection) -> None:
    comment = db.execute(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = 'sightlines' "
        "AND table_name = 'gateway_bypass' AND column_name = 'cost_basis'"
    ).fetchone()
    assert comment is not None and comment[0].startswith("billed_per_key:")


def test_the_selects_produce_exactly_the_table_columns(db: duckdb.DuckDBPyConnection) -> None:
    """Each SELECT's output names are the table's (INSERT ... BY NAME relies on it)."""
    import datetime as dt

    params = sightlines.SightlineParams(as_of=dt.date(2026, 1, 31))
    values = runner._values(params, params.window_start, params.as_of)
    for temp in runner._TEMPS:
        runner._load_temp(db, temp, params, params.window_start, params.as_of)
    for model in models.MODELS:
        name = table_name(model).split(".")[1]
        sql = runner.load_sql(name)
        cursor = db.execute(sql, bind_parameters(sql, values))
        assert [d[0] for d in cursor.description] == [c for c, _, _ in table_schema_columns(model)]


@pytest.mark.parametrize("path", [*SELECTS, runner.DDL_FILE], ids=lambda p: p.name)
def test_sql_keywords_are_upper_case(path: Path) -> None:
    code = "\n".join(line.split("--", 1)[0] for line in path.read_text().splitlines())
    code = re.sub(r"'[^']*'", "''", code)  # string literals may say anything
    for keyword in KEYWORDS:
        pattern = r"(?<![\w.$])" + keyword.replace(" ", r"\s+") + r"(?![\w(])"
        assert not re.search(pattern, code), f"{path.name}: lower-case {keyword!r}"


@pytest.mark.parametrize("path", SELECTS, ids=lambda p: p.name)
def test_selects_document_their_rules_and_avoid_correlated_subqueries(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("-- "), "each SQL file opens with what it computes"
    assert "Rules" in text.split("WITH", 1)[0]
    assert not re.search(r"\bEXISTS\s*\(", text), "set-based SQL: no correlated EXISTS"
