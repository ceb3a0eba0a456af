"""The inventory's history: every version of keys, members, projects and memberships.

Why: the snapshot tables say what is true now; a past day must be judged by what was true
then (a key registered this morning did not govern last month's traffic; a member removed
yesterday held a seat last month). Two sources feed `openai.*_history`:

- `merge_snapshot`: each inventory run, in the transaction that replaces the snapshot
  table, adds a version for every new, changed or vanished object (source 'snapshot').
- `rebuild_from_audit_log`: the time before each object's first listing, reconstructed
  from `openai.audit_logs` (source 'audit_log'), recomputed as a whole from what is
  stored; and the removals and archivals a crawl noticed, moved to when they happened.
  Called after every audit log write and every inventory merge, so the result does not
  depend on which of the two ran first, nor on the order ranges were backfilled in.

The rules are in `sql/history/*.sql` (templates filled here with each table's columns).

    with warehouse.transaction(conn):
        warehouse.replace_table(conn, "openai.users", frame, ...)
        history.merge_snapshot(conn, "openai.users", org, crawled_at)
        history.rebuild_from_audit_log(conn, org, ["openai.users"])
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kscope_openai_pipeline.warehouse.ddl import checked_table, table_columns
from kscope_openai_pipeline.warehouse.tx import transaction

SQL_DIR = Path(__file__).parent / "sql" / "history"


@dataclass(frozen=True)
class HistorySpec:
    """How one snapshot table is versioned."""

    snapshot: str
    keys: tuple[str, ...]
    #: Columns carried on the current version but not versioned (they change every day).
    volatile: tuple[str, ...] = ()
    #: The SQL reconstructing the time before the first listing (None: no audit events).
    from_audit_log: str | None = None
    #: (refinement SQL, its fill-ins) dating changes a crawl noticed late.
    refine: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def history(self) -> str:
        return f"{self.snapshot}_history"


HISTORY: dict[str, HistorySpec] = {
    spec.snapshot: spec
    for spec in (
        HistorySpec(
            "openai.api_keys",
            ("api_key_id",),
            volatile=("last_used_at",),
            from_audit_log="api_keys_from_audit_log",
            refine=(
                (
                    "refine_removals",
                    (
                        ("history", "openai.api_keys_history"),
                        ("id_column", "api_key_id"),
                        ("event_type", "api_key.deleted"),
                    ),
                ),
            ),
        ),
        HistorySpec(
            "openai.users",
            ("user_id",),
            from_audit_log="users_from_audit_log",
            refine=(
                (
                    "refine_removals",
                    (
                        ("history", "openai.users_history"),
                        ("id_column", "user_id"),
                        ("event_type", "user.deleted"),
                    ),
                ),
            ),
        ),
        HistorySpec(
            "openai.projects",
            ("project_id",),
            from_audit_log="projects_from_audit_log",
            refine=(("refine_archivals", ()),),
        ),
        HistorySpec("openai.project_users", ("project_id", "user_id")),
    )
}


@dataclass(frozen=True)
class MergeResult:
    """What one snapshot merge changed: objects by kind of change."""

    table: str
    new: int
    changed: int
    removed: int
    returned: int

    @property
    def versions_added(self) -> int:
        return self.new + self.changed + self.removed + self.returned


@functools.cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _statements(text: str) -> list[str]:
    """The statements of a history SQL file: separated by lines holding only ';'."""
    parts, current = [], []
    for line in text.splitlines():
        if line.strip() == ";":
            parts.append("\n".join(current))
            current = []
        else:
            current.append(line)
    parts.append("\n".join(current))
    return [p for p in parts if _code(p)]


def _code(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip()


def _params(statement: str, values: dict[str, object]) -> dict[str, object]:
    """The values a statement uses (DuckDB refuses unused named parameters)."""
    return {k: v for k, v in values.items() if f"${k}" in _code(statement)}


def _run(conn: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> None:
    for statement in _statements(sql):
        conn.execute(statement, _params(statement, values))


def _merge_sql(spec: HistorySpec, columns: list[str]) -> str:
    keys = spec.keys
    compared = [c for c in columns if c not in (*keys, "organization_id", *spec.volatile)]

    def join(a: str, b: str) -> str:
        return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)

    volatile = spec.volatile or (keys[0],)  # no volatile column: an update of no row
    fill = {
        "history": checked_table(spec.history),
        "snapshot": checked_table(spec.snapshot),
        "first_key": keys[0],
        "key_coalesce": ", ".join(f"coalesce(l.{k}, c.{k}) AS {k}" for k in keys),
        "key_join_lc": join("l", "c"),
        "key_join_hx": join("h", "x"),
        "key_join_lx": join("l", "x"),
        "key_join_hl": join("h", "l"),
        "differs": "(" + " OR ".join(f"l.{c} IS DISTINCT FROM c.{c}" for c in compared) + ")",
        "volatile": ", ".join(spec.volatile) or "none",
        "volatile_set": ", ".join(f"{c} = l.{c}" for c in volatile),
        "volatile_differs": " OR ".join(f"h.{c} IS DISTINCT FROM l.{c}" for c in volatile)
        if spec.volatile
        else "FALSE",
    }
    return _sql("merge_snapshot").format(**fill)


def merge_snapshot(
    conn: duckdb.DuckDBPyConnection,
    snapshot: str,
    organization_id: str,
    crawled_at: dt.datetime,
) -> MergeResult:
    """Add the versions the just-replaced `snapshot` table implies, as of `crawled_at`.

    Runs in the caller's transaction (or its own). `crawled_at` is naive UTC; if it is not
    after the latest version already recorded (a clock step back, two runs in one
    second), it is moved one second past it so validity intervals never invert.
    """
    spec = HISTORY[snapshot]
    if crawled_at.tzinfo is not None:
        raise ValueError("crawled_at must be naive UTC")
    columns = [c for c, _, _ in table_columns(conn, spec.snapshot)]
    with transaction(conn):
        (latest,) = conn.execute(
            f"SELECT MAX(valid_from) FROM {checked_table(spec.history)} "
            "WHERE organization_id = ? AND source = 'snapshot'",
            [organization_id],
        ).fetchone()  # type: ignore[misc]
        if latest is not None and crawled_at <= latest:
            crawled_at = latest + dt.timedelta(seconds=1)
        values = {"organization_id": organization_id, "crawled_at": crawled_at}
        statements = _statements(_merge_sql(spec, columns))
        conn.execute(statements[0], _params(statements[0], values))  # history_changes
        counts = dict(
            conn.execute("SELECT change, COUNT(*) FROM history_changes GROUP BY ALL").fetchall()
        )
        _run(conn, "\n;\n".join(statements[1:]), values)
        conn.execute("DROP TABLE IF EXISTS history_changes")
        conn.execute("DROP TABLE IF EXISTS history_gone")
    return MergeResult(
        spec.history,
        int(counts.get("new", 0)),
        int(counts.get("changed", 0)),
        int(counts.get("gone", 0)),
        int(counts.get("returned", 0)),
    )


def rebuild_from_audit_log(
    conn: duckdb.DuckDBPyConnection,
    organization_id: str,
    snapshots: Iterable[str] | None = None,
) -> dict[str, int]:
    """Recompute the audit-log part of the history of `snapshots` (default: all).

    Replaces every 'audit_log' version of the organization with what the stored audit log
    and the first listings imply, then dates the removals and archivals the crawls
    noticed. Returns {history table: audit_log versions}. Without any stored audit log
    (audit logging off) no version is reconstructed and removals keep the crawl's time.
    """
    chosen = list(HISTORY) if snapshots is None else list(snapshots)
    out: dict[str, int] = {}
    values = {"organization_id": organization_id}
    with transaction(conn):
        for snapshot in chosen:
            spec = HISTORY[snapshot]
            history = checked_table(spec.history)
            conn.execute(
                f"DELETE FROM {history} WHERE organization_id = ? AND source = 'audit_log'",
                [organization_id],
            )
            if spec.from_audit_log is not None:
                sql = _sql(spec.from_audit_log).strip().rstrip(";")
                conn.execute(f"INSERT INTO {history} BY NAME\n{sql}", values)
            for name, fill in spec.refine:
                _run(conn, _sql(name).format(**dict(fill)), values)
            (out[history],) = conn.execute(
                f"SELECT COUNT(*) FROM {history} "
                "WHERE organization_id = ? AND source = 'audit_log'",
                [organization_id],
            ).fetchone()  # type: ignore[misc]
        for temp in ("history_removal_times", "history_archival_times"):
            conn.execute(f"DROP TABLE IF EXISTS {temp}")
    return out
