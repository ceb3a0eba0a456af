"""Malformed or surprising responses: normalized by a documented rule, or rejected with
an error naming the endpoint and the field, and the stored tables never change on a
rejection.

Each case of corpus.py is served by a scripted loopback server (real HTTP; a correct
sandbox never serves these shapes) to the Admin API client; the cases marked `asset`
are also served to the real Dagster asset, starting from yesterday's (stale) warehouse.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import pytest

from kscope_openai_pipeline.openai_admin import AdminClient
from kscope_openai_pipeline_tests.test_openai_admin.scripted_server import (
    Reply,
    ScriptedServer,
    Seen,
)

from .corpus import CASES, DAY0, DAY1, Case, Rejected, page
from .harness import (
    SENTINEL_KEY,
    TABLES,
    USAGE_KEY,
    environment,
    pipeline_resources,
    reading,
    restrict,
    run_assets,
    snapshot,
)

pytestmark = pytest.mark.reliability

ASSET = {
    "usage": ([USAGE_KEY], "openai__usage", "openai.usage"),
    "costs": ([dg.AssetKey(["openai", "costs"])], "openai__costs", "openai.costs"),
    "users": ([dg.AssetKey(["openai", "users"])], "openai__users", "openai.users"),
}


def script(case: Case):
    """Answer the case's path from its replies by cursor; other usage families empty."""

    def answer(seen: Seen) -> Reply:
        query = dict(seen.query)
        if seen.path == case.path:
            cursor = query.get("after" if case.target == "users" else "page")
            if cursor in case.replies:
                return case.replies[cursor]
            return Reply(400, {"error": {"message": f"unexpected cursor {cursor!r}",
                                         "type": "invalid_request_error", "param": "page",
                                         "code": None}})
        if seen.path.startswith("/v1/organization/usage/"):
            return Reply(200, page())
        return Reply(404, {"error": {"message": f"not scripted: {seen.path}",
                                     "type": "invalid_request_error", "param": None,
                                     "code": None}})

    return answer


def fetch(client: AdminClient, target: str) -> list[dict[str, Any]]:
    end = date.fromordinal(DAY1.toordinal() + 1)
    if target == "usage":
        return [r for p in client.iter_usage("completions", DAY0, end) for r in p.rows()]
    if target == "costs":
        return [r for p in client.iter_costs(DAY0, end) for r in p.rows()]
    return client.list_users()


def test_the_corpus_is_large_and_covers_the_issue():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(CASES) >= 30
    for words in ("missing", "negative", "duplicate_bucket", "window", "unknown_usage_family",
                  "extra_fields", "amount_as_string", "html", "empty_body", "non_utf8",
                  "as_string", "null"):
        assert any(words in n for n in names), words
    assert len([c for c in CASES if c.asset is not None]) >= 12


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_client_normalizes_by_rule_or_rejects_naming_endpoint_and_field(case, tally):
    with (
        ScriptedServer(script(case)) as srv,
        AdminClient(SENTINEL_KEY, base_url=srv.base_url, sleep=lambda s: None,
                    max_attempts=3) as client,
    ):
        if isinstance(case.expect, Rejected):
            with pytest.raises(case.expect.error) as caught:
                fetch(client, case.target)
            err = caught.value
            assert err.endpoint == case.endpoint
            assert str(err).startswith(f"{case.endpoint}: ")
            if case.expect.field is not None:
                assert err.field == case.expect.field
                assert f"field {case.expect.field!r}" in str(err)
            assert case.expect.reason in str(err)
            tally.add("bad_input", cases=1, rejected=1)
        else:
            assert fetch(client, case.target) == case.expect
            tally.add("bad_input", cases=1, normalized=1)


ASSET_CASES = [c for c in CASES if c.asset is not None]


@pytest.mark.parametrize("case", ASSET_CASES, ids=lambda c: c.name)
def test_assets_store_the_normalized_rows_or_fail_and_change_nothing(
    world, scenario_db, tally, case
):
    keys, step, table = ASSET[case.target]
    with (
        ScriptedServer(script(case)) as srv,
        environment(world.env(scenario_db, OPENAI_BASE_URL=srv.base_url)),
    ):
        outcome = run_assets(keys, pipeline_resources(max_attempts=2), first=DAY0, last=DAY1)
    after = snapshot(scenario_db)
    tally.add("bad_input", through_assets=1)

    if isinstance(case.expect, Rejected) or "warehouse_rejects" in case.tags:
        changed = sum(after[t] != world.stale[t] for t in TABLES)
        tally.add("bad_input", tables_changed=changed)
        assert not outcome.success
        message = outcome.failures[step]
        assert case.endpoint in message, message
        if isinstance(case.expect, Rejected):
            assert f"field {case.expect.field!r}" in message and case.expect.reason in message
        else:  # the warehouse's pandera gate: table, column and value named
            assert "openai.costs: column currency" in message and "'USD'" in message, message
        assert changed == 0
        assert after == world.stale
        return

    assert outcome.success, outcome.failures
    sql, rows = case.asset
    with reading(scenario_db) as conn:
        assert conn.execute(sql).fetchall() == rows
    for other in TABLES:  # nothing else moved: other tables, other days
        if other != table:
            assert after[other] == world.stale[other], other
    if table != "openai.users":
        outside = lambda d: not DAY0 <= d <= DAY1  # noqa: E731
        assert restrict(after, outside)[table] == restrict(world.stale, outside)[table]
