"""Eight partition runs launched at once through the run queue, with an analyst reading
the published copy the whole time.

A real `dagster dev` (webserver, daemon, code server; DAGSTER_HOME in tmp_path with the
project's dagster.yaml: QueuedRunCoordinator, DuckDB writer pool of 1) serves the
project's definitions against the session sandbox. Eight `openai_daily_job` runs, one
per day, are submitted through GraphQL within a second. Meanwhile an analyst holds one
read-only connection on the published copy (`warehouse.open_analyst`) and queries it
every 0.2 s. Proven:

- all eight runs succeed, the queue ran them one at a time (no two overlap), no event
  of any run is an error and the daemon's log has no DuckDB lock error;
- the warehouse equals yesterday's tables with exactly those eight days refreshed to the
  fault-free rows: no duplicate, nothing lost;
- the analyst's queries never failed (DuckDB does not wait for a lock: a reader that
  would block fails); the sensor's publishes replaced the copy while the connection was
  open, a publish from the test does too, the open connection keeps its consistent old
  view and a new one sees the new rows.

Nothing is compared with the test's own clock: that the sensor published after the last
run is read from the published copy (it holds all eight refreshed days, which no copy
taken before the last run committed can hold), and that the runs did not overlap from the
start and end times Dagster recorded. Waits are generous, for a loaded machine.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster_graphql import DagsterGraphQLClient

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG
from kscope_openai_pipeline.defs.policies import register_writer_pool
from kscope_openai_pipeline_tests.helpers.processes import dagster_dev, free_port

from .harness import (
    DAILY_TABLES,
    describe,
    duplicate_keys,
    refreshed,
    release_files,
    snapshot,
)
from .leaks import scan

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(1200)]

DAYS = [date(2026, 11, 18) + timedelta(days=i) for i in range(8)]
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED}
#: Upper bounds that only catch a hang: dagster dev took over 2 min to start on a machine
#: with two CPU-bound processes beside the suite.
LOAD_SECONDS, RUNS_SECONDS, PUBLISH_SECONDS, GRAPHQL_TIMEOUT = 300, 600, 180, 120


def published_days(path: Path) -> dict:
    """The daily tables of the analyst copy, as a new analyst session sees them."""
    conn = warehouse.open_analyst(path)
    try:
        return {t: Counter(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in DAILY_TABLES}
    finally:
        conn.close()


def _failures(log: Path) -> str:
    """What dagster dev logged about failures (for a failing assertion's message)."""
    lines = log.read_text().splitlines()
    wanted = ("FAILURE", "Error", "error", "Traceback", "lock")
    return "\n".join([line for line in lines if any(w in line for w in wanted)][-40:])


class Analyst(threading.Thread):
    """Holds one read-only connection on the analyst copy and queries it in a loop."""

    SQL = "SELECT COUNT(*), SUM(amount_usd) FROM openai.costs"

    def __init__(self, path: Path) -> None:
        super().__init__(name="analyst", daemon=True)
        self.path = path
        self.conn = warehouse.open_analyst(path)
        self.first = self.conn.execute(self.SQL).fetchone()
        self.stop = threading.Event()
        self.queries = 0
        self.errors: list[str] = []
        self.slowest = 0.0
        self.inodes = {path.stat().st_ino}
        self.changed_answers = 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            began = time.monotonic()
            try:
                answer = self.conn.execute(self.SQL).fetchone()
            except Exception as err:  # any failure is the finding
                self.errors.append(repr(err))
                continue
            self.slowest = max(self.slowest, time.monotonic() - began)
            self.queries += 1
            self.changed_answers += answer != self.first
            with contextlib.suppress(FileNotFoundError):
                self.inodes.add(self.path.stat().st_ino)


def test_eight_queued_partition_runs_and_an_open_analyst_block_nothing(
    world, sandbox, scenario_db, tmp_path, tally
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG.read_text())
    # As `kscope-openai ui` does before it starts dagster dev: Dagster stores the pool's
    # limit only when a queued run first uses it, and the queue's pass that stores it does
    # not apply it yet, so runs queued before that pass could start together.
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        assert register_writer_pool(instance) == 1
    finally:
        instance.dispose()
    analyst_path = tmp_path / "kscope_analytics.duckdb"
    release_files()
    warehouse.publish(scenario_db, analyst_path)
    env = {**os.environ, **world.env(scenario_db), "DAGSTER_HOME": str(home),
           "KSCOPE_ANALYST_COPY_PATH": str(analyst_path)}
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    expected = refreshed(world.baseline, world.stale, set(DAYS).__contains__)
    expected_daily = {t: expected[t] for t in DAILY_TABLES}
    analyst = Analyst(analyst_path)
    analyst.start()
    run_ids: list[str] = []
    try:
        with dagster_dev(env, port, log) as proc:
            client = DagsterGraphQLClient(
                "127.0.0.1", port_number=port, timeout=GRAPHQL_TIMEOUT
            )
            deadline = time.monotonic() + LOAD_SECONDS
            while True:  # the code location is loaded once a submission is accepted
                assert proc.poll() is None, log.read_text()[-4000:]
                try:
                    run_ids.append(client.submit_job_execution(
                        "openai_daily_job", tags={"dagster/partition": DAYS[0].isoformat()}))
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
            for day in DAYS[1:]:  # the other seven at once
                run_ids.append(client.submit_job_execution(
                    "openai_daily_job", tags={"dagster/partition": day.isoformat()}))

            deadline = time.monotonic() + RUNS_SECONDS
            while True:
                statuses = [client.get_run_status(r) for r in run_ids]
                if all(s in FINISHED for s in statuses):
                    break
                assert time.monotonic() < deadline, (statuses, _failures(log))
                assert proc.poll() is None, log.read_text()[-4000:]
                time.sleep(1.0)
            # the sensor (every 5 s) publishes after the last run too: the copy then holds
            # every refreshed day, which only a copy taken after the last commit can
            deadline = time.monotonic() + PUBLISH_SECONDS
            succeeded_all = all(s == dg.DagsterRunStatus.SUCCESS for s in statuses)
            while succeeded_all and (copy := published_days(analyst_path)) != expected_daily:
                assert time.monotonic() < deadline, (
                    "the sensor did not publish after the last run:\n"
                    + describe(expected_daily, copy)
                )
                assert proc.poll() is None, log.read_text()[-4000:]
                time.sleep(1.0)
            analyst.inodes.add(analyst_path.stat().st_ino)
        release_files()
        published = warehouse.publish(scenario_db, analyst_path, wait_seconds=60)
        analyst.inodes.add(analyst_path.stat().st_ino)
        time.sleep(0.5)  # the analyst keeps querying across the test's own publish
    finally:
        analyst.stop.set()
        analyst.join(timeout=10)

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
        errors = [
            e.user_message or (e.dagster_event.message if e.dagster_event else "")
            for r in run_ids for e in instance.all_logs(r)
            if e.level >= 40 or (e.dagster_event and e.dagster_event.is_failure)
        ]
        partitions = sorted(r.dagster_run.tags["dagster/partition"] for r in records)
    finally:
        instance.dispose()
    dev_log = log.read_text()
    lock_errors = dev_log.count("Could not set lock") + sum("lock" in e.lower() for e in errors)
    after = snapshot(scenario_db)
    duplicates = duplicate_keys(scenario_db)
    succeeded = sum(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records)
    tally.add("concurrency", runs_queued=len(run_ids), runs_succeeded=succeeded,
              lock_errors=lock_errors, duplicate_keys=duplicates,
              analyst_queries=analyst.queries, analyst_errors=len(analyst.errors),
              analyst_slowest_ms=round(analyst.slowest * 1000),
              publishes_while_open=len(analyst.inodes) - 1)

    assert succeeded == 8, (
        [(r.dagster_run.run_id, r.dagster_run.status) for r in records], errors[:5],
        _failures(log),
    )  # fmt: skip
    assert partitions == [d.isoformat() for d in DAYS]
    assert errors == [] and lock_errors == 0
    spans = sorted((r.start_time, r.end_time, r.dagster_run.run_id) for r in records)
    overlaps = [
        f"{a[2]} ran {a[0]:.3f}..{a[1]:.3f}, {b[2]} started {b[0]:.3f}"
        for a, b in zip(spans, spans[1:], strict=False)
        if a[1] > b[0]
    ]
    assert overlaps == [], "the writer pool must run one run at a time:\n" + "\n".join(overlaps)
    assert duplicates == 0
    assert after == expected, describe(expected, after)

    assert analyst.errors == [] and analyst.queries >= 50
    assert analyst.changed_answers == 0  # one consistent snapshot while it stayed open
    assert len(analyst.inodes) >= 3  # the first copy, the sensor's last publish, the test's
    assert published.rows["openai.costs"] == sum(after["openai.costs"].values())
    fresh = warehouse.open_analyst(analyst_path)
    try:
        for table in DAILY_TABLES:
            (count,) = fresh.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            assert count == sum(expected[table].values()), table
    finally:
        fresh.close()
    analyst.conn.close()

    # the daemon-launched runs, the sensor and the daemon's own log kept the key out too
    files, n_bytes, leaks = scan([home, log])
    tally.add("secrets", files_scanned=files, bytes_scanned=n_bytes, leaks_found=len(leaks))
    assert leaks == []
