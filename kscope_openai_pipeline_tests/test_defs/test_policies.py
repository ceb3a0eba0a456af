"""The DuckDB writer pool is listed with its limit before any run used it (Deployment >
Concurrency), from the instance config's default, without touching a limit set by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG
from kscope_openai_pipeline.defs.policies import WRITER_POOL, register_writer_pool


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster.yaml").symlink_to(INSTANCE_CONFIG)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


def _pools(instance: dg.DagsterInstance) -> dict[str, tuple[int, bool]]:
    return {p.name: (p.limit, p.from_default) for p in instance.event_log_storage.get_pool_limits()}


def test_the_writer_pool_is_registered_with_the_default_limit(
    instance: dg.DagsterInstance,
) -> None:
    assert instance.event_log_storage.get_concurrency_keys() == set()  # "No pool limits"
    assert register_writer_pool(instance) == 1
    assert instance.event_log_storage.get_concurrency_keys() == {WRITER_POOL}
    assert _pools(instance) == {WRITER_POOL: (1, True)}
    assert register_writer_pool(instance) == 1  # idempotent
    assert instance.event_log_storage.get_concurrency_info(WRITER_POOL).slot_count == 1


def test_a_limit_set_by_hand_is_kept(instance: dg.DagsterInstance) -> None:
    instance.event_log_storage.set_concurrency_slots(WRITER_POOL, 2)
    assert register_writer_pool(instance) == 2
    assert _pools(instance) == {WRITER_POOL: (2, False)}
