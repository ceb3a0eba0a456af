"""The list endpoints (`after` cursor pages): one msgspec Struct per object, flat records out.

Inventory listings are small (at most 100 objects a page), so each object becomes one
dict whose keys are the warehouse columns. Rules, beyond the types the Structs declare:
- unknown fields are ignored; an absent optional field is None;
- an optional text field that is "" becomes None: the API sends "" where it has nothing
  (e.g. the e-mail of a key owner who left), and an empty e-mail or name must not look
  like a real one to the sightlines' joins;
- timestamps are Unix seconds (see `decoding.UnixSeconds`) and become naive UTC datetimes;
- an `id` may appear once a page; the next cursor is `last_id`, or the last object's `id`
  when `last_id` is absent or null (the SDK does the latter for admin keys).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

from .decoding import Count, UnixSeconds, decode, json_body, utc_datetime
from .errors import AdminApiResponseError
from .window import Window

T = TypeVar("T")
Record = dict[str, Any]


class _Struct(msgspec.Struct, gc=False):
    """Base of the list objects: not tracked by the cyclic GC (they hold no cycles)."""


class ListEnvelope(_Struct, Generic[T]):
    data: list[T]
    has_more: bool
    last_id: str | None = None


class Person(_Struct, kw_only=True):
    """A key owner's nested `user` / `service_account`, or an audit actor's `user`."""

    id: str | None = None
    email: str | None = None
    name: str | None = None


class KeyOwner(Person, kw_only=True):
    """Project keys nest the owner under `user`/`service_account`; admin keys are flat."""

    type: str | None = None
    user: Person | None = None
    service_account: Person | None = None


class Project(_Struct, kw_only=True):
    id: str
    name: str | None = None
    created_at: UnixSeconds
    archived_at: UnixSeconds | None = None
    status: str | None = None


class ProjectApiKey(_Struct, kw_only=True):
    id: str
    name: str | None = None
    redacted_value: str | None = None
    created_at: UnixSeconds
    last_used_at: UnixSeconds | None = None
    owner: KeyOwner | None = None


class AdminApiKey(ProjectApiKey, kw_only=True):
    expires_at: UnixSeconds | None = None


class User(_Struct, kw_only=True):
    id: str
    email: str | None = None
    name: str | None = None
    role: str | None = None
    added_at: UnixSeconds


class Invite(_Struct, kw_only=True):
    id: str
    email: str | None = None
    role: str | None = None
    status: str | None = None
    created_at: UnixSeconds
    expires_at: UnixSeconds | None = None
    accepted_at: UnixSeconds | None = None


class ServiceAccount(_Struct, kw_only=True):
    id: str
    name: str | None = None
    role: str | None = None
    created_at: UnixSeconds


class AuditProject(_Struct, kw_only=True):
    id: str | None = None
    name: str | None = None


class AuditApiKey(_Struct, kw_only=True):
    id: str | None = None
    user: Person | None = None
    service_account: Person | None = None


class AuditSession(_Struct, kw_only=True):
    user: Person | None = None


class AuditActor(_Struct, kw_only=True):
    type: str | None = None
    session: AuditSession | None = None
    api_key: AuditApiKey | None = None


class AuditEvent(_Struct, kw_only=True):
    """The details sit under a key named like the event type, which a Struct cannot
    declare: they are read from the same bytes (see `audit_event_reader`)."""

    id: str
    type: str
    effective_at: Count
    project: AuditProject | None = None
    actor: AuditActor | None = None


@dataclass(frozen=True)
class ListPage:
    """One page of a list endpoint (`after` cursor style)."""

    records: list[Record]
    ids: list[str]
    has_more: bool
    cursor: str | None  # what to pass as `after` for the next page


#: Turns one decoded list item into (its id, its record); gets the endpoint and the
#: item's path for the errors it may raise itself.
ItemReader = Callable[[Any, str, str], tuple[str, Record]]


@dataclass(frozen=True)
class ListKind:
    """How one list endpoint's items are decoded and flattened."""

    decoder: msgspec.json.Decoder[Any]
    read: ItemReader


def parse_list_page(
    content: bytes | bytearray,
    endpoint: str,
    kind: ListKind,
    on_cursor: Callable[[str], None] | None = None,
) -> ListPage:
    """Validate a `{"object":"list","data":[...],"last_id":..,"has_more":..}` page.

    `on_cursor(cursor)` is called when the page says more follow (the client requests
    the next page then): as soon as the envelope is decoded when it names `last_id`, so
    the next page is served while this one's items are read; otherwise once they are
    read, with the last item's id."""
    envelope = decode(kind.decoder, json_body(content, endpoint), endpoint, whole=content)
    if on_cursor is not None and envelope.has_more and envelope.last_id:
        on_cursor(envelope.last_id)
    records: list[Record] = []
    ids: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(envelope.data):
        at = f"data[{i}]"
        item_id, record = kind.read(item, endpoint, at)
        if item_id in seen:
            raise AdminApiResponseError(
                endpoint=endpoint, field=f"{at}.id", value=item_id,
                reason="is duplicated within the page",
            )
        seen.add(item_id)
        ids.append(item_id)
        records.append(record)
    cursor = envelope.last_id or (ids[-1] if ids else None)
    if on_cursor is not None and envelope.has_more and not envelope.last_id and cursor:
        on_cursor(cursor)  # no `last_id`: the last item's id, known only now
    return ListPage(records=records, ids=ids, has_more=envelope.has_more, cursor=cursor)


def _kind(struct: type[Any], flatten: Callable[[Any], Record]) -> ListKind:
    def read(item: Any, endpoint: str, at: str) -> tuple[str, Record]:
        return item.id, flatten(item)

    return ListKind(msgspec.json.Decoder(ListEnvelope[struct]), read)  # type: ignore[valid-type]


def _text(value: str | None) -> str | None:
    return value or None


def _ts(value: int | None) -> Any:
    return None if value is None else utc_datetime(value)


def _owner_fields(owner: KeyOwner | None) -> Record:
    if owner is None:
        return {"owner_type": None, "owner_id": None, "owner_email": None, "owner_name": None}
    nested = {"user": owner.user, "service_account": owner.service_account}.get(owner.type or "")
    source = nested or owner
    return {
        "owner_type": _text(owner.type),
        "owner_id": _text(source.id),
        "owner_email": _text(source.email),
        "owner_name": _text(source.name),
    }


def _project(p: Project) -> Record:
    return {
        "project_id": p.id,
        "name": _text(p.name),
        "status": _text(p.status) or ("archived" if p.archived_at else "active"),
        "created_at": utc_datetime(p.created_at),
        "archived_at": _ts(p.archived_at),
    }


def _key(k: ProjectApiKey, kind: str, project_id: str | None, expires_at: int | None) -> Record:
    return {
        "api_key_id": k.id,
        "key_kind": kind,
        "project_id": project_id,
        "name": _text(k.name),
        "redacted_value": _text(k.redacted_value),
        "created_at": utc_datetime(k.created_at),
        "last_used_at": _ts(k.last_used_at),
        "expires_at": _ts(expires_at),
        **_owner_fields(k.owner),
    }


def _user(u: User) -> Record:
    return {
        "user_id": u.id,
        "email": _text(u.email),
        "name": _text(u.name),
        "role": _text(u.role),
        "added_at": utc_datetime(u.added_at),
    }


def _invite(i: Invite) -> Record:
    return {
        "invite_id": i.id,
        "email": _text(i.email),
        "role": _text(i.role),
        "status": _text(i.status),
        "created_at": utc_datetime(i.created_at),
        "expires_at": _ts(i.expires_at),
        "accepted_at": _ts(i.accepted_at),
    }


PROJECTS = _kind(Project, _project)
ADMIN_API_KEYS = _kind(AdminApiKey, lambda k: _key(k, "admin", None, k.expires_at))
USERS = _kind(User, _user)
INVITES = _kind(Invite, _invite)


def project_api_keys(project_id: str) -> ListKind:
    """Project keys carry no project id in the body: it comes from the request path."""
    return _kind(ProjectApiKey, lambda k: _key(k, "project", project_id, None))


def service_accounts(project_id: str) -> ListKind:
    return _kind(
        ServiceAccount,
        lambda s: {
            "service_account_id": s.id,
            "project_id": project_id,
            "name": _text(s.name),
            "role": _text(s.role),
            "created_at": utc_datetime(s.created_at),
        },
    )


def project_users(project_id: str) -> ListKind:
    return _kind(User, lambda u: {"project_id": project_id, **_user(u)})


_AUDIT_ITEM = msgspec.json.Decoder(AuditEvent)
_AUDIT_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_DETAILS = msgspec.json.Decoder(float_hook=Decimal)


def audit_events(window: Window | None) -> ListKind:
    """Audit events, flattened; `details` is the event-type payload as sorted JSON text."""

    def read(raw: msgspec.Raw, endpoint: str, at: str) -> tuple[str, Record]:
        event = decode(_AUDIT_ITEM, raw, endpoint, at=at)
        if window is not None and not window.start_ts <= event.effective_at < window.end_ts:
            raise AdminApiResponseError(
                endpoint=endpoint,
                field=f"{at}.effective_at",
                value=event.effective_at,
                reason=f"is outside the asked window [{window.start_ts}, {window.end_ts})",
            )
        detail_raw = decode(_AUDIT_FIELDS, raw, endpoint, at=at).get(event.type)
        details = None if detail_raw is None else decode(_DETAILS, detail_raw, endpoint, at=at)
        target_id = details.get("id") if isinstance(details, dict) else None
        return event.id, _audit_record(event, details, target_id)

    return ListKind(msgspec.json.Decoder(ListEnvelope[msgspec.Raw]), read)


def _audit_record(event: AuditEvent, details: Any, target_id: Any) -> Record:
    """One event flattened to the columns of `openai.audit_logs`.

    The actor is a session (a user) or an API key (owned by a user or a service account);
    its user id/e-mail, key id and service account id get a column each. `target_id` is the
    `id` of the event's details object (the key, user or project acted on), `details` that
    object as JSON text with sorted keys (stable, so re-reads compare equal).
    """
    actor = event.actor
    user_id = email = api_key_id = service_account_id = None
    if actor is not None and actor.type == "session":
        user = actor.session.user if actor.session else None
        if user is not None:
            user_id, email = _text(user.id), _text(user.email)
    elif actor is not None and actor.type == "api_key" and actor.api_key is not None:
        key = actor.api_key
        api_key_id = _text(key.id)
        if key.user is not None:
            user_id, email = _text(key.user.id), _text(key.user.email)
        if key.service_account is not None:
            service_account_id = _text(key.service_account.id)
    project = event.project
    effective_at = utc_datetime(event.effective_at)
    return {
        "audit_log_id": event.id,
        "event_type": event.type,
        "effective_at": effective_at,
        "event_date": effective_at.date(),
        "project_id": _text(project.id) if project else None,
        "actor_type": _text(actor.type) if actor else None,
        "actor_user_id": user_id,
        "actor_email": email,
        "actor_api_key_id": api_key_id,
        "actor_service_account_id": service_account_id,
        "target_id": target_id if isinstance(target_id, str) else None,
        "details": None if details is None else json.dumps(details, sort_keys=True, default=str),
    }
