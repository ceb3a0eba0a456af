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

import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource

from kscope_openai_pipeline import warehouse

#: Attempts to open the warehouse while another process writes it (about 5 minutes).
LOCK_RETRIES = 64


class WarehouseResource(DuckDBResource):
    """The warehouse file, opened with retries while another process holds its lock."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        conn = backoff(
            fn=warehouse.connect,
            retry_on=(duckdb.IOException,),
            args=[self.database],
            max_retries=LOCK_RETRIES,
            delay_generator=(min(0.1 * 2**i, 5.0) for i in itertools.count()),
        )
        try:
            yield conn
        finally:
            warehouse.disconnect(conn)  # releases the file lock even if a traceback holds conn
