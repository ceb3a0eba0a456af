"""The Admin API client as a Dagster resource, and the organization its rows belong to.

The admin key reaches the client only through `dg.EnvVar(settings.ADMIN_KEY_ENV)`: Dagster
resolves it at run time and never writes its value into run config or the event log.

The organization is resolved once per run, before any row is stamped: the setting
(OPENAI_ORGANIZATION_ID) when given, else what the API itself says (the
`openai-organization` header, else `organization_id` on cost rows). In the daily job the
access check's probes already tell it; an asset run on its own asks once (one small costs
request) when the setting is not given. Every client then refuses a response whose header
names another organization (see `openai_admin.organization`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg
from pydantic import Field, PrivateAttr

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.defs.failures import permanent_failures_are_final
from kscope_openai_pipeline.openai_admin import (
    AdminApiOrganizationError,
    AdminClient,
    OrganizationEvidence,
    Secret,
    resolve_organization,
)
from kscope_openai_pipeline.openai_admin.access import (
    PROBE_TIMEOUT,
    AccessReport,
    check_access,
    identify_organization,
)

#: Former placeholder of an unset OPENAI_ORGANIZATION_ID; read as "not set".
UNCONFIGURED_ORGANIZATION = "org-unconfigured"

RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"

Context = dg.AssetExecutionContext | dg.OpExecutionContext


def probe_day(context: Context) -> date | None:
    """The last day the run covers (its partition or range end), for the probes that ask
    for usage and costs; None (yesterday) for a run without partitions."""
    tags = context.run.tags
    value = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class OpenAIAdminResource(dg.ConfigurableResource):
    """Read-only access to one OpenAI organization through the Admin API."""

    api_key: str = Field(description="Admin key (sk-admin-...); set from OPENAI_ADMIN_KEY only.")
    base_url: str = Field(default=settings.OPENAI_BASE_URL_DEFAULT)
    organization_id: str = Field(
        default="",
        description="The organization every row is stamped with (OPENAI_ORGANIZATION_ID). "
        "Empty: the one the Admin API names (the openai-organization header, else cost "
        "rows); when set, the API must agree.",
    )
    organization_name: str = Field(default="")
    sandbox: bool = Field(default=False, description="True when base_url is the local sandbox.")
    timeout_seconds: float = Field(default=60.0)
    probe_timeout_seconds: float = Field(
        default=PROBE_TIMEOUT,
        description="Timeout of each access-check probe (one attempt, no retries).",
    )
    max_attempts: int = Field(default=6, description="Attempts per request before giving up.")
    deadline_seconds: float = Field(default=900.0, description="Retry budget per request.")
    max_concurrency: int = Field(default=8, description="Concurrent per-project listings.")
    retry_base_delay: float = Field(
        default=0.5,
        description="First backoff wait (s) when the API asks for none (no Retry-After); "
        "doubles per retry with full jitter. Tests lower it to keep fault runs fast.",
    )
    retry_max_delay: float = Field(default=8.0, description="Cap of one backoff wait (s).")

    #: The organization resolved in this run (one resource instance serves a whole run).
    _resolved: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> str:
        return "sandbox" if self.sandbox else "openai"

    @property
    def configured_organization(self) -> str | None:
        org = self.organization_id.strip()
        return None if org in ("", UNCONFIGURED_ORGANIZATION) else org

    def _secret(self) -> Secret:
        try:
            return Secret(self.api_key)
        except ValueError as err:  # empty or garbled key: retrying the run cannot fix it
            raise dg.Failure(f"OPENAI_ADMIN_KEY: {err}", allow_retries=False) from None

    def _adopt(self, configured: str | None, evidence: OrganizationEvidence) -> str:
        try:
            org = resolve_organization(configured, evidence)
        except AdminApiOrganizationError as err:
            raise dg.Failure(str(err), allow_retries=False) from None
        self._resolved["id"] = org
        return org

    def organization(self, context: Context) -> str:
        """The organization this run's rows are stamped with (resolved once per run).

        Without the setting, and unless the access check already heard it, one small
        costs request asks the API (its header, else its cost rows)."""
        if "id" in self._resolved:
            return self._resolved["id"]
        configured = self.configured_organization
        if configured:
            return self._adopt(configured, OrganizationEvidence())
        with permanent_failures_are_final():
            evidence = identify_organization(
                self._secret(),
                self.base_url,
                timeout=self.probe_timeout_seconds,
                day=probe_day(context),
            )
        org = self._adopt(None, evidence)
        context.log.info("organization %s, as the Admin API says: %s", org, evidence.describe())
        return org

    def check_access(self, context: Context) -> AccessReport:
        """Probe every permission once (see `openai_admin.access`); the organization the
        probes heard is checked against the setting when the caller adopts the report."""
        return check_access(
            self._secret(),
            self.base_url,
            timeout=self.probe_timeout_seconds,
            day=probe_day(context),
        )

    def adopt_access_report(self, report: AccessReport) -> str:
        """The organization per the setting and what the probes heard; fails naming both
        when they disagree, with the setting's message when nothing names it."""
        return self._adopt(self.configured_organization, report.evidence)

    @contextmanager
    def client(self, log: logging.Logger | None = None) -> Iterator[AdminClient]:
        """An AdminClient for one asset's work; closed when the asset is done.

        It refuses responses of an organization other than the run's (call
        `organization(context)` first; the setting is used when nothing was resolved)."""
        logger = log or logging.getLogger("kscope_openai_pipeline.openai_admin")
        if self.sandbox:
            logger.info("SANDBOX MODE: reading the synthetic organization at %s", self.base_url)
        client = AdminClient(
            api_key=self._secret(),
            base_url=self.base_url,
            timeout=self.timeout_seconds,
            max_attempts=self.max_attempts,
            deadline_seconds=self.deadline_seconds,
            max_concurrency=self.max_concurrency,
            logger=logger,
            base_delay=self.retry_base_delay,
            max_delay=self.retry_max_delay,
            organization_id=self._resolved.get("id") or self.configured_organization,
        )
        try:
            yield client
        finally:
            client.close()
