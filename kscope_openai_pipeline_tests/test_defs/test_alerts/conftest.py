"""The alerts over real runs: a crawled sandbox warehouse, a Dagster instance of the test's
own, the sensors ticked by the test and a real webhook receiver on loopback.

Why a crawled template: crawling the tiny organization is the slow part (tens of seconds
on a busy machine). The session crawls its first weeks once (Kscope inputs, inventory,
usage and costs up to `EARLY_END`, as the pipeline does over HTTP); each test copies that
warehouse and starts with an empty instance and an empty sightlines.alerts, then runs
the sightlines and the alerts itself, crawls later days when it needs them, and ticks
the sensors as the daemon would.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.demo import last_sandbox_day, load_sandbox_inputs
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY,
    INVENTORY,
    RANGE_END_TAG,
    RANGE_START_TAG,
    query,
)
from kscope_openai_pipeline_tests.helpers.webhook_receiver import WebhookReceiver
from kscope_openai_pipeline_tests.test_defs.conftest import pipeline_env

SEED, SIZE = 7, "tiny"
#: The session's crawl ends here: the later days bring findings the first run cannot see.
EARLY_END = dt.date(2026, 10, 24)


@dataclass(frozen=True)
class Crawl:
    sandbox: Sandbox
    warehouse: Path  # Kscope inputs, inventory, usage and costs up to EARLY_END


@pytest.fixture(scope="session")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    root = tmp_path_factory.mktemp("alerts_crawl")
    path = root / "data" / "kscope.duckdb"
    with Sandbox.start(seed=SEED, size=SIZE) as sb, pytest.MonkeyPatch.context() as mp:
        for name, value in pipeline_env(sb, path).items():
            mp.setenv(name, value)
        load_sandbox_inputs(sb, SEED, SIZE, path)
        result = dg.materialize(
            [*INVENTORY, *DAILY],
            resources=build_resources(),
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: gt.to_date(sb.org.start_day).isoformat(),
                  RANGE_END_TAG: EARLY_END.isoformat()},
        )  # fmt: skip
        assert result.success
        yield Crawl(sb, path)


@dataclass
class AlertsWorld:
    """A test's warehouse, instance, webhook and sensor cursors, and the runs it makes."""

    crawl: Crawl
    db_path: Path
    instance: dg.DagsterInstance
    hook: WebhookReceiver
    cursor: str | None = None
    runs: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    @property
    def org(self):
        return self.crawl.sandbox.org

    @property
    def last_day(self) -> dt.date:
        return last_sandbox_day(self.crawl.sandbox)

    def run_job(self, name: str, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def(name).execute_in_process(
            resources=build_resources(), instance=self.instance, tags=tags or {},
            raise_on_error=False,
        )  # fmt: skip
        self.runs.append(result)
        return result

    def sightlines(self) -> dg.ExecuteInProcessResult:
        """`sightlines_job`: the sightlines and the alerts, as after a crawl."""
        result = self.run_job("sightlines_job")
        assert result.success
        return result

    def crawl_days(self, first: dt.date, last: dt.date) -> dg.ExecuteInProcessResult:
        tags = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
        result = self.run_job("openai_daily_job", tags)
        assert result.success
        return result

    def tick(self) -> dg.SensorResult:
        """One evaluation of `alerts_notifier`, as the daemon runs it (cursor kept)."""
        sensor = defs.resolve_sensor_def("alerts_notifier")
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, definitions=defs
        )
        result = sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return result

    def notify(self) -> int:
        """Tick the notifier and run what it requests; the messages accepted meanwhile."""
        before = len(self.hook.accepted)
        for request in self.tick().run_requests or []:
            assert self.run_job("alerts_notify_job", request.tags).success
        return len(self.hook.accepted) - before

    def alerts(self) -> list[tuple]:
        return query(
            self.db_path,
            "SELECT kind, subject, first_seen_date, resolved_date, notified_at IS NOT NULL, "
            "resolved_notified_at IS NOT NULL FROM sightlines.alerts ORDER BY kind, subject",
        )


@pytest.fixture
def world(crawl: Crawl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertsWorld]:
    db_path = tmp_path / "data" / "kscope.duckdb"
    db_path.parent.mkdir()
    shutil.copy(crawl.warehouse, db_path)
    for name, value in pipeline_env(crawl.sandbox, db_path).items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with WebhookReceiver() as hook, dg.instance_for_test(temp_dir=str(home)) as instance:
        monkeypatch.setenv("KSCOPE_ALERT_WEBHOOK_URL", hook.url)
        yield AlertsWorld(crawl, db_path, instance, hook)
