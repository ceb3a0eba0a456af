"""`kscope-openai ui` (what `make ui` runs): sandbox + inputs + `dagster dev`, for real.

Starts the command in its own process group, waits until the webserver's GraphQL API has
loaded the code location, and checks what a user sees first: the schedule and the sensors
on, the Kscope inputs loaded and recorded as materializations with their checks passed,
the DuckDB writer pool listed with its limit, the daily partitions starting on the sandbox
organization's first day, and no warning about the instance config. Then it stops the UI
the way systemd, `docker stop` or a closed terminal would (SIGTERM, SIGHUP to the `ui`
process only) and proves that no process of it survives: not the sandbox's host, not
`dagster dev`, its webserver, daemon or code server.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers import proc
from kscope_openai_pipeline_tests.helpers.processes import (
    BIN,
    WORKSPACE,
    child_environment,
    free_port,
    process_group,
    wait_for,
)

FIRST_LOOK = """
{
  instance { concurrencyLimits { concurrencyKey limit usingDefaultLimit } }
  usage: assetNodes(assetKeys: [{path: ["openai", "usage"]}]) { partitionKeys }
  inputs: assetNodes(assetKeys: [{path: ["kscope", "dev_tokens"]},
                                 {path: ["kscope", "gateway_costs"]},
                                 {path: ["kscope", "engineers"]}]) {
    assetKey { path }
    assetMaterializations(limit: 1) {
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
    assetChecksOrError {
      ... on AssetChecks { checks { name executionForLatestMaterialization { status } } }
    }
  }
}
"""
ORG = build_org(7, "tiny")


def _graphql(url: str, document: str) -> dict[str, Any]:
    response = httpx.post(url, json={"query": document}, timeout=120)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _loaded(url: str):
    def probe() -> dict[str, Any] | None:
        data = _graphql(url, WORKSPACE)
        entries = data["workspaceOrError"]["locationEntries"]
        ok = entries and all(e["loadStatus"] == "LOADED" for e in entries)
        return data if ok else None

    return probe


def _started(process: subprocess.Popen):
    def probe() -> bool:
        commands = [p.command for p in proc.descendants(process.pid)]
        return any("dagster_webserver" in c for c in commands) and any(
            "dagster._daemon" in c for c in commands
        )

    return probe


def _stop_and_prove_nothing_survives(process: subprocess.Popen, signum: int) -> None:
    """Send `signum` to the ui process only; every process it started must be gone."""
    family = proc.descendants(process.pid)
    commands = " | ".join(p.command for p in family)
    assert any(" dagster dev " in f" {p.command} " for p in family), commands
    assert any("dagster_webserver" in p.command for p in family), commands
    assert any("dagster._daemon" in p.command for p in family), commands
    assert {p.sid for p in family} - {process.pid}, "dagster dev runs in its own session"
    os.kill(process.pid, signum)
    assert process.wait(timeout=120) == 0
    survivors = [p for p in family if proc.alive(p)]
    assert survivors == [], "\n".join(str(p) for p in survivors)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_ui_command_serves_dagster_with_schedule_sensor_and_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = child_environment(tmp_path, monkeypatch)
    db = Path(env["KSCOPE_DUCKDB_PATH"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    log = tmp_path / "ui.log"

    command = [str(BIN / "kscope-openai"), "ui", "--size", "tiny", "--port", str(port)]
    with process_group(command, env, log) as process:
        try:
            workspace = wait_for("the code location to load", _loaded(url), 300, process)
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
            lines = log.read_text().splitlines()
            assert lines[0].startswith("Sandbox serving http://127.0.0.1:")
            assert "(SANDBOX MODE)" in lines[0]
            rows = {
                "dev_tokens": len(ORG.dev_tokens),
                "gateway_costs": len(ORG.gateway_costs),
                "engineers": len(ORG.engineers),
            }
            assert lines[1] == "Loaded Kscope inputs: " + ", ".join(
                f"kscope.{table} {n:,}" for table, n in rows.items()
            )
            assert lines[2] == (
                "Recorded in Dagster: kscope/dev_tokens, kscope/gateway_costs, "
                "kscope/engineers materialized; valid_rows passed 3 of 3"
            )
            assert db.exists()

            seen = _graphql(url, FIRST_LOOK)
            assert seen["instance"]["concurrencyLimits"] == [
                {"concurrencyKey": "duckdb_writer", "limit": 1, "usingDefaultLimit": True}
            ]
            (usage,) = seen["usage"]
            first_day = datetime.fromtimestamp(ORG.start_day, tz=UTC).date()
            assert usage["partitionKeys"][0] == first_day.isoformat()
            for node in seen["inputs"]:
                (materialization,) = node["assetMaterializations"]
                counts = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
                assert counts["dagster/row_count"] == rows[node["assetKey"]["path"][1]]
                (check,) = node["assetChecksOrError"]["checks"]
                assert check["name"] == "valid_rows"
                assert check["executionForLatestMaterialization"]["status"] == "SUCCEEDED"
            assert "will not be used" not in log.read_text()

            _stop_and_prove_nothing_survives(process, signal.SIGTERM)
            assert log.read_text().splitlines()[-1] == (
                "Stopped by SIGTERM: dagster dev and the sandbox are down."
            )
        except AssertionError:
            print(log.read_text()[-6000:])
            raise


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_hangup_stops_the_whole_ui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed terminal (SIGHUP) stops dagster dev's whole group and the sandbox too."""
    env = child_environment(tmp_path, monkeypatch)
    port = free_port()
    log = tmp_path / "ui.log"
    command = [str(BIN / "kscope-openai"), "ui", "--size", "tiny", "--port", str(port)]
    with process_group(command, env, log) as process:
        try:
            # no need to wait for the code location: the group exists once these run
            wait_for("dagster dev's webserver and daemon", _started(process), 300, process)
            _stop_and_prove_nothing_survives(process, signal.SIGHUP)
            assert log.read_text().splitlines()[-1] == (
                "Stopped by SIGHUP: dagster dev and the sandbox are down."
            )
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=10)
        except AssertionError:
            print(log.read_text()[-6000:])
            raise
