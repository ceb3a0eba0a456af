"""The admin key and the alerts' webhook URL are found nowhere: logs, compute logs, the
event log and run storage under DAGSTER_HOME, run config, DuckDB files, exception messages.

The session's sentinel key (unique per session) drives real Dagster runs in subprocesses
that load the project's definitions from the environment, with Python logging at DEBUG
(httpx/httpcore included) to stderr and Dagster capturing those loggers into its event
log at DEBUG too:

1. inventory + a daily range against the sandbox, the sightlines and alerts, and two
   deliveries to a loopback webhook (the first answered 500, retried by the second)
   (all succeed);
2. inventory against a hostile server that echoes the key back: in a 401 message, in a
   400's `param`/`code`, as a wrong-typed field value and in response headers (fails),
   then a delivery that announces that failed run.

Then every file under DAGSTER_HOME, the warehouse, its WAL and the analyst copy, and the
runs' stdout/stderr are searched byte by byte for the key, its distinctive core and its
base64 forms, and for the webhook URL, its token path and its base64 forms; SQLite files
are also read cell by cell with zlib blobs inflated.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG, PROJECT_ROOT
from kscope_openai_pipeline_tests.helpers.webhook_receiver import WebhookReceiver
from kscope_openai_pipeline_tests.test_openai_admin.scripted_server import (
    Reply,
    ScriptedServer,
    Seen,
)

from .harness import SENTINEL_KEY, release_files
from .leaks import NEEDLES, scan, url_needles

pytestmark = pytest.mark.reliability

RUN_JOBS = """
import json, logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
import dagster as dg
from dagster._core.instance.ref import InstanceRef
from kscope_openai_pipeline.definitions import defs
instance = dg.DagsterInstance.get()
for job, tags in json.loads(sys.argv[1]):
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, tags=tags, raise_on_error=False)
    print("RUN", job, result.run_id, result.success, flush=True)
"""

DAGSTER_YAML_DEBUG = """
python_logs:
  python_log_level: DEBUG
  managed_python_loggers:
    - httpx
    - httpcore
    - kscope_openai_pipeline
"""
NOTIFY = ["alerts_notify_job", {}]


def hostile(seen: Seen) -> Reply:
    """Echo the key back every way a broken server or proxy might."""
    echo = {"X-Echo-Authorization": seen.headers.get("authorization", "")}
    key = seen.headers.get("authorization", "").removeprefix("Bearer ")
    if seen.path == "/v1/organization/projects":
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {key}.",
                                     "type": "invalid_request_error", "param": None,
                                     "code": "invalid_api_key"}}, echo)
    if seen.path == "/v1/organization/users":
        return Reply(200, {"object": "list", "has_more": False, "data": [
            {"id": "user-1", "email": "a@x.io", "added_at": key}]}, echo)
    return Reply(400, {"error": {"message": f"Unrecognized key {key}", "param": key,
                                 "code": key, "type": "invalid_request_error"}}, echo)


def run_jobs(env: dict[str, str], jobs: list, out: Path) -> list[str]:
    with (out.with_suffix(".stdout")).open("wb") as stdout, \
            (out.with_suffix(".stderr")).open("wb") as stderr:
        proc = subprocess.run(
            [sys.executable, "-c", RUN_JOBS, json.dumps(jobs)],
            env=env, stdout=stdout, stderr=stderr, timeout=600, cwd=PROJECT_ROOT,
        )
    assert proc.returncode == 0, out.with_suffix(".stderr").read_text()[-3000:]
    return out.with_suffix(".stdout").read_text().splitlines()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sentinel_key_and_webhook_url_are_found_nowhere(world, sandbox, tmp_path, tally):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = INSTANCE_CONFIG.read_text() + DAGSTER_YAML_DEBUG
    (home / "dagster.yaml").write_text(config)
    db = tmp_path / "data" / "kscope.duckdb"
    analyst = tmp_path / "data" / "kscope_analytics.duckdb"
    base_env = {**os.environ, **world.env(db), "DAGSTER_HOME": str(home),
                "KSCOPE_ANALYST_COPY_PATH": str(analyst), "KSCOPE_ALERT_RETRY_SECONDS": "0",
                "KSCOPE_ALERTS_DISABLED": "stale_data"}
    daily_tags = {"dagster/asset_partition_range_start": "2026-11-20",
                  "dagster/asset_partition_range_end": "2026-11-25"}

    with WebhookReceiver() as hook:
        base_env["KSCOPE_ALERT_WEBHOOK_URL"] = hook.url
        hook.answer(500)
        jobs = [["openai_inventory_job", {}], ["openai_daily_job", daily_tags],
                ["sightlines_job", {}], NOTIFY, NOTIFY]
        lines = run_jobs(base_env, jobs, tmp_path / "good")
        assert [line.split()[-1] for line in lines if line.startswith("RUN")] == ["True"] * 5
        # the webhook was really used: one refusal, then every finding once
        assert [r.status for r in hook.received][:2] == [500, 200]
        assert hook.received[0].body == hook.received[1].body
        announced = len(hook.accepted)
        assert announced > 1

        with ScriptedServer(hostile) as srv:
            env = {**base_env, "OPENAI_BASE_URL": srv.base_url}
            lines = run_jobs(env, [["openai_inventory_job", {}], NOTIFY], tmp_path / "hostile")
            runs = [line.split() for line in lines if line.startswith("RUN")]
            assert [run[-1] for run in runs] == ["False", "True"]
            # the server did receive the key, and echoed it: the test is not vacuous
            assert {s.headers["authorization"] for s in srv.seen} == {f"Bearer {SENTINEL_KEY}"}
        assert len(hook.accepted) == announced + 1
        assert runs[0][2] in hook.accepted[-1]["text"]  # the failed run, announced

    release_files()
    warehouse.publish(db, analyst)
    # DEBUG logging really ran: httpcore traced the response headers, echo included
    # (scrubbed by the client's log filter), into the step's compute log; httpx logged
    # each webhook request, the URL replaced
    compute_logs = sorted(home.glob("storage/*/compute_logs/*.err"))
    assert len(compute_logs) == 7  # one per run
    traced = "".join(p.read_text() for p in compute_logs)
    assert "httpcore.http11 DEBUG" in traced
    assert "(b'X-Echo-Authorization', b'Bearer <redacted admin key>')" in traced
    assert "HTTP Request: POST <alert webhook>" in traced

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        runs = instance.get_runs()
        assert len(runs) == 7
        configs = json.dumps([[r.run_config, r.tags] for r in runs], default=str)
        assert SENTINEL_KEY not in configs and hook.token not in configs
        failures = [
            e.dagster_event.step_failure_data.user_failure_data.description
            for r in runs for e in instance.all_logs(r.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "STEP_FAILURE"
        ]
        managed = [e for r in runs for e in instance.all_logs(r.run_id)
                   if "receive_response_headers.complete" in (e.user_message or "")]
    finally:
        instance.dispose()
    assert len(failures) == 3
    assert sum("<redacted admin key>" in f for f in failures) == 3  # echoed, then scrubbed
    assert all(SENTINEL_KEY not in f for f in failures)
    assert managed  # httpcore's DEBUG records also reached the Dagster event log

    scanned = [home, tmp_path / "data", *tmp_path.glob("*.std*")]
    files, n_bytes, leaks = scan(scanned, NEEDLES + url_needles(hook.url))
    tally.add("secrets", runs=7, files_scanned=files, bytes_scanned=n_bytes,
              leaks_found=len(leaks))
    assert leaks == []
    assert files >= 19  # yaml, run/index/schedule DBs, 7 run DBs, compute log files,
    # warehouse, analyst copy, stdout/stderr


def test_the_scan_finds_planted_keys(tmp_path):
    """The search is not vacuous: every needle form, and a key in a zlib blob in SQLite."""
    for i, needle in enumerate(NEEDLES):
        (tmp_path / f"plain{i}.log").write_bytes(b"x " + needle + b" y")
    db = sqlite3.connect(tmp_path / "runs.db")
    db.execute("CREATE TABLE snapshots (body BLOB)")
    db.execute("INSERT INTO snapshots VALUES (?)", [zlib.compress(SENTINEL_KEY.encode())])
    db.commit()
    db.close()
    (tmp_path / "clean.txt").write_text("sk-admin-****" + SENTINEL_KEY[-4:])  # OpenAI's redaction
    files, _, leaks = scan([tmp_path])
    assert files == len(NEEDLES) + 2
    assert len(leaks) == len(NEEDLES) + 1
    assert not any("clean.txt" in leak for leak in leaks)


def test_the_scan_finds_a_planted_webhook_url(tmp_path):
    """Every form of the URL is found: whole, its token path, the token, base64."""
    url = "http://127.0.0.1:9/services/T0KSCOPE/B0ALERTS/tok0123456789abcdef"
    needles = url_needles(url)
    for i, needle in enumerate(needles):
        (tmp_path / f"plain{i}.log").write_bytes(b"x " + needle + b" y")
    (tmp_path / "clean.txt").write_text("POST <alert webhook> 500")
    files, _, leaks = scan([tmp_path], needles)
    assert (files, len(leaks)) == (len(needles) + 1, len(needles))
    assert len(needles) == 4  # base64 and URL-safe base64 coincide for this URL
