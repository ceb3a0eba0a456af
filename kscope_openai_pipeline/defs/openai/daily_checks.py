"""Asset checks of the daily tables, run right after each write, in the same run.

`grain_unique` is blocking (downstream sightlines must not read duplicated rows); the rest
are WARN: things an analyst should see (a day with no data, usage of a deleted key) but
that are legitimate on a real organization.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
from duckdb import DuckDBPyConnection

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import openai as schemas
from kscope_openai_pipeline.schemas.base import grain

WARN = dg.AssetCheckSeverity.WARN

_MODELS = {
    "usage": schemas.Usage,
    "costs": schemas.Costs,
    "api_key_costs": schemas.ApiKeyCosts,
    "audit_logs": schemas.AuditLogs,
}
_DATE = {
    "usage": "usage_date",
    "costs": "cost_date",
    "api_key_costs": "cost_date",
    "audit_logs": "event_date",
}

_DESCRIPTIONS = {
    "grain_unique": "No two rows share the table's grain (NULL compared as a value).",
    "days_present": "Every day of the written window since the first API key has rows.",
    "keys_in_inventory": "Every api_key_id with usage is listed in openai.api_keys or known "
    "to be deleted (audit log or inventory history); warns on the others.",
    "costs_match_usage": "Days with costs but no usage, or usage but no costs.",
    "matches_project_costs": "Per day, costs by key sum to costs by project x line item.",
    "audit_logging_enabled": "The organization has audit logging switched on (else the "
    "inventory history starts at the first crawl).",
}
_TABLE_CHECKS = {
    "usage": ["grain_unique", "days_present", "keys_in_inventory"],
    "costs": ["grain_unique", "days_present", "costs_match_usage"],
    "api_key_costs": ["grain_unique", "matches_project_costs"],
    "audit_logs": ["grain_unique", "audit_logging_enabled"],
}


def check_specs(key: dg.AssetKey, name: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            check, asset=key, description=_DESCRIPTIONS[check], blocking=check == "grain_unique"
        )
        for check in _TABLE_CHECKS[name]
    ]


def run_checks(
    conn: DuckDBPyConnection,
    key: dg.AssetKey,
    name: str,
    org: str,
    start: date,
    end: date,
    *,
    switched_off: Exception | None = None,
) -> list[dg.AssetCheckResult]:
    """Every check of the table; `switched_off` is the API's "source switched off" answer
    this run received, if any."""

    def _audit_logging_enabled(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=check,
            passed=switched_off is None,
            severity=WARN,
            description=None
            if switched_off is None
            else "Audit logging is switched off: nothing to read, and the inventory history "
            "starts at the first crawl. The run's log says how to switch it on.",
            metadata={"switched_on": switched_off is None},
        )

    checks = {
        "grain_unique": _grain_unique,
        "days_present": _days_present,
        "keys_in_inventory": _keys_in_inventory,
        "costs_match_usage": _costs_match_usage,
        "matches_project_costs": _matches_project_costs,
        "audit_logging_enabled": _audit_logging_enabled,
    }
    return [checks[check](conn, key, check, name, org, start, end) for check in _TABLE_CHECKS[name]]


def _grain_unique(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
    model = _MODELS[name]
    duplicates, examples = warehouse.duplicate_grain(
        conn, model.Config.name, grain(model), "organization_id = ?", [org]
    )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=duplicates == 0,
        metadata={"duplicate_keys": duplicates, "examples": str(examples[:5])},
    )


def _days_present(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
    table, column = _MODELS[name].Config.name, _DATE[name]
    first_key = conn.execute(
        "SELECT CAST(MIN(created_at) AS DATE) FROM openai.api_keys WHERE organization_id = ?",
        [org],
    ).fetchall()[0][0]
    first = max(start, first_key) if first_key else start
    present = {
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT {column} FROM {table} "
            f"WHERE organization_id = ? AND {column} >= ? AND {column} < ?",
            [org, first, end],
        ).fetchall()
    }
    expected = [first + timedelta(days=i) for i in range(max((end - first).days, 0))]
    missing = [d.isoformat() for d in expected if d not in present]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=not missing,
        severity=WARN,
        metadata={
            "days_expected": len(expected),
            "days_missing": len(missing),
            "missing": ", ".join(missing[:20]),
        },
    )


def _keys_in_inventory(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
    """Usage of keys the inventory does not list: fine when the key is known to be deleted
    (the audit log's `api_key.deleted`, or the history saw it leave the listing), a warning
    otherwise. A check that warned on every deleted key would teach people to ignore it."""
    rows = conn.execute(
        """
        WITH unlisted AS (
            SELECT
                u.api_key_id,
                SUM(u.input_tokens + u.output_tokens) AS tokens,
                SUM(u.num_model_requests)             AS requests
            FROM openai.usage AS u
            ANTI JOIN openai.api_keys AS k
                ON k.api_key_id = u.api_key_id
            WHERE u.organization_id = ?
                AND u.api_key_id IS NOT NULL
            GROUP BY u.api_key_id
        ),
        known_deleted AS (
            SELECT target_id AS api_key_id
            FROM openai.audit_logs
            WHERE organization_id = ? AND event_type = 'api_key.deleted'
            UNION
            SELECT api_key_id
            FROM openai.api_keys_history
            WHERE organization_id = ? AND deleted
        )
        SELECT
            api_key_id,
            tokens,
            requests,
            api_key_id IN (SELECT api_key_id FROM known_deleted) AS deleted
        FROM unlisted
        ORDER BY tokens DESC, api_key_id
        """,
        [org, org, org],
    ).fetchall()
    unknown = [r for r in rows if not r[3]]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=not unknown,
        severity=WARN,
        description=(
            "Usage of keys neither listed nor known to be deleted: an inventory crawl that "
            "missed keys, or a deletion from before the stored audit log."
            if unknown
            else "Every key with usage is listed or known to be deleted."
        ),
        metadata={
            "keys_missing_from_inventory": len(rows),
            "known_deleted": len(rows) - len(unknown),
            "unexplained": len(unknown),
            "unexplained_tokens": int(sum(r[1] for r in unknown)),
            "unexplained_requests": int(sum(r[2] for r in unknown)),
            "unexplained_keys": ", ".join(r[0] for r in unknown[:20]),
        },
    )


def _costs_match_usage(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
    rows = conn.execute(
        """
        WITH cost_days AS (
            SELECT cost_date AS day, SUM(amount_usd) AS billed_usd
            FROM openai.costs
            WHERE organization_id = ? AND project_id IS NOT NULL
            GROUP BY cost_date
        ),
        usage_days AS (
            SELECT usage_date AS day, SUM(num_model_requests) AS requests
            FROM openai.usage
            WHERE organization_id = ?
            GROUP BY usage_date
        )
        SELECT
            COUNT(*) FILTER (WHERE u.day IS NULL)        AS cost_days_without_usage,
            COALESCE(SUM(c.billed_usd) FILTER (WHERE u.day IS NULL), 0),
            COUNT(*) FILTER (WHERE c.day IS NULL)        AS usage_days_without_costs,
            COALESCE(SUM(u.requests) FILTER (WHERE c.day IS NULL), 0)
        FROM cost_days AS c
        FULL OUTER JOIN usage_days AS u
            ON u.day = c.day
        """,
        [org, org],
    ).fetchall()[0]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=rows[0] == 0 and rows[2] == 0,
        severity=WARN,
        metadata={
            "cost_days_without_usage": int(rows[0]),
            "their_billed_usd": str(rows[1]),
            "usage_days_without_costs": int(rows[2]),
            "their_requests": int(rows[3]),
        },
    )


def _matches_project_costs(conn, key, check, name, org, start, end) -> dg.AssetCheckResult:
    rows = conn.execute(
        """
        WITH by_key AS (
            SELECT cost_date, SUM(amount_usd) AS usd
            FROM openai.api_key_costs
            WHERE organization_id = ? AND cost_date >= ? AND cost_date < ?
            GROUP BY cost_date
        ),
        by_project AS (
            SELECT cost_date, SUM(amount_usd) AS usd
            FROM openai.costs
            WHERE organization_id = ? AND cost_date >= ? AND cost_date < ?
            GROUP BY cost_date
        )
        SELECT k.cost_date, k.usd, p.usd
        FROM by_key AS k
        LEFT JOIN by_project AS p
            ON p.cost_date = k.cost_date
        WHERE p.usd IS DISTINCT FROM k.usd
        ORDER BY k.cost_date
        """,
        [org, start, end, org, start, end],
    ).fetchall()
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=not rows,
        severity=WARN,
        metadata={
            "days_differing": len(rows),
            "examples": "; ".join(f"{d}: by key {a} vs by project {b}" for d, a, b in rows[:5]),
        },
    )
