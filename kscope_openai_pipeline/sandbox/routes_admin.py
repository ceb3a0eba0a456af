"""Management endpoints: projects, keys, users, invites, service accounts, audit logs.

Why here: they share the list contract (`limit` 1-100 default 20, `after` = an id of the
previous page, `first_id`/`last_id`/`has_more` with real ids) and the object shapes of
the official spec; each function turns the org's records into exactly those shapes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .api_errors import ApiError, invalid_value, not_found
from .model import ApiKey, AuditEvent, Invite, Project, ServiceAccount, User
from .query import Query
from .view import OrgView

Payload = dict[str, Any]
T = TypeVar("T")
LIST_LIMIT = (20, 100)


# -- list paging ------------------------------------------------------------------------


def paginate(
    q: Query,
    items: Sequence[T],
    render: Callable[[T], Payload],
    *,
    id_of: Callable[[T], str] = lambda item: item.id,  # type: ignore[attr-defined]
    allow_before: bool = False,
) -> Payload:
    """One page of a list endpoint: `limit` items after (or before) the cursor id."""
    limit = q.get_limit(*LIST_LIMIT)
    ids = [id_of(item) for item in items]
    after = q.get_str("after") or None
    before = (q.get_str("before") or None) if allow_before else None
    if after is not None:
        start = _position(ids, after, "after") + 1
        chosen = list(range(start, min(start + limit, len(items))))
        has_more = start + limit < len(items)
    elif before is not None:
        stop = _position(ids, before, "before")
        chosen = list(range(max(0, stop - limit), stop))
        has_more = stop - limit > 0
    else:
        chosen = list(range(min(limit, len(items))))
        has_more = limit < len(items)
    data = [render(items[i]) for i in chosen]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def _position(ids: list[str], cursor_id: str, param: str) -> int:
    try:
        return ids.index(cursor_id)
    except ValueError:
        raise ApiError(
            400,
            f"Invalid '{param}': '{cursor_id}' is not an id in this list.",
            param=param,
            code="invalid_value",
        ) from None


# -- object shapes ----------------------------------------------------------------------


def project_obj(p: Project) -> Payload:
    return {
        "id": p.id,
        "object": "organization.project",
        "name": p.name,
        "created_at": p.created_at,
        "archived_at": p.archived_at,
        "status": p.status,
    }


def user_obj(u: User) -> Payload:
    return {
        "object": "organization.user",
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "role": u.role,
        "added_at": u.added_at,
    }


def invite_obj(i: Invite) -> Payload:
    return {
        "object": "organization.invite",
        "id": i.id,
        "email": i.email,
        "role": i.role,
        "status": i.status,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "accepted_at": i.accepted_at,
        "projects": [{"id": pid, "role": role} for pid, role in i.projects],
    }


def service_account_obj(sa: ServiceAccount) -> Payload:
    return {
        "object": "organization.project.service_account",
        "id": sa.id,
        "name": sa.name,
        "role": sa.role,
        "created_at": sa.created_at,
    }


def owner_access(view: OrgView, key: ApiKey) -> str:
    """`active` when the key's owner still has access to the key's project."""
    if key.owner_type == "service_account":
        sa = view.service_accounts_by_id.get(key.owner_id)
        return "active" if sa is not None and sa.project_id == key.project_id else "inactive"
    member = (key.project_id or "", key.owner_id) in view.membership
    return "active" if member and key.owner_id in view.users_by_id else "inactive"


def project_key_obj(view: OrgView, key: ApiKey) -> Payload:
    if key.owner_type == "service_account":
        sa = view.service_accounts_by_id.get(key.owner_id)
        owner: Payload = {
            "type": "service_account",
            "service_account": {
                "id": key.owner_id,
                "name": sa.name if sa else key.name,
                "created_at": sa.created_at if sa else key.created_at,
                "role": sa.role if sa else "member",
            },
        }
    else:
        user = view.users_by_id.get(key.owner_id)
        member = view.membership.get((key.project_id or "", key.owner_id))
        owner = {
            "type": "user",
            "user": {
                "id": key.owner_id,
                "email": user.email if user else "",
                "name": user.name if user else "",
                "created_at": user.added_at if user else key.created_at,
                "role": member.role if member else "member",
            },
        }
    return {
        "object": "organization.project.api_key",
        "redacted_value": key.redacted_value,
        "name": key.name,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "id": key.id,
        "owner_project_access": owner_access(view, key),
        "owner": owner,
    }


def admin_key_obj(view: OrgView, key: ApiKey) -> Payload:
    if key.owner_type == "service_account":
        sa = view.service_accounts_by_id.get(key.owner_id)
        owner: Payload = {
            "type": "service_account",
            "object": "organization.service_account",
            "id": key.owner_id,
            "name": sa.name if sa else key.name,
            "created_at": sa.created_at if sa else key.created_at,
            "role": "owner",
        }
    else:
        user = view.users_by_id.get(key.owner_id)
        owner = {
            "type": "user",
            "object": "organization.user",
            "id": key.owner_id,
            "name": user.name if user else "",
            "created_at": user.added_at if user else key.created_at,
            "role": user.role if user else "owner",
        }
    return {
        "object": "organization.admin_api_key",
        "id": key.id,
        "name": key.name,
        "redacted_value": key.redacted_value,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "owner": owner,
    }


#: Details of events built without any (hand-made orgs): what the type usually carries.
_AUDIT_DETAILS: dict[str, Payload] = {
    "api_key.created": {"data": {"scopes": ["api.model.request"]}},
    "user.added": {"data": {"role": "member"}},
}

#: What the API answers when the organization has audit logging switched off (OpenAI
#: documents no status for it; docs/admin-api.md says why this one).
def _audit_actor(view: OrgView, e: AuditEvent) -> Payload | None:
    user = view.actors_by_id.get(e.actor_user_id) if e.actor_user_id else None
    person = {"id": e.actor_user_id, "email": user.email if user else ""}
    if e.actor_api_key_id is not None:
        key: Payload = {"id": e.actor_api_key_id}
        if e.actor_service_account_id is not None:
            key.update(type="service_account", service_account={"id": e.actor_service_account_id})
        else:
            key.update(type="user", user=person)
        return {"type": "api_key", "api_key": key}
    if e.actor_user_id is None:
        return None
    octet = zlib.crc32(e.actor_user_id.encode()) % 250 + 1
    return {"type": "session", "session": {"user": person, "ip_address": f"203.0.113.{octet}"}}


def audit_obj(view: OrgView, e: AuditEvent) -> Payload:
    out: Payload = {"object": "organization.audit_log", "id": e.id, "type": e.type,
                    "effective_at": e.effective_at}
    if e.project_id is not None:
        project = view.projects_by_id.get(e.project_id)
        out["project"] = {"id": e.project_id, "name": project.name if project else e.project_id}
    out["actor"] = _audit_actor(view, e)
    details = dict(e.details if e.details is not None else _AUDIT_DETAILS.get(e.type, {}))
    out[e.type] = {"id": e.resource_id, **details} if e.resource_id is not None else details
    return out


# -- handlers -------------------------------------------------------------------------


def _project(view: OrgView, project_id: str) -> Project:
    project = view.projects_by_id.get(project_id)
    if project is None:
        raise not_found("project", project_id, "project_id")
    return project


def _not_archived(project: Project, what: str) -> None:
    if project.status == "archived" or project.archived_at is not None:
        raise ApiError(
            400,
            f"Project '{project.id}' is archived: its {what} cannot be listed.",
            param="project_id",
            code="invalid_request_error",
        )


def list_projects(view: OrgView, q: Query) -> Payload:
    archived = q.get_bool("include_archived", False)
    items = [p for p in view.projects if archived or p.status != "archived"]
    return paginate(q, items, project_obj)


def get_project(view: OrgView, q: Query, project_id: str) -> Payload:
    return project_obj(_project(view, project_id))


def list_project_keys(view: OrgView, q: Query, project_id: str) -> Payload:
    _project(view, project_id)
    access = q.get_str("owner_project_access")
    allowed = ("active", "inactive", "any")
    if access is not None and access not in allowed:
        raise invalid_value("owner_project_access", access, allowed)
    wanted = access or "active"  # omitted: membership-based visibility hides inactive owners
    keys = [
        k for k in view.project_keys.get(project_id, [])
        if wanted == "any" or owner_access(view, k) == wanted
    ]
    return paginate(q, keys, lambda k: project_key_obj(view, k))


def get_project_key(view: OrgView, q: Query, project_id: str, key_id: str) -> Payload:
    _project(view, project_id)
    for key in view.project_keys.get(project_id, []):
        if key.id == key_id:
            return project_key_obj(view, key)
    raise not_found("API key", key_id, "api_key_id")


def list_admin_keys(view: OrgView, q: Query) -> Payload:
    order = q.get_str("order") or "asc"
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ("asc", "desc"))
    keys = view.admin_keys if order == "asc" else list(reversed(view.admin_keys))
    return paginate(q, keys, lambda k: admin_key_obj(view, k))


def get_admin_key(view: OrgView, q: Query, key_id: str) -> Payload:
    for key in view.admin_keys:
        if key.id == key_id:
            return admin_key_obj(view, key)
    raise not_found("admin API key", key_id, "key_id")


def list_users(view: OrgView, q: Query) -> Payload:
    emails = q.get_list("emails")
    users = view.users if emails is None else [u for u in view.users if u.email in emails]
    return paginate(q, users, user_obj)


def get_user(view: OrgView, q: Query, user_id: str) -> Payload:
    user = view.users_by_id.get(user_id)
    if user is None:
        raise not_found("user", user_id, "user_id")
    return user_obj(user)


def list_invites(view: OrgView, q: Query) -> Payload:
    return paginate(q, view.org.invites, invite_obj)


def get_invite(view: OrgView, q: Query, invite_id: str) -> Payload:
    for invite in view.org.invites:
        if invite.id == invite_id:
            return invite_obj(invite)
    raise not_found("invite", invite_id, "invite_id")


def list_service_accounts(view: OrgView, q: Query, project_id: str) -> Payload:
    project = _project(view, project_id)
    _not_archived(project, "service accounts")
    return paginate(q, view.service_accounts_by_project.get(project_id, []), service_account_obj)


def list_project_users(view: OrgView, q: Query, project_id: str) -> Payload:
    project = _project(view, project_id)
    _not_archived(project, "users")

    def render(pu: Any) -> Payload:
        user = view.users_by_id.get(pu.user_id)
        return {
            "object": "organization.project.user",
            "id": pu.user_id,
            "name": user.name if user else None,
            "email": user.email if user else None,
            "role": pu.role,
            "added_at": pu.added_at,
        }

    return paginate(
        q, view.project_users.get(project_id, []), render, id_of=lambda pu: pu.user_id
    )


def list_audit_logs(view: OrgView, q: Query) -> Payload:
    """Newest first; the `effective_at` bounds select a slice by bisection and the cursor
    is found by id, so a page costs its own events, not the whole log (a large org's
    year of logins is paged hundreds of times)."""
    events: list[AuditEvent] = view.audit_events
    types = q.get_list("event_types")
    projects = q.get_list("project_ids")
    actors = q.get_list("actor_ids")
    resources = q.get_list("resource_ids")
    emails = q.get_list("actor_emails")
    bounds = {op: q.get_nested_int("effective_at", op) for op in ("gt", "gte", "lt", "lte")}
    limit = q.get_limit(*LIST_LIMIT)
    after = q.get_str("after") or None
    before = q.get_str("before") or None

    def keep(e: AuditEvent) -> bool:
        if types is not None and e.type not in types:
            return False
        if projects is not None and e.project_id not in projects:
            return False
        if actors is not None and not {
            e.actor_user_id, e.actor_api_key_id, e.actor_service_account_id
        } & set(actors):
            return False
        if resources is not None and e.resource_id not in resources:
            return False
        if emails is not None:
            user = view.actors_by_id.get(e.actor_user_id or "")
            if user is None or user.email not in emails:
                return False
        return True

    first, stop = view.audit_slice(bounds["gt"], bounds["gte"], bounds["lt"], bounds["lte"])
    chosen: list[AuditEvent] = []
    if before is not None and after is None:
        position = _audit_cursor(view, before, "before", first, stop, keep)
        index = position - 1
        while index >= first and len(chosen) <= limit:
            if keep(events[index]):
                chosen.append(events[index])
            index -= 1
        has_more = len(chosen) > limit
        chosen = list(reversed(chosen[:limit]))
    else:
        index = first
        if after is not None:
            index = _audit_cursor(view, after, "after", first, stop, keep) + 1
        while index < stop and len(chosen) <= limit:
            if keep(events[index]):
                chosen.append(events[index])
            index += 1
        has_more = len(chosen) > limit
        chosen = chosen[:limit]
    data = [audit_obj(view, e) for e in chosen]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def _audit_cursor(
    view: OrgView, cursor_id: str, param: str, first: int, stop: int,
    keep: Callable[[AuditEvent], bool],
) -> int:
    """Position of a cursor id among the events the query selects (else the API's 400)."""
    position = view.audit_position.get(cursor_id)
    if position is None or not first <= position < stop or not keep(view.audit_events[position]):
        raise ApiError(
            400,
            f"Invalid '{param}': '{cursor_id}' is not an id in this list.",
            param=param,
            code="invalid_value",
        )
    return position
