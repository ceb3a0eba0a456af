"""Open the warehouse file as the catalog `warehouse`, whatever the file is called.

Why: DuckDB names a database after its file, so `duckdb.connect("data/kscope.duckdb")`
is the catalog `kscope`, and then every `kscope.<table>` reference is ambiguous with the
schema `kscope` (a Binder Error). `connect` attaches the file to an in-memory DuckDB under
the alias `warehouse` and selects it (`USE warehouse`), so `openai.usage` and
`kscope.engineers` resolve as analysts expect, for any file name.

DuckDB lets one database instance per process attach a given file. So that several
connections can be open at once in one process (threads, nested helpers, an asset check
while an asset's connection is still alive), the first `connect` of a path creates a
hidden anchor instance and every call hands out a cursor of it; when the last handed-out
connection is garbage-collected, the anchor is closed and the file released (other
processes can then take the write lock).

Memory: DuckDB keeps a transaction's uncommitted rows in its buffer pool, whose default
limit is 80% of RAM; a daily asset writes its whole range in one transaction, so a
year-long backfill held every inserted row until COMMIT. `memory_limit(conn, limit)` caps
the pool for the duration of such a write: above the cap DuckDB writes the rows out (to
the file, or to `<file>.tmp`) and the transaction stays one atomic unit. The cap is not
kept for everything else (the sightlines join millions of rows and are faster in memory).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

#: The catalog name the warehouse file is attached under.
CATALOG = "warehouse"


@dataclass
class _Anchor:
    conn: duckdb.DuckDBPyConnection
    read_only: bool
    live: int = 0


_ANCHORS: dict[Path, _Anchor] = {}
_LOCK = threading.Lock()
#: handed-out connection -> the finalizer that releases its share of the anchor
_FINALIZERS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, weakref.finalize] = (
    weakref.WeakKeyDictionary()
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _open_anchor(path: Path, read_only: bool) -> _Anchor:
    anchor = duckdb.connect(":memory:")
    mode = "READ_ONLY" if read_only else "READ_WRITE"
    try:
        # spills go beside the file (DuckDB's own default for a file), not to the cwd
        anchor.execute(f"SET temp_directory = {_quote(str(path) + '.tmp')}")
        anchor.execute(f"ATTACH {_quote(str(path))} AS {CATALOG} ({mode})")
    except BaseException:
        anchor.close()
        raise
    return _Anchor(anchor, read_only)


def _release(key: Path, anchor: _Anchor) -> None:
    with _LOCK:
        anchor.live -= 1
        if anchor.live > 0:
            return
        if _ANCHORS.get(key) is anchor:
            del _ANCHORS[key]
    anchor.conn.close()


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file, attached as catalog 'warehouse' and selected.

    Within one process, connections to the same file share one attachment: a read-only
    request is served by an attachment already open for writing, but a write request
    while the file is attached read-only raises (close the read-only ones first). Close
    connections when done; the file is released once none is left.
    """
    key = Path(path).resolve()
    with _LOCK:
        anchor = _ANCHORS.get(key)
        if anchor is not None and anchor.read_only and not read_only:
            raise duckdb.ConnectionException(
                f"{key} is open read-only in this process; close those connections before "
                "opening it for writing"
            )
        if anchor is None:
            anchor = _open_anchor(key, read_only)
            _ANCHORS[key] = anchor
        conn = anchor.conn.cursor()
        anchor.live += 1
    _FINALIZERS[conn] = weakref.finalize(conn, _release, key, anchor)
    conn.execute(f"USE {CATALOG}")
    return conn


def disconnect(conn: duckdb.DuckDBPyConnection) -> None:
    """Close `conn` and release the file now if it was the last connection to it.

    Why not wait for garbage collection: a failed run's traceback keeps its connection
    alive, and with it the file lock that the next run (another process) needs.
    """
    conn.close()
    with _LOCK:
        finalizer = _FINALIZERS.pop(conn, None)
    if finalizer is not None:
        finalizer()


@contextmanager
def memory_limit(conn: duckdb.DuckDBPyConnection, limit: str | None) -> Iterator[None]:
    """DuckDB's `memory_limit` set to `limit` (e.g. '256MB') inside the block and reset to
    DuckDB's default (80% of RAM) after it; None changes nothing. The setting belongs to the
    database instance, so it holds for every connection of this process to the file."""
    if not limit:
        yield
        return
    conn.execute(f"SET memory_limit = {_quote(limit)}")
    try:
        yield
    finally:
        conn.execute("RESET memory_limit")
