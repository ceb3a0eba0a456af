"""`kscope-openai sandbox`: serve a synthetic organization on loopback until stopped.

Why a command: the demo, manual exploration with curl and the benchmarks need a sandbox
that outlives a Python process. The first line printed is machine-readable on purpose
(base URL and admin key) so that scripts can `head -1` it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import FrameType

import click

from .faults import FAULT_KINDS, parse_fault_spec
from .model import SyntheticOrg
from .server import SCOPES, Sandbox

SIZES = ("tiny", "small", "medium", "large")
#: Where the sandbox tells the organization's id: --organization-in -> (header, cost rows).
ORGANIZATION_IN = {
    "both": (True, True),
    "header": (True, False),
    "cost-rows": (False, True),
    "neither": (False, False),
}


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def summary_lines(org: SyntheticOrg) -> list[str]:
    """A short human summary of what the sandbox serves."""
    archived = sum(1 for p in org.projects if p.status == "archived")
    project_keys = [k for k in org.api_keys if k.kind == "project"]
    deleted = sum(1 for k in project_keys if k.deleted)
    admin = sum(1 for k in org.api_keys if k.kind == "admin" and not k.deleted)
    pending = sum(1 for i in org.invites if i.status == "pending")
    days = (org.end_day - org.start_day) // 86_400
    families = ", ".join(f"{name} ({len(frame):,})" for name, frame in org.usage.items())
    total = sum((Decimal(a) for a in org.costs["amount"]), Decimal(0)) if len(org.costs) else 0
    return [
        f"  organization {org.organization_id} ({org.organization_name}), seed {org.seed}, "
        f"size {org.size}",
        f"  projects: {len(org.projects)} ({archived} archived); "
        f"project API keys: {len(project_keys)} ({deleted} deleted, still in usage); "
        f"admin keys: {admin}",
        f"  users: {len(org.users)} (+{len(org.former_users)} former); "
        f"invites: {len(org.invites)} ({pending} pending); "
        f"audit events: {len(org.audit_events)}",
        f"  days: {days} ({_day(org.start_day)} to {_day(org.end_day - 86_400)}, UTC)",
        f"  usage families (events): {families}",
        f"  costs: {len(org.costs):,} rows, {total:.2f} USD in total",
        "  Ctrl-C (SIGINT) or SIGTERM stops it.",
    ]


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8787, show_default=True, type=int, help="0 = a free port.")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--size", default="small", show_default=True, type=click.Choice(SIZES))
@click.option(
    "--fault",
    "fault_specs",
    multiple=True,
    metavar="KIND:PATH[:TIMES][:KEY=VALUE...]",
    help=f"Inject a fault (repeatable). KIND is one of {', '.join(FAULT_KINDS)}; PATH an "
    "fnmatch pattern after /v1, e.g. '429:/organization/usage/*:2' or "
    "'503:*:rate=0.1:seed=3'. Options: times, rate, seed, retry_after, retry_after_ms, delay.",
)
@click.option(
    "--expired-key",
    "expired_keys",
    multiple=True,
    help="A key to answer with the 401 'expired' error (repeatable).",
)
@click.option(
    "--deny-scope",
    "deny_scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="A scope the admin key lacks (repeatable): its endpoints answer 403 naming it, as "
    "for a project key.",
)
@click.option(
    "--organization-in",
    type=click.Choice(tuple(ORGANIZATION_IN)),
    default="both",
    show_default=True,
    help="Where responses tell the organization's id: the openai-organization header, an "
    "organization_id on cost rows, both or neither.",
)
@click.option(
    "--audit-logging/--no-audit-logging",
    default=True,
    show_default=True,
    help="--no-audit-logging: answer the audit log as for an organization that never "
    "switched audit logging on.",
)
def sandbox_command(
    host: str,
    port: int,
    seed: int,
    size: str,
    fault_specs: Sequence[str],
    expired_keys: Sequence[str],
    deny_scopes: Sequence[str],
    organization_in: str,
    audit_logging: bool,
) -> None:
    """Serve a deterministic synthetic OpenAI organization through the Admin API."""
    try:
        faults = [parse_fault_spec(spec) for spec in fault_specs]
    except (ValueError, TypeError) as err:
        raise click.BadParameter(str(err), param_hint="--fault") from None
    header, cost_rows = ORGANIZATION_IN[organization_in]
    sandbox = Sandbox.start(
        seed=seed, size=size, host=host, port=port, faults=faults, expired_keys=expired_keys,
        deny_scopes=deny_scopes, organization_header=header, organization_in_costs=cost_rows,
        audit_logging=audit_logging,
    )
    click.echo(f"Sandbox serving {sandbox.base_url}  admin key: {sandbox.admin_key}")
    for line in summary_lines(sandbox.org):
        click.echo(line)
    for scope in deny_scopes:
        click.echo(f"  denied scope: {scope} (403 on its endpoints)")
    if organization_in != "both":
        click.echo(f"  organization id told in: {organization_in}")
    if not audit_logging:
        click.echo("  audit logging: off (the audit log answers 403)")
    for fault in faults:
        click.echo(f"  fault: {fault.kind} on {fault.path} "
                   f"({'rate ' + str(fault.rate) if fault.rate is not None else fault.times})")
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("Sandbox stopped.")
