"""The warehouse resource: one attachment of the file for a whole run, released at its end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.warehouse import connection


def _anchor(path: Path) -> object:
    return connection._ANCHORS.get(path.resolve())


def _can_open_from_another_process(path: Path) -> bool:
    probe = f"import duckdb; duckdb.connect({str(path)!r}).close()"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def test_the_steps_of_a_run_share_one_attachment_released_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "kscope.duckdb"
    seen: list[tuple[object, int]] = []

    @dg.asset
    def first(duckdb: WarehouseResource) -> None:
        with duckdb.get_connection() as conn:
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        seen.append((_anchor(path), 0))

    @dg.asset(deps=[first])
    def second(duckdb: WarehouseResource) -> None:
        with duckdb.get_connection() as conn:
            (x,) = conn.execute("SELECT x FROM t").fetchone()  # type: ignore[misc]
        seen.append((_anchor(path), x))

    @dg.asset(deps=[second])
    def third(duckdb: WarehouseResource) -> None:
        raise RuntimeError("a failed step still lets the run release the file")

    result = dg.materialize(
        [first, second, third],
        resources={"duckdb": WarehouseResource(database=str(path))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    assert [x for _, x in seen] == [0, 1]
    assert seen[0][0] is not None and seen[0][0] is seen[1][0]  # attached once
    assert _anchor(path) is None
    assert _can_open_from_another_process(path)


def test_a_run_that_never_opens_the_warehouse_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "kscope.duckdb"

    @dg.asset
    def untouched(duckdb: WarehouseResource) -> None:
        return None

    assert dg.materialize(
        [untouched],
        resources={"duckdb": WarehouseResource(database=str(path))},
        instance=dg.DagsterInstance.ephemeral(),
    ).success
    assert not path.exists()


def test_outside_a_run_each_connection_attaches_and_releases(tmp_path: Path) -> None:
    path = tmp_path / "kscope.duckdb"
    resource = WarehouseResource(database=str(path))
    with resource.get_connection() as conn:
        conn.execute("SELECT 1")
        assert _anchor(path) is not None
    assert _anchor(path) is None
