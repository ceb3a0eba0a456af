"""Validation and normalization of Admin API responses, at the edge.

Everything here is pure: bytes or parsed JSON in, flat snake_case dicts out, or an
`AdminApiResponseError` naming the endpoint, the field path and the offending value.
Decisions (from the issue and the reference):
- JSON is parsed with `parse_float=Decimal` so no dollar digit is lost; NaN/Infinity
  are rejected.
- Unknown extra fields are ignored; missing optional fields become None (dimensions) or 0
  (metrics); a missing spec-required field, a wrong type (bool is not an int), a negative
  usage metric, a bucket outside the asked window, a duplicate bucket or a duplicate
  dimension tuple inside a bucket raise.
- Cost amounts may be negative (credits/refunds are real); usage metrics may not.
- Timestamps become naive UTC datetimes; bucket starts become `datetime.date` (UTC).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import AdminApiResponseError

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

# group_by sent for each family: every dimension the API allows except user_id.
USAGE_GROUP_BY: dict[str, tuple[str, ...]] = {
    "completions": ("project_id", "api_key_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "api_key_id", "model"),
    "moderations": ("project_id", "api_key_id", "model"),
    "images": ("project_id", "api_key_id", "model", "size", "source"),
    "audio_speeches": ("project_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
    "file_search_calls": ("project_id", "api_key_id", "vector_store_id"),
    "web_search_calls": ("project_id", "api_key_id", "model", "context_level"),
}

# Spec-required metrics per family (absent -> error); other known metrics default to 0.
USAGE_REQUIRED_METRICS: dict[str, tuple[str, ...]] = {
    "completions": ("input_tokens", "output_tokens", "num_model_requests"),
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
USAGE_OPTIONAL_METRICS: dict[str, tuple[str, ...]] = {
    "completions": ("input_cached_tokens", "input_audio_tokens", "output_audio_tokens"),
}

USAGE_METRICS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "num_model_requests",
    "images",
    "characters",
    "seconds",
    "usage_bytes",
    "num_sessions",
    "num_requests",
)
# record column -> API result field
USAGE_DIMENSIONS: dict[str, str] = {
    "project_id": "project_id",
    "api_key_id": "api_key_id",
    "model": "model",
    "batch": "batch",
    "service_tier": "service_tier",
    "image_size": "size",
    "image_source": "source",
    "vector_store_id": "vector_store_id",
    "context_level": "context_level",
}
USAGE_RECORD_KEYS: tuple[str, ...] = ("usage_type", "usage_date", *USAGE_DIMENSIONS, *USAGE_METRICS)
COST_RECORD_KEYS: tuple[str, ...] = (
    "cost_date",
    "project_id",
    "line_item",
    "api_key_id",
    "amount_usd",
    "currency",
    "quantity",
    "quantity_unit",
)

_INVALID = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in JSON")


def parse_json(content: bytes, endpoint: str) -> Any:
    """Decode a response body; floats become Decimal so no digit is lost."""
    try:
        return json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        head = content[:80].decode("utf-8", "replace")
        raise AdminApiResponseError(
            endpoint=endpoint,
            field="<body>",
            value=f"{len(content)} bytes starting {head!r}",
            reason=f"is not valid JSON ({type(exc).__name__}: {exc})",
        ) from None


def utc_datetime(ts: int) -> datetime:
    """Unix seconds -> naive UTC datetime (the warehouse convention)."""
    return datetime.fromtimestamp(ts, tz=UTC).replace(tzinfo=None)


def utc_date(ts: int) -> date:
    """Unix seconds -> the UTC calendar day it falls on."""
    return datetime.fromtimestamp(ts, tz=UTC).date()


class _Obj:
    """Typed field access on one JSON object, raising errors that name the field path."""

    __slots__ = ("endpoint", "obj", "path")

    def __init__(self, endpoint: str, obj: Any, path: str) -> None:
        if type(obj) is not dict and not isinstance(obj, Mapping):  # dict: skip the ABC check
            raise AdminApiResponseError(
                endpoint=endpoint, field=path or "<body>", value=obj, reason="is not an object"
            )
        self.endpoint = endpoint
        self.obj = obj
        self.path = path

    def fail(self, name: str, value: Any, reason: str) -> AdminApiResponseError:
        where = f"{self.path}.{name}" if self.path else name
        return AdminApiResponseError(
            endpoint=self.endpoint, field=where, value=value, reason=reason
        )

    def _get(self, name: str, required: bool) -> Any:
        if name not in self.obj:
            if required:
                raise self.fail(name, "<missing>", "is required but missing")
            return None
        return self.obj[name]

    def str_(self, name: str, *, required: bool = False) -> str | None:
        """The field as text. An optional field's "" becomes None: the API sends "" where
        it has nothing (e.g. the e-mail of a key owner who left), and an empty e-mail or
        name must not look like a real one to the sightlines' joins."""
        value = self._get(name, required)
        if value is None:
            if required:
                raise self.fail(name, value, "must be a string, not null")
            return None
        if not isinstance(value, str):
            raise self.fail(name, value, "must be a string")
        if value == "" and not required:
            return None
        return value

    def req_str(self, name: str) -> str:
        value = self.str_(name, required=True)
        assert value is not None
        return value

    def int_(self, name: str, *, required: bool = False, nonneg: bool = False) -> int | None:
        value = self._get(name, required)
        if value is None:
            if required:
                raise self.fail(name, value, "must be an integer, not null")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, value, "must be an integer")
        if nonneg and value < 0:
            raise self.fail(name, value, "must not be negative")
        return value

    def req_int(self, name: str, *, nonneg: bool = False) -> int:
        value = self.int_(name, required=True, nonneg=nonneg)
        assert value is not None
        return value

    def bool_(self, name: str, *, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is None:
            if required:
                raise self.fail(name, value, "must be a boolean, not null")
            return None
        if not isinstance(value, bool):
            raise self.fail(name, value, "must be a boolean")
        return value

    def ts(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.int_(name, required=required, nonneg=True)
        return None if value is None else utc_datetime(value)

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._get(name, required)
        if value is None:
            if required:
                raise self.fail(name, value, "must be a number, not null")
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise self.fail(name, value, "must be a number or a numeric string")
        try:
            result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise self.fail(name, value, "must be a number or a numeric string") from None
        if not result.is_finite():
            raise self.fail(name, value, "must be finite")
        return result

    def child(self, name: str, *, required: bool = False) -> _Obj | None:
        value = self._get(name, required)
        if value is None:
            if required:
                raise self.fail(name, value, "must be an object, not null")
            return None
        path = f"{self.path}.{name}" if self.path else name
        return _Obj(self.endpoint, value, path)

    def list_(self, name: str) -> list[Any]:
        value = self._get(name, True)
        if not isinstance(value, list):
            raise self.fail(name, value, "must be an array")
        return value


# ---------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class ListPage:
    """One page of a list endpoint (`after` cursor style)."""

    records: list[dict[str, Any]]
    ids: list[str]
    has_more: bool
    cursor: str | None  # what to pass as `after` for the next page


@dataclass(frozen=True)
class Window:
    """The asked time window, Unix seconds, end exclusive."""

    start_ts: int
    end_ts: int


@dataclass(frozen=True)
class BucketPage:
    """One page of a usage/costs endpoint (`page` = `next_page` style)."""

    records: list[dict[str, Any]]
    bucket_starts: list[int]
    has_more: bool
    next_page: str | None


ItemNormalizer = Callable[[_Obj], dict[str, Any]]
ResultNormalizer = Callable[[_Obj, date], dict[str, Any]]


def parse_list_page(body: Any, endpoint: str, normalize: ItemNormalizer) -> ListPage:
    """Validate a `{"object":"list","data":[...],"last_id":..,"has_more":..}` page.

    The next cursor is `last_id`, or the last item's `id` when `last_id` is absent/null
    (the SDK does the latter for admin keys). Duplicate ids inside a page raise.
    """
    env = _Obj(endpoint, body, "")
    items = env.list_("data")
    has_more = env.bool_("has_more", required=True)
    last_id = env.str_("last_id")
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        obj = _Obj(endpoint, item, f"data[{i}]")
        item_id = obj.req_str("id")
        if item_id in seen:
            raise obj.fail("id", item_id, "is duplicated within the page")
        seen.add(item_id)
        ids.append(item_id)
        records.append(normalize(obj))
    cursor = last_id if last_id else (ids[-1] if ids else None)
    return ListPage(records=records, ids=ids, has_more=bool(has_more), cursor=cursor)


def parse_bucket_page(
    body: Any,
    endpoint: str,
    window: Window,
    normalize: ResultNormalizer,
    key_columns: Iterable[str],
) -> BucketPage:
    """Validate a `{"object":"page","data":[bucket...],"has_more","next_page"}` page.

    Each bucket must lie inside the asked window and appear once; inside a bucket, the
    dimension tuple `key_columns` of each normalized record must be unique (the
    warehouse grain). Tolerates the pre-mid-2025 `result` name for `results`.
    """
    keys = tuple(key_columns)
    env = _Obj(endpoint, body, "")
    buckets = env.list_("data")
    has_more = env.bool_("has_more", required=True)
    next_page = env.str_("next_page")
    records: list[dict[str, Any]] = []
    starts: list[int] = []
    for i, raw in enumerate(buckets):
        bucket = _Obj(endpoint, raw, f"data[{i}]")
        start = bucket.req_int("start_time")
        end = bucket.req_int("end_time")
        if not window.start_ts <= start < window.end_ts:
            raise bucket.fail(
                "start_time",
                start,
                f"is outside the asked window [{window.start_ts}, {window.end_ts})",
            )
        if not start < end <= window.end_ts:
            raise bucket.fail(
                "end_time", end, f"must be after start_time {start} and <= {window.end_ts}"
            )
        if start in starts:
            raise bucket.fail("start_time", start, "is a duplicate bucket")
        starts.append(start)
        results = bucket.list_(
            "results" if "results" in bucket.obj or "result" not in bucket.obj else "result"
        )
        day = utc_date(start)
        seen: set[tuple[Any, ...]] = set()
        for j, res in enumerate(results):
            obj = _Obj(endpoint, res, f"{bucket.path}.results[{j}]")
            record = normalize(obj, day)
            key = tuple(record[k] for k in keys)
            if key in seen:
                raise obj.fail(
                    "<dimensions>",
                    dict(zip(keys, key, strict=True)),
                    "duplicate row for the same dimensions in one bucket",
                )
            seen.add(key)
            records.append(record)
    return BucketPage(
        records=records, bucket_starts=starts, has_more=bool(has_more), next_page=next_page
    )


# ---------------------------------------------------------------------------- usage/costs


def usage_normalizer(family: str) -> ResultNormalizer:
    """Normalizer for one usage family: every key of USAGE_RECORD_KEYS always present."""
    if family not in USAGE_GROUP_BY:
        raise ValueError(f"unknown usage family {family!r}; expected one of {USAGE_FAMILIES}")
    api_dims = set(USAGE_GROUP_BY[family])
    required = USAGE_REQUIRED_METRICS[family]
    optional = USAGE_OPTIONAL_METRICS.get(family, ())

    def normalize(obj: _Obj, day: date) -> dict[str, Any]:
        record: dict[str, Any] = {"usage_type": family, "usage_date": day}
        for column, field in USAGE_DIMENSIONS.items():
            if field not in api_dims:
                record[column] = None
            elif field == "batch":
                record[column] = obj.bool_(field)
            else:
                record[column] = obj.str_(field)
        for metric in USAGE_METRICS:
            record[metric] = 0
        for metric in required:
            record[metric] = obj.req_int(metric, nonneg=True)
        for metric in optional:
            record[metric] = obj.int_(metric, nonneg=True) or 0
        return record

    return normalize


def normalize_cost(obj: _Obj, day: date) -> dict[str, Any]:
    """A costs result: amount as exact Decimal dollars (number or string accepted)."""
    amount = obj.child("amount", required=True)
    assert amount is not None
    return {
        "cost_date": day,
        "project_id": obj.str_("project_id"),
        "line_item": obj.str_("line_item"),
        "api_key_id": obj.str_("api_key_id"),
        "amount_usd": amount.decimal("value", required=True),
        "currency": amount.str_("currency"),
        "quantity": obj.decimal("quantity"),
        "quantity_unit": obj.str_("quantity_unit"),
    }


COST_KEY_COLUMNS: tuple[str, ...] = ("project_id", "line_item", "api_key_id")
USAGE_KEY_COLUMNS: tuple[str, ...] = tuple(USAGE_DIMENSIONS)


# ---------------------------------------------------------------------------- inventory


def normalize_project(obj: _Obj) -> dict[str, Any]:
    archived_at = obj.ts("archived_at")
    status = obj.str_("status") or ("archived" if archived_at else "active")
    return {
        "project_id": obj.req_str("id"),
        "name": obj.str_("name"),
        "status": status,
        "created_at": obj.ts("created_at", required=True),
        "archived_at": archived_at,
    }


def _owner_fields(owner: _Obj | None) -> dict[str, Any]:
    """Flatten a key owner: project keys nest `user`/`service_account`, admin keys are flat."""
    if owner is None:
        return {"owner_type": None, "owner_id": None, "owner_email": None, "owner_name": None}
    owner_type = owner.str_("type")
    nested = None
    if owner_type in ("user", "service_account"):
        nested = owner.child(owner_type)
    source = nested or owner
    return {
        "owner_type": owner_type,
        "owner_id": source.str_("id"),
        "owner_email": source.str_("email"),
        "owner_name": source.str_("name"),
    }


def project_api_key_normalizer(project_id: str) -> ItemNormalizer:
    """Project keys carry no project id in the body: it comes from the request path."""

    def normalize(obj: _Obj) -> dict[str, Any]:
        return {
            "api_key_id": obj.req_str("id"),
            "key_kind": "project",
            "project_id": project_id,
            "name": obj.str_("name"),
            "redacted_value": obj.str_("redacted_value"),
            "created_at": obj.ts("created_at", required=True),
            "last_used_at": obj.ts("last_used_at"),
            "expires_at": None,
            **_owner_fields(obj.child("owner")),
        }

    return normalize


def normalize_admin_api_key(obj: _Obj) -> dict[str, Any]:
    return {
        "api_key_id": obj.req_str("id"),
        "key_kind": "admin",
        "project_id": None,
        "name": obj.str_("name"),
        "redacted_value": obj.str_("redacted_value"),
        "created_at": obj.ts("created_at", required=True),
        "last_used_at": obj.ts("last_used_at"),
        "expires_at": obj.ts("expires_at"),
        **_owner_fields(obj.child("owner")),
    }


def normalize_user(obj: _Obj) -> dict[str, Any]:
    return {
        "user_id": obj.req_str("id"),
        "email": obj.str_("email"),
        "name": obj.str_("name"),
        "role": obj.str_("role"),
        "added_at": obj.ts("added_at", required=True),
    }


def normalize_invite(obj: _Obj) -> dict[str, Any]:
    return {
        "invite_id": obj.req_str("id"),
        "email": obj.str_("email"),
        "role": obj.str_("role"),
        "status": obj.str_("status"),
        "created_at": obj.ts("created_at", required=True),
        "expires_at": obj.ts("expires_at"),
        "accepted_at": obj.ts("accepted_at"),
    }


def service_account_normalizer(project_id: str) -> ItemNormalizer:
    def normalize(obj: _Obj) -> dict[str, Any]:
        return {
            "service_account_id": obj.req_str("id"),
            "project_id": project_id,
            "name": obj.str_("name"),
            "role": obj.str_("role"),
            "created_at": obj.ts("created_at", required=True),
        }

    return normalize


def project_user_normalizer(project_id: str) -> ItemNormalizer:
    def normalize(obj: _Obj) -> dict[str, Any]:
        return {
            "project_id": project_id,
            "user_id": obj.req_str("id"),
            "email": obj.str_("email"),
            "name": obj.str_("name"),
            "role": obj.str_("role"),
            "added_at": obj.ts("added_at", required=True),
        }

    return normalize


def audit_event_normalizer(window: Window | None) -> ItemNormalizer:
    """Audit events, flattened; `details` is the event-type payload as sorted JSON text."""

    def normalize(obj: _Obj) -> dict[str, Any]:
        event_type = obj.req_str("type")
        effective = obj.req_int("effective_at", nonneg=True)
        if window is not None and not window.start_ts <= effective < window.end_ts:
            raise obj.fail(
                "effective_at",
                effective,
                f"is outside the asked window [{window.start_ts}, {window.end_ts})",
            )
        project = obj.child("project")
        actor = obj.child("actor")
        actor_type = actor.str_("type") if actor else None
        actor_user_id = actor_email = actor_api_key_id = None
        if actor is not None and actor_type == "session":
            session = actor.child("session")
            user = session.child("user") if session else None
            if user is not None:
                actor_user_id, actor_email = user.str_("id"), user.str_("email")
        elif actor is not None and actor_type == "api_key":
            key = actor.child("api_key")
            if key is not None:
                actor_api_key_id = key.str_("id")
                user = key.child("user")
                if user is not None:
                    actor_user_id, actor_email = user.str_("id"), user.str_("email")
                sa = key.child("service_account")
                if sa is not None and actor_user_id is None:
                    actor_user_id = sa.str_("id")
        details = obj.obj.get(event_type)
        resource_id = details.get("id") if isinstance(details, Mapping) else None
        return {
            "audit_event_id": obj.req_str("id"),
            "event_type": event_type,
            "effective_at": utc_datetime(effective),
            "project_id": project.str_("id") if project else None,
            "project_name": project.str_("name") if project else None,
            "actor_type": actor_type,
            "actor_id": actor_user_id,
            "actor_email": actor_email,
            "actor_api_key_id": actor_api_key_id,
            "resource_id": resource_id if isinstance(resource_id, str) else None,
            "details": None
            if details is None
            else json.dumps(details, sort_keys=True, default=str),
        }

    return normalize
