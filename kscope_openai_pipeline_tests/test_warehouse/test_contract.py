"""The table contract: DDL and pandera models agree, and follow the warehouse conventions."""

from __future__ import annotations

import gc
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline.schemas import grain, table_name
from kscope_openai_pipeline.schemas import kscope as sk
from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.schemas.base import sql_type
from kscope_openai_pipeline.warehouse import connect, ddl, ensure_schema, table_columns

MODELS = [*so.MODELS, *sk.MODELS]

DESIGN_TABLES = {
    "openai.organization",
    "openai.projects",
    "openai.api_keys",
    "openai.users",
    "openai.invites",
    "openai.service_accounts",
    "openai.project_users",
    "openai.usage",
    "openai.costs",
    "openai.api_key_costs",
    "openai.audit_logs",
    "openai.api_keys_history",
    "openai.users_history",
    "openai.projects_history",
    "openai.project_users_history",
    "kscope.dev_tokens",
    "kscope.gateway_costs",
    "kscope.engineers",
}


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE schema_name IN ('openai', 'kscope', 'sightlines')"
    ).fetchall()
    return {r[0] for r in rows}


def test_every_design_table_has_ddl_and_a_model(conn: duckdb.DuckDBPyConnection) -> None:
    assert _tables(conn) == DESIGN_TABLES
    assert {table_name(m) for m in MODELS} == DESIGN_TABLES
    schemas = {r[0] for r in conn.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert {"openai", "kscope", "sightlines"} <= schemas


@pytest.mark.parametrize("model", MODELS, ids=lambda m: table_name(m))
def test_ddl_and_model_agree(conn: duckdb.DuckDBPyConnection, model: type) -> None:
    """Same columns, same order, same SQL type, same nullability."""
    stored = table_columns(conn, table_name(model))
    declared = [
        (name, sql_type(model, name), column.nullable)
        for name, column in model.to_schema().columns.items()
    ]
    assert stored == declared


def test_usage_columns_are_exactly_the_contract(conn: duckdb.DuckDBPyConnection) -> None:
    expected = [
        "organization_id",
        "usage_date",
        "usage_type",
        "project_id",
        "api_key_id",
        "model",
        "batch",
        "service_tier",
        "image_size",
        "image_source",
        "vector_store_id",
        "context_level",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "input_audio_tokens",
        "output_audio_tokens",
        "num_model_requests",
        "images",
        "characters",
        "seconds",
        "usage_bytes",
        "num_sessions",
        "num_requests",
    ]
    assert [c for c, _, _ in table_columns(conn, "openai.usage")] == expected
    metric_defaults = conn.execute(
        "SELECT COUNT(*), data_type, is_nullable, column_default FROM duckdb_columns() "
        "WHERE schema_name = 'openai' AND table_name = 'usage' AND column_index > 12 "
        "GROUP BY ALL"
    ).fetchall()
    assert metric_defaults == [(12, "BIGINT", False, "0")]
    assert grain(so.Usage) == (
        "usage_date",
        "usage_type",
        "project_id",
        "api_key_id",
        "model",
        "batch",
        "service_tier",
        "image_size",
        "image_source",
        "vector_store_id",
        "context_level",
    )


def test_ensure_schema_is_idempotent_and_writes_comments(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    conn.execute(
        "INSERT INTO openai.users VALUES ('org-1', 'user-1', 'a@x.io', 'A', 'owner', "
        "TIMESTAMP '2026-01-01 00:00:00')"
    )
    ensure_schema(conn)
    ensure_schema(conn)
    assert conn.execute("SELECT COUNT(*) FROM openai.users").fetchone() == (1,)
    (comment,) = conn.execute(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = 'openai' "
        "AND table_name = 'usage' AND column_name = 'input_cached_tokens'"
    ).fetchone()
    assert comment == (
        "Input tokens served from the prompt cache. 0 when the usage family does not report it."
    )
    (table_comment,) = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'openai' AND table_name = 'costs'"
    ).fetchone()
    assert table_comment == (
        "openai.costs: daily billed cost by project and line item (invoice-aligned)."
    )


def test_ddl_files_start_with_the_schemas() -> None:
    files = ddl.ddl_files()
    assert files[0].name == "00_schemas.sql"
    assert len(files) == 1 + len(DESIGN_TABLES)
    for f in files:
        text = f.read_text()
        assert "CREATE TABLE IF NOT EXISTS" in text or "CREATE SCHEMA IF NOT EXISTS" in text
        assert "create table" not in text, f"{f.name}: upper-case keywords"


def test_extra_ddl_files_and_folders_run_after_the_builtin_ones(tmp_path: Path) -> None:
    folder = tmp_path / "sightlines_sql"
    folder.mkdir()
    (folder / "b.sql").write_text(
        "CREATE TABLE IF NOT EXISTS sightlines.b (organization_id VARCHAR NOT NULL);"
    )
    (folder / "a.sql").write_text(
        "CREATE TABLE IF NOT EXISTS sightlines.a (organization_id VARCHAR NOT NULL);"
    )
    single = tmp_path / "view.sql"
    single.write_text(
        "CREATE OR REPLACE VIEW sightlines.usage_days AS "
        "SELECT DISTINCT usage_date FROM openai.usage;"
    )
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    files = ensure_schema(conn, extra_ddl=[folder, single])
    assert [f.name for f in files[-3:]] == ["a.sql", "b.sql", "view.sql"]
    assert {"sightlines.a", "sightlines.b"} <= _tables(conn)
    assert conn.execute("SELECT COUNT(*) FROM sightlines.usage_days").fetchone() == (0,)


def test_a_broken_extra_file_leaves_the_catalog_unchanged(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text(
        "CREATE TABLE IF NOT EXISTS sightlines.ok (a INTEGER);\nCREATE TABLE oops (;\n"
    )
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(duckdb.ParserException):
        ensure_schema(conn, extra_ddl=[broken])
    assert _tables(conn) == set()
    with pytest.raises(FileNotFoundError, match="missing.sql"):
        ensure_schema(conn, extra_ddl=[tmp_path / "missing.sql"])


def test_a_file_named_like_a_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    """`kscope.duckdb` would make every `kscope.<table>` ambiguous in DuckDB."""
    path = tmp_path / "kscope.duckdb"
    plain = duckdb.connect(str(path))
    with pytest.raises(ValueError, match="KSCOPE_DUCKDB_PATH"):
        ensure_schema(plain)
    plain.close()
    conn = connect(path)
    ensure_schema(conn)
    conn.execute(
        "INSERT INTO kscope.engineers VALUES ('org-1', 'eng-1', 'a@x.io', ['b@x.io'], 'A', "
        "'core', 'active', NULL)"
    )
    conn.close()
    del conn  # the attachment is released once no connection object is left
    gc.collect()
    again = connect(path, read_only=True)
    assert again.execute("SELECT engineer_id, aliases FROM kscope.engineers").fetchall() == [
        ("eng-1", ["b@x.io"])
    ]
    with pytest.raises(duckdb.Error, match="read-only"):
        again.execute("DELETE FROM kscope.engineers")
