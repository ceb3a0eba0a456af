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
- Also rejected: an integer beyond 64 bits (a BIGINT could not hold it), a timestamp
  from 2100 on (milliseconds sent as seconds), and a usage/costs result whose `object`
  names another result type (e.g. an unknown usage family on a known path).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
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

#: Largest integer a BIGINT column stores; a larger count would overflow on write.
INT64_MAX = 2**63 - 1
#: 2100-01-01 00:00 UTC in Unix seconds: a later "timestamp" is almost surely milliseconds.
MAX_UNIX_SECONDS = 4_102_444_800
#: The `object` each usage family's results carry (two differ from the path's name).
USAGE_RESULT_OBJECTS: dict[str, str] = {
    **{f: f"organization.usage.{f}.result" for f in USAGE_FAMILIES},
    "file_search_calls": "organization.usage.file_searches.result",
    "web_search_calls": "organization.usage.web_searches.result",
}
COSTS_RESULT_OBJECT = "organization.costs.result"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in JSON")


def parse_json(content: bytes | bytearray, endpoint: str) -> Any:
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

    def expect_object(self, expected: str) -> None:
        """A result whose `object` names another type (e.g. an unknown usage family) is
        not what this endpoint returns; absent is tolerated (older responses)."""
        kind = self.str_("object")
        if kind is not None and kind != expected:
            raise self.fail("object", kind, f"must be {expected!r} on this endpoint")

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
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise self.fail(name, value, "does not fit a 64-bit integer")
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
        if value is not None and value >= MAX_UNIX_SECONDS:
            raise self.fail(name, value, "is not Unix seconds before 2100 (milliseconds?)")
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
#: Optional `normalize.fast(raw_result, day)`: the same record as `normalize` for a
#: well-formed result, or None to let the checked `normalize` decide (see _fast_text).
#: The third argument is the page's string memo (`dict.setdefault`): equal texts of one
#: page share one str object, which halves the memory of a large page's records.
Memo = Callable[[str, str], str]
FastNormalizer = Callable[[dict[str, Any], date, Memo], dict[str, Any] | None]


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


class _BucketReader:
    """The per-bucket checks and normalization of a usage/costs page, one bucket at a time.

    Shared by `parse_bucket_page` (a decoded body) and `parse_bucket_text` (raw bytes,
    decoded bucket by bucket), so both apply exactly the same rules.
    """

    def __init__(
        self,
        endpoint: str,
        window: Window,
        normalize: ResultNormalizer,
        key_columns: Iterable[str],
    ) -> None:
        self.endpoint = endpoint
        self.window = window
        self.normalize = normalize
        self.keys = keys = tuple(key_columns)
        self.key_of: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            itemgetter(*keys) if len(keys) > 1 else lambda record: tuple(record[k] for k in keys)
        )
        self.fast: FastNormalizer | None = getattr(normalize, "fast", None)
        self.records: list[dict[str, Any]] = []
        self.starts: list[int] = []
        self.memo: Memo = {}.setdefault

    def read(self, i: int, raw: Any, consume: bool = False) -> None:
        """Check bucket `data[i]` and append its normalized records."""
        endpoint, window, normalize, fast = self.endpoint, self.window, self.normalize, self.fast
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
        if start in self.starts:
            raise bucket.fail("start_time", start, "is a duplicate bucket")
        self.starts.append(start)
        results = bucket.list_(
            "results" if "results" in bucket.obj or "result" not in bucket.obj else "result"
        )
        day = utc_date(start)
        seen: set[tuple[Any, ...]] = set()
        records, key_of, memo = self.records, self.key_of, self.memo
        for j, res in enumerate(results):
            record = fast(res, day, memo) if fast is not None and type(res) is dict else None
            if record is None:  # anything unusual: the checked path decides (or raises)
                record = normalize(_Obj(endpoint, res, f"{bucket.path}.results[{j}]"), day)
            key = key_of(record)
            if key in seen:
                obj = _Obj(endpoint, res, f"{bucket.path}.results[{j}]")
                raise obj.fail(
                    "<dimensions>",
                    dict(zip(self.keys, key, strict=True)),
                    "duplicate row for the same dimensions in one bucket",
                )
            seen.add(key)
            records.append(record)
        if consume:
            results.clear()


def parse_bucket_page(
    body: Any,
    endpoint: str,
    window: Window,
    normalize: ResultNormalizer,
    key_columns: Iterable[str],
    *,
    consume: bool = False,
) -> BucketPage:
    """Validate a `{"object":"page","data":[bucket...],"has_more","next_page"}` page.

    Each bucket must lie inside the asked window and appear once; inside a bucket, the
    dimension tuple `key_columns` of each normalized record must be unique (the
    warehouse grain). Tolerates the pre-mid-2025 `result` name for `results`.
    `consume=True` (for a caller that owns `body` and never reads it again) empties each
    bucket's results once they are normalized, so a large page's parsed JSON is freed
    while its records are built instead of both being held at once.
    """
    reader = _BucketReader(endpoint, window, normalize, key_columns)
    env = _Obj(endpoint, body, "")
    buckets = env.list_("data")
    has_more = env.bool_("has_more", required=True)
    next_page = env.str_("next_page")
    for i, raw in enumerate(buckets):
        reader.read(i, raw, consume)
    return BucketPage(
        records=reader.records,
        bucket_starts=reader.starts,
        has_more=bool(has_more),
        next_page=next_page,
    )


class _NotCanonical(Exception):
    """The body is not laid out as the streaming reader expects; use the checked path."""


_WS = re.compile(r"[ \t\n\r]*")  # JSON whitespace, as the json module defines it
_STREAM_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def parse_bucket_text(
    content: bytes | bytearray | str,
    endpoint: str,
    window: Window,
    normalize: ResultNormalizer,
    key_columns: Iterable[str],
) -> BucketPage:
    """`parse_bucket_page(parse_json(content), ...)` without the whole parsed page in memory.

    Why: a 180-day costs page of a large organization is ~160 MB of JSON whose parsed form
    takes ~500 MB; decoding and normalizing it one bucket at a time keeps only the records.
    Numbers are decoded by the same decoder settings as `parse_json`. Anything off the
    common layout (a byte-order mark, duplicate top-level keys, `data` not an array,
    invalid JSON, any failed check) goes through the checked path instead, which returns
    the same page or raises exactly the error it always raised. `content` may be the body
    already decoded from UTF-8 (so the caller can drop the bytes first).
    """
    try:
        return _stream_bucket_page(content, endpoint, window, normalize, key_columns)
    except (_NotCanonical, AdminApiResponseError, ValueError):
        pass
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return parse_bucket_page(
        parse_json(raw, endpoint), endpoint, window, normalize, key_columns, consume=True
    )


def _stream_bucket_page(
    content: bytes | bytearray | str,
    endpoint: str,
    window: Window,
    normalize: ResultNormalizer,
    key_columns: Iterable[str],
) -> BucketPage:
    if isinstance(content, str):
        text = content
    elif content[:3] == b"\xef\xbb\xbf":
        raise _NotCanonical("byte-order mark")
    else:
        text = content.decode("utf-8")  # UnicodeDecodeError is a ValueError: checked path
    scan, ws = _STREAM_DECODER.raw_decode, _WS.match
    reader = _BucketReader(endpoint, window, normalize, key_columns)
    envelope: dict[str, Any] = {}
    pos = ws(text, 0).end()
    if text[pos : pos + 1] != "{":
        raise _NotCanonical("not an object")
    pos = ws(text, pos + 1).end()
    while True:
        if text[pos : pos + 1] != '"':
            raise _NotCanonical("expected a key")
        key, pos = json.decoder.scanstring(text, pos + 1)
        pos = ws(text, pos).end()
        if text[pos : pos + 1] != ":" or key in envelope:
            raise _NotCanonical("expected ':' or a new key")
        pos = ws(text, pos + 1).end()
        if key == "data":
            envelope[key] = []
            if text[pos : pos + 1] != "[":
                raise _NotCanonical("data is not an array")
            pos = ws(text, pos + 1).end()
            i = 0
            while text[pos : pos + 1] != "]":
                raw, pos = scan(text, pos)
                reader.read(i, raw)
                del raw
                i += 1
                pos = ws(text, pos).end()
                if text[pos : pos + 1] == ",":
                    pos = ws(text, pos + 1).end()
                    if text[pos : pos + 1] == "]":  # `[{..},]` is not JSON
                        raise _NotCanonical("trailing comma")
                elif text[pos : pos + 1] != "]":
                    raise _NotCanonical("expected ',' or ']'")
            pos += 1
        else:
            envelope[key], pos = scan(text, pos)
        pos = ws(text, pos).end()
        if text[pos : pos + 1] == ",":
            pos = ws(text, pos + 1).end()
        elif text[pos : pos + 1] == "}":
            break
        else:
            raise _NotCanonical("expected ',' or '}'")
    if ws(text, pos + 1).end() != len(text) or "data" not in envelope:
        raise _NotCanonical("extra data or no data")
    env = _Obj(endpoint, envelope, "")
    has_more = env.bool_("has_more", required=True)
    next_page = env.str_("next_page")
    return BucketPage(
        records=reader.records,
        bucket_starts=reader.starts,
        has_more=bool(has_more),
        next_page=next_page,
    )


# ---------------------------------------------------------------------------- usage/costs


def usage_normalizer(family: str) -> ResultNormalizer:
    """Normalizer for one usage family: every key of USAGE_RECORD_KEYS always present."""
    if family not in USAGE_GROUP_BY:
        raise ValueError(f"unknown usage family {family!r}; expected one of {USAGE_FAMILIES}")
    api_dims = set(USAGE_GROUP_BY[family])
    required = USAGE_REQUIRED_METRICS[family]
    optional = USAGE_OPTIONAL_METRICS.get(family, ())

    expected_object = USAGE_RESULT_OBJECTS[family]

    def normalize(obj: _Obj, day: date) -> dict[str, Any]:
        obj.expect_object(expected_object)
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

    normalize.fast = _usage_fast(family)  # type: ignore[attr-defined]
    return normalize


# Fast paths (performance only: a large 365-day backfill normalizes ~3M results, and the
# checked accessors cost ~5-9 us each). A fast path accepts only results whose every
# field the checked normalizer reads is of the plain expected shape, and returns exactly
# the record the normalizer would; on anything else it returns None and the checked
# normalizer runs (and raises its precise error). KEEP IN STEP with the normalizers: a
# new check there must make the fast path return None for the values it refuses.
_NOT_PLAIN = object()


def _fast_text(value: Any, memo: Memo) -> Any:
    """What `str_` returns for a plain optional value (None or non-empty str, the latter
    through the page's memo), else _NOT_PLAIN ("" and non-strings: the checked path)."""
    if value is None:
        return None
    if type(value) is str and value:
        return memo(value, value)
    return _NOT_PLAIN


def _fast_count(value: Any) -> int | None:
    """A non-negative int that fits BIGINT (what `int_(nonneg=True)` accepts), else None."""
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    return None


def _usage_fast(family: str) -> FastNormalizer:
    api_dims = set(USAGE_GROUP_BY[family])
    text_dims = [(c, f) for c, f in USAGE_DIMENSIONS.items() if f in api_dims and f != "batch"]
    has_batch = "batch" in api_dims
    required = USAGE_REQUIRED_METRICS[family]
    optional = USAGE_OPTIONAL_METRICS.get(family, ())
    expected_object = USAGE_RESULT_OBJECTS[family]
    template: dict[str, Any] = {"usage_type": family, "usage_date": None}
    template.update(dict.fromkeys(USAGE_DIMENSIONS))
    template.update(dict.fromkeys(USAGE_METRICS, 0))

    def fast(raw: dict[str, Any], day: date, memo: Memo) -> dict[str, Any] | None:
        kind = raw.get("object")
        if kind is not None and kind != expected_object:
            return None
        record = template.copy()
        record["usage_date"] = day
        for column, field in text_dims:
            value = _fast_text(raw.get(field), memo)
            if value is _NOT_PLAIN:
                return None
            record[column] = value
        if has_batch:
            batch = raw.get("batch")
            if batch is not None and batch is not True and batch is not False:
                return None
            record["batch"] = batch
        for metric in required:
            count = _fast_count(raw.get(metric))
            if count is None:
                return None
            record[metric] = count
        for metric in optional:
            value = raw.get(metric)
            if value is not None:
                count = _fast_count(value)
                if count is None:
                    return None
                record[metric] = count
        return record

    return fast


def normalize_cost(obj: _Obj, day: date) -> dict[str, Any]:
    """A costs result: amount as exact Decimal dollars (number or string accepted)."""
    obj.expect_object(COSTS_RESULT_OBJECT)
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


def _fast_number(value: Any) -> Any:
    """What `decimal()` returns for a finite JSON number (Decimal or int), else _NOT_PLAIN."""
    if type(value) is Decimal:
        return value if value.is_finite() else _NOT_PLAIN
    if type(value) is int:
        return Decimal(value)
    return _NOT_PLAIN


def _normalize_cost_fast(raw: dict[str, Any], day: date, memo: Memo) -> dict[str, Any] | None:
    """`normalize_cost` for a plain result (see the fast paths above), else None."""
    kind = raw.get("object")
    if kind is not None and kind != COSTS_RESULT_OBJECT:
        return None
    amount = raw.get("amount")
    if type(amount) is not dict:
        return None
    value = _fast_number(amount.get("value"))
    quantity = raw.get("quantity")
    if quantity is not None:
        quantity = _fast_number(quantity)
    record = {
        "cost_date": day,
        "project_id": _fast_text(raw.get("project_id"), memo),
        "line_item": _fast_text(raw.get("line_item"), memo),
        "api_key_id": _fast_text(raw.get("api_key_id"), memo),
        "amount_usd": value,
        "currency": _fast_text(amount.get("currency"), memo),
        "quantity": quantity,
        "quantity_unit": _fast_text(raw.get("quantity_unit"), memo),
    }
    if _NOT_PLAIN in record.values():
        return None
    return record


normalize_cost.fast = _normalize_cost_fast  # type: ignore[attr-defined]


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
    """Audit events flattened to the columns of `openai.audit_logs`.

    The actor is a session (a user) or an API key (owned by a user or a service account);
    its user id/e-mail, key id and service account id get a column each. `target_id` is
    the `id` of the event's details object (the key, user or project acted on), `details`
    that object as JSON text with sorted keys (stable, so re-reads compare equal).
    """

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
        actor_user_id = actor_email = actor_api_key_id = actor_service_account_id = None
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
                if sa is not None:
                    actor_service_account_id = sa.str_("id")
        details = obj.obj.get(event_type)
        target_id = details.get("id") if isinstance(details, Mapping) else None
        return {
            "audit_log_id": obj.req_str("id"),
            "event_type": event_type,
            "effective_at": utc_datetime(effective),
            "event_date": utc_date(effective),
            "project_id": project.str_("id") if project else None,
            "actor_type": actor_type,
            "actor_user_id": actor_user_id,
            "actor_email": actor_email,
            "actor_api_key_id": actor_api_key_id,
            "actor_service_account_id": actor_service_account_id,
            "target_id": target_id if isinstance(target_id, str) else None,
            "details": None
            if details is None
            else json.dumps(details, sort_keys=True, default=str),
        }

    return normalize
