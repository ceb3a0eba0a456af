"""Usage and costs pages (`page` = `next_page` cursor style), decoded into columns.

A page is decoded bucket by bucket: the envelope first, with each bucket kept as raw
bytes (`msgspec.Raw`, a view into the body, no copy), then each bucket into typed
result Structs, whose fields go straight into the page's columns. So only one bucket's
Structs are alive at a time, and no dict is built per row: a 180-day costs page of a
large organization has ~700k rows.

With `compact`, the columns do not grow for the whole page: every `PART_ROWS` rows or so
(at a bucket boundary) the part read so far, checked, goes to `compact` (e.g. to build
an Arrow table) and its lists are dropped. A 180-day costs page as Python lists is
~150 MiB, mostly Decimal objects, and they would be alive beside the ~200 MB body; in
parts, only one part's lists are.

Rules, beyond the types the result Structs declare:
- a bucket must start inside the asked window, end after it starts and not after the
  window ends, and appear once; inside a bucket, each dimension tuple (the warehouse
  grain) appears once;
- the pre-mid-2025 `result` name is read when `results` is absent;
- an optional text value "" is NULL, like an absent or null one; an absent or null
  optional metric is 0; money is an exact, finite Decimal.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
from typing import Any, Generic, TypeVar, overload

import msgspec

from .decoding import Int64, decode, json_body, utc_date
from .errors import AdminApiResponseError
from .window import Window

R = TypeVar("R")

#: Rows a part of a page has (at least, ending at a bucket boundary) before it is
#: handed to `compact`: a few buckets of a large organization's costs page.
PART_ROWS = 50_000

#: Kinds of column (see `Column`).
DATE, CONST, TEXT, VALUE, COUNT, MONEY = "date", "const", "text", "value", "count", "money"


class BucketEnvelope(msgspec.Struct, gc=False):
    data: list[msgspec.Raw]
    has_more: bool
    next_page: str | None = None


class Bucket(msgspec.Struct, Generic[R], gc=False):
    start_time: Int64
    end_time: Int64
    results: list[R] | msgspec.UnsetType = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # read only without `results`


_ENVELOPE = msgspec.json.Decoder(BucketEnvelope)


@dataclass(frozen=True)
class Column:
    """One column of a page, and where its values come from.

    `kind`: DATE is the bucket's UTC day; CONST is `const` on every row (a field this
    endpoint never has); the others read `field` (an attribute path of the result
    Struct, e.g. `amount.value`): TEXT makes "" None, COUNT makes None 0, MONEY refuses a
    non-finite Decimal, VALUE takes the value as decoded.
    """

    name: str
    kind: str
    field: str | None = None
    const: Any = None


@dataclass(frozen=True)
class ResultKind:
    """What one endpoint's results are: their Struct, the accepted `object`, the columns
    of a page in record order, and the columns that form the grain inside a bucket."""

    struct: type[msgspec.Struct]
    object: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    bucket_decoder: msgspec.json.Decoder[Any] = field(init=False, repr=False, compare=False)
    legacy_decoder: msgspec.json.Decoder[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "bucket_decoder", msgspec.json.Decoder(Bucket[self.struct]))  # type: ignore[name-defined]
        set_(self, "legacy_decoder", msgspec.json.Decoder(list[self.struct]))  # type: ignore[name-defined]

    @property
    def object_reason(self) -> str:
        return f"must be {self.object!r} on this endpoint"


class Repeated(Sequence[Any]):
    """A column with the same `value` on every one of its rows, without a list of it.

    Why: a usage family has about half of the usage table's columns as constants (its
    `usage_type`, and 0 or NULL for the metrics and dimensions of other families); as
    lists they were a Python object per row and column, each converted to Arrow again.
    A consumer that knows it (`warehouse.page_table`) makes one constant array of it;
    any other reads it as the sequence it is.
    """

    __slots__ = ("_n", "value")

    def __init__(self, value: Any, n: int) -> None:
        self.value, self._n = value, n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self.value] * len(range(*index.indices(self._n)))
        if not -self._n <= index < self._n:
            raise IndexError(index)
        return self.value

    def __iter__(self) -> Iterator[Any]:
        return repeat(self.value, self._n)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so not hashable

    def __repr__(self) -> str:
        return f"Repeated({self.value!r}, {self._n})"


@dataclass(frozen=True, eq=False)
class ColumnPage:
    """One usage or costs page of the API as columns.

    `columns` maps each column name (the warehouse's, e.g. `usage_date`, `amount_usd`)
    to a list with one value per row, all `num_rows` long, in record order (bucket by
    bucket, results in the API's order); a field the endpoint never has is a `Repeated`
    value instead of a list. Values are `datetime.date` for days, exact
    `Decimal` for money and quantities, `int` for counts, `bool`/`str`/None otherwise.
    The lists belong to the consumer (e.g. `pyarrow.table(page.columns)`); `rows()`
    gives one dict per row for tests and small consumers. A page read with `compact`
    holds `parts` instead (see the module docstring).
    """

    columns: dict[str, list[Any] | Repeated]
    num_rows: int
    bucket_starts: list[int]
    has_more: bool
    next_page: str | None
    #: When read with `compact`: what it made of each part of the page, in order; the
    #: rows are there and `columns` is empty.
    parts: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return self.num_rows

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per row, keys in column order (builds them one at a time)."""
        names = tuple(self.columns)
        for values in zip(*self.columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))


class _Interned(dict[Any, Any]):
    """Text values of a page, each kept once (a page repeats a few hundred distinct ids and
    names ~700k times), with "" read as None. Look-ups stay in C (`map(d.__getitem__)`)."""

    def __init__(self) -> None:
        super().__init__({"": None, None: None})

    def __missing__(self, key: Any) -> Any:
        self[key] = key
        return key


#: Makes something compact of a checked part of a page (see the module docstring).
Compact = Callable[[ColumnPage], Any]


def parse_bucket_page(
    content: bytes | bytearray,
    endpoint: str,
    window: Window,
    kind: ResultKind,
    on_cursor: Callable[[str], None] | None = None,
    compact: Compact | None = None,
    part_rows: int = PART_ROWS,
) -> ColumnPage:
    """Validate a `{"object":"page","data":[bucket...],"has_more","next_page"}` page.

    `on_cursor(next_page)` is called as soon as the envelope is read, before the rows,
    when the page says more follow (the client requests the next page then). With
    `compact`, the page holds what it made of each part of about `part_rows` rows (module
    docstring)."""
    body = json_body(content, endpoint)
    envelope = decode(_ENVELOPE, body, endpoint, whole=content)
    if on_cursor is not None and envelope.has_more and envelope.next_page:
        on_cursor(envelope.next_page)
    reader = _PageReader(endpoint, window, kind, compact, part_rows)
    for i, raw in enumerate(envelope.data):
        reader.read(i, raw, content)
    return reader.page(envelope.has_more, envelope.next_page or None)


class _PageReader:
    """Collects a page's columns bucket by bucket (see `parse_bucket_page`); the checks
    that span rows run once over whole columns when a part (without `compact`, the
    page) is complete."""

    def __init__(
        self,
        endpoint: str,
        window: Window,
        kind: ResultKind,
        compact: Compact | None = None,
        part_rows: int = PART_ROWS,
    ) -> None:
        self.endpoint, self.window, self.kind = endpoint, window, kind
        self.compact, self.part_rows = compact, part_rows
        self.text = _Interned().__getitem__
        self.starts: list[int] = []
        self.offsets: list[int] = []  # first row of each bucket (in the page)
        self.paths: list[str] = []  # each bucket's results, e.g. `data[3].results`
        self.num_rows = 0
        self.parts: list[Any] = []
        self._new_part()

    def _new_part(self) -> None:
        """Empty columns for the next part (the whole page without `compact`)."""
        kind = self.kind
        self.columns: dict[str, list[Any] | Repeated] = {c.name: [] for c in kind.columns}
        self.read_columns = [
            (self.columns[c.name], c.kind == TEXT, attrgetter(c.field))
            for c in kind.columns
            if c.field is not None
        ]
        self.date_columns = [self.columns[c.name] for c in kind.columns if c.kind == DATE]
        self.part_start = self.num_rows  # the page row of the part's first row
        self.part_bucket = len(self.offsets)  # the part's first bucket

    def fail(self, where: str, value: Any, reason: str) -> AdminApiResponseError:
        return AdminApiResponseError(
            endpoint=self.endpoint, field=where, value=value, reason=reason
        )

    def read(self, i: int, raw: msgspec.Raw, whole: bytes | bytearray) -> None:
        """Check bucket `data[i]` and append its rows to the columns."""
        endpoint, window, kind = self.endpoint, self.window, self.kind
        at = f"data[{i}]"
        bucket = decode(
            kind.bucket_decoder, raw, endpoint, at=at, whole=whole, object_reason=kind.object_reason
        )
        start, end = bucket.start_time, bucket.end_time
        if not window.start_ts <= start < window.end_ts:
            raise self.fail(
                f"{at}.start_time",
                start,
                f"is outside the asked window [{window.start_ts}, {window.end_ts})",
            )
        if not start < end <= window.end_ts:
            raise self.fail(
                f"{at}.end_time", end, f"must be after start_time {start} and <= {window.end_ts}"
            )
        if start in self.starts:
            raise self.fail(f"{at}.start_time", start, "is a duplicate bucket")
        self.starts.append(start)
        results, name = bucket.results, "results"
        if results is msgspec.UNSET:
            if bucket.result is msgspec.UNSET:
                raise self.fail(f"{at}.results", "<missing>", "is required but missing")
            name = "result"
            results = decode(
                kind.legacy_decoder,
                bucket.result,
                endpoint,
                at=f"{at}.result",
                whole=whole,
                object_reason=kind.object_reason,
            )
        del bucket
        text = self.text
        for column, is_text, get in self.read_columns:
            column += map(text, map(get, results)) if is_text else map(get, results)
        day = [utc_date(start)] * len(results)
        for column in self.date_columns:
            column += day
        self.offsets.append(self.num_rows)
        self.paths.append(f"{at}.{name}")
        self.num_rows += len(results)
        if self.compact is not None and self.num_rows - self.part_start >= self.part_rows:
            self._hand_over_part()

    def where(self, row: int, field_path: str) -> str:
        """The path of page row `row`'s field, e.g. `data[3].results[17].amount.value`."""
        i = bisect_right(self.offsets, row) - 1
        return f"{self.paths[i]}[{row - self.offsets[i]}].{field_path}"

    def page(self, has_more: bool, next_page: str | None) -> ColumnPage:
        if self.compact is None:
            columns = self._finish_part()
            return ColumnPage(columns, self.num_rows, self.starts, has_more, next_page)
        if self.num_rows > self.part_start:
            self._hand_over_part()
        return ColumnPage({}, self.num_rows, self.starts, has_more, next_page, self.parts)

    def _hand_over_part(self) -> None:
        """The part read so far, checked, to `compact`; its lists are then dropped."""
        assert self.compact is not None
        columns = self._finish_part()
        n = self.num_rows - self.part_start
        part = ColumnPage(columns, n, self.starts[self.part_bucket :], False, None)
        self.parts.append(self.compact(part))
        self._new_part()

    def _finish_part(self) -> dict[str, list[Any] | Repeated]:
        """The current part's columns, with the per-row rules applied and checked."""
        n, columns, base = self.num_rows - self.part_start, self.columns, self.part_start
        for c in self.kind.columns:
            values = columns[c.name]
            if c.kind == CONST:
                columns[c.name] = Repeated(c.const, n)
            elif c.kind == COUNT and None in values:
                columns[c.name] = [0 if v is None else v for v in values]
            # zero, the only falsy Decimal, is finite; None is an absent quantity
            elif c.kind == MONEY and not all(map(Decimal.is_finite, filter(None, values))):
                row = next(r for r, v in enumerate(values) if v is not None and not v.is_finite())
                where = self.where(base + row, str(c.field))
                raise self.fail(where, str(values[row]), "must be finite")
        self._check_grain()
        return columns

    def _check_grain(self) -> None:
        """Each dimension tuple at most once in a bucket (of the current part)."""
        names = [c.name for c in self.kind.columns if c.name in self.kind.key_columns]
        read = [self.columns[c.name] for c in self.kind.columns if c.field and c.name in names]
        if not read:
            return
        base = self.part_start
        firsts = [o - base for o in self.offsets[self.part_bucket :]]
        for lo, hi in zip(firsts, [*firsts[1:], self.num_rows - base], strict=False):
            if hi - lo < 2:
                continue
            if len(set(zip(*(column[lo:hi] for column in read), strict=True))) == hi - lo:
                continue
            seen: set[tuple[Any, ...]] = set()
            for j, key in enumerate(zip(*(column[lo:hi] for column in read), strict=True)):
                if key in seen:
                    value = {name: self.columns[name][lo + j] for name in names}
                    raise self.fail(
                        self.where(base + lo + j, "<dimensions>"),
                        value,
                        "duplicate row for the same dimensions in one bucket",
                    )
                seen.add(key)
