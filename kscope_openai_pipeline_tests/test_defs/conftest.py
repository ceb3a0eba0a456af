"""Fixtures: the pipeline pointed at a running sandbox and a warehouse file in tmp_path.

Why resources are built here: `definitions.py` reads the environment when it is imported
(once per test process), so each test sets its own environment and passes freshly built
resources to `dg.materialize`. The admin key stays an `EnvVar`, resolved at run time
from the monkeypatched environment, exactly as in production.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.demo import sandbox_environment
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline.warehouse import connection
from kscope_openai_pipeline_tests.helpers.pipeline import Pipeline


def pipeline_env(sb: Sandbox, db_path: Path) -> dict[str, str]:
    """Everything a process needs to run the pipeline against `sb` into `db_path`."""
    return {
        **sandbox_environment(sb),
        "KSCOPE_DUCKDB_PATH": str(db_path),
        "KSCOPE_ANALYST_COPY_PATH": str(db_path.with_name("kscope_analytics.duckdb")),
    }


@pytest.fixture
def pipeline(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """The tiny sandbox org, a fresh `kscope.duckdb` in tmp_path, resources for both."""
    first_partition = daily_partitions.start.date()
    assert first_partition < gt.to_date(sandbox.org.start_day), (
        "the tests need partitions before the sandbox's first day (KSCOPE_FIRST_DAY)"
    )
    db_path = tmp_path / "data" / "kscope.duckdb"  # the default name: catalog clash covered
    for name, value in pipeline_env(sandbox, db_path).items():
        monkeypatch.setenv(name, value)
    yield Pipeline(sandbox, db_path, build_resources())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Remember whether the test body failed (its traceback may hold a connection)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _no_warehouse_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each passing test no warehouse file is still attached in this process.

    Checked after a garbage collection: a failed run's traceback holds the asset's frame,
    and with it the cursor, in a reference cycle that only the collector frees.
    """
    yield
    if request.node.stash.get(_CALL_FAILED, True):
        return
    if connection._ANCHORS:
        gc.collect()  # only cycles may still hold a connection; collecting is slow-ish
    assert not connection._ANCHORS, f"warehouse files still attached: {list(connection._ANCHORS)}"
