"""`kscope-openai ui` (what `make ui` runs): sandbox + inputs + `dagster dev`, for real.

Starts the command in its own process group, waits until the webserver's GraphQL API has
loaded the code location, and checks what a user sees first: the schedule and the publish
sensor on, and the Kscope inputs already loaded so the sightlines have something to join.
The whole group is killed in `finally`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers.processes import (
    BIN,
    WORKSPACE,
    child_environment,
    free_port,
    process_group,
    wait_for,
)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ui_command_serves_dagster_with_schedule_sensor_and_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = child_environment(tmp_path, monkeypatch)
    db = Path(env["KSCOPE_DUCKDB_PATH"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    log = tmp_path / "ui.log"

    def loaded() -> dict[str, Any] | None:
        body = httpx.post(url, json={"query": WORKSPACE}, timeout=30).json()
        entries = body["data"]["workspaceOrError"]["locationEntries"]
        ok = entries and all(e["loadStatus"] == "LOADED" for e in entries)
        return body["data"] if ok else None

    command = [str(BIN / "kscope-openai"), "ui", "--size", "tiny", "--port", str(port)]
    with process_group(command, env, log) as process:
        try:
            workspace = wait_for("the code location to load", loaded, 150, process)
            (repo,) = workspace["repositoriesOrError"]["nodes"]
            assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == {
                "daily_refresh": "RUNNING"
            }
            assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {
                "publish_analyst_copy": "RUNNING",
                "sightlines_automation": "RUNNING",
            }
            lines = log.read_text().splitlines()
            assert lines[0].startswith("Sandbox serving http://127.0.0.1:")
            assert "(SANDBOX MODE)" in lines[0]
            org = build_org(7, "tiny")
            assert lines[1] == (
                f"Loaded Kscope inputs: kscope.dev_tokens {len(org.dev_tokens):,}, "
                f"kscope.gateway_costs {len(org.gateway_costs):,}, "
                f"kscope.engineers {len(org.engineers):,}"
            )
            assert db.exists()
        except AssertionError:
            print(log.read_text()[-6000:])
            raise
