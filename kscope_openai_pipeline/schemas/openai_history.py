"""pandera models of the audit log and the inventory history tables (`openai.audit_logs`,
`openai.*_history`).

Kept beside `openai.py` (which lists them in its MODELS) so that module stays readable:
these tables answer "what was true on day D", the others "what is true now". Columns in
the order of `warehouse/sql/openai_audit_logs.sql` and `openai_history.sql`. A history
table has its snapshot table's columns, with the nullability an audit-only version needs
(a key known only from its deletion event has no recorded creation time), plus the
validity interval, the `deleted` flag and the `source`.
"""

from __future__ import annotations

import pandas as pd
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import WarehouseModel, day, flag, text, timestamp
from kscope_openai_pipeline.schemas.dtypes import Day, Varchar

_ORG = "The OpenAI organization ('org-...') this row belongs to."
SOURCES = ["snapshot", "audit_log"]


class AuditLogs(WarehouseModel):
    """openai.audit_logs: the organization's audit log, one row per event."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    audit_log_id: Series[Varchar] = text("Audit log entry id ('audit_log-...').", nullable=False)
    event_type: Series[Varchar] = text(
        "What happened, e.g. 'api_key.created', 'user.deleted', 'login.succeeded'.",
        nullable=False,
    )
    effective_at: Series[pd.Timestamp] = timestamp("When it happened (UTC).", nullable=False)
    event_date: Series[Day] = day("UTC day of effective_at.")
    project_id: Series[Varchar] = text(
        "Project the action was scoped to (admin-key actions: the default project)."
    )
    actor_type: Series[Varchar] = text(
        "'session' (a user in the dashboard) or 'api_key'; NULL when no actor is recorded.",
        isin=["session", "api_key"],
    )
    actor_user_id: Series[Varchar] = text("The session's user, or the API key's owning user.")
    actor_email: Series[Varchar] = text("E-mail of actor_user_id.")
    actor_api_key_id: Series[Varchar] = text("The API key used, for api_key actors.")
    actor_service_account_id: Series[Varchar] = text(
        "The service account owning the API key used, when a service account acted."
    )
    target_id: Series[Varchar] = text(
        "Id of the object acted on (the details' id: a key, user, project, invite...)."
    )
    details: Series[Varchar] = text(
        "The event's detail object as JSON text (sorted keys), e.g. "
        "'{\"data\": {\"role\": \"member\"}, \"id\": \"user-...\"}'."
    )

    class Config:
        name = "openai.audit_logs"
        metadata = {"grain": ["event_date", "audit_log_id"], "partition": "event_date"}


def _validity() -> dict[str, object]:
    return {
        "valid_from": timestamp("Start of the version (UTC, inclusive).", nullable=False),
        "valid_to": timestamp("End of the version (UTC, exclusive); NULL while current."),
        "deleted": flag(
            "TRUE: the object had left the listing (deleted key, removed member).",
            nullable=False,
        ),
        "source": text(
            "'snapshot': recorded by an inventory run; 'audit_log': reconstructed for the "
            "time before the object's first listing.",
            nullable=False,
            isin=SOURCES,
        ),
    }


class ApiKeysHistory(WarehouseModel):
    """openai.api_keys_history: every version of every API key, deleted keys included."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    api_key_id: Series[Varchar] = text("Key id ('key_...').", nullable=False)
    key_kind: Series[Varchar] = text("'project' or 'admin'.", isin=["project", "admin"])
    project_id: Series[Varchar] = text("Project the key belongs to; NULL for admin keys.")
    name: Series[Varchar] = text("Key name (NULL for keys known only from the audit log).")
    redacted_value: Series[Varchar] = text("Redacted key value, e.g. 'sk-proj-****Zx9Q'.")
    owner_type: Series[Varchar] = text(
        "'user' or 'service_account' (NULL when never listed: the audit log names creators, "
        "not owners).",
        isin=["user", "service_account"],
    )
    owner_id: Series[Varchar] = text("Owner id ('user-...' or 'svc_acct_...').")
    owner_email: Series[Varchar] = text("Owner's e-mail; NULL for service accounts.")
    owner_name: Series[Varchar] = text("Owner's display name.")
    created_at: Series[pd.Timestamp] = timestamp("When the key was created (UTC).")
    last_used_at: Series[pd.Timestamp] = timestamp(
        "Last use OpenAI reported at the latest crawl of this version (not versioned)."
    )
    valid_from: Series[pd.Timestamp] = _validity()["valid_from"]
    valid_to: Series[pd.Timestamp] = _validity()["valid_to"]
    deleted: Series[bool] = _validity()["deleted"]
    source: Series[Varchar] = _validity()["source"]

    class Config:
        name = "openai.api_keys_history"
        metadata = {"grain": ["api_key_id", "valid_from"], "partition": None}


class UsersHistory(WarehouseModel):
    """openai.users_history: every version of every member, removed members included."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    user_id: Series[Varchar] = text("User id ('user-...').", nullable=False)
    email: Series[Varchar] = text(
        "E-mail as listed; for members never listed, the one their audit log events carry."
    )
    name: Series[Varchar] = text("Display name (NULL for members never listed).")
    role: Series[Varchar] = text(
        "Organization role as listed ('owner'/'reader'); for members never listed, the "
        "user.added event's ('owner'/'member')."
    )
    added_at: Series[pd.Timestamp] = timestamp("When the member joined (UTC).")
    valid_from: Series[pd.Timestamp] = _validity()["valid_from"]
    valid_to: Series[pd.Timestamp] = _validity()["valid_to"]
    deleted: Series[bool] = _validity()["deleted"]
    source: Series[Varchar] = _validity()["source"]

    class Config:
        name = "openai.users_history"
        metadata = {"grain": ["user_id", "valid_from"], "partition": None}


class ProjectsHistory(WarehouseModel):
    """openai.projects_history: every version of every project (archival is a version)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    project_id: Series[Varchar] = text("Project id ('proj_...').", nullable=False)
    name: Series[Varchar] = text("Project name.")
    status: Series[Varchar] = text(
        "'active' or 'archived' during the version.", isin=["active", "archived"]
    )
    created_at: Series[pd.Timestamp] = timestamp("When the project was created (UTC).")
    archived_at: Series[pd.Timestamp] = timestamp("When it was archived (UTC); NULL if active.")
    valid_from: Series[pd.Timestamp] = _validity()["valid_from"]
    valid_to: Series[pd.Timestamp] = _validity()["valid_to"]
    deleted: Series[bool] = _validity()["deleted"]
    source: Series[Varchar] = _validity()["source"]

    class Config:
        name = "openai.projects_history"
        metadata = {"grain": ["project_id", "valid_from"], "partition": None}


class ProjectUsersHistory(WarehouseModel):
    """openai.project_users_history: every version of every project membership."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    project_id: Series[Varchar] = text("Project id ('proj_...').", nullable=False)
    user_id: Series[Varchar] = text("Member's user id ('user-...').", nullable=False)
    email: Series[Varchar] = text("Member's e-mail address.")
    name: Series[Varchar] = text("Member's display name.")
    role: Series[Varchar] = text("Project role: 'owner' or 'member'.")
    added_at: Series[pd.Timestamp] = timestamp("When the member was added to the project.")
    valid_from: Series[pd.Timestamp] = _validity()["valid_from"]
    valid_to: Series[pd.Timestamp] = _validity()["valid_to"]
    deleted: Series[bool] = _validity()["deleted"]
    source: Series[Varchar] = _validity()["source"]

    class Config:
        name = "openai.project_users_history"
        metadata = {"grain": ["project_id", "user_id", "valid_from"], "partition": None}


MODELS: tuple[type[WarehouseModel], ...] = (
    AuditLogs,
    ApiKeysHistory,
    UsersHistory,
    ProjectsHistory,
    ProjectUsersHistory,
)
