"""The analysts' copy: a read-only DuckDB file replaced atomically after each run.

Why a copy: DuckDB lets one process write a file, and a long analyst session on the
warehouse itself would block the pipeline (or be blocked by it). So analysts open a
separate file that `publish` rewrites from the warehouse:

1. ATTACH a fresh temporary file next to the destination, in the storage format of an
   older DuckDB release (`STORAGE_VERSION`, see below), and `COPY FROM DATABASE` the
   warehouse into it (schemas, tables, column comments), DETACH (which checkpoints it),
   fsync it;
2. `os.replace` it over the destination: one atomic rename.

Why an older storage format: the pipeline runs DuckDB 2.x, whose own file format the
DuckDB 1.x releases bundled in analysts' tools (notebooks, BI drivers, the CLI they
already have) refuse to open ("...version number 999, but we can only read versions
between 64 and 67"). Every DuckDB from 1.0 on reads `v1.0.0` files, tables, types and
comments included; the pipeline's own reads do not care which format the copy has.

An analyst whose read-only connection is open on the old copy keeps reading the old file
(on Linux a renamed-over file lives on while open) and is never blocked; a new connection
sees the new copy whole. Nobody ever sees a half-written copy.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kscope_openai_pipeline.warehouse.connection import connect

#: The storage format the analyst copy is written in unless told otherwise: readable by
#: every DuckDB release from 1.0 on (the setting KSCOPE_ANALYST_STORAGE_VERSION).
ANALYST_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class PublishResult:
    """What `publish` wrote: the path, rows per table, size and duration."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _fsync(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def publish(
    src_path: str | Path,
    dst_path: str | Path,
    *,
    conn: duckdb.DuckDBPyConnection | None = None,
    wait_seconds: float = 0.0,
    storage_version: str | None = ANALYST_STORAGE_VERSION,
) -> PublishResult:
    """Copy the warehouse at `src_path` to `dst_path` atomically; return what was written.

    Pass `conn` when this process already holds the warehouse open (DuckDB refuses a
    second writer-side open of the same file); otherwise the warehouse is opened read-only
    for the copy. While another process writes the warehouse, DuckDB's file lock refuses
    that open: publish then retries for up to `wait_seconds` (default: fail at once with
    duckdb.IOException; the next publish catches up). The destination's folder is created
    if needed. `storage_version` is the DuckDB storage format of the copy (e.g. `v1.0.0`,
    readable by DuckDB 1.0 and later); None writes the running DuckDB's own format.
    """
    started = time.monotonic()
    src = Path(src_path)
    dst = Path(dst_path)
    if src.resolve() == dst.resolve():
        raise ValueError(f"the analyst copy must be another file than the warehouse: {dst}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{uuid.uuid4().hex}")
    alias = f"kscope_publish_{uuid.uuid4().hex[:12]}"
    own_conn = conn is None
    if conn is None:
        if not src.exists():
            raise FileNotFoundError(f"warehouse not found: {src}")
        conn = _connect_waiting(src, wait_seconds)
    try:
        source_db = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(f"ATTACH {_quote_path(tmp)} AS {alias} ({_attach_options(storage_version)})")
        try:
            conn.execute(f'COPY FROM DATABASE "{source_db}" TO {alias}')
            rows = _row_counts(conn, alias)
        finally:
            conn.execute(f"DETACH {alias}")
        _fsync(tmp)
        os.replace(tmp, dst)
        _fsync(dst.parent, directory=True)
    except BaseException:
        _remove(tmp)
        raise
    finally:
        if own_conn:
            conn.close()
    return PublishResult(dst, rows, dst.stat().st_size, time.monotonic() - started)


def _attach_options(storage_version: str | None) -> str:
    """ATTACH options for the new copy; the version is checked, as it is spliced into SQL."""
    if storage_version is None:
        return "READ_WRITE"
    if not re.fullmatch(r"v\d+\.\d+\.\d+", storage_version):
        raise ValueError(
            f"storage version {storage_version!r} is not a DuckDB release like 'v1.0.0'"
        )
    return f"READ_WRITE, STORAGE_VERSION '{storage_version}'"


def _connect_waiting(src: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, retrying while a writer holds its lock."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return connect(src, read_only=True)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _row_counts(conn: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY ALL",
        [database],
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        (n,) = conn.execute(f'SELECT COUNT(*) FROM {database}."{schema}"."{table}"').fetchone()  # type: ignore[misc]
        counts[f"{schema}.{table}"] = int(n)
    return counts


def _attached_read_only(path: Path, alias: str) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB with `path` attached read-only and selected (USE).

    Why not `duckdb.connect(path, read_only=True)`: DuckDB caches one database instance
    per path and process, so while any connection to the old copy is open in this process,
    connecting again would silently return the OLD copy. A fresh in-memory database that
    attaches the file opens whatever file the path names now.
    """
    conn = duckdb.connect(":memory:")
    try:
        conn.execute(f"ATTACH {_quote_path(path)} AS {alias} (READ_ONLY)")
        conn.execute(f"USE {alias}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_analyst(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the analyst copy, as it is now.

    Tables are reachable as in the warehouse (`SELECT * FROM openai.usage`). The
    connection keeps reading the copy it opened even after a publish replaces the file;
    open a new one to see the newest copy. Writes fail (the copy is attached read-only).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"analyst copy not found: {p} (run the pipeline or `kscope-openai publish` first)"
        )
    return _attached_read_only(p, "analytics")
