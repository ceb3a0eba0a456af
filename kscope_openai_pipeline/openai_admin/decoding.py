"""Bytes to typed msgspec Structs, and msgspec's complaints to `AdminApiResponseError`s.

msgspec decodes a body straight into `Struct`s and checks every type and bound as it
goes, in C, so there is no second, hand-written pass over the values. Two things it
leaves to us, and this module does:

- The body as a whole: a UTF-8 byte-order mark is tolerated (some proxies add one); any
  other byte that is not UTF-8 is rejected even where msgspec would only skip over it (an
  ignored field); empty, truncated, HTML or otherwise invalid JSON (NaN and Infinity
  included), and nesting too deep to decode, become one error on `<body>`.
- Errors users can act on. A `ValidationError` only says, e.g.
  "Expected `int` >= 0 - at `$.data[3].results[0].output_tokens`"; it becomes an
  `AdminApiResponseError` naming the endpoint, the field path without the `$.`, the
  offending value (looked up again in the bytes, which only a failing page pays for) and
  the rule in our own words ("must not be negative").

The constrained types below carry the edge's numeric rules into the Structs: a count is
a non-negative integer that fits a BIGINT; a timestamp is Unix seconds before 2100 (a
later one is almost surely milliseconds); bool is never accepted as an integer.
"""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec

from .errors import AdminApiResponseError

T = TypeVar("T")

#: Largest integer a BIGINT column stores; a larger count would overflow on write.
INT64_MAX = 2**63 - 1
#: 2100-01-01 00:00 UTC in Unix seconds: a later "timestamp" is almost surely milliseconds.
MAX_UNIX_SECONDS = 4_102_444_800

#: Any integer a BIGINT holds.
Int64 = Annotated[int, msgspec.Meta(ge=-INT64_MAX - 1, le=INT64_MAX)]
#: A count or usage metric: never negative, fits a BIGINT.
Count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
#: Unix seconds from 1970 up to (not including) 2100.
UnixSeconds = Annotated[int, msgspec.Meta(ge=0, lt=MAX_UNIX_SECONDS)]

MISSING = "<missing>"
_BOM = b"\xef\xbb\xbf"
_UTF8_CHUNK = 1 << 20
_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`(?:, got `(?P<got>[^`]+)`| (?P<bound>.*))$")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
#: What a value must be, by msgspec's name for the expected type.
_MUST_BE = {
    "int": "must be an integer",
    "str": "must be a string",
    "bool": "must be a boolean",
    "decimal": "must be a number or a numeric string",
    "array": "must be an array",
    "object": "is not an object",
}
_NOT_NULL = {
    "int": "must be an integer, not null",
    "str": "must be a string, not null",
    "bool": "must be a boolean, not null",
    "decimal": "must be a number, not null",
    "object": "must be an object, not null",
}
_EPOCH = datetime(1970, 1, 1)  # naive UTC, as the warehouse stores time
_VALUE_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def utc_datetime(ts: int) -> datetime:
    """Unix seconds -> naive UTC datetime (the warehouse convention).

    Naive arithmetic from the epoch: exact for whole seconds, and half the cost of
    `fromtimestamp(ts, tz=UTC)`, which builds an aware datetime only to drop its zone (a
    year of a large organization's audit log has ~80k events to convert)."""
    return _EPOCH + timedelta(seconds=ts)


def utc_date(ts: int) -> date:
    """Unix seconds -> the UTC calendar day it falls on."""
    return utc_datetime(ts).date()


def json_body(content: bytes | bytearray, endpoint: str) -> memoryview:
    """The body ready for msgspec: without a leading byte-order mark, checked to be UTF-8.

    msgspec checks UTF-8 only in the strings it decodes, not in values it skips (ignored
    fields), so the whole body is checked here: almost always by `isascii()` (no copy);
    a body with non-ASCII text is decoded chunk by chunk and the text thrown away, so a
    large page never costs a second, decoded copy of itself.
    """
    view = memoryview(content)
    if view[:3] == _BOM:
        view = view[3:]
    if not content.isascii():
        decoder = codecs.getincrementaldecoder("utf-8")()
        for offset in range(0, len(view), _UTF8_CHUNK):
            try:
                decoder.decode(view[offset : offset + _UTF8_CHUNK])
            except UnicodeDecodeError as exc:
                exc.start, exc.end = exc.start + offset, exc.end + offset
                raise invalid_json(content, endpoint, exc) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            exc.start, exc.end = len(view) - 1, len(view)
            raise invalid_json(content, endpoint, exc) from None
    return view


def invalid_json(
    content: bytes | bytearray | memoryview, endpoint: str, exc: BaseException
) -> AdminApiResponseError:
    """The error for a body that is not (UTF-8) JSON, showing how it starts."""
    head = bytes(content[:80]).decode("utf-8", "replace")
    return AdminApiResponseError(
        endpoint=endpoint,
        field="<body>",
        value=f"{len(content)} bytes starting {head!r}",
        reason=f"is not valid JSON ({type(exc).__name__}: {exc})",
    )


def decode(
    decoder: msgspec.json.Decoder[T],
    content: bytes | bytearray | memoryview,
    endpoint: str,
    *,
    at: str = "",
    whole: bytes | bytearray | memoryview | None = None,
    object_reason: str | None = None,
) -> T:
    """`decoder.decode(content)`, with every failure as an `AdminApiResponseError`.

    `at` is the path of `content` inside the body (e.g. `data[3]` for one bucket), so
    paths name the field in the whole response; `whole` is the complete body, for the
    message of a syntax error; `object_reason` words a rejected `object` value (e.g.
    "must be 'organization.costs.result' on this endpoint").
    """
    try:
        return decoder.decode(content)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, content, endpoint, at, object_reason) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise invalid_json(content if whole is None else whole, endpoint, exc) from None


def validation_error(
    exc: msgspec.ValidationError,
    content: bytes | bytearray | memoryview,
    endpoint: str,
    at: str = "",
    object_reason: str | None = None,
) -> AdminApiResponseError:
    """Translate one msgspec `ValidationError` (see the module docstring)."""
    match = _ERROR.match(str(exc))
    assert match is not None  # the pattern matches any text
    message, path = match["message"], match["path"] or ""
    parts: list[str | int] = [
        name if name else int(index) for name, index in _PATH_PART.findall(path)
    ]
    missing = _MISSING_FIELD.match(message)
    if missing:
        parts.append(missing["name"])
        value: Any = MISSING
        reason = "is required but missing"
    else:
        value = value_at(content, parts)
        reason = _reason(message, parts, object_reason)
    field = at
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else part
    return AdminApiResponseError(
        endpoint=endpoint, field=field or "<body>", value=value, reason=reason
    )


def _reason(message: str, parts: list[str | int], object_reason: str | None) -> str:
    """Our wording of a msgspec complaint about a present value."""
    if message.startswith("Invalid enum value"):
        if object_reason and parts and parts[-1] == "object":
            return object_reason
        return "is not one of the values the API documents"
    if message == "Invalid decimal string":
        return _MUST_BE["decimal"]
    if message == "Integer value out of range":
        return "does not fit a 64-bit integer"
    expected = _EXPECTED.match(message)
    if expected is None:
        return message
    want = expected["want"].split(" | ")[0]
    if expected["got"] == "null" and (parts and isinstance(parts[-1], str)):  # a null field
        return _NOT_NULL.get(want, _MUST_BE.get(want, message))
    if expected["got"] is not None:
        return _MUST_BE.get(want, message)
    bound = expected["bound"]
    if bound == ">= 0":
        return "must not be negative"
    if bound == f"<= {MAX_UNIX_SECONDS - 1}":
        return "is not Unix seconds before 2100 (milliseconds?)"
    if bound in (f"<= {INT64_MAX}", f">= {-INT64_MAX - 1}"):
        return "does not fit a 64-bit integer"
    return f"must be {bound}"


def value_at(content: bytes | bytearray | memoryview, parts: list[str | int]) -> Any:
    """The JSON value at `parts` in `content` (numbers with a fraction as Decimal), decoded
    one level at a time so that only the way down is parsed; `MISSING` if absent."""
    raw: Any = content
    try:
        for part in parts:
            if isinstance(part, int):
                items = _ARRAY.decode(raw)
                if part >= len(items):
                    return MISSING
                raw = items[part]
            else:
                fields = _OBJECT.decode(raw)
                if part not in fields:
                    return MISSING
                raw = fields[part]
        return _VALUE_DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        text = bytes(memoryview(raw)).decode("utf-8", "replace")
        return text if len(text) <= 200 else text[:200] + "..."
