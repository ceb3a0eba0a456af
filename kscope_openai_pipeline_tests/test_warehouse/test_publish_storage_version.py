"""The analyst copy opens in the older DuckDB releases analysts' tools bundle.

Each older DuckDB runs in a virtual environment of its own (built with uv from the package
index, like any dependency), reads the copy read-only and reports every table, its rows
and every column comment; the test compares that with what the pipeline's own DuckDB sees
in the warehouse. An environment that cannot be built fails the test: a skip would hide
exactly the regression this guards against.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import settings, sightlines, warehouse
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org

#: DuckDB releases still bundled by analysts' tools: the last 1.1 and the last 1.4.
OLD_DUCKDBS = ("1.1.3", "1.4.5")

#: Run by the older DuckDB: every table's rows (digest) and every comment, as JSON.
READER = textwrap.dedent(
    """
    import hashlib, json, sys
    import duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() ORDER BY ALL"
    ).fetchall()
    out = {"version": duckdb.__version__, "tables": {}, "columns": {}}
    for schema, table, comment in tables:
        rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
        digest = hashlib.sha256("\\n".join(sorted(map(repr, rows))).encode()).hexdigest()
        out["tables"][f"{schema}.{table}"] = [len(rows), digest, comment]
    for schema, table, column, kind, comment in conn.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE NOT internal ORDER BY ALL"
    ).fetchall():
        out["columns"][f"{schema}.{table}.{column}"] = [kind, comment]
    print(json.dumps(out))
    """
)


def _uv() -> list[str]:
    """How to run uv here: on PATH, or the module `make setup` installs when it is not."""
    found = shutil.which("uv")
    if found:
        return [found]
    python = shutil.which("python3") or sys.executable
    probe = subprocess.run([python, "-m", "uv", "--version"], capture_output=True, text=True)
    if probe.returncode == 0:
        return [python, "-m", "uv"]
    pytest.fail("uv is neither on PATH nor importable by python3: run `make setup` first")


def _old_duckdb(version: str, root: Path) -> Path:
    """The python of a fresh virtual environment holding only duckdb==version."""
    env = root / f"duckdb-{version}"
    steps = [
        [*_uv(), "venv", "--quiet", "--python", sys.executable, str(env)],
        [*_uv(), "pip", "install", "--quiet", "--python", str(env / "bin" / "python"),
         f"duckdb=={version}"],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(
                f"could not build an environment with duckdb {version} ({' '.join(step)}): "
                f"{done.stderr.strip()[-2000:]}"
            )
    return env / "bin" / "python"


def _seen_by_this_duckdb(path: Path) -> dict:
    """What the READER reports, computed by the pipeline's DuckDB (on the warehouse)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        out: dict = {"tables": {}, "columns": {}}
        for schema, table, comment in conn.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() ORDER BY ALL"
        ).fetchall():
            rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            out["tables"][f"{schema}.{table}"] = [len(rows), digest, comment]
        for schema, table, column, kind, comment in conn.execute(
            "SELECT schema_name, table_name, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"
        ).fetchall():
            out["columns"][f"{schema}.{table}.{column}"] = [kind, comment]
        return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, analyst copy) of the tiny org with the sightlines computed."""
    folder = tmp_path_factory.mktemp("storage")
    db = folder / "warehouse.duckdb"
    conn = duckdb.connect(str(db))
    sightlines.ensure_sightlines_schema(conn)
    fill_from_org(conn, build_org(7, "tiny"))
    sightlines.compute_all(conn, sightlines.SightlineParams(as_of=sightlines.default_as_of(conn)))
    conn.close()
    copy = folder / "kscope_analytics.duckdb"
    warehouse.publish(db, copy, storage_version=settings.analyst_storage_version())
    return db, copy


@pytest.mark.parametrize("version", OLD_DUCKDBS)
def test_an_older_duckdb_reads_every_table_and_comment_of_the_copy(
    version: str, published: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    db, copy = published
    python = _old_duckdb(version, tmp_path_factory.mktemp("envs"))
    done = subprocess.run(
        [str(python), "-c", READER, str(copy)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    expected = _seen_by_this_duckdb(db)

    assert seen["version"] == version
    assert seen["tables"] == expected["tables"]
    assert seen["columns"] == expected["columns"]
    # the copy is the whole warehouse, every table filled, every column documented
    assert len(seen["tables"]) == 24
    assert all(rows > 0 for rows, _, _ in seen["tables"].values())
    assert all(comment for _, comment in seen["columns"].values())


def _storage_number(path: Path) -> int:
    """The storage version number in a DuckDB file's header (after the 'DUCK' magic)."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK", header
    return int.from_bytes(header[12:20], "little")


def test_the_default_copy_is_written_in_the_v1_storage_format(
    published: tuple[Path, Path],
) -> None:
    db, copy = published
    assert settings.analyst_storage_version() == "v1.0.0"
    # 64 is what DuckDB 1.0 to 1.1 write and read; the warehouse keeps DuckDB 2's own
    assert (_storage_number(copy), _storage_number(db)) == (64, 999)


def test_native_writes_the_running_duckdbs_own_format(
    published: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = published
    monkeypatch.setenv("KSCOPE_ANALYST_STORAGE_VERSION", "native")
    assert settings.analyst_storage_version() is None
    copy = warehouse.publish(db, tmp_path / "native.duckdb", storage_version=None).path
    assert _storage_number(copy) == 999


def test_a_storage_version_that_is_no_release_is_refused(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = published
    with pytest.raises(ValueError, match="storage version \"v1'; DROP\" is not a DuckDB release"):
        warehouse.publish(db, tmp_path / "x.duckdb", storage_version="v1'; DROP")
    assert list(tmp_path.iterdir()) == []
