"""`dagster dev` end to end: a 10-partition backfill launched through GraphQL as the UI does,
then the sightlines and the alerts recomputed by their automation, and the alerts sent by
the daemon's notifier to a webhook on loopback, as a user sees it happen.

The webserver, daemon and code server run in their own process group (like `set -m`)
against the sandbox served by this test process, with DAGSTER_HOME in tmp_path and the
project's instance config linked there (run queue, DuckDB writer pool). The whole group is
killed in `finally`. Most of the ~2 min is Dagster's own: ~30 s to start, the backfill
daemon's 30 s tick, once to submit the run and once to mark the backfill complete, the
automation sensor's 30 s tick and the notifier's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox import ground_truth_daily as gtd
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY_KEYS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    Pipeline,
    days,
    expected_api_key_costs,
    expected_costs,
    expected_usage,
    minimum_daily_requests,
    query,
    requests_per_path,
    stored_usage,
)
from kscope_openai_pipeline_tests.helpers.processes import (
    FINISHED,
    WORKSPACE,
    child_environment,
    dagster_dev,
    free_port,
    wait_for,
)
from kscope_openai_pipeline_tests.helpers.webhook_receiver import WebhookReceiver

#: The sightlines and the alerts that read them: one automation run recomputes them all.
SIGHTLINES = (
    "alerts", "billing_reconciliation", "gateway_bypass", "gateway_bypass_daily",
    "seat_allocation", "seat_governance", "seat_governance_daily",
)  # fmt: skip
LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""
AUTOMATION_RUNS = """
query AutomationRuns {
  runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "sightlines_automation"}]}) {
    ... on Runs { results { runId status assetSelection { path } } }
  }
}
"""
DELIVERY_RUNS = """
query DeliveryRuns {
  runsOrError(filter: {pipelineName: "alerts_notify_job"}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""
BACKFILL_STATUS = """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      status
      runs { runId status tags { key value } }
      error { message }
    }
  }
}
"""
@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_backfill_of_ten_partitions_through_graphql(
    sandbox: Sandbox, hook: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stale_data follows the wall clock (its own test); everything else is on
    env = child_environment(tmp_path, monkeypatch, sandbox, KSCOPE_ALERT_WEBHOOK_URL=hook.url,
                            KSCOPE_ALERTS_DISABLED="stale_data")  # fmt: skip
    db = Path(env["KSCOPE_DUCKDB_PATH"])
    analyst = db.with_name("kscope_analytics.duckdb")
    pipeline = Pipeline(sandbox, db, {})
    partitions = days(pipeline.day(13), pipeline.day(22))
    first, last = partitions[0], partitions[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    log = tmp_path / "dagster_dev.log"
    started = time.monotonic()
    timings: dict[str, float] = {}

    def graphql(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(url, json={"query": document, "variables": variables or {}},
                              timeout=120)  # fmt: skip
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def loaded() -> dict[str, Any] | None:
        data = graphql(WORKSPACE)
        entries = data["workspaceOrError"]["locationEntries"]
        ok = entries and all(e["loadStatus"] == "LOADED" for e in entries)
        return data if ok else None

    try:
        with dagster_dev(env, port, log) as process:
            workspace = wait_for("the code location to load", loaded, 300, process)
            timings["ready"] = time.monotonic() - started
            (repo,) = workspace["repositoriesOrError"]["nodes"]
            assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == {
                "daily_refresh": "RUNNING"
            }
            assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {
                "alerts_notifier": "RUNNING",
                "alerts_on_run_failure": "RUNNING",
                "publish_analyst_copy": "RUNNING",
                "sightlines_automation": "RUNNING",
            }

            # what the UI's "Materialize selected" -> partition range -> "Launch backfill" sends
            params = {
                "assetSelection": [{"path": key.path} for key in DAILY_KEYS],
                "partitionNames": [d.isoformat() for d in partitions],
                "fromFailure": False,
                "tags": [],
            }
            launched = graphql(LAUNCH_BACKFILL, {"backfillParams": params})
            launched = launched["launchPartitionBackfill"]
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            backfill_id = launched["backfillId"]

            def finished() -> dict[str, Any] | None:
                backfill = graphql(BACKFILL_STATUS, {"id": backfill_id})
                backfill = backfill["partitionBackfillOrError"]
                return backfill if backfill["status"] in FINISHED else None

            backfill = wait_for("the backfill to finish", finished, 300, process)
            timings["backfill done"] = time.monotonic() - started
            assert backfill["status"] == "COMPLETED_SUCCESS", backfill
            (run,) = backfill["runs"]  # single_run backfill policy: one run for 10 days
            assert run["status"] == "SUCCESS"
            tags = {t["key"]: t["value"] for t in run["tags"]}
            assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == (str(first), str(last))

            wait_for("the sensor to publish the analyst copy", analyst.exists, 120, process)
            timings["published"] = time.monotonic() - started

            def automation_run() -> dict[str, Any] | None:
                runs = graphql(AUTOMATION_RUNS)["runsOrError"]["results"]
                done = {"SUCCESS", "FAILURE", "CANCELED"}
                return runs if runs and all(r["status"] in done for r in runs) else None

            (recompute,) = wait_for("the sightlines' automation run", automation_run, 300, process)
            timings["sightlines recomputed"] = time.monotonic() - started
            assert recompute["status"] == "SUCCESS"
            assert sorted(tuple(k["path"]) for k in recompute["assetSelection"]) == [
                ("sightlines", name) for name in SIGHTLINES
            ]

            def delivered() -> list[dict[str, Any]] | None:
                runs = graphql(DELIVERY_RUNS)["runsOrError"]["results"]
                after = [r for r in runs if any(
                    t["key"] == "kscope/alerts_reason" and "new findings" in t["value"]
                    for t in r["tags"]
                )]  # fmt: skip
                return after if after and all(r["status"] == "SUCCESS" for r in after) else None

            wait_for("the notifier to deliver the alerts", delivered, 180, process)
            timings["alerts delivered"] = time.monotonic() - started
    except AssertionError:
        print(log.read_text()[-6000:])
        raise

    org = sandbox.org
    assert stored_usage(db, first, last) == expected_usage(org, first, last)
    costs = query(db, "SELECT cost_date, project_id, line_item, amount_usd FROM openai.costs")
    assert {(d, p, li): a for d, p, li, a in costs} == expected_costs(org, first, last)
    key_costs = query(db, "SELECT cost_date, api_key_id, amount_usd FROM openai.api_key_costs")
    assert {(d, k): a for d, k, a in key_costs} == expected_api_key_costs(org, first, last)
    assert query(db, "SELECT MIN(usage_date), MAX(usage_date) FROM openai.usage") == [(first, last)]
    assert requests_per_path(sandbox.requests) == minimum_daily_requests(first, last)
    conn = warehouse.open_analyst(analyst)
    try:
        published = conn.execute("SELECT * FROM openai.usage ORDER BY ALL").fetchall()
    finally:
        conn.close()
        del conn
    assert published == query(db, "SELECT * FROM openai.usage ORDER BY ALL")
    # the sightlines followed the backfill: reconciled over the days it stored
    billed = gt.cost_totals(org, first, last + timedelta(days=1), include_subscriptions=False)
    assert query(
        db,
        "SELECT recon_date, billed_usd, status FROM sightlines.billing_reconciliation "
        "WHERE scope = 'organization' ORDER BY recon_date",
    ) == [(day, amount, "gateway_not_deployed") for day, amount in sorted(billed.per_day.items())]
    # the alerts, sent by the daemon's notifier: each finding once. Without Kscope inputs
    # every key with traffic bypasses the gateway; without the inventory there are no
    # members; without gateway data no reconciliation gap
    ledger = gtd.gateway_bypass_daily(org, first, last + timedelta(days=1), audit_days=None)
    window = [(d, k, row.cost_usd) for (d, k), row in ledger.items() if d > last - timedelta(7)]
    spend = {k: sum((c for _, key, c in window if key == k), Decimal(0)) for _, k, _ in window}
    expected = {("new_bypass_key", k) for _, k in ledger} | {
        ("bypass_spend", k) for k, usd in spend.items() if usd > 50
    }
    bodies = hook.accepted
    announced = {(b["blocks"][2]["elements"][0]["text"].split(" · ")[0],
                  b["blocks"][0]["text"]["text"].rsplit(": ", 1)[1]) for b in bodies}  # fmt: skip
    assert len(bodies) == len(announced) == len(expected) > 0
    assert announced == expected
    assert query(db, "SELECT COUNT(*) FROM sightlines.alerts WHERE notified_at IS NULL") == [(0,)]
    print("dagster dev timings (s from start): " + ", ".join(
        f"{k} {v:.1f}" for k, v in timings.items()
    ))  # fmt: skip
