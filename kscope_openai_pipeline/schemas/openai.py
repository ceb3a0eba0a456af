"""pandera models of the `openai.*` tables: what the Admin API says, as stored.

One model per table, columns in the order of the DDL in `warehouse/sql/openai_*.sql`.
The Field descriptions are the analysts' data dictionary (Dagster shows them on every
asset), so they say what a value means, not how it is computed.
"""

from __future__ import annotations

import pandas as pd
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import (
    WarehouseModel,
    count,
    day,
    flag,
    money,
    number,
    text,
    timestamp,
)
from kscope_openai_pipeline.schemas.dtypes import Day, Varchar
from kscope_openai_pipeline.schemas.openai_history import (
    ApiKeysHistory,
    AuditLogs,
    ProjectsHistory,
    ProjectUsersHistory,
    UsersHistory,
)

#: Usage families, in the Admin API's order (`openai.usage.usage_type` holds one of them).
#: The client keeps its own list (it imports nothing of the warehouse); a test holds the
#: two equal, so a family the client learns cannot land in a table that refuses it.
USAGE_TYPES: tuple[str, ...] = (
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
    "file_search_calls",
    "web_search_calls",
)

#: Dimension columns of openai.usage (with usage_date and usage_type they form the grain).
USAGE_DIMENSIONS: tuple[str, ...] = (
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

_ORG = "The OpenAI organization ('org-...') this row belongs to."


class Organization(WarehouseModel):
    """openai.organization: the crawled organization and facts established by the crawl."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    name: Series[Varchar] = text("Display name of the organization (from pipeline config).")
    source: Series[Varchar] = text(
        "'openai' when crawled from the real Admin API, 'sandbox' for the synthetic org.",
        nullable=False,
        isin=["openai", "sandbox"],
    )
    earliest_key_created_at: Series[pd.Timestamp] = timestamp(
        "Creation time of the oldest API key seen (UTC); no usage can predate it."
    )
    uses_projects: Series[bool] = flag(
        "TRUE when the organization has projects besides the Default project.", nullable=False
    )
    crawled_at: Series[pd.Timestamp] = timestamp(
        "When this inventory was read (UTC).", nullable=False
    )

    class Config:
        name = "openai.organization"
        metadata = {"grain": ["organization_id"], "partition": None}


class Projects(WarehouseModel):
    """openai.projects: every project, archived ones included."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    project_id: Series[Varchar] = text(
        "Project id ('proj_...'), the same id usage and costs carry.", nullable=False
    )
    name: Series[Varchar] = text("Project name as shown in the OpenAI dashboard.")
    status: Series[Varchar] = text("'active' or 'archived'.", isin=["active", "archived"])
    created_at: Series[pd.Timestamp] = timestamp(
        "When the project was created (UTC).", nullable=False
    )
    archived_at: Series[pd.Timestamp] = timestamp(
        "When the project was archived (UTC); NULL while active."
    )

    class Config:
        name = "openai.projects"
        metadata = {"grain": ["project_id"], "partition": None}


class ApiKeys(WarehouseModel):
    """openai.api_keys: every listed project key and admin key (deleted keys are not listed)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    api_key_id: Series[Varchar] = text(
        "Key id ('key_...'), the same id usage and costs carry.", nullable=False
    )
    key_kind: Series[Varchar] = text(
        "'project' for a project key, 'admin' for an Admin API key.",
        nullable=False,
        isin=["project", "admin"],
    )
    project_id: Series[Varchar] = text("Project the key belongs to; NULL for admin keys.")
    name: Series[Varchar] = text("Key name given by its creator.")
    redacted_value: Series[Varchar] = text(
        "Redacted key as OpenAI shows it (e.g. 'sk-proj-****Zx9Q'); never the secret."
    )
    owner_type: Series[Varchar] = text(
        "'user' or 'service_account': who the key belongs to.",
        isin=["user", "service_account"],
    )
    owner_id: Series[Varchar] = text("Owner id ('user-...' or 'svc_acct_...').")
    owner_email: Series[Varchar] = text("Owner's e-mail; NULL for service accounts.")
    owner_name: Series[Varchar] = text("Owner's display name.")
    created_at: Series[pd.Timestamp] = timestamp("When the key was created (UTC).", nullable=False)
    last_used_at: Series[pd.Timestamp] = timestamp(
        "Last time OpenAI saw the key used (UTC); NULL when never used."
    )

    class Config:
        name = "openai.api_keys"
        metadata = {"grain": ["api_key_id"], "partition": None}


class Users(WarehouseModel):
    """openai.users: organization members (each holds a seat)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    user_id: Series[Varchar] = text("User id ('user-...').", nullable=False)
    email: Series[Varchar] = text("The member's e-mail address as OpenAI knows it.")
    name: Series[Varchar] = text("The member's display name.")
    role: Series[Varchar] = text("Organization role: 'owner' or 'reader'.")
    added_at: Series[pd.Timestamp] = timestamp(
        "When the member joined the organization (UTC).", nullable=False
    )

    class Config:
        name = "openai.users"
        metadata = {"grain": ["user_id"], "partition": None}


class Invites(WarehouseModel):
    """openai.invites: organization invites in every status."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    invite_id: Series[Varchar] = text("Invite id ('invite-...').", nullable=False)
    email: Series[Varchar] = text("Invited e-mail address.", nullable=False)
    role: Series[Varchar] = text("Organization role the invite grants: 'owner' or 'reader'.")
    status: Series[Varchar] = text(
        "'pending', 'expired' or 'accepted'.",
        nullable=False,
        isin=["pending", "expired", "accepted"],
    )
    created_at: Series[pd.Timestamp] = timestamp("When the invite was sent (UTC).", nullable=False)
    expires_at: Series[pd.Timestamp] = timestamp("When the invite expires or expired (UTC).")
    accepted_at: Series[pd.Timestamp] = timestamp(
        "When the invite was accepted (UTC); NULL unless accepted."
    )

    class Config:
        name = "openai.invites"
        metadata = {"grain": ["invite_id"], "partition": None}


class ServiceAccounts(WarehouseModel):
    """openai.service_accounts: project service accounts (non-human key owners)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    service_account_id: Series[Varchar] = text(
        "Service account id ('svc_acct_...').", nullable=False
    )
    project_id: Series[Varchar] = text("Project the service account belongs to.", nullable=False)
    name: Series[Varchar] = text("Service account name.")
    role: Series[Varchar] = text("Project role: 'owner', 'member' or 'none'.")
    created_at: Series[pd.Timestamp] = timestamp(
        "When the service account was created (UTC).", nullable=False
    )

    class Config:
        name = "openai.service_accounts"
        metadata = {"grain": ["service_account_id"], "partition": None}


class ProjectUsers(WarehouseModel):
    """openai.project_users: project membership of organization members."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    project_id: Series[Varchar] = text("Project id ('proj_...').", nullable=False)
    user_id: Series[Varchar] = text("Member's user id ('user-...').", nullable=False)
    email: Series[Varchar] = text("Member's e-mail address.")
    name: Series[Varchar] = text("Member's display name.")
    role: Series[Varchar] = text("Project role: 'owner' or 'member'.")
    added_at: Series[pd.Timestamp] = timestamp(
        "When the member was added to the project (UTC).", nullable=False
    )

    class Config:
        name = "openai.project_users"
        metadata = {"grain": ["project_id", "user_id"], "partition": None}


def _metric(description: str) -> object:
    return count(description + " 0 when the usage family does not report it.")


class Usage(WarehouseModel):
    """openai.usage: daily usage of all ten families in one long table."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    usage_date: Series[Day] = day("UTC day of the usage (the 1d bucket).")
    usage_type: Series[Varchar] = text(
        "Usage family: completions, embeddings, moderations, images, audio_speeches, "
        "audio_transcriptions, vector_stores, code_interpreter_sessions, file_search_calls "
        "or web_search_calls.",
        nullable=False,
        isin=list(USAGE_TYPES),
    )
    project_id: Series[Varchar] = text("Project id; NULL for organization-level traffic.")
    api_key_id: Series[Varchar] = text(
        "API key id; NULL for families without keys (vector stores, code interpreter) "
        "or traffic OpenAI did not attribute. May name a deleted key."
    )
    model: Series[Varchar] = text("Model name, e.g. 'gpt-4o-mini-2024-07-18'; NULL if none.")
    batch: Series[pd.BooleanDtype] = flag("Batch API traffic (completions only).")
    service_tier: Series[Varchar] = text("Service tier, e.g. 'default', 'flex' (completions only).")
    image_size: Series[Varchar] = text("Image size, e.g. '1024x1024' (images only).")
    image_source: Series[Varchar] = text(
        "'image.generation', 'image.edit' or 'image.variation' (images only)."
    )
    vector_store_id: Series[Varchar] = text("Vector store searched (file_search_calls only).")
    context_level: Series[Varchar] = text(
        "Search context size: 'low', 'medium' or 'high' (web_search_calls only)."
    )
    input_tokens: Series[int] = _metric("Input tokens, cached ones included.")
    output_tokens: Series[int] = _metric("Output tokens.")
    input_cached_tokens: Series[int] = _metric("Input tokens served from the prompt cache.")
    input_audio_tokens: Series[int] = _metric("Input audio tokens.")
    output_audio_tokens: Series[int] = _metric("Output audio tokens.")
    num_model_requests: Series[int] = _metric("Requests made to the model.")
    images: Series[int] = _metric("Images generated or edited.")
    characters: Series[int] = _metric("Characters synthesized (audio_speeches).")
    seconds: Series[int] = _metric("Seconds of audio transcribed (audio_transcriptions).")
    usage_bytes: Series[int] = _metric("Bytes stored in vector stores that day.")
    num_sessions: Series[int] = _metric("Code interpreter sessions.")
    num_requests: Series[int] = _metric("Tool calls (file search or web search).")

    class Config:
        name = "openai.usage"
        metadata = {
            "grain": ["usage_date", "usage_type", *USAGE_DIMENSIONS],
            "partition": "usage_date",
        }


class Costs(WarehouseModel):
    """openai.costs: daily billed cost by project and line item (invoice-aligned)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    cost_date: Series[Day] = day("UTC day the cost was incurred.")
    project_id: Series[Varchar] = text(
        "Project charged; NULL for organization-level lines such as seats."
    )
    line_item: Series[Varchar] = text(
        "OpenAI's free-text line item, e.g. 'gpt-4o-2024-08-06, input' or 'ChatGPT Team seats'."
    )
    amount_usd: Series[object] = money("Billed amount in US dollars, exact (9 decimals).")
    currency: Series[Varchar] = text(
        "Currency OpenAI reported; always 'usd'.", nullable=False, isin=["usd"]
    )
    quantity: Series[float] = number("Billed quantity, when OpenAI reports one.")
    quantity_unit: Series[Varchar] = text(
        "Unit of quantity, e.g. 'tokens', '1000_tokens', 'images', 'duration_seconds'."
    )

    class Config:
        name = "openai.costs"
        metadata = {"grain": ["cost_date", "project_id", "line_item"], "partition": "cost_date"}


class ApiKeyCosts(WarehouseModel):
    """openai.api_key_costs: daily billed cost by API key (OpenAI has it from 2025-12-06)."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    cost_date: Series[Day] = day("UTC day the cost was incurred.")
    api_key_id: Series[Varchar] = text(
        "API key charged; NULL for cost no key carries (e.g. seats). May name a deleted key."
    )
    amount_usd: Series[object] = money("Billed amount in US dollars, exact (9 decimals).")
    currency: Series[Varchar] = text(
        "Currency OpenAI reported; always 'usd'.", nullable=False, isin=["usd"]
    )

    class Config:
        name = "openai.api_key_costs"
        metadata = {"grain": ["cost_date", "api_key_id"], "partition": "cost_date"}


#: Every openai.* model: the snapshot and daily tables, then the audit log and history.
MODELS: tuple[type[WarehouseModel], ...] = (
    Organization,
    Projects,
    ApiKeys,
    Users,
    Invites,
    ServiceAccounts,
    ProjectUsers,
    Usage,
    Costs,
    ApiKeyCosts,
    AuditLogs,
    ApiKeysHistory,
    UsersHistory,
    ProjectsHistory,
    ProjectUsersHistory,
)

__all__ = [
    "MODELS",
    "USAGE_DIMENSIONS",
    "USAGE_TYPES",
    "ApiKeyCosts",
    "ApiKeys",
    "ApiKeysHistory",
    "AuditLogs",
    "Costs",
    "Invites",
    "Organization",
    "ProjectUsers",
    "ProjectUsersHistory",
    "Projects",
    "ProjectsHistory",
    "ServiceAccounts",
    "Usage",
    "Users",
    "UsersHistory",
]
