"""The `next_page` cursor of usage/costs pages: opaque, and bound to its query.

Why: the live API rejects a cursor replayed with any other parameter changed (a moving
`end_time` included); crawlers must freeze their parameters, and the sandbox must catch
those that do not. The cursor is `page_` + base64 of 20 bytes, the shape seen live:
the next bucket start (int64), a CRC-32 of the canonical query, the range end (int64).
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib

from .api_errors import ApiError

_FORMAT = ">qIq"
_PREFIX = "page_"


def query_digest(canonical: str) -> int:
    """A 32-bit fingerprint of the canonical query the cursor belongs to."""
    return zlib.crc32(canonical.encode("utf-8"))


def encode(next_start: int, canonical: str, end: int) -> str:
    raw = struct.pack(_FORMAT, next_start, query_digest(canonical), end)
    return _PREFIX + base64.b64encode(raw).decode("ascii")


def invalid_cursor(page: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid 'page' cursor: '{page}'. Pass the 'next_page' value of the previous "
        "response unchanged.",
        param="page",
        code="invalid_value",
    )


def cursor_mismatch() -> ApiError:
    return ApiError(
        400,
        "The 'page' cursor does not match this query: every other parameter (start_time, "
        "end_time, bucket_width, limit, group_by and filters) must stay identical while "
        "paginating.",
        param="page",
        code="invalid_request_error",
    )


def decode(page: str, canonical: str, start: int, end: int) -> int:
    """The bucket start a cursor resumes from; 400 if malformed or bound to another query."""
    if not page.startswith(_PREFIX):
        raise invalid_cursor(page)
    try:
        raw = base64.b64decode(page[len(_PREFIX):], validate=True)
        next_start, digest, cursor_end = struct.unpack(_FORMAT, raw)
    except (binascii.Error, struct.error, ValueError):
        raise invalid_cursor(page) from None
    if digest != query_digest(canonical) or cursor_end != end:
        raise cursor_mismatch()
    if not start < next_start < end:
        raise invalid_cursor(page)
    return next_start
