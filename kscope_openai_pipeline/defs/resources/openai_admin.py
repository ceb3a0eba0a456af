"""The Admin API client as a Dagster resource.

The admin key reaches the client only through `dg.EnvVar(settings.ADMIN_KEY_ENV)`: Dagster
resolves it at run time and never writes its value into run config or the event log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.openai_admin import AdminClient, Secret

#: Placeholder organization id until OPENAI_ORGANIZATION_ID is set; API reads refuse it.
UNCONFIGURED_ORGANIZATION = "org-unconfigured"


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
