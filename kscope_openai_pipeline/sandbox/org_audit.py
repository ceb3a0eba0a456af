"""The synthetic organization's audit log: every change the inventory shows, plus noise.

Why: history before the first crawl comes from the audit log (keys created and deleted,
members added and removed, projects created and archived), so the sandbox must log exactly
the changes its records imply, at their exact times, with actors shaped as the API shapes
them: sessions of users, and API keys owned by users (admin keys) or by service accounts.
Logins (and a few failed ones) and rate-limit changes are noise a crawler must carry
without mistaking it for history.

The whole log spans the organization's life (projects and members predate the usage
range); the server filters it by `effective_at`. Ids are assigned in time order from the
given random stream, so the log is a pure function of the organization.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import ApiKey, AuditEvent, Invite, Project, ServiceAccount, User

DAY = 86_400
#: Every user signs in about once a week while a member, during the usage range.
LOGIN_EVERY_DAYS = 7
#: Share of sign-ins preceded by a failed attempt (wrong password).
FAILED_LOGIN_SHARE = 0.05


@dataclass(frozen=True)
class _Actor:
    user_id: str | None = None
    api_key_id: str | None = None
    service_account_id: str | None = None


_NOBODY = _Actor()


@dataclass
class AuditInputs:
    """The records the log is derived from (all of them, deleted ones included)."""

    start_day: int
    end_day: int
    founder_id: str
    projects: Sequence[Project]
    users: Sequence[User]  # current and former members
    keys: Sequence[ApiKey]
    invites: Sequence[Invite]
    service_accounts: Sequence[ServiceAccount]


def build_audit_log(
    inputs: AuditInputs, noise_rng: np.random.Generator, id_rng: np.random.Generator,
    random_ids: Any,
) -> list[AuditEvent]:
    """The organization's audit log, oldest first (the server serves it newest first)."""
    raw: list[tuple[int, str, str | None, _Actor, str | None, dict[str, Any] | None]] = []
    founder = _Actor(user_id=inputs.founder_id)
    admin_keys = sorted((k for k in inputs.keys if k.kind == "admin"), key=lambda k: k.created_at)

    def admin_key_at(t: int) -> _Actor | None:
        """An admin key existing at `t` (the oldest), as an API-key actor of its owner."""
        for key in admin_keys:
            if key.created_at < t and (key.deleted_at is None or key.deleted_at > t):
                return _Actor(user_id=key.owner_id, api_key_id=key.id)
        return None

    for n, p in enumerate(inputs.projects):
        actor = (admin_key_at(p.created_at) if n % 2 else None) or founder
        data = {"name": p.name, "title": p.name}
        raw.append((p.created_at, "project.created", p.id, actor, p.id, {"data": data}))
        if p.archived_at is not None:
            raw.append((p.archived_at, "project.archived", p.id, founder, p.id, None))
    for u in inputs.users:
        actor = _NOBODY if u.id == inputs.founder_id else founder
        role = "owner" if u.role == "owner" else "member"
        raw.append((u.added_at, "user.added", None, actor, u.id, {"data": {"role": role}}))
        if u.deleted_at is not None:
            raw.append((u.deleted_at, "user.deleted", None, founder, u.id, None))
    by_email = {u.email: u.id for u in inputs.users}
    for i in inputs.invites:
        data = {"email": i.email, "role": "owner" if i.role == "owner" else "member"}
        raw.append((i.created_at, "invite.sent", None, founder, i.id, {"data": data}))
        if i.accepted_at is not None and i.email in by_email:
            accepter = _Actor(user_id=by_email[i.email])
            raw.append((i.accepted_at, "invite.accepted", None, accepter, i.id, None))
    for k in inputs.keys:
        if k.owner_type == "user":
            actor = _Actor(user_id=k.owner_id)
        else:  # service accounts' keys are provisioned through the Admin API when possible
            actor = admin_key_at(k.created_at) or founder
        scopes = {"data": {"scopes": ["api.model.request"] if k.kind == "project" else
                           ["api.management.read", "api.usage.read"]}}
        raw.append((k.created_at, "api_key.created", k.project_id, actor, k.id, scopes))
        if k.deleted and k.deleted_at is not None:
            raw.append((k.deleted_at, "api_key.deleted", k.project_id, actor, k.id, None))
    raw.extend(_rate_limit_changes(inputs))
    raw.extend(_logins(inputs, noise_rng))
    raw.sort(key=lambda r: (r[0], r[1], r[4] or "", r[3].user_id or ""))
    ids = random_ids(id_rng, "audit_log-", len(raw), 20)
    return [
        AuditEvent(
            id=ids[j],
            type=kind,
            effective_at=t,
            project_id=project,
            actor_user_id=actor.user_id,
            resource_id=resource,
            actor_api_key_id=actor.api_key_id,
            actor_service_account_id=actor.service_account_id,
            details=details,
        )
        for j, (t, kind, project, actor, resource, details) in enumerate(raw)
    ]


def _rate_limit_changes(inputs: AuditInputs) -> list[tuple]:
    """Each service account raises its project's rate limit a day after it is created,
    with its own key: the log's API-key actors owned by service accounts."""
    key_of = {k.owner_id: k for k in inputs.keys if k.owner_type == "service_account"}
    out = []
    for sa in inputs.service_accounts:
        key = key_of.get(sa.id)
        t = sa.created_at + DAY
        if key is None or t >= inputs.end_day or (key.deleted_at or inputs.end_day) <= t:
            continue
        actor = _Actor(api_key_id=key.id, service_account_id=sa.id)
        details = {"changes_requested": {"max_requests_per_1_minute": 500}}
        out.append((t, "rate_limit.updated", sa.project_id, actor, "rl-gpt-4o", details))
    return out


def _logins(inputs: AuditInputs, rng: np.random.Generator) -> list[tuple]:
    """Weekly sign-ins of every member during the usage range, some after a failed try."""
    out = []
    n_days = (inputs.end_day - inputs.start_day) // DAY
    for u in inputs.users:
        offset = int(rng.integers(0, LOGIN_EVERY_DAYS))
        days = np.arange(offset, n_days, LOGIN_EVERY_DAYS)
        seconds = rng.integers(7 * 3600, 20 * 3600, size=len(days))
        failed = rng.random(len(days)) < FAILED_LOGIN_SHARE
        for d, s, f in zip(days.tolist(), seconds.tolist(), failed.tolist(), strict=True):
            t = inputs.start_day + d * DAY + s
            if t <= u.added_at or (u.deleted_at is not None and t >= u.deleted_at):
                continue
            actor = _Actor(user_id=u.id)
            if f:
                details = {"error_code": "invalid_credentials",
                           "error_message": "Invalid email or password."}
                out.append((t - 120, "login.failed", None, actor, None, details))
            out.append((t, "login.succeeded", None, actor, None, {}))
    return out
