"""Query-string parsing with the Admin API's typing rules and every array form it accepts.

Why a module of its own: clients in the wild send arrays three ways
(`group_by=a&group_by=b`, the SDK's `group_by[]=a`, Elastic's `group_by=a,b`) and nested
filters as `effective_at[gte]=...`; the live API accepts all of them, so the sandbox must
too, and must reject a wrongly typed scalar with the API's `invalid_type` error.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from .api_errors import invalid_type, limit_error

_INT_RE = re.compile(r"^-?[0-9]+$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class Query:
    """The parsed query string of one request, as ordered (key, value) pairs."""

    def __init__(self, raw: str) -> None:
        self.pairs: list[tuple[str, str]] = parse_qsl(raw, keep_blank_values=True)

    def has(self, name: str) -> bool:
        """Whether the scalar parameter `name` was sent at all (even empty)."""
        return any(k == name for k, _ in self.pairs)

    def get_str(self, name: str) -> str | None:
        """The last value sent for a scalar parameter, or None when absent."""
        value: str | None = None
        for key, val in self.pairs:
            if key == name:
                value = val
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; anything but an optional sign and digits is `invalid_type`."""
        text = self.get_str(name)
        if text is None:
            return default
        if not _INT_RE.match(text.strip()):
            raise invalid_type(name)
        return int(text)

    def get_bool(self, name: str, default: bool | None = None) -> bool | None:
        """A boolean parameter sent as `true`/`false` (or `1`/`0`), case-insensitive."""
        text = self.get_str(name)
        if text is None:
            return default
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise invalid_type(name)

    def get_list(self, name: str) -> list[str] | None:
        """An array parameter in any accepted form; None when absent, values in send order.

        `name=a&name=b`, `name[]=a`, `name[0]=a` and `name=a,b` all count; empty items are
        dropped and duplicates are kept once (first occurrence wins).
        """
        found = False
        values: list[str] = []
        indexed = re.compile(rf"^{re.escape(name)}\[[0-9]*\]$")
        for key, val in self.pairs:
            if key == name or indexed.match(key):
                found = True
                for item in val.split(","):
                    item = item.strip()
                    if item and item not in values:
                        values.append(item)
        return values if found else None

    def get_nested_int(self, name: str, sub: str) -> int | None:
        """An integer member of a nested filter such as `effective_at[gte]`."""
        return self.get_int(f"{name}[{sub}]")

    def get_limit(self, default: int, high: int, low: int = 1) -> int:
        """The `limit` parameter, rejected (never clamped) outside `low..high`."""
        value = self.get_int("limit", default)
        assert value is not None
        if value < low or value > high:
            raise limit_error(value, low, high)
        return value
