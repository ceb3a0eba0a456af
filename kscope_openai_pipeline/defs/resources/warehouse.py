"""The DuckDB warehouse as a Dagster resource.

dagster-duckdb's resource, opening the file through `warehouse.connect`: DuckDB names a
database after its file, so the default `data/kscope.duckdb` would be the catalog `kscope`
and clash with the schema `kscope`; `warehouse.connect` attaches it as `warehouse` instead.
Opening retries while another process holds the file lock (DuckDB allows one writer).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from kscope_openai_pipeline import warehouse

#: Attempts to open the warehouse while another process writes it (about 5 minutes).
LOCK_RETRIES = 64


class WarehouseResource(DuckDBResource):
    """The warehouse file, opened with retries while another process holds its lock.

    Once a step of a run has opened the file, it stays attached until the run's resources
    are torn down (failed runs too), for the steps this process executes: the whole run
    with the in-process executor. Each step's connection is then a cursor of that one
    attachment. Why: attaching reads the catalog, and releasing the last connection
    checkpoints the WAL into the file; a daily run has fifteen steps, and doing both
    around each of them cost about two seconds. A run none of whose steps opens the
    warehouse does not create or lock it.
    """

    _in_run: bool = PrivateAttr(default=False)
    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        return backoff(
            fn=warehouse.connect,
            retry_on=(duckdb.IOException,),
            args=[self.database],
            max_retries=LOCK_RETRIES,
            delay_generator=(min(0.1 * 2**i, 5.0) for i in itertools.count()),
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = False
        held, self._held = self._held, None
        if held is not None:
            warehouse.disconnect(held)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._in_run and self._held is None:
            self._held = self._connect()  # keeps the attachment until teardown
        conn = self._connect()
        try:
            yield conn
        finally:
            warehouse.disconnect(conn)  # releases the file lock even if a traceback holds conn
