"""`kscope-openai check-access`: may this admin key read everything the crawl needs?

Why a command: the first thing a new user (or an on-call engineer whose runs started
failing) wants to know is whether the key is right, before Dagster, DuckDB or a backfill
enter the picture. It probes each permission once (`openai_admin.access`), prints the
table, says which organization the key reads and how that was established, and exits
non-zero when a required permission is not ok or the organization is unknown or not the
configured one. The daily job runs the same probes first (`openai/access_check`).
"""

from __future__ import annotations

from datetime import datetime

import click

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.openai_admin import AdminApiError, Secret, resolve_organization
from kscope_openai_pipeline.openai_admin.access import PROBE_TIMEOUT, AccessReport, check_access


def organization_line(report: AccessReport, configured: str | None) -> tuple[bool, str]:
    """(ok, the line saying which organization the key reads and how that is known)."""
    try:
        org = resolve_organization(configured, report.evidence)
    except AdminApiError as err:
        return False, f"Organization: {err}"
    said = report.evidence.reported().get(org)
    if configured:
        how = f"OPENAI_ORGANIZATION_ID; the API agrees ({', '.join(said)})" if said else (
            "OPENAI_ORGANIZATION_ID; the API did not say"
        )
    else:
        how = f"as the API says: {', '.join(said or [])}"
    return True, f"Organization: {org} ({how})"


@click.command("check-access")
@click.option("--base-url", default=None, help="Admin API base URL [default: $OPENAI_BASE_URL "
              "or https://api.openai.com/v1].")
@click.option("--timeout", default=PROBE_TIMEOUT, show_default=True, type=float,
              help="Seconds each probe may take (one attempt, no retries).")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="UTC day whose usage (and the 31 days of costs up to it) are probed "
              "[default: yesterday].")
def check_access_command(base_url: str | None, timeout: float, day: datetime | None) -> None:
    """Probe the admin key's permissions, one cheap request each, and print a table.

    Required: read:organization, read:projects, read:api_keys, read:users, read:usage,
    read:costs; the audit log is optional. Exits 1 when a required one is not ok.
    """
    raw = settings.admin_key()
    if not raw:
        raise click.ClickException(
            f"{settings.ADMIN_KEY_ENV} is not set: export an OpenAI admin key (sk-admin-...)"
        )
    try:
        secret = Secret(raw)
    except ValueError as err:
        raise click.ClickException(f"{settings.ADMIN_KEY_ENV}: {err}") from None
    url = base_url or settings.openai_base_url()
    probe_day = day.date() if day is not None else None
    click.echo(f"Admin API at {url}{'  (SANDBOX MODE)' if settings.sandbox_mode() else ''}")
    report = check_access(secret, url, timeout=timeout, day=probe_day)
    click.echo(report.table())
    click.echo("")
    click.echo(report.summary())
    org_ok, line = organization_line(report, settings.organization_id())
    click.echo(line)
    if not (report.ok and org_ok):
        raise SystemExit(1)
