"""Dagster resources: the Admin API client and the DuckDB warehouse.

The admin key reaches the client only through `dg.EnvVar("OPENAI_ADMIN_KEY")`: Dagster
resolves it at run time and never writes its value into run config or the event log.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource
from pydantic import Field

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs import settings
from kscope_openai_pipeline.openai_admin import AdminClient, Secret

#: Placeholder organization id until OPENAI_ORGANIZATION_ID is set; API reads refuse it.
UNCONFIGURED_ORGANIZATION = "org-unconfigured"

#: Attempts to open the warehouse while another process writes it (about 5 minutes).
LOCK_RETRIES = 64


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, opening the file through `warehouse.connect`.

    DuckDB names a database after its file, so the default `data/kscope.duckdb` would be
    the catalog `kscope` and clash with the schema `kscope`; `warehouse.connect` attaches
    it as `warehouse` instead. Opening retries while another process holds the file lock.
    """

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


class OpenAIAdminResource(dg.ConfigurableResource):
    """Read-only access to one OpenAI organization through the Admin API."""

    api_key: str = Field(description="Admin key (sk-admin-...); set from OPENAI_ADMIN_KEY only.")
    base_url: str = Field(default=settings.OPENAI_BASE_URL_DEFAULT)
    organization_id: str = Field(description="No API returns it: copy it from the dashboard.")
    organization_name: str = Field(default="")
    sandbox: bool = Field(default=False, description="True when base_url is the local sandbox.")
    timeout_seconds: float = Field(default=60.0)
    max_attempts: int = Field(default=6, description="Attempts per request before giving up.")
    deadline_seconds: float = Field(default=900.0, description="Retry budget per request.")
    max_concurrency: int = Field(default=8, description="Concurrent per-project listings.")
    retry_base_delay: float = Field(
        default=0.5,
        description="First backoff wait (s) when the API asks for none (no Retry-After); "
        "doubles per retry with full jitter. Tests lower it to keep fault runs fast.",
    )
    retry_max_delay: float = Field(default=8.0, description="Cap of one backoff wait (s).")

    @property
    def source(self) -> str:
        return "sandbox" if self.sandbox else "openai"

    @contextmanager
    def client(self, log: logging.Logger | None = None) -> Iterator[AdminClient]:
        """An AdminClient for one asset's work; closed when the asset is done."""
        logger = log or logging.getLogger("kscope_openai_pipeline.openai_admin")
        if self.organization_id == UNCONFIGURED_ORGANIZATION:
            raise dg.Failure(
                "OPENAI_ORGANIZATION_ID is not set: every row is stamped with the organization "
                "id and no Admin API endpoint returns it. Copy it (org-...) from the OpenAI "
                "dashboard's organization settings and set OPENAI_ORGANIZATION_ID.",
                allow_retries=False,
            )
        if self.sandbox:
            logger.info("SANDBOX MODE: reading the synthetic organization at %s", self.base_url)
        try:
            secret = Secret(self.api_key)
        except ValueError as err:  # empty or garbled key: retrying the run cannot fix it
            raise dg.Failure(f"OPENAI_ADMIN_KEY: {err}", allow_retries=False) from None
        client = AdminClient(
            api_key=secret,
            base_url=self.base_url,
            timeout=self.timeout_seconds,
            max_attempts=self.max_attempts,
            deadline_seconds=self.deadline_seconds,
            max_concurrency=self.max_concurrency,
            logger=logger,
            base_delay=self.retry_base_delay,
            max_delay=self.retry_max_delay,
        )
        try:
            yield client
        finally:
            client.close()


def build_resources() -> dict[str, object]:
    """The resources of the one Definitions, read from the environment at load time.

    Only the key is an EnvVar (a secret resolved at run time); the rest are plain settings
    so the UI shows them.
    """
    import os

    return {
        "openai_admin": OpenAIAdminResource(
            api_key=dg.EnvVar("OPENAI_ADMIN_KEY"),
            base_url=os.environ.get("OPENAI_BASE_URL", settings.OPENAI_BASE_URL_DEFAULT),
            organization_id=os.environ.get("OPENAI_ORGANIZATION_ID", UNCONFIGURED_ORGANIZATION),
            organization_name=os.environ.get("OPENAI_ORGANIZATION_NAME", ""),
            sandbox=settings.sandbox_mode(),
        ),
        "duckdb": WarehouseResource(database=settings.duckdb_path()),
    }
