"""Child process: the sightlines over a synthetic warehouse of N usage rows.

    python -m benchmarks.sightlines_scale 10000000 /tmp/bench/sightlines_10m.duckdb

Why synthetic: the sandbox's large org has ~1.3M usage rows a year; the question is how
the sightlines grow to 10M. The rows are generated inside DuckDB (`range()`, no Python
loop), shaped like the large org: 300 projects, 3,000 project keys, 40 models, 365 days
ending 2026-11-25, 1,500 members, 100 invites. Everything else matches the usage:
- openai.costs: per (day, project, model) an input and an output line priced from the
  usage's tokens, plus two seat lines a day (ChatGPT Team / Enterprise seats);
- openai.api_key_costs: per (day, key) from 2025-12-06 on (as the API allows), plus the
  day's seat cost with no key;
- kscope.dev_tokens for 80% of the keys (every 7th matched by redacted value only,
  every 11th revoked); kscope.gateway_costs metered for those keys at the billed price;
- kscope.engineers for 90% of the members (aliases, mixed case, some departed).
The usage grain (day, key, model, batch, service_tier) is unique by construction.

Generation (with one inventory crawl merged into the history before the first day) and
`compute_all` are timed separately; then each sightline alone, in the order compute_all
runs them, for the breakdown (each alone includes loading the TEMP tables it reads).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from benchmarks.measure import emit, peak_rss_mb

ORG = "org-bench"
DAYS = 365
FIRST_DAY = "2025-11-26"
AS_OF = dt.date(2026, 11, 25)
KEYS = 3000
PROJECTS = 300
MODELS = 40
USERS = 1500

_SETUP = f"""
INSERT INTO openai.projects BY NAME
SELECT '{ORG}' AS organization_id, 'proj_' || lpad(CAST(p AS VARCHAR), 4, '0') AS project_id,
       'Project ' || p AS name, CASE WHEN p % 20 = 0 THEN 'archived' ELSE 'active' END AS status,
       TIMESTAMP '2025-01-01' + to_days(CAST(p AS INTEGER)) AS created_at,
       CASE WHEN p % 20 = 0 THEN TIMESTAMP '2026-06-01' END AS archived_at
FROM range({PROJECTS}) t(p);

INSERT INTO openai.users BY NAME
SELECT '{ORG}' AS organization_id, 'user-' || u AS user_id,
       CASE WHEN u % 13 = 0 THEN 'User' || u || '@corp.com'
            WHEN u % 17 = 0 THEN 'user' || u || '+openai@corp.com'
            ELSE 'user' || u || '@corp.com' END AS email,
       'User ' || u AS name, CASE WHEN u < 5 THEN 'owner' ELSE 'reader' END AS role,
       TIMESTAMP '2025-01-01' + to_hours(CAST(u * 7 AS BIGINT)) AS added_at
FROM range({USERS}) t(u);

INSERT INTO openai.invites BY NAME
SELECT '{ORG}' AS organization_id, 'invite-' || i AS invite_id, 'new' || i || '@corp.com' AS email,
       'reader' AS role, ['pending', 'expired', 'accepted'][1 + i % 3] AS status,
       TIMESTAMP '2026-10-01' + to_days(CAST(i % 50 AS INTEGER)) AS created_at,
       TIMESTAMP '2026-12-01' AS expires_at, NULL AS accepted_at
FROM range(100) t(i);

INSERT INTO openai.api_keys BY NAME
SELECT '{ORG}' AS organization_id, 'key_' || lpad(CAST(k AS VARCHAR), 5, '0') AS api_key_id,
       'project' AS key_kind,
       'proj_' || lpad(CAST(k % {PROJECTS} AS VARCHAR), 4, '0') AS project_id,
       'key ' || k AS name, 'sk-proj-****' || lpad(CAST(k AS VARCHAR), 5, '0') AS redacted_value,
       'user' AS owner_type, 'user-' || (k % {USERS}) AS owner_id,
       'user' || (k % {USERS}) || '@corp.com' AS owner_email,
       'User ' || (k % {USERS}) AS owner_name,
       TIMESTAMP '2025-06-01' AS created_at, TIMESTAMP '2026-11-25' AS last_used_at
FROM range({KEYS}) t(k)
UNION ALL
SELECT '{ORG}', 'key_admin' || k, 'admin', NULL, 'admin ' || k, 'sk-admin-****' || k, 'user',
       'user-' || k, 'user' || k || '@corp.com', 'User ' || k, TIMESTAMP '2025-06-01', NULL
FROM range(5) t(k);

INSERT INTO kscope.engineers BY NAME
SELECT '{ORG}' AS organization_id, 'eng-' || u AS engineer_id, 'user' || u || '@corp.com' AS email,
       CASE WHEN u % 9 = 0 THEN ['u' || u || '@corp.io'] ELSE [] END AS aliases,
       'User ' || u AS name, 'team-' || (u % 30) AS team,
       CASE WHEN u % 50 = 0 THEN 'departed' ELSE 'active' END AS status
FROM range({USERS}) t(u)
WHERE u % 10 <> 0;

INSERT INTO kscope.dev_tokens BY NAME
SELECT '{ORG}' AS organization_id, 'dt_' || k AS dev_token_id, 'openai' AS provider,
       CASE WHEN k % 7 = 0 THEN NULL ELSE 'key_' || lpad(CAST(k AS VARCHAR), 5, '0') END
           AS provider_key_id,
       'sk-proj-****' || lpad(CAST(k AS VARCHAR), 5, '0') AS provider_key_redacted,
       'user' || (k % {USERS}) || '@corp.com' AS owner_email,
       CASE WHEN k % 11 = 0 THEN 'revoked' ELSE 'active' END AS status,
       TIMESTAMP '2025-06-02' AS created_at,
       CASE WHEN k % 11 = 0 THEN TIMESTAMP '2026-09-01' END AS revoked_at
FROM range({KEYS}) t(k)
WHERE k % 5 <> 0;
"""


def _usage_sql(rows: int) -> str:
    per_day = -(-rows // DAYS)
    return f"""
INSERT INTO openai.usage BY NAME
SELECT '{ORG}' AS organization_id,
       DATE '{FIRST_DAY}' + CAST(i // {per_day} AS INTEGER) AS usage_date,
       'completions' AS usage_type,
       'proj_' || lpad(CAST(j % {KEYS} % {PROJECTS} AS VARCHAR), 4, '0') AS project_id,
       'key_' || lpad(CAST(j % {KEYS} AS VARCHAR), 5, '0') AS api_key_id,
       'gpt-bench-' || CAST(j // {KEYS} % {MODELS} AS VARCHAR) AS model,
       j // {KEYS * MODELS} % 2 = 1 AS batch,
       ['default', 'flex', 'priority', 'scale', 'auto'][1 + j // {KEYS * MODELS * 2} % 5]
           AS service_tier,
       100 + hash(i) % 5000 AS input_tokens,
       50 + hash(i + 1) % 2000 AS output_tokens,
       (100 + hash(i) % 5000) // 4 AS input_cached_tokens,
       1 + hash(i + 2) % 20 AS num_model_requests
FROM (SELECT i, i % {per_day} AS j FROM range({rows}) t(i));
"""


KEY_COSTS_MARK = "-- api_key_costs --"
_DERIVED = f"""
CREATE TEMP TABLE key_model_days AS
SELECT usage_date, api_key_id, project_id, model,
       SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
       SUM(input_cached_tokens) AS cached_tokens, SUM(num_model_requests) AS requests,
       CAST(SUM(input_tokens) AS DECIMAL(18, 9)) * 0.0000025
           + CAST(SUM(output_tokens) AS DECIMAL(18, 9)) * 0.00001 AS cost_usd
FROM openai.usage
GROUP BY ALL;

INSERT INTO openai.costs BY NAME
SELECT '{ORG}' AS organization_id, usage_date AS cost_date, project_id,
       model || ', input' AS line_item,
       CAST(SUM(input_tokens) * 0.0000025 AS DECIMAL(18, 9)) AS amount_usd, 'usd' AS currency,
       CAST(SUM(input_tokens) AS DOUBLE) AS quantity, 'tokens' AS quantity_unit
FROM key_model_days GROUP BY ALL
UNION ALL
SELECT '{ORG}', usage_date, project_id, model || ', output',
       CAST(SUM(output_tokens) * 0.00001 AS DECIMAL(18, 9)), 'usd',
       CAST(SUM(output_tokens) AS DOUBLE), 'tokens'
FROM key_model_days GROUP BY ALL
UNION ALL
SELECT '{ORG}', DATE '{FIRST_DAY}' + CAST(d AS INTEGER), NULL, s.item, s.usd, 'usd', s.seats,
       'seats'
FROM range({DAYS}) t(d)
CROSS JOIN (VALUES ('ChatGPT Team seats', 600.0, 600.000000000),
                   ('ChatGPT Enterprise seats', 300.0, 1800.000000000)) s(item, seats, usd);

{KEY_COSTS_MARK}
INSERT INTO openai.api_key_costs BY NAME
SELECT '{ORG}' AS organization_id, usage_date AS cost_date, api_key_id,
       CAST(SUM(cost_usd) AS DECIMAL(18, 9)) AS amount_usd, 'usd' AS currency
FROM key_model_days WHERE usage_date >= DATE '2025-12-06' GROUP BY ALL
UNION ALL
SELECT '{ORG}', DATE '{FIRST_DAY}' + CAST(d AS INTEGER), NULL, 2400.000000000, 'usd'
FROM range({DAYS}) t(d)
WHERE DATE '{FIRST_DAY}' + CAST(d AS INTEGER) >= DATE '2025-12-06';
{KEY_COSTS_MARK}

INSERT INTO kscope.gateway_costs BY NAME
SELECT '{ORG}' AS organization_id, usage_date, api_key_id AS provider_key_id, project_id, model,
       requests, input_tokens, output_tokens, cached_tokens,
       CAST(cost_usd AS DECIMAL(18, 9)) AS cost_usd
FROM key_model_days
WHERE CAST(right(api_key_id, 5) AS INTEGER) % 5 <> 0;

DROP TABLE key_model_days;
"""


def generate(conn: object, rows: int, key_costs: bool = True) -> dict[str, int]:
    """Fill an empty warehouse with the synthetic org; returns row counts per table.

    `key_costs=False` leaves openai.api_key_costs empty, the worst case for the
    sightlines: every day's cost is then allocated to keys by token share.
    """
    import duckdb

    assert isinstance(conn, duckdb.DuckDBPyConnection)
    conn.execute(_SETUP)
    conn.execute(_usage_sql(rows))
    derived = _DERIVED
    if not key_costs:
        head, _, tail = derived.split(KEY_COSTS_MARK)
        derived = head + tail
    conn.execute(derived)
    counts = {}
    for table in ("openai.usage", "openai.costs", "openai.api_key_costs",
                  "kscope.gateway_costs", "kscope.dev_tokens", "openai.api_keys"):
        counts[table] = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    conn.execute("CHECKPOINT")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("path")
    parser.add_argument("--no-key-costs", action="store_true",
                        help="leave openai.api_key_costs empty (all costs allocated)")
    args = parser.parse_args()
    from kscope_openai_pipeline import sightlines, warehouse

    path = Path(args.path)
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    conn = warehouse.connect(path)
    sightlines.ensure_sightlines_schema(conn)
    began = time.perf_counter()
    counts = generate(conn, args.rows, key_costs=not args.no_key_costs)
    # one inventory crawl before the first day: the history the daily sightlines read
    for snapshot in warehouse.history.HISTORY:
        warehouse.history.merge_snapshot(conn, snapshot, ORG, dt.datetime(2025, 11, 25))
    generated = time.perf_counter() - began
    params = sightlines.SightlineParams(as_of=AS_OF)
    began = time.perf_counter()
    results = sightlines.compute_all(conn, params)
    total = time.perf_counter() - began
    each: dict[str, float] = {}
    for table in (
        sightlines.SEAT_ALLOCATION,
        sightlines.GATEWAY_BYPASS,
        sightlines.GATEWAY_BYPASS_DAILY,
        sightlines.BILLING_RECONCILIATION,
        sightlines.SEAT_GOVERNANCE,
        sightlines.SEAT_GOVERNANCE_DAILY,
    ):
        began = time.perf_counter()
        sightlines.compute_all(conn, params, [table])
        each[table.split(".")[1]] = round(time.perf_counter() - began, 2)
    conn.close()
    emit({
        "usage_rows": counts["openai.usage"],
        "api_key_costs": not args.no_key_costs,
        "rows": counts,
        "generate_seconds": round(generated, 2),
        "compute_all_seconds": round(total, 2),
        "each_seconds": each,
        "sightline_rows": {table: result.rows for table, result in results.items()},
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "peak_rss_mb": peak_rss_mb(),
    })


if __name__ == "__main__":
    main()
