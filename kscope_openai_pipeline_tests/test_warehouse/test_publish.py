"""The analyst copy: exact, atomic, and never blocked by (or blocking) an open reader."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.warehouse import open_analyst, publish, replace_window

from .builders import cost_row, day, frame, snapshot

# the package re-exports the function `publish`, which shadows the module's name
publish_module = importlib.import_module("kscope_openai_pipeline.warehouse.publish")

ANALYST_READER = textwrap.dedent(
    """
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)   # as `duckdb -readonly` would
    print(conn.execute("SELECT COUNT(*) FROM openai.costs").fetchone()[0], flush=True)
    sys.stdin.readline()                                 # hold the connection open
    print(conn.execute("SELECT COUNT(*) FROM openai.costs").fetchone()[0], flush=True)
    """
)

CONSISTENCY_READER = textwrap.dedent(
    """
    import sys, time, duckdb
    from decimal import Decimal
    path, rounds = sys.argv[1], int(sys.argv[2])
    seen = set()
    deadline = time.monotonic() + 180
    while len(seen) < rounds and time.monotonic() < deadline:
        conn = duckdb.connect(path, read_only=True)
        n_rows, total, marker = conn.execute(
            "SELECT COUNT(*), SUM(amount_usd), "
            "MAX(line_item) FILTER (WHERE line_item LIKE 'version %') FROM openai.costs"
        ).fetchone()
        conn.close()
        v = int(marker.split()[1])
        # version v: v + 1 rows of $0.000000001 plus the marker row worth $v
        assert n_rows == v + 2, (n_rows, marker)
        assert total == v + (v + 1) * Decimal("0.000000001"), (total, marker)
        seen.add(v)
    print(len(seen), flush=True)
    """
)


def _write_version(conn: duckdb.DuckDBPyConnection, version: int) -> None:
    rows = [cost_row(day(1), "0.000000001", line_item=f"tiny {i:04d}") for i in range(version + 1)]
    rows.append(cost_row(day(1), str(version), line_item=f"version {version:04d}"))
    replace_window(
        conn, "openai.costs", frame(so.Costs, rows), "cost_date", day(1), day(2), model=so.Costs
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_publish_copies_every_table_exactly(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    _write_version(conn, 2)
    dst = tmp_path / "out" / "kscope_analytics.duckdb"
    result = publish(db_path, dst, conn=conn)
    assert result.path == dst
    assert result.rows["openai.costs"] == 4
    assert result.rows["openai.usage"] == 0
    assert len(result.rows) == 18  # 13 tables, the audit log and 4 history tables
    assert result.bytes == dst.stat().st_size > 0
    analyst = open_analyst(dst)
    assert snapshot(analyst, "openai.costs") == snapshot(conn, "openai.costs")
    assert analyst.execute("SELECT SUM(amount_usd) FROM openai.costs").fetchone() == (
        Decimal("2.000000003"),
    )
    (comment,) = analyst.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'costs' "
        "AND column_name = 'amount_usd'"
    ).fetchone()
    assert comment == "Billed amount in US dollars, exact (9 decimals)."
    with pytest.raises(duckdb.Error, match="read-only"):
        analyst.execute("DELETE FROM openai.costs")
    assert _leftovers(dst.parent) == []


def test_publish_without_a_connection_opens_the_warehouse_read_only(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    _write_version(conn, 1)
    conn.close()
    dst = tmp_path / "analytics.duckdb"
    assert publish(db_path, dst).rows["openai.costs"] == 3
    assert open_analyst(dst).execute("SELECT COUNT(*) FROM openai.costs").fetchone() == (3,)


def test_an_open_analyst_session_neither_blocks_publish_nor_sees_it_half_done(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    dst = tmp_path / "analytics.duckdb"
    _write_version(conn, 1)
    publish(db_path, dst, conn=conn)
    reader = subprocess.Popen(
        [sys.executable, "-c", ANALYST_READER, str(dst)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "3"
        _write_version(conn, 5)
        publish(db_path, dst, conn=conn)  # while the analyst's connection is open
        assert open_analyst(dst).execute("SELECT COUNT(*) FROM openai.costs").fetchone() == (7,)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "3"  # the old copy, whole
        assert reader.wait(timeout=30) == 0
    finally:
        reader.kill()
    assert _leftovers(tmp_path) == []


def test_concurrent_readers_only_ever_see_whole_copies(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """A reader process opens the copy in a loop while 15 versions are published."""
    dst = tmp_path / "analytics.duckdb"
    _write_version(conn, 0)
    publish(db_path, dst, conn=conn)
    rounds = 3
    reader = subprocess.Popen(
        [sys.executable, "-c", CONSISTENCY_READER, str(dst), str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        version = 0
        deadline = time.monotonic() + 180
        while reader.poll() is None and time.monotonic() < deadline:
            version += 1
            _write_version(conn, version % 15)
            publish(db_path, dst, conn=conn)
        out, err = reader.communicate(timeout=180)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    assert int(out.strip()) == rounds


def test_a_failed_publish_keeps_the_previous_copy(
    tmp_path: Path,
    conn: duckdb.DuckDBPyConnection,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fault injection: the temp file's fsync fails (cannot be provoked for real here)."""
    dst = tmp_path / "analytics.duckdb"
    _write_version(conn, 1)
    publish(db_path, dst, conn=conn)
    before = dst.read_bytes()
    _write_version(conn, 4)

    def failing_fsync(path: Path, directory: bool = False) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publish_module, "_fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        publish(db_path, dst, conn=conn)
    assert dst.read_bytes() == before
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    assert publish(db_path, dst, conn=conn).rows["openai.costs"] == 6


def test_open_analyst_in_the_same_process_sees_the_newest_copy(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """DuckDB caches databases per path; open_analyst must not hand back the stale one."""
    dst = tmp_path / "analytics.duckdb"
    _write_version(conn, 1)
    publish(db_path, dst, conn=conn)
    old = open_analyst(dst)
    _write_version(conn, 2)
    publish(db_path, dst, conn=conn)
    assert open_analyst(dst).execute("SELECT COUNT(*) FROM openai.costs").fetchone() == (4,)
    assert old.execute("SELECT COUNT(*) FROM openai.costs").fetchone() == (3,)


def test_publish_and_open_refuse_mistakes(
    tmp_path: Path, db_path: Path, conn: duckdb.DuckDBPyConnection
) -> None:
    with pytest.raises(ValueError, match="another file than the warehouse"):
        publish(db_path, db_path, conn=conn)
    with pytest.raises(FileNotFoundError, match="warehouse not found"):
        publish(tmp_path / "none.duckdb", tmp_path / "a.duckdb")
    with pytest.raises(FileNotFoundError, match="kscope-openai publish"):
        open_analyst(tmp_path / "a.duckdb")


WRITER = textwrap.dedent(
    """
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1])         # another process writing the warehouse
    print("locked", flush=True)
    sys.stdin.readline()                       # holds the lock until told to let go,
    time.sleep(float(sys.argv[2]))             # then a little longer
    """
)


def test_publish_waits_for_a_writer_in_another_process(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    _write_version(conn, 1)
    conn.close()
    dst = tmp_path / "analytics.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), "1.5"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        assert writer.stdin is not None
        with pytest.raises(duckdb.IOException, match="lock"):
            publish(db_path, dst)  # default: fail at once, leave no copy behind
        assert not dst.exists() and _leftovers(tmp_path) == []
        writer.stdin.write("\n")  # the writer lets go 1.5 s from now: publish waits for it
        writer.stdin.flush()
        result = publish(db_path, dst, wait_seconds=120)
        assert result.rows["openai.costs"] == 3
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
