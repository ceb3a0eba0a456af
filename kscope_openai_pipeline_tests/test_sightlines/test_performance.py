"""All six sightlines over 1.2 million usage rows: exact row counts and passing checks at
scale. Speed is not asserted here: `make bench` measures the same shape at 10 million rows
against the 10 s target.

The data is a deterministic synthetic warehouse written by SQL (not the sandbox: its
large org has ~2M completion rows), shaped to be hard: every one of 3,000 keys on every
one of 400 days, 40 models in 300 projects, per-key costs only for the last 178 days (so
222 days go through the token-share allocation), 1,500 members, 1,400 engineers with
aliases, gateway data for most keys. 1.2 million rows is the fewest that put every key on
every day (3,000 x 400), so every output table has its full size.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sightlines import checks
from kscope_openai_pipeline.warehouse import history

ROWS = 1_200_000  # 3,000 keys x 400 days, one row each
AS_OF = dt.date(2026, 11, 25)

_GENERATE = [
    f"""
    INSERT INTO openai.usage BY NAME
    WITH numbers AS (SELECT range AS i FROM range({ROWS}))
    SELECT 'org-bench' AS organization_id,
           DATE '2026-11-25' - CAST(i % 400 AS INTEGER) AS usage_date,
           'completions' AS usage_type,
           'proj_' || ((i // 400) % 300) AS project_id,
           'key_' || ((i // 400) % 3000) AS api_key_id,
           'model-' || ((i // 30000) % 40) AS model,
           i % 7 = 0 AS batch, 'default' AS service_tier,
           (i * 7919) % 100000 AS input_tokens, (i * 104729) % 20000 AS output_tokens,
           (i * 31) % 1000 AS input_cached_tokens, 1 + i % 9 AS num_model_requests
    FROM numbers
    """,
    """
    INSERT INTO openai.costs BY NAME
    WITH project_models AS (
        SELECT usage_date, project_id, model, SUM(input_tokens) AS it, SUM(output_tokens) AS ot
        FROM openai.usage GROUP BY ALL
    )
    SELECT 'org-bench' AS organization_id, usage_date AS cost_date, project_id,
           model || ', input' AS line_item, CAST(it * 0.000001 AS DECIMAL(18, 9)) AS amount_usd,
           'usd' AS currency
    FROM project_models
    UNION ALL
    SELECT 'org-bench', usage_date, project_id, model || ', output',
           CAST(ot * 0.000004 AS DECIMAL(18, 9)), 'usd'
    FROM project_models
    UNION ALL
    SELECT 'org-bench', DATE '2026-11-25' - CAST(range AS INTEGER), NULL, 'ChatGPT Team seats',
           591.780822000, 'usd'
    FROM range(400)
    """,
    """
    INSERT INTO openai.api_key_costs BY NAME
    SELECT 'org-bench' AS organization_id, usage_date AS cost_date, api_key_id,
           CAST(SUM(input_tokens) * 0.000001 + SUM(output_tokens) * 0.000004 AS DECIMAL(18, 9))
               AS amount_usd,
           'usd' AS currency
    FROM openai.usage
    WHERE usage_date >= DATE '2026-06-01'
    GROUP BY ALL
    """,
    """
    INSERT INTO openai.api_keys BY NAME
    SELECT 'org-bench' AS organization_id, 'key_' || range AS api_key_id,
           'project' AS key_kind, 'proj_' || (range % 300) AS project_id,
           'sk-proj-****' || range AS redacted_value, 'user' AS owner_type,
           'user-' || (range % 1500) AS owner_id, TIMESTAMP '2025-10-01' AS created_at,
           TIMESTAMP '2026-11-25' AS last_used_at
    FROM range(3000)
    """,
    """
    INSERT INTO openai.users BY NAME
    SELECT 'org-bench' AS organization_id, 'user-' || range AS user_id,
           'u' || range || '@corp.com' AS email, 'reader' AS role,
           TIMESTAMP '2025-10-01' + INTERVAL (range % 400) DAY AS added_at
    FROM range(1500)
    """,
    """
    INSERT INTO kscope.dev_tokens BY NAME
    SELECT 'org-bench' AS organization_id, 'dt_' || range AS dev_token_id,
           'openai' AS provider,
           CASE WHEN range % 10 = 0 THEN NULL ELSE 'key_' || range END AS provider_key_id,
           'sk-proj-****' || range AS provider_key_redacted,
           CASE WHEN range % 17 = 0 THEN 'revoked' ELSE 'active' END AS status,
           TIMESTAMP '2025-10-02' AS created_at
    FROM range(2900)
    """,
    """
    INSERT INTO kscope.gateway_costs BY NAME
    SELECT 'org-bench' AS organization_id, usage_date, api_key_id AS provider_key_id,
           project_id, model, SUM(num_model_requests) AS requests,
           SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
           SUM(input_cached_tokens) AS cached_tokens,
           CAST(SUM(input_tokens) * 0.00000099 + SUM(output_tokens) * 0.000004
               AS DECIMAL(18, 9)) AS cost_usd
    FROM openai.usage
    WHERE api_key_id < 'key_29'
    GROUP BY ALL
    """,
    """
    INSERT INTO kscope.engineers BY NAME
    SELECT 'org-bench' AS organization_id, 'eng-' || range AS engineer_id,
           'U' || range || '@corp.com' AS email, ['u' || range || '+x@corp.io'] AS aliases,
           CASE WHEN range % 20 = 0 THEN 'departed' ELSE 'active' END AS status
    FROM range(1400)
    """,
]


@pytest.mark.slow
def test_all_sightlines_at_scale_have_their_full_row_counts_and_pass_their_checks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bench.duckdb"
    conn = duckdb.connect(str(path))
    sightlines.ensure_sightlines_schema(conn)
    for statement in _GENERATE:
        conn.execute(statement)
    for snapshot in ("openai.api_keys", "openai.users"):  # one crawl, before the first day
        history.merge_snapshot(conn, snapshot, "org-bench", dt.datetime(2025, 9, 30))
    conn.close()
    conn = duckdb.connect(str(path))  # cold start, like a Dagster run
    conn.execute("SET threads = 2")
    params = sightlines.SightlineParams(as_of=AS_OF, domain_aliases=(("corp.io", "corp.com"),))
    started = time.perf_counter()
    results = sightlines.compute_all(conn, params)
    elapsed = time.perf_counter() - started
    assert conn.execute("SELECT COUNT(*) FROM openai.usage").fetchone()[0] == ROWS  # type: ignore[index]
    assert {t: r.rows for t, r in results.items()} == {
        sightlines.SEAT_ALLOCATION: 600_000,  # 400 days x 1,500 members (crawled before day 1)
        sightlines.GATEWAY_BYPASS: 3_000,
        sightlines.GATEWAY_BYPASS_DAILY: 1_200_000,  # 3,000 keys x 400 days
        sightlines.BILLING_RECONCILIATION: 120_400,
        sightlines.SEAT_GOVERNANCE: 1_500,
        sightlines.SEAT_GOVERNANCE_DAILY: 600_000,
    }
    assert all(o.passed for o in checks.run_all(conn)), [o for o in checks.run_all(conn)]
    conn.close()
    print(f"compute_all over {ROWS:,} usage rows on 2 threads: {elapsed:.2f} s")
