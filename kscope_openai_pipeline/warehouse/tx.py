"""One DuckDB transaction that nested writers join instead of breaking.

DuckDB has no nested transactions, and probing with a second BEGIN is not an option: it
fails *and* aborts the open transaction. So the warehouse's writers all go through
`transaction(conn)`, which remembers which connections are inside a block; an inner block
joins the outer one, and only the outermost commits or rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

#: ids of connections inside a `transaction()` block; a nested block joins the outer one.
_OPEN_TRANSACTIONS: set[int] = set()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN; yield; COMMIT, or ROLLBACK on any exception (then re-raise it).

    Re-entrant: inside an outer `transaction(conn)` block it joins the outer transaction
    (no BEGIN/COMMIT of its own), so several writes compose into one all-or-nothing unit:

        with transaction(conn):
            replace_table(conn, "openai.projects", projects)
            replace_table(conn, "openai.api_keys", keys)

    (Probing DuckDB with a second BEGIN is not an option: it aborts the open transaction.)
    """
    key = id(conn)
    if key in _OPEN_TRANSACTIONS:
        yield conn
        return
    conn.execute("BEGIN TRANSACTION")
    _OPEN_TRANSACTIONS.add(key)
    try:
        yield conn
    except BaseException:
        rollback_quietly(conn)
        raise
    else:
        try:
            conn.execute("COMMIT")
        except BaseException:
            rollback_quietly(conn)
            raise
    finally:
        _OPEN_TRANSACTIONS.discard(key)


def rollback_quietly(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # DuckDB may have aborted it already
        conn.execute("ROLLBACK")
