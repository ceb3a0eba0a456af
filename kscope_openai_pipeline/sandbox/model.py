"""The synthetic organization the sandbox serves: plain records, no HTTP.

This module is the contract between the generator (`org.py`), the HTTP server
(`server.py`) and the tests that compare what the pipeline stored with the ground truth
(`ground_truth.py`). Every timestamp is integer Unix seconds UTC, like the Admin API.
Money is `Decimal` (USD, at most 9 decimal places) so that totals are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

USAGE_FAMILIES: tuple[str, ...] = (
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

#: Dimension columns of each family's usage DataFrame, in column order (after `ts`).
#: These are also the family's allowed `group_by` values on the API.
FAMILY_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "completions": ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "user_id", "api_key_id", "model"),
    "moderations": ("project_id", "user_id", "api_key_id", "model"),
    "images": ("project_id", "user_id", "api_key_id", "model", "size", "source"),
    "audio_speeches": ("project_id", "user_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "user_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
    "file_search_calls": ("project_id", "user_id", "api_key_id", "vector_store_id"),
    "web_search_calls": ("project_id", "user_id", "api_key_id", "model", "context_level"),
}

#: Metric columns (int64) of each family's usage DataFrame, in column order.
FAMILY_METRICS: dict[str, tuple[str, ...]] = {
    "completions": (
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "input_audio_tokens",
        "output_audio_tokens",
        "num_model_requests",
    ),
    "embeddings": ("input_tokens", "num_model_requests"),
    "moderations": ("input_tokens", "num_model_requests"),
    "images": ("images", "num_model_requests"),
    "audio_speeches": ("characters", "num_model_requests"),
    "audio_transcriptions": ("seconds", "num_model_requests"),
    "vector_stores": ("usage_bytes",),
    "code_interpreter_sessions": ("num_sessions",),
    "file_search_calls": ("num_requests",),
    "web_search_calls": ("num_model_requests", "num_requests"),
}


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    created_at: int
    archived_at: int | None
    status: str  # "active" | "archived"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: str  # "owner" | "reader"
    added_at: int
    deleted_at: int | None = None  # former members only (`SyntheticOrg.former_users`)


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    project_id: str
    name: str
    role: str  # "owner" | "member"
    created_at: int


@dataclass(frozen=True)
class ProjectUser:
    project_id: str
    user_id: str
    role: str  # "owner" | "member"
    added_at: int


@dataclass(frozen=True)
class ApiKey:
    """A project key (`kind="project"`) or an admin key (`kind="admin"`).

    A key with `deleted=True` is listed by no endpoint but still appears in usage and
    costs by id, as on the real API.
    """

    id: str
    kind: str  # "project" | "admin"
    project_id: str | None  # None for admin keys
    name: str
    redacted_value: str
    created_at: int
    last_used_at: int | None
    owner_type: str  # "user" | "service_account"
    owner_id: str
    deleted: bool = False
    expires_at: int | None = None  # admin keys only
    deleted_at: int | None = None  # set when deleted=True (matches the api_key.deleted event)


@dataclass(frozen=True)
class Invite:
    id: str
    email: str
    role: str  # "owner" | "reader"
    status: str  # "pending" | "expired" | "accepted"
    created_at: int
    expires_at: int | None
    accepted_at: int | None
    projects: tuple[tuple[str, str], ...] = ()  # (project_id, role)


@dataclass(frozen=True)
class AuditEvent:
    """One audit log entry, in the API's terms.

    The actor is a session of `actor_user_id`, or, when `actor_api_key_id` is set, an API
    key owned by that user or by `actor_service_account_id`; no actor at all when all
    three are None. `resource_id` is the `id` of the details object (None for events
    whose details have none, e.g. logins); `details` holds the rest of it (None: the
    server's default for the type).
    """

    id: str
    type: str  # "api_key.created" | "api_key.deleted" | "user.added" | ...
    effective_at: int
    project_id: str | None
    actor_user_id: str | None
    resource_id: str | None
    actor_api_key_id: str | None = None
    actor_service_account_id: str | None = None
    details: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass
class SyntheticOrg:
    """Everything the sandbox serves, as a pure function of (seed, size).

    `usage[family]` is one DataFrame per usage family with one row per usage event:
    column `ts` (int Unix seconds, the minute the traffic happened; buckets of any width
    are sums over it), the family's dimension columns (`project_id`, `user_id`,
    `api_key_id`, `model`, `batch`, `service_tier`, `size`, `source`, `vector_store_id`,
    `context_level` where the family has them; None where the traffic has no value) and
    the family's metric columns as int64.

    Usage frames are sorted by `ts`; their columns are exactly `ts`, then
    `FAMILY_DIMENSIONS[family]`, then `FAMILY_METRICS[family]`. `batch` is a bool column
    (never None); other dimensions are object columns with None for "no value"
    (org-level completions rows have project_id and api_key_id None; vector_stores has one
    snapshot row per (project, day) at UTC midnight).

    `costs` has one row per (day, project_id, line_item, api_key_id) with columns
    `ts` (UTC midnight of the day), `project_id` (None for org-level lines),
    `line_item`, `api_key_id` (None for lines no key can carry, e.g. seats),
    `amount` (Decimal USD), `quantity` (float or None), `quantity_unit` (str or None).
    Two extra columns help consumers: `amount_nanos` (int64, `amount` x 1e9 exactly, for
    fast exact sums) and `model` (the model the line item prices, None for seats, storage
    and tool lines). Every `amount` has at most 9 decimals and is below 100,000, so its
    float repr round-trips; sums over any grouping are exact. Which amounts are sent as
    JSON strings is decided by the server (deterministically), not marked here.

    The Kscope side: `dev_tokens`, `gateway_costs`, `engineers` are DataFrames in the
    shapes of the warehouse's `kscope.*` tables (README, Tables); `engineers` carries
    `departed_on` (a `datetime.date` or None).

    The timeline: `audit_events` is the organization's whole audit log (every day, not
    just the data range); `former_users` left before the end; `extra["scenarios"]` names
    the records that make point-in-time questions interesting (a key registered late, a
    token revoked, a deleted key, a member who left, an engineer who departed).
    """

    seed: int
    size: str
    organization_id: str
    organization_name: str
    start_day: int  # first UTC midnight with any data
    end_day: int  # exclusive: UTC midnight after the last day with data
    projects: list[Project]
    users: list[User]
    service_accounts: list[ServiceAccount]
    project_users: list[ProjectUser]
    api_keys: list[ApiKey]
    invites: list[Invite]
    audit_events: list[AuditEvent]
    usage: dict[str, pd.DataFrame]
    costs: pd.DataFrame
    dev_tokens: pd.DataFrame
    gateway_costs: pd.DataFrame
    engineers: pd.DataFrame
    admin_key: str = "sk-admin-sandbox-0000000000000000"
    extra: dict[str, object] = field(default_factory=dict)
    #: Members who left before the last day (listed nowhere; `user.deleted` in the audit
    #: log), with `deleted_at` set. The users list holds only current members.
    former_users: list[User] = field(default_factory=list)
