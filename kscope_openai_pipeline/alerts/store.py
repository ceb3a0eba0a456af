"""sightlines.alerts: create it, merge what a detection found, read it back.

Why a merge and not a replace (as the sightlines are): the table remembers what was
announced (`notified_at`, `resolved_notified_at`). Replacing it would forget that, and a
re-run would announce everything again. The merge rules are in `sql/merge_findings.sql`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pyarrow as arrow

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.alerts import sqlfiles
from kscope_openai_pipeline.alerts.findings import Finding
from kscope_openai_pipeline.alerts.kinds import KINDS, Kind
from kscope_openai_pipeline.schemas import alerts as models

TABLE = "sightlines.alerts"
#: Kinds whose findings can be open (all but events).
RESOLVING_KINDS = [k.name for k in KINDS.values() if k.resolves]


@dataclass(frozen=True)
class MergeResult:
    """What a merge changed: rows inserted, reopened and resolved; rows open after it."""

    new: int
    reopened: int
    resolved: int
    open: int


def ensure_alerts_table(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse tables and sightlines.alerts if missing, with column comments."""
    warehouse.ensure_schema(
        conn, [sqlfiles.DDL_FILE], models=[*warehouse.default_models(), *models.MODELS]
    )


def merge(
    conn: duckdb.DuckDBPyConnection,
    findings: Sequence[Finding],
    decided: Iterable[Kind],
    seen_date: dt.date,
) -> MergeResult:
    """Merge `findings` of the kinds `decided` (and only those) as seen on `seen_date`.

    One transaction (or the caller's): the findings are staged in a TEMP table, then the
    four statements of `merge_findings.sql` run. Kinds in `decided` that do not resolve
    (events) are inserted but never resolved.
    """
    decided = tuple(decided)
    stray = sorted({f.kind for f in findings} - {k.name for k in decided})
    if stray:
        raise ValueError(f"findings of kinds {stray} that this detection did not decide")
    with warehouse.transaction(conn):
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE alert_findings (organization_id VARCHAR, "
            "alert_id VARCHAR, kind VARCHAR, subject VARCHAR, severity VARCHAR, "
            "first_seen_date DATE, details JSON)"
        )
        if findings:
            _stage(conn, findings)
        n_dup = conn.execute(
            "SELECT COUNT(*) - COUNT(DISTINCT (organization_id, alert_id)) FROM alert_findings"
        ).fetchone()[0]  # type: ignore[index]
        if n_dup:
            raise ValueError(f"{n_dup} findings share an alert id (same kind and subject)")
        resolved, reopened, _, new = (
            int(rows[0][0])
            for rows in sqlfiles.run(
                conn,
                "merge_findings",
                {
                    "seen_date": seen_date,
                    "resolving_kinds": [k.name for k in decided if k.resolves],
                },
            )
        )
        conn.execute("DROP TABLE alert_findings")
        (still_open,) = conn.execute(
            f"SELECT COUNT(*) FROM {TABLE} WHERE resolved_date IS NULL AND list_contains(?, kind)",
            [[k.name for k in decided]],
        ).fetchone()  # type: ignore[misc]
    return MergeResult(new=new, reopened=reopened, resolved=resolved, open=int(still_open))


def _stage(conn: duckdb.DuckDBPyConnection, findings: Sequence[Finding]) -> None:
    """Insert the findings into the TEMP table alert_findings as one Arrow table.

    Why not `executemany`: DuckDB runs it as one INSERT per row, a few milliseconds each;
    a large organization has hundreds of findings every day (~1.5 s). The columns are typed
    like the TEMP table, so DuckDB casts exactly what the row-by-row INSERT cast.
    """
    days = [
        f.first_seen_date.date() if isinstance(f.first_seen_date, dt.datetime)
        else f.first_seen_date
        for f in findings
    ]  # fmt: skip
    rows = arrow.table(
        {
            "organization_id": arrow.array([f.organization_id for f in findings], arrow.string()),
            "alert_id": arrow.array([f.alert_id for f in findings], arrow.string()),
            "kind": arrow.array([f.kind for f in findings], arrow.string()),
            "subject": arrow.array([f.subject for f in findings], arrow.string()),
            "severity": arrow.array([f.severity for f in findings], arrow.string()),
            "first_seen_date": arrow.array(days, arrow.date32()),
            "details": arrow.array([f.details for f in findings], arrow.string()),
        }
    )
    warehouse.execute_over_arrow(
        conn,
        rows,
        "alert_findings_rows",
        "INSERT INTO alert_findings BY NAME SELECT * FROM alert_findings_rows",
    )


@dataclass(frozen=True)
class KindSummary:
    """One kind's open findings: how many, and their subjects (for checks and metadata)."""

    open: int
    subjects: tuple[str, ...]


def open_by_kind(conn: duckdb.DuckDBPyConnection) -> dict[str, KindSummary]:
    """Open findings per kind that resolves (kinds without any are absent). Events (failed
    runs) never resolve, so they are never "open": the runs' history shows them."""
    rows = conn.execute(
        f"""
        SELECT kind, COUNT(*), list(subject ORDER BY subject)
        FROM {TABLE}
        WHERE resolved_date IS NULL AND list_contains(?, kind)
        GROUP BY kind
        """,
        [RESOLVING_KINDS],
    ).fetchall()
    return {kind: KindSummary(int(n), tuple(subjects)) for kind, n, subjects in rows}


def organization(conn: duckdb.DuckDBPyConnection, fallback: str | None) -> str:
    """The organization findings about the pipeline itself belong to: the one the
    warehouse holds, else `fallback` (the setting), else 'unknown' (nothing crawled yet)."""
    (stored,) = conn.execute(
        "SELECT MIN(organization_id) FROM openai.organization"
    ).fetchone()  # type: ignore[misc]
    return stored or fallback or "unknown"


def open_amounts(conn: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    """Money behind the open findings: the bypass keys' window spend over the threshold,
    and the reconciliation gaps of their last day (exact; the UI gets floats)."""
    (spend, gap) = conn.execute(
        f"""
        SELECT
            coalesce(SUM(CAST(details->>'spend_usd' AS DECIMAL(18, 9)))
                FILTER (WHERE kind = 'bypass_spend'), 0),
            coalesce(SUM(CAST(details->>'gap_usd' AS DECIMAL(18, 9)))
                FILTER (WHERE kind = 'reconciliation_gap'), 0)
        FROM {TABLE}
        WHERE resolved_date IS NULL
        """
    ).fetchone()  # type: ignore[misc]
    return {"bypass_spend_usd": Decimal(spend), "reconciliation_gap_usd": Decimal(gap)}


#: The open findings, most severe first (for the asset's metadata; events left out).
OPEN_PREVIEW_SQL = f"""
    SELECT kind, subject, severity, first_seen_date, last_seen_date,
        notified_at IS NOT NULL AS announced
    FROM {TABLE}
    WHERE resolved_date IS NULL AND list_contains(?, kind)
    ORDER BY CASE severity WHEN 'high' THEN 0 ELSE 1 END, kind, subject
"""
