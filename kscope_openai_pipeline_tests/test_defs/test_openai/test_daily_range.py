"""Real Dagster runs over real HTTP into a real DuckDB file: ranges, re-runs, skipped days.

Every expected number comes from `sandbox/ground_truth.py` or the org's records; the
request minima from the API's page limits (31 usage days, 180 cost days a page).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import dagster as dg

from kscope_openai_pipeline.openai_admin import USAGE_FAMILIES
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY,
    INVENTORY,
    Pipeline,
    days,
    execute,
    expected_api_key_costs,
    expected_costs,
    expected_usage,
    expected_usage_rows,
    minimum_daily_requests,
    minimum_inventory_requests,
    partition_metadata,
    query,
    requests_per_path,
    stored_usage,
    stored_usage_rows,
    table_checksum,
    table_rows,
)

DAILY_TABLES = ("openai.usage", "openai.costs", "openai.api_key_costs")
DATE_COLUMN = {
    "openai.usage": "usage_date",
    "openai.costs": "cost_date",
    "openai.api_key_costs": "cost_date",
}


def test_inventory_and_three_day_range_in_one_run_equal_ground_truth(pipeline: Pipeline) -> None:
    """Inventory + 3 days of usage/costs/api_key_costs in ONE run: exact, fewest requests."""
    org = pipeline.org
    first, last = pipeline.day(13), pipeline.day(15)
    instance = dg.DagsterInstance.ephemeral()

    result = pipeline.materialize([*INVENTORY, *DAILY], first, last, instance=instance)

    assert result.success
    assert [r.run_id for r in instance.get_runs()] == [result.run_id]
    db = pipeline.db_path
    assert stored_usage(db, first, last) == expected_usage(org, first, last)
    assert stored_usage_rows(db, first, last) == expected_usage_rows(org, first, last)
    costs = query(
        db,
        "SELECT cost_date, project_id, line_item, amount_usd FROM openai.costs "
        "WHERE organization_id = ?",
        [org.organization_id],
    )
    assert {(d, p, li): a for d, p, li, a in costs} == expected_costs(org, first, last)
    assert len(costs) == len(expected_costs(org, first, last))  # the grain holds: no doubles
    key_costs = query(db, "SELECT cost_date, api_key_id, amount_usd FROM openai.api_key_costs")
    assert {(d, k): a for d, k, a in key_costs} == expected_api_key_costs(org, first, last)
    assert len(key_costs) == len(expected_api_key_costs(org, first, last))
    assert all(isinstance(a, Decimal) and a.as_tuple().exponent == -9 for *_, a in costs)

    # the inventory the same run wrote
    listed = sorted(k.id for k in org.api_keys if not k.deleted)
    assert [r[0] for r in query(db, "SELECT api_key_id FROM openai.api_keys ORDER BY 1")] == listed
    assert query(db, "SELECT COUNT(*) FROM openai.projects")[0][0] == len(org.projects)
    assert query(db, "SELECT COUNT(*) FROM openai.users")[0][0] == len(org.users)
    assert query(db, "SELECT COUNT(*) FROM openai.invites")[0][0] == len(org.invites)
    assert query(db, "SELECT source, organization_id FROM openai.organization") == [
        ("sandbox", org.organization_id)
    ]

    # fewest requests: one per usage family, one per costs query, inventory pages once
    served = pipeline.sandbox.requests
    assert all(r.status == 200 for r in served)
    expected = {**minimum_inventory_requests(org), **minimum_daily_requests(first, last)}
    assert requests_per_path(served) == expected
    window = (str(gt.to_epoch(first)), str(gt.to_epoch(last + timedelta(days=1))))
    for r in served:
        if r.path.startswith(("/organization/usage/", "/organization/costs")):
            params = dict(r.query)
            assert (params["start_time"], params["end_time"]) == window
            assert params["bucket_width"] == "1d"

    # per-partition metadata: each day's own row count
    for asset in DAILY:
        table = asset.metadata_by_key[asset.key]["dagster/table_name"]
        per_day = dict(query(db, f"SELECT {DATE_COLUMN[table]}, COUNT(*) FROM {table} GROUP BY 1"))
        meta = partition_metadata(result, asset.key)
        assert sorted(meta) == [d.isoformat() for d in days(first, last)]
        for key, values in meta.items():
            assert values["dagster/row_count"] == per_day[date.fromisoformat(key)]
            assert values["rows_in_window"] == sum(per_day.values())
            assert values["fetched_from_api"] is True
            assert values["write_memory_limit"] == "128MB"  # the default cap of the write
        requests = len(USAGE_FAMILIES) if table == "openai.usage" else 1  # 3 days: 1 page
        assert {v["requests"] for v in meta.values()} == {requests}
        assert {v["pages"] for v in meta.values()} == {requests}
        assert {v["retries"] for v in meta.values()} == {0}

    # the admin key appears in no event, log message or metadata of the run
    assert all(org.admin_key not in repr(event) for event in result.all_events)


def test_rerunning_one_day_restores_it_exactly_and_touches_no_other_day(
    pipeline: Pipeline,
) -> None:
    """Re-materializing the middle day: identical tables, no duplicates, neighbours intact."""
    first, middle, last = pipeline.day(13), pipeline.day(14), pipeline.day(15)
    pipeline.materialize([*INVENTORY, *DAILY], first, last)
    db = pipeline.db_path
    before = {t: table_rows(db, t) for t in DAILY_TABLES}
    checksums = {t: table_checksum(db, t) for t in DAILY_TABLES}
    assert all(before.values())

    # Damage the middle day (stale values, as if OpenAI restated it) and plant a sentinel
    # row on a neighbouring day that only a write outside the window could remove.
    org_id = pipeline.org.organization_id
    execute(
        db, "UPDATE openai.usage SET input_tokens = input_tokens + 7 WHERE usage_date = ?", [middle]
    )
    execute(
        db,
        "DELETE FROM openai.costs WHERE cost_date = ? AND line_item = "
        "(SELECT MIN(line_item) FROM openai.costs WHERE cost_date = ?)",
        [middle, middle],
    )
    execute(
        db,
        "INSERT INTO openai.api_key_costs (organization_id, cost_date, api_key_id, amount_usd, "
        "currency) VALUES (?, ?, 'key_sentinel', 1.5, 'usd')",
        [org_id, last],
    )
    assert table_rows(db, "openai.usage") != before["openai.usage"]
    pipeline.sandbox.clear_requests()

    result = pipeline.materialize(DAILY, middle)

    assert result.success
    sentinel = "SELECT COUNT(*) FROM openai.api_key_costs WHERE api_key_id = 'key_sentinel'"
    assert query(db, sentinel) == [(1,)]
    execute(db, "DELETE FROM openai.api_key_costs WHERE api_key_id = 'key_sentinel'")
    for table in DAILY_TABLES:
        assert table_rows(db, table) == before[table], table
        assert table_checksum(db, table) == checksums[table], table
    # only the one day was asked for
    window = (str(gt.to_epoch(middle)), str(gt.to_epoch(last)))
    served = pipeline.sandbox.requests
    assert requests_per_path(served) == minimum_daily_requests(middle, middle)
    assert {(dict(r.query)["start_time"], dict(r.query)["end_time"]) for r in served} == {window}


def test_days_before_the_earliest_key_are_written_empty_without_any_request(
    pipeline: Pipeline,
) -> None:
    """Partitions start long before the org's first key: those days cost no usage request.

    Only usage is skipped (every usage row needs a key); costs are asked for the whole
    window, because a cost line such as seats can predate every key, and it is one request.
    """
    org = pipeline.org
    earliest = gt.to_date(min(k.created_at for k in org.api_keys if not k.deleted))
    pipeline.materialize(INVENTORY)
    db = pipeline.db_path

    # 1. a range entirely before the first key: no usage request at all
    pipeline.sandbox.clear_requests()
    first, last = earliest - timedelta(days=7), earliest - timedelta(days=1)
    result = pipeline.materialize(DAILY, first, last)
    assert result.success
    assert requests_per_path(pipeline.sandbox.requests) == {"/organization/costs": 2}
    for table in DAILY_TABLES:
        assert query(db, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    usage_meta = partition_metadata(result, DAILY[0].key)
    assert sorted(usage_meta) == [d.isoformat() for d in days(first, last)]
    for values in usage_meta.values():
        assert values["dagster/row_count"] == 0
        assert values["fetched_from_api"] is False
        assert values["skipped_reason"] == (
            f"written empty without an API call: before the earliest API key creation ({earliest})"
        )
        assert values["days_skipped_before_first_data"] == 7
        assert values["requests"] == 0
    for asset in DAILY[1:]:
        for values in partition_metadata(result, asset.key).values():
            assert values["fetched_from_api"] is True
            assert values["write_memory_limit"] == "128MB"  # the default cap of the write
            assert values["requests"] == 1

    # 2. a range straddling it: usage is asked from the earliest key's day, costs from first
    pipeline.sandbox.clear_requests()
    first, last = earliest - timedelta(days=2), earliest + timedelta(days=1)
    result = pipeline.materialize(DAILY, first, last)
    assert result.success
    end = str(gt.to_epoch(last + timedelta(days=1)))
    served = pipeline.sandbox.requests
    expected_requests = minimum_daily_requests(earliest, last)
    assert requests_per_path(served) == expected_requests
    windows = {
        (
            r.path.startswith("/organization/usage/"),
            dict(r.query)["start_time"],
            dict(r.query)["end_time"],
        )
        for r in served
    }
    assert windows == {
        (True, str(gt.to_epoch(earliest)), end),
        (False, str(gt.to_epoch(first)), end),
    }
    assert stored_usage(db, first, last) == expected_usage(org, first, last)
    assert dict(
        ((d, p, li), a)
        for d, p, li, a in query(
            db, "SELECT cost_date, project_id, line_item, amount_usd FROM openai.costs"
        )
    ) == expected_costs(org, first, last)
    meta = partition_metadata(result, DAILY[0].key)
    assert [meta[d.isoformat()]["fetched_from_api"] for d in days(first, last)] == [
        False,
        False,
        True,
        True,
    ]


def test_fetch_start_rules(monkeypatch) -> None:
    """Usage starts at the earliest key unless KSCOPE_SKIP_BEFORE_FIRST_KEY=0; costs never
    skip by key; api_key_costs never start before the API's 2025-12-06 floor."""
    from kscope_openai_pipeline.defs.openai.daily import DAILY_TABLES as SPECS
    from kscope_openai_pipeline.defs.openai.daily import fetch_start

    usage, costs, key_costs, audit_logs = SPECS
    start, end, key = date(2025, 11, 1), date(2026, 1, 1), date(2025, 11, 20)
    assert fetch_start(usage, start, end, key) == key
    assert fetch_start(usage, start, end, None) == start
    assert fetch_start(costs, start, end, key) == start
    assert fetch_start(key_costs, start, end, key) == date(2025, 12, 6)
    assert fetch_start(audit_logs, start, end, key) == start  # members predate keys
    assert fetch_start(usage, start, date(2025, 11, 10), key) == date(2025, 11, 10)
    monkeypatch.setenv("KSCOPE_SKIP_BEFORE_FIRST_KEY", "0")
    assert fetch_start(usage, start, end, key) == start
