"""stale_data: yesterday's usage or costs not stored by the hour, noticed by the notifier
without any pipeline run (nothing else runs when the pipeline is down), announced once,
resolved once the day is stored. Plus the freshness policy Dagster shows in the UI.

The hour is 0 here, so "yesterday" (by the machine's clock) is always due: the sandbox's
days are all older, so yesterday is missing until the test crawls it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
import yaml

from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG
from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.alerts.assets import ALERTS_KEY, check_name
from kscope_openai_pipeline.defs.openai.daily import daily_freshness
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import EARLY_END, AlertsWorld
from kscope_openai_pipeline_tests.test_defs.test_alerts.test_flow import sent

STALE = [("openai/costs", "openai.costs"), ("openai/usage", "openai.usage")]


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSCOPE_ALERT_STALE_HOUR", "0")
    monkeypatch.setenv(
        "KSCOPE_ALERTS_DISABLED",
        "new_bypass_key,bypass_spend,unattributed_member,reconciliation_gap",
    )


def yesterday() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def test_stale_data_is_noticed_by_the_notifier_alone_and_resolved_when_stored(
    world: AlertsWorld,
) -> None:
    world.crawl_days(EARLY_END - dt.timedelta(days=1), EARLY_END)  # days Dagster stored
    day = yesterday()
    tick = world.tick()
    (request,) = tick.run_requests
    assert request.tags["kscope/alerts_reason"].endswith(f"stale-data deadline for {day}")
    assert world.run_job("alerts_notify_job", request.tags).success
    assert sent(world.hook.accepted) == [("new", "stale_data", a) for a, _ in STALE]
    for body, (_, table) in zip(world.hook.accepted, STALE, strict=True):
        assert body["text"] == (
            f":rotating_light: [HIGH] {table} for {day} was not in the warehouse by "
            f"{day + dt.timedelta(days=1)} 00:00 UTC (last stored day: {EARLY_END})."
        )
    assert not world.tick().run_requests  # once a day, not once a tick

    # the alerts asset shows it too: its stale_data check warns while open
    result = world.sightlines()
    (stale_check,) = [
        c for c in result.get_asset_check_evaluations()
        if c.asset_key == ALERTS_KEY and c.check_name == check_name("stale_data")
    ]  # fmt: skip
    assert (stale_check.passed, stale_check.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert stale_check.metadata["open"] == dg.MetadataValue.int(2)
    assert world.notify() == 0

    world.crawl_days(day, day)  # yesterday arrives (empty: past the sandbox's last day)
    world.sightlines()
    assert world.notify() == 2
    assert sent(world.hook.accepted[2:]) == [("resolved", "stale_data", a) for a, _ in STALE]
    assert world.notify() == 0


def test_the_daily_assets_carry_the_cron_freshness_policy_dagster_evaluates() -> None:
    graph = defs.resolve_asset_graph()
    policies = {
        key.to_user_string(): graph.get(key).freshness_policy
        for key in graph.materializable_asset_keys
        if graph.get(key).freshness_policy is not None
    }
    assert set(policies) == {"openai/usage", "openai/costs"}
    assert policies["openai/usage"] == policies["openai/costs"]
    assert policies["openai/usage"].lower_bound_delta == dt.timedelta(hours=24)
    # the deadline is the stale-data hour, read when the definitions load (0 here)
    assert daily_freshness().deadline_cron == "0 0 * * *"
    assert daily_freshness().timezone == "UTC"
    config = yaml.safe_load(Path(INSTANCE_CONFIG).read_text())
    assert config["freshness"] == {"enabled": True}
