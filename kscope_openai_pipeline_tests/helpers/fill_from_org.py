"""Fill a warehouse's openai.* and kscope.* tables straight from a SyntheticOrg's records.

Why: the sightline tests need the warehouse as the ingestion pipeline would leave it, but
must not depend on the Admin API client and the Dagster assets (written in parallel, and
slow to run). This helper aggregates the org's raw records the way the API serves them:

- usage: one row per UTC day x the family's dimensions the pipeline groups by
  (project_id, api_key_id, model, batch, service_tier, image size/source, vector_store_id,
  context_level; never user_id), metrics summed;
- costs: per day x project_id x line_item (amounts summed exactly, quantities summed);
- api_key_costs: per day x api_key_id (NULL kept) from 2025-12-06 on (the API's floor);
- inventory: the listed (non-deleted) keys, users, invites, projects, service accounts;
- audit_logs: the org's audit events of the data range, as the client flattens them;
- history: one crawl right after the org's last day (merged as the inventory asset
  does), then the audit-log reconstruction (as the audit log asset does);
- kscope.*: the org's generated inputs, with organization_id and list aliases.

Every frame goes through the tables' pandera models and the warehouse writers, so an
end-to-end test can later swap this helper for the real pipeline and compare.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pandas as pd

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.sandbox.model import FAMILY_DIMENSIONS, FAMILY_METRICS, SyntheticOrg
from kscope_openai_pipeline.schemas import kscope as kscope_models
from kscope_openai_pipeline.schemas import openai as openai_models
from kscope_openai_pipeline.schemas.base import column_names
from kscope_openai_pipeline.warehouse import history

#: When the filled warehouse's one inventory crawl happened: 6 hours after the last day.
CRAWL_DELAY = dt.timedelta(hours=6)

#: First day the Costs API accepts group_by=api_key_id (2025-12-06 00:00 UTC).
API_KEY_COSTS_FLOOR = dt.date(2025, 12, 6)

_DIMENSION_COLUMNS = {"size": "image_size", "source": "image_source"}
_USAGE_DIMENSIONS = (
    "project_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
    "image_size",
    "image_source",
    "vector_store_id",
    "context_level",
)


def _stamp(seconds: int | None) -> pd.Timestamp:
    if seconds is None:
        return pd.NaT
    return pd.Timestamp(dt.datetime.fromtimestamp(int(seconds), dt.UTC).replace(tzinfo=None))


def _nullable(series: pd.Series) -> pd.Series:
    """Object column with None (not NaN) for missing values, as the writers expect."""
    return series.astype(object).where(series.notna(), None)


def _day(seconds: pd.Series) -> pd.Series:
    return pd.to_datetime(seconds, unit="s").dt.date


def _stamps(values: list[int | None]) -> pd.Series:
    return pd.Series([_stamp(v) for v in values], dtype="datetime64[ns]")


def usage_frame(org: SyntheticOrg) -> pd.DataFrame:
    """openai.usage rows: daily sums per family x pipeline dimensions (NULL kept as a group)."""
    metrics = column_names(openai_models.Usage)[12:]
    parts = []
    for family, events in org.usage.items():
        dims = [d for d in FAMILY_DIMENSIONS[family] if d != "user_id"]
        frame = events.rename(columns=_DIMENSION_COLUMNS)
        dims = [_DIMENSION_COLUMNS.get(d, d) for d in dims]
        frame = frame.assign(usage_date=_day(frame["ts"]))
        grouped = (
            frame.groupby(["usage_date", *dims], dropna=False, sort=True)[
                list(FAMILY_METRICS[family])
            ]
            .sum()
            .reset_index()
        )
        grouped["usage_type"] = family
        for column in _USAGE_DIMENSIONS:
            if column not in grouped.columns:
                grouped[column] = None
        for metric in metrics:
            if metric not in grouped.columns:
                grouped[metric] = 0
        parts.append(grouped)
    usage = pd.concat(parts, ignore_index=True)
    usage.insert(0, "organization_id", org.organization_id)
    for column in _USAGE_DIMENSIONS:
        usage[column] = _nullable(usage[column])
    usage["batch"] = usage["batch"].astype("boolean")
    for metric in metrics:
        usage[metric] = usage[metric].astype("int64")
    return usage[column_names(openai_models.Usage)]


def _sum_decimals(values: pd.Series) -> Decimal:
    return sum(values, Decimal(0))


def costs_frame(org: SyntheticOrg) -> pd.DataFrame:
    """openai.costs rows: per day x project x line item, amounts summed exactly."""
    raw = org.costs.assign(cost_date=_day(org.costs["ts"]))
    keys = ["cost_date", "project_id", "line_item"]
    grouped = raw.groupby(keys, dropna=False, sort=True)
    frame = grouped["amount"].agg(_sum_decimals).rename("amount_usd").reset_index()
    frame["quantity"] = grouped["quantity"].sum(min_count=1).to_numpy()
    frame["quantity_unit"] = grouped["quantity_unit"].first().to_numpy()
    frame["project_id"] = _nullable(frame["project_id"])
    frame["quantity_unit"] = _nullable(frame["quantity_unit"])
    frame["currency"] = "usd"
    frame.insert(0, "organization_id", org.organization_id)
    return frame[column_names(openai_models.Costs)]


def api_key_costs_frame(org: SyntheticOrg, floor: dt.date = API_KEY_COSTS_FLOOR) -> pd.DataFrame:
    """openai.api_key_costs rows: per day x api_key_id (NULL = no key), from `floor` on."""
    raw = org.costs.assign(cost_date=_day(org.costs["ts"]))
    raw = raw[raw["cost_date"] >= floor]
    frame = (
        raw.groupby(["cost_date", "api_key_id"], dropna=False, sort=True)["amount"]
        .agg(_sum_decimals)
        .rename("amount_usd")
        .reset_index()
    )
    frame["api_key_id"] = _nullable(frame["api_key_id"])
    frame["currency"] = "usd"
    frame.insert(0, "organization_id", org.organization_id)
    return frame[column_names(openai_models.ApiKeyCosts)]


def inventory_frames(org: SyntheticOrg) -> dict[str, pd.DataFrame]:
    """openai.* inventory tables as the API lists them (deleted keys are not listed)."""
    oid = org.organization_id
    users = {u.id: u for u in org.users}
    accounts = {s.id: s for s in org.service_accounts}
    listed = [k for k in org.api_keys if not k.deleted]
    keys = pd.DataFrame(
        {
            "organization_id": oid,
            "api_key_id": [k.id for k in listed],
            "key_kind": [k.kind for k in listed],
            "project_id": [k.project_id for k in listed],
            "name": [k.name for k in listed],
            "redacted_value": [k.redacted_value for k in listed],
            "owner_type": [k.owner_type for k in listed],
            "owner_id": [k.owner_id for k in listed],
            "owner_email": [
                users[k.owner_id].email if k.owner_type == "user" and k.owner_id in users else None
                for k in listed
            ],
            "owner_name": [
                users[k.owner_id].name
                if k.owner_type == "user" and k.owner_id in users
                else accounts[k.owner_id].name
                if k.owner_id in accounts
                else None
                for k in listed
            ],
            "created_at": _stamps([k.created_at for k in listed]),
            "last_used_at": _stamps([k.last_used_at for k in listed]),
        }
    )
    projects = pd.DataFrame(
        {
            "organization_id": oid,
            "project_id": [p.id for p in org.projects],
            "name": [p.name for p in org.projects],
            "status": [p.status for p in org.projects],
            "created_at": _stamps([p.created_at for p in org.projects]),
            "archived_at": _stamps([p.archived_at for p in org.projects]),
        }
    )
    user_frame = pd.DataFrame(
        {
            "organization_id": oid,
            "user_id": [u.id for u in org.users],
            "email": [u.email for u in org.users],
            "name": [u.name for u in org.users],
            "role": [u.role for u in org.users],
            "added_at": _stamps([u.added_at for u in org.users]),
        }
    )
    invites = pd.DataFrame(
        {
            "organization_id": oid,
            "invite_id": [i.id for i in org.invites],
            "email": [i.email for i in org.invites],
            "role": [i.role for i in org.invites],
            "status": [i.status for i in org.invites],
            "created_at": _stamps([i.created_at for i in org.invites]),
            "expires_at": _stamps([i.expires_at for i in org.invites]),
            "accepted_at": _stamps([i.accepted_at for i in org.invites]),
        }
    )
    service_accounts = pd.DataFrame(
        {
            "organization_id": oid,
            "service_account_id": [s.id for s in org.service_accounts],
            "project_id": [s.project_id for s in org.service_accounts],
            "name": [s.name for s in org.service_accounts],
            "role": [s.role for s in org.service_accounts],
            "created_at": _stamps([s.created_at for s in org.service_accounts]),
        }
    )
    emails = {u.id: (u.email, u.name) for u in org.users}
    project_users = pd.DataFrame(
        {
            "organization_id": oid,
            "project_id": [m.project_id for m in org.project_users],
            "user_id": [m.user_id for m in org.project_users],
            "email": [emails.get(m.user_id, (None, None))[0] for m in org.project_users],
            "name": [emails.get(m.user_id, (None, None))[1] for m in org.project_users],
            "role": [m.role for m in org.project_users],
            "added_at": _stamps([m.added_at for m in org.project_users]),
        }
    )
    earliest = min(k.created_at for k in org.api_keys)
    organization = pd.DataFrame(
        {
            "organization_id": [oid],
            "name": [org.organization_name],
            "source": ["sandbox"],
            "earliest_key_created_at": _stamps([earliest]),
            "uses_projects": [True],
            "crawled_at": _stamps([org.end_day]),
        }
    )
    return {
        "openai.organization": organization,
        "openai.projects": projects,
        "openai.api_keys": keys,
        "openai.users": user_frame,
        "openai.invites": invites,
        "openai.service_accounts": service_accounts,
        "openai.project_users": project_users,
    }


def audit_logs_frame(org: SyntheticOrg, start: int, end: int) -> pd.DataFrame:
    """openai.audit_logs rows of the events with start <= effective_at < end, shaped as
    the client flattens the served events (actor columns, details as sorted JSON)."""
    emails = {u.id: u.email for u in [*org.users, *org.former_users]}
    default_details = {
        "api_key.created": {"data": {"scopes": ["api.model.request"]}},
        "user.added": {"data": {"role": "member"}},
    }
    rows = []
    for e in org.audit_events:
        if not start <= e.effective_at < end:
            continue
        details = dict(e.details if e.details is not None else default_details.get(e.type, {}))
        if e.resource_id is not None:
            details = {"id": e.resource_id, **details}
        actor_type = (
            "api_key" if e.actor_api_key_id else "session" if e.actor_user_id else None
        )
        rows.append(
            {
                "organization_id": org.organization_id,
                "audit_log_id": e.id,
                "event_type": e.type,
                "effective_at": _stamp(e.effective_at),
                "event_date": _stamp(e.effective_at).date(),
                "project_id": e.project_id,
                "actor_type": actor_type,
                "actor_user_id": e.actor_user_id,
                "actor_email": emails.get(e.actor_user_id) if e.actor_user_id else None,
                "actor_api_key_id": e.actor_api_key_id,
                "actor_service_account_id": e.actor_service_account_id,
                "target_id": e.resource_id,
                "details": json.dumps(details, sort_keys=True),
            }
        )
    frame = pd.DataFrame(rows, columns=column_names(openai_models.AuditLogs))
    frame["effective_at"] = frame["effective_at"].astype("datetime64[ns]")
    return frame


def kscope_frames(org: SyntheticOrg) -> dict[str, pd.DataFrame]:
    """kscope.* tables from the org's generated inputs (organization_id added, list aliases)."""
    oid = org.organization_id
    out: dict[str, pd.DataFrame] = {}
    for model in kscope_models.MODELS:
        kind = model.__config__.name.split(".")[1]
        frame = getattr(org, kind).copy()
        if "organization_id" not in frame.columns:
            frame.insert(0, "organization_id", oid)
        if "aliases" in frame.columns:
            frame["aliases"] = [
                list(v)
                if isinstance(v, list | tuple)
                else [a for a in str(v).split(";") if a]
                if isinstance(v, str)
                else []
                for v in frame["aliases"]
            ]
        out[model.__config__.name] = frame[column_names(model)]
    return out


_MODELS = {m.__config__.name: m for m in (*openai_models.MODELS, *kscope_models.MODELS)}


def fill_from_org(
    conn: duckdb.DuckDBPyConnection,
    org: SyntheticOrg,
    *,
    with_api_key_costs: bool = True,
    with_gateway: bool = True,
    api_key_costs_floor: dt.date = API_KEY_COSTS_FLOOR,
    with_audit_log: bool = True,
) -> dict[str, int]:
    """Write every openai.* and kscope.* table of `org` into `conn`; return rows per table.

    `with_api_key_costs=False` leaves openai.api_key_costs empty (as for an organization
    crawled before 2025-12-06), `with_gateway=False` leaves kscope.gateway_costs empty (no
    gateway deployed). `api_key_costs_floor` moves the first day with per-key costs.
    `with_audit_log=False`: an organization with audit logging off (no audit log, history
    from the crawl on).
    """
    warehouse.ensure_schema(conn)
    frames: dict[str, pd.DataFrame] = dict(inventory_frames(org))
    frames["openai.usage"] = usage_frame(org)
    frames["openai.costs"] = costs_frame(org)
    frames["openai.api_key_costs"] = (
        api_key_costs_frame(org, api_key_costs_floor)
        if with_api_key_costs
        else pd.DataFrame(columns=column_names(openai_models.ApiKeyCosts))
    )
    frames.update(kscope_frames(org))
    if not with_gateway:
        frames["kscope.gateway_costs"] = frames["kscope.gateway_costs"].iloc[0:0]
    if with_audit_log:
        frames["openai.audit_logs"] = audit_logs_frame(org, org.start_day, org.end_day)
    written: dict[str, int] = {}
    for table, frame in frames.items():
        model = _MODELS[table] if len(frame) else None
        written[table] = warehouse.replace_table(conn, table, frame, model=model)
    crawled_at = dt.datetime.fromtimestamp(org.end_day, dt.UTC).replace(tzinfo=None)
    for snapshot in history.HISTORY:
        history.merge_snapshot(conn, snapshot, org.organization_id, crawled_at + CRAWL_DELAY)
    history.rebuild_from_audit_log(conn, org.organization_id)
    return written
