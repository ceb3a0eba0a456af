"""`warehouse.connect`: any file name, several connections per process, file released after."""

from __future__ import annotations

import gc
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline.warehouse import (
    connect,
    ensure_schema,
    memory_limit,
    open_analyst,
    publish,
)


def test_connections_share_the_file_and_release_it(tmp_path: Path) -> None:
    path = tmp_path / "kscope.duckdb"  # the default name, which clashes with schema kscope
    writer = connect(path)
    ensure_schema(writer)
    reader = connect(path, read_only=True)  # served by the open read-write attachment
    writer.execute(
        "INSERT INTO kscope.engineers VALUES ('o', 'e1', 'a@x.io', [], 'A', 't', 'active', NULL)"
    )
    assert reader.execute("SELECT engineer_id FROM kscope.engineers").fetchall() == [("e1",)]
    assert reader.execute("SELECT current_database()").fetchone() == ("warehouse",)
    # publishing from the same process reuses the attachment instead of clashing with it
    assert publish(path, tmp_path / "analytics.duckdb").rows["kscope.engineers"] == 1
    writer.close()
    reader.close()
    del writer, reader
    gc.collect()
    plain = duckdb.connect(str(path))  # the file is free again: a plain open works
    assert plain.execute("SELECT COUNT(*) FROM kscope.kscope.engineers").fetchone() == (1,)
    plain.close()
    assert open_analyst(tmp_path / "analytics.duckdb").execute(
        "SELECT email FROM kscope.engineers"
    ).fetchall() == [("a@x.io",)]


def test_a_write_request_on_a_read_only_attachment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    first = connect(path)
    ensure_schema(first)
    del first
    gc.collect()
    reader = connect(path, read_only=True)
    with pytest.raises(duckdb.ConnectionException, match="open read-only in this process"):
        connect(path)
    with pytest.raises(duckdb.Error, match="read-only"):
        reader.execute("DELETE FROM openai.usage")


def test_disconnect_releases_the_file_even_while_a_traceback_holds_the_connection(
    tmp_path: Path,
) -> None:
    """A failed asset's traceback keeps its connection object alive; `disconnect` must still
    free the file so that the next run, in another process, can take the write lock."""
    import subprocess
    import sys

    from kscope_openai_pipeline.warehouse import disconnect

    path = tmp_path / "warehouse.duckdb"
    caught: list[BaseException] = []
    conn = connect(path)
    try:
        conn.execute("CREATE TABLE t (x INTEGER)")
        raise RuntimeError("the asset failed")
    except RuntimeError as err:
        caught.append(err)  # the traceback's frame still references `conn`
    finally:
        disconnect(conn)
    probe = (
        f"import duckdb; c = duckdb.connect({str(path)!r}); "
        "print(c.execute('SELECT COUNT(*) FROM t').fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert (out.returncode, out.stdout.strip()) == (0, "0"), out.stderr
    assert caught[0].__traceback__ is not None


def _limit(conn: duckdb.DuckDBPyConnection) -> str:
    return str(conn.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_memory_limit_holds_inside_the_block_only(tmp_path: Path) -> None:
    conn = connect(tmp_path / "kscope.duckdb")
    other = connect(tmp_path / "kscope.duckdb")  # same process, same file: same instance
    default = _limit(conn)
    with memory_limit(conn, "256MB"):
        assert (_limit(conn), _limit(other)) == ("244.1 MiB", "244.1 MiB")  # DuckDB's units
    assert _limit(conn) == default != "244.1 MiB"
    with pytest.raises(ZeroDivisionError), memory_limit(conn, "1GB"):
        assert _limit(conn) == "953.6 MiB"
        _ = 1 / 0
    assert _limit(conn) == default  # reset after a failure too
    with memory_limit(conn, None):
        assert _limit(conn) == default
    # a spill goes beside the warehouse file, not into the working directory
    temp = conn.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert temp == str((tmp_path / "kscope.duckdb").resolve()) + ".tmp"
    conn.close()
    other.close()
