"""The one usage/costs parser (`buckets.parse_bucket_page`), against the rules of the edge.

Real pages come from the sandbox over loopback HTTP and must decode to exactly what their
JSON says (an independent reading with `json.loads`, in `expected_rows`). Then a seeded
corpus changes one thing in a real page at a time, and every change has a verdict known
by construction: either the page still decodes (to what `expected_rows` reads from the
changed JSON, with the same Python types and spellings: Decimal('1.50') is not
Decimal('1.5')), or it is refused with the exact field path and the rule's words.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.openai_admin import AdminApiResponseError, Repeated
from kscope_openai_pipeline.openai_admin.buckets import ColumnPage, ResultKind, parse_bucket_page
from kscope_openai_pipeline.openai_admin.usage import (
    COST_RECORD_KEYS,
    COSTS_KIND,
    COSTS_RESULT_OBJECT,
    USAGE_DIMENSIONS,
    USAGE_FAMILIES,
    USAGE_GROUP_BY,
    USAGE_KINDS,
    USAGE_METRICS,
    USAGE_OPTIONAL_METRICS,
    USAGE_RECORD_KEYS,
    USAGE_REQUIRED_METRICS,
    USAGE_RESULT_OBJECTS,
)
from kscope_openai_pipeline.openai_admin.window import Window
from kscope_openai_pipeline.sandbox.server import Sandbox

DAY = 86400
EP_COSTS = "/organization/costs"
INT64_MAX = 2**63 - 1


# ------------------------------------------------------------------------ JSON writing


class Raw(str):
    """JSON text written verbatim (NaN, trailing commas)."""


def dump(v: Any, ws: str = "") -> str:
    """Serialize like the API (Decimal digits kept as parsed); `ws` goes after every
    structural character so layouts other than the compact one are exercised too."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict):
        inner = f",{ws}".join(f"{json.dumps(k)}{ws}:{ws}{dump(x, ws)}" for k, x in v.items())
        return "{" + ws + inner + ws + "}"
    if isinstance(v, list):
        return "[" + ws + f",{ws}".join(dump(x, ws) for x in v) + ws + "]"
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, Decimal | int):
        return str(v)
    assert isinstance(v, str), v
    return json.dumps(v, ensure_ascii=False)


def load(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal, parse_int=_int)


def _int(text: str) -> int | Decimal:
    return int(text) if len(text) < 4000 else Decimal(text)  # beyond int()'s digit limit


# ------------------------------------------------------------------------ the reference


@dataclass(frozen=True)
class Target:
    """What a body is parsed against: the endpoint, the asked window and the result kind."""

    endpoint: str
    window: Window
    family: str  # a usage family, or "costs"

    @property
    def kind(self) -> ResultKind:
        return COSTS_KIND if self.family == "costs" else USAGE_KINDS[self.family]


def _text(value: str | None) -> str | None:
    return value or None


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value.strip()) if isinstance(value, str) else Decimal(value)


def expected_row(family: str, res: dict[str, Any], day: date) -> dict[str, Any]:
    """The row the rules make of one valid result (read with json.loads)."""
    if family == "costs":
        amount = res["amount"]
        return {
            "cost_date": day,
            "project_id": _text(res.get("project_id")),
            "line_item": _text(res.get("line_item")),
            "api_key_id": _text(res.get("api_key_id")),
            "amount_usd": _money(amount["value"]),
            "currency": _text(amount.get("currency")),
            "quantity": _money(res.get("quantity")),
            "quantity_unit": _text(res.get("quantity_unit")),
        }
    row: dict[str, Any] = {"usage_type": family, "usage_date": day}
    for column, field in USAGE_DIMENSIONS.items():
        value = res.get(field) if field in USAGE_GROUP_BY[family] else None
        row[column] = value if field == "batch" else _text(value)
    own = (*USAGE_REQUIRED_METRICS[family], *USAGE_OPTIONAL_METRICS.get(family, ()))
    for metric in USAGE_METRICS:
        row[metric] = (res.get(metric) or 0) if metric in own else 0
    return row


def expected_rows(content: bytes, t: Target) -> list[dict[str, Any]]:
    rows = []
    for bucket in load(content.removeprefix(b"\xef\xbb\xbf"))["data"]:
        day = datetime.fromtimestamp(bucket["start_time"], tz=UTC).date()
        results = bucket["results"] if "results" in bucket else bucket["result"]
        rows += [expected_row(t.family, res, day) for res in results]
    return rows


def typed(rows: list[dict[str, Any]]) -> list[list[tuple[str, str, str]]]:
    """Rows with key order, type and exact spelling of every value."""
    return [[(k, type(v).__name__, repr(v)) for k, v in r.items()] for r in rows]


def parse(content: bytes, t: Target) -> ColumnPage:
    return parse_bucket_page(content, t.endpoint, t.window, t.kind)


def outcome(content: bytes, t: Target) -> tuple[Any, ...]:
    """The verdict on a page, the same whether it is read whole or in parts."""
    whole = _outcome(content, t)
    for part_rows in (1, 3):
        assert _outcome(content, t, part_rows) == whole, f"read in parts of {part_rows} rows"
    return whole


def _outcome(content: bytes, t: Target, part_rows: int | None = None) -> tuple[Any, ...]:
    """The verdict on a page read whole, or in parts of `part_rows` rows or more (all but
    the last part), each part's rows then read as dicts."""
    try:
        if part_rows is None:
            page = parse(content, t)
        else:
            page = parse_bucket_page(
                content, t.endpoint, t.window, t.kind, compact=lambda p: p, part_rows=part_rows
            )
    except AdminApiResponseError as exc:
        assert str(exc).startswith(f"{t.endpoint}: invalid response: field {exc.field!r} ")
        return ("error", exc.field, exc.reason)
    parts = [page] if part_rows is None else page.parts
    if part_rows is not None:
        assert page.columns == {}
        assert all(part.num_rows >= part_rows for part in parts[:-1])
        assert sum(part.num_rows for part in parts) == page.num_rows
    for part in parts:
        assert all(len(values) == part.num_rows for values in part.columns.values())
    return ("ok", typed([row for part in parts for row in part.rows()]))


def ok(content: bytes, t: Target) -> tuple[Any, ...]:
    return ("ok", typed(expected_rows(content, t)))


# ------------------------------------------------------------------------ sandbox pages


@dataclass(frozen=True)
class Served:
    label: str
    target: Target
    body: bytes


@pytest.fixture(scope="module")
def served() -> Iterator[list[Served]]:
    """Raw bodies of a spread of usage/costs queries (group_by, misaligned starts, windows
    before the data, filters, second pages, hourly buckets) on the seed-7 tiny sandbox."""
    out: list[Served] = []
    with (
        Sandbox.start(seed=7, size="tiny") as sb,
        httpx.Client(
            base_url=sb.base_url + "/",
            headers={"Authorization": f"Bearer {sb.admin_key}"},
            timeout=10.0,
        ) as http,
    ):
        end_day = sb.org.end_day
        first_day = end_day - 60 * DAY

        def get(label: str, family: str, start: int, end: int, params: list[Any]) -> None:
            path = EP_COSTS if family == "costs" else f"/organization/usage/{family}"
            t = Target(path, Window(start, end), family)
            query = [("start_time", str(start)), ("end_time", str(end)), *params]
            for page_no in (1, 2):  # a second page when there is one
                r = http.get(path.lstrip("/"), params=query)
                assert r.status_code == 200, (label, r.text[:300])
                out.append(Served(f"{label} p{page_no}", t, r.content))
                nxt = load(r.content)["next_page"]
                if nxt is None:
                    return
                query = [*query, ("page", nxt)]

        projects = http.get("organization/projects", params={"limit": "100"}).json()["data"]
        a_project = projects[0]["id"]
        for family in USAGE_FAMILIES:
            dims = USAGE_GROUP_BY[family]
            full = [("group_by", g) for g in dims]
            get(f"{family} full", family, end_day - 7 * DAY, end_day, [("limit", "7"), *full])
            get(f"{family} ungrouped", family, first_day - 3 * DAY, first_day + 28 * DAY, [])
            get(
                f"{family} misaligned",
                family,
                end_day - 20 * DAY + 3600,
                end_day - 15 * DAY,
                [("group_by", dims[0])],
            )
            get(f"{family} paged", family, end_day - 30 * DAY, end_day - 23 * DAY,
                [("limit", "3"), *full])
            get(f"{family} filtered", family, end_day - 10 * DAY, end_day - 3 * DAY,
                [("project_ids", a_project), *full])
        hourly = [("bucket_width", "1h"), ("limit", "48")]
        hourly += [("group_by", g) for g in USAGE_GROUP_BY["completions"]]
        get("completions hourly", "completions", end_day - 2 * DAY, end_day, hourly)
        for label, start, group_by, limit in (
            ("costs project+line_item", first_day, ["project_id", "line_item"], "180"),
            ("costs api_key", end_day - 14 * DAY, ["api_key_id"], "180"),
            ("costs ungrouped", first_day - 5 * DAY, [], "180"),
            ("costs line_item misaligned", end_day - 9 * DAY + 7200, ["line_item"], "180"),
            ("costs paged", end_day - 12 * DAY, ["project_id", "line_item"], "5"),
        ):
            params = [("limit", limit), *[("group_by", g) for g in group_by]]
            get(label, "costs", start, end_day, params)
        get("costs filtered", "costs", end_day - 20 * DAY, end_day,
            [("project_ids", a_project), ("group_by", "line_item")])
    yield out


def raw_results(s: Served) -> Iterator[dict[str, Any]]:
    for bucket in load(s.body)["data"]:
        yield from bucket["results"]


def test_real_pages_decode_to_what_their_json_says(served):
    rows: dict[str, int] = {}
    string_amounts = 0
    for s in served:
        assert outcome(s.body, s.target) == ok(s.body, s.target), s.label
        page = parse(s.body, s.target)
        keys = COST_RECORD_KEYS if s.target.family == "costs" else USAGE_RECORD_KEYS
        assert page.column_names == keys
        assert page.has_more == (load(s.body)["next_page"] is not None)
        rows[s.target.family] = rows.get(s.target.family, 0) + page.num_rows
        string_amounts += sum(isinstance(r.get("amount", {}).get("value"), str)
                              for r in raw_results(s))
    # the spread covers every family and costs with real rows, and both amount spellings
    assert sorted(rows) == sorted(["costs", *USAGE_FAMILIES])
    assert all(n > 0 for n in rows.values()), rows
    assert string_amounts > 0


# ------------------------------------------------------------------------ one field changed

_MISSING = object()
#: Values a field could wrongly (or unusually) carry.
ODD_VALUES: tuple[Any, ...] = (
    _MISSING, None, "", " ", "x", "5", "12.50", " 12.5 ", "1e3", "abc", "NaN", "Infinity",
    "sNaN", "é✓", 0, 5, -1, -7, INT64_MAX, INT64_MAX + 1, -(2**63), 2**64, 10**30, True,
    False, Decimal("1.5"), Decimal("-0.0"), Decimal("1E+2"), Decimal("12.500000000"),
    Decimal("1.2345678901234567890123456789"), Decimal("1E-7"), [], [1], {}, {"a": 1},
)


def _kind_of(value: Any) -> str:
    """The JSON type of `value`, as the rules see it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "str"
    return "array" if isinstance(value, list) else "object"


def _count_verdict(value: Any, required: bool) -> str | None:
    """None if a metric may carry `value`, else the reason it is refused."""
    if value is _MISSING or value is None:
        if not required:
            return None
        return "is required but missing" if value is _MISSING else "must be an integer, not null"
    if _kind_of(value) != "int":
        return "must be an integer"
    if value < 0:
        return "must not be negative"
    return "does not fit a 64-bit integer" if value > INT64_MAX else None


def _money_verdict(value: Any, required: bool) -> str | None:
    if value is _MISSING or value is None:
        if not required:
            return None
        return "is required but missing" if value is _MISSING else "must be a number, not null"
    kind = _kind_of(value)
    if kind in ("int", "number"):
        return None
    if kind != "str":
        return "must be a number or a numeric string"
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return "must be a number or a numeric string"
    return None if number.is_finite() else "must be finite"


def _text_verdict(value: Any) -> str | None:
    ok_ = value is _MISSING or _kind_of(value) in ("null", "str")
    return None if ok_ else "must be a string"


def _object_verdict(value: Any, expected: str) -> str | None:
    if value is _MISSING or value in (None, "", expected):
        return None
    if not isinstance(value, str):
        return "must be a string"
    return f"must be {expected!r} on this endpoint"


def verdict(family: str, field: str, value: Any) -> str | None:
    """None if a result may carry `value` in `field`, else the words of the refusal."""
    if family == "costs":
        if field == "object":
            return _object_verdict(value, COSTS_RESULT_OBJECT)
        if field in ("amount.value", "quantity"):
            return _money_verdict(value, required=field == "amount.value")
        return _text_verdict(value) if field in COST_RECORD_KEYS + ("amount.currency",) else None
    if field == "object":
        return _object_verdict(value, USAGE_RESULT_OBJECTS[family])
    if field in USAGE_REQUIRED_METRICS[family]:
        return _count_verdict(value, required=True)
    if field in USAGE_OPTIONAL_METRICS.get(family, ()):
        return _count_verdict(value, required=False)
    if field not in USAGE_GROUP_BY[family]:
        return None  # a field this family's results do not have is never read
    if field == "batch":
        return None if value is _MISSING or _kind_of(value) in ("null", "bool") else (
            "must be a boolean"
        )
    return _text_verdict(value)


def _fields(family: str) -> list[str]:
    if family == "costs":
        return ["amount.value", "amount.currency", "project_id", "line_item", "api_key_id",
                "quantity", "quantity_unit", "object", "organization_id"]
    return [*USAGE_REQUIRED_METRICS[family], *USAGE_OPTIONAL_METRICS.get(family, ()),
            *USAGE_GROUP_BY[family], "output_tokens", "model", "object", "user_id"]


def _set(d: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        d.pop(key, None)
    else:
        d[key] = copy.deepcopy(value)


def _small_pages(served: list[Served]) -> list[Served]:
    """One small real page with rows per endpoint (<= 3 buckets of <= 4 results)."""
    picked: dict[str, Served] = {}
    for s in served:
        if s.target.family in picked or not any(True for _ in raw_results(s)):
            continue
        page = load(s.body)
        page["data"] = [b for b in page["data"] if b["results"]][:3]
        for b in page["data"]:
            b["results"] = b["results"][:4]
        picked[s.target.family] = Served(s.label, s.target, dump(page).encode())
    return list(picked.values())


def test_one_changed_field_is_decoded_or_refused_by_its_rule(served):
    rng = random.Random(20261201)
    bases = _small_pages(served)
    assert sorted(b.target.family for b in bases) == sorted(["costs", *USAGE_FAMILIES])
    seen = {"ok": 0, "error": 0}
    for n in range(900):
        base = bases[n % len(bases)]
        t = base.target
        page = load(base.body)
        i = rng.randrange(len(page["data"]))
        j = rng.randrange(len(page["data"][i]["results"]))
        res = page["data"][i]["results"][j]
        field = rng.choice(_fields(t.family))
        value = ODD_VALUES[(n // len(bases)) % len(ODD_VALUES)] if n < 400 else rng.choice(
            ODD_VALUES
        )
        if field.startswith("amount."):
            _set(res["amount"], field.split(".")[1], value)
        else:
            _set(res, field, value)
        content = dump(page, rng.choice(["", " ", "\n  ", "\r\n\t"])).encode()
        reason = verdict(t.family, field, value)
        what = f"case {n}: {t.family} {field}={value!r}"
        if reason is not None:
            expected = ("error", f"data[{i}].results[{j}].{field}", reason)
        elif (k := _repeated_key(page, i, t)) is not None:  # two rows of the bucket became one
            expected = ("error", f"data[{i}].results[{k}].<dimensions>",
                        "duplicate row for the same dimensions in one bucket")
        else:
            expected = ok(content, t)
        assert outcome(content, t) == expected, what
        seen[expected[0]] += 1
    assert seen["ok"] > 250 and seen["error"] > 250, seen


def _repeated_key(page: dict[str, Any], i: int, t: Target) -> int | None:
    """The index of the first result of bucket `i` whose dimensions an earlier one has."""
    seen = set()
    for k, res in enumerate(page["data"][i]["results"]):
        row = expected_row(t.family, res, date(2026, 1, 1))
        key = tuple(row[c] for c in t.kind.key_columns)
        if key in seen:
            return k
        seen.add(key)
    return None


# ------------------------------------------------------------------------ pages and bytes

D0 = 1764979200  # 2025-12-06 00:00 UTC
WIN = Window(D0, D0 + 3 * DAY)
COSTS = Target(EP_COSTS, WIN, "costs")
_RES = (
    '{"object":"organization.costs.result","amount":{"value":%s,"currency":"usd"},'
    '"project_id":"proj_a","line_item":"gpt-x, input"}'
)
_BUCKET = '{"object":"bucket","start_time":%d,"end_time":%d,"results":[%s]}'


def _page(data: str, tail: str = '"has_more":false,"next_page":null') -> bytes:
    return ('{"object":"page","data":[' + data + "]," + tail + "}").encode("utf-8")


def _bucket(amount: str = "1.50", start: int = D0, end: int | None = None) -> str:
    return _BUCKET % (start, end or start + DAY, _RES % amount)


GOOD = _page(_bucket() + "," + _bucket(start=D0 + DAY))
#: name -> (body, None if it decodes, else (field, reason))
CASES: dict[str, tuple[bytes, tuple[str, str] | None]] = {
    "two buckets": (GOOD, None),
    "empty data": (_page(""), None),
    "string amount, many decimals": (_page(_bucket('"12.500000000"')), None),
    "exponent amount": (_page(_bucket("1.5E+3")), None),
    "exponent string amount": (_page(_bucket('" 1e-7 "')), None),
    "negative zero amount": (_page(_bucket("-0.0")), None),
    "huge int amount": (_page(_bucket("1" + "0" * 40)), None),
    # a number JSON allows, kept exact; the warehouse's DECIMAL(18,9) is what refuses it
    "5000-digit amount": (_page(_bucket("1" * 5000)), None),
    "data last": (b'{"has_more":false,"data":[' + _bucket().encode() + b"]}", None),
    "duplicate data key, last wins": (
        b'{"data":[5],"data":[' + _bucket().encode() + b'],"has_more":true}', None
    ),
    "bom": (b"\xef\xbb\xbf" + GOOD, None),
    "JSON whitespace around": (b" \r\n\t" + GOOD + b"\n ", None),
    "non-ASCII text": (GOOD.replace(b"gpt-x", "gpt-ünï-🚀".encode()), None),
    "escaped key": (GOOD.replace(b'"has_more"', b'"\\u0068as_more"'), None),
    "legacy result key": (GOOD.replace(b'"results"', b'"result"'), None),
    "results wins over result": (_page(_bucket()[:-1] + ',"result":5}'), None),
    "null next_page, empty string next_page": (_page("", '"has_more":false,"next_page":""'),
                                               None),
    "NaN amount": (_page(_bucket("NaN")), ("<body>", "is not valid JSON")),
    "NaN string amount": (_page(_bucket('"NaN"')), ("data[0].results[0].amount.value",
                                                    "must be finite")),
    "data trailing comma": (_page(_bucket() + ","), ("<body>", "is not valid JSON")),
    "missing comma between buckets": (
        _page(_bucket() + " " + _bucket(start=D0 + DAY)), ("<body>", "is not valid JSON")
    ),
    "duplicate bucket": (_page(_bucket() + "," + _bucket()),
                         ("data[1].start_time", "is a duplicate bucket")),
    "bucket before window": (_page(_bucket(start=D0 - DAY)),
                             ("data[0].start_time", "is outside the asked window")),
    "bucket at window end": (_page(_bucket(start=D0 + 3 * DAY)),
                             ("data[0].start_time", "is outside the asked window")),
    "bucket ends past window": (
        _page(_bucket(start=D0 + 2 * DAY, end=D0 + 4 * DAY)),
        ("data[0].end_time", f"must be after start_time {D0 + 2 * DAY} and <= {D0 + 3 * DAY}"),
    ),
    "bucket ends before it starts": (_page(_bucket(end=D0)),
                                     ("data[0].end_time", "must be after start_time")),
    "start_time beyond 64 bits": (_page(_bucket(start=2**64)),
                                  ("data[0].start_time", "does not fit a 64-bit integer")),
    "start_time as string": (_page(_bucket().replace(str(D0), f'"{D0}"', 1)),
                             ("data[0].start_time", "must be an integer")),
    "bucket not an object": (_page("5"), ("data[0]", "is not an object")),
    "result not an object": (_page(_BUCKET % (D0, D0 + DAY, "null")),
                             ("data[0].results[0]", "is not an object")),
    "results null": (_page(f'{{"start_time":{D0},"end_time":{D0 + DAY},"results":null}}'),
                     ("data[0].results", "must be an array")),
    "results missing": (_page(f'{{"start_time":{D0},"end_time":{D0 + DAY}}}'),
                        ("data[0].results", "is required but missing")),
    "no data": (b'{"has_more":false}', ("data", "is required but missing")),
    "data not an array": (b'{"data":{},"has_more":false}', ("data", "must be an array")),
    "has_more missing": (b'{"data":[]}', ("has_more", "is required but missing")),
    "has_more a string": (b'{"data":[],"has_more":"false"}', ("has_more", "must be a boolean")),
    "duplicate has_more, first invalid": (
        _page("", '"has_more":"x","has_more":false'), ("has_more", "must be a boolean")
    ),
    "next_page a number": (_page("", '"has_more":true,"next_page":5'),
                           ("next_page", "must be a string")),
    "duplicate dimensions": (_page(_BUCKET % (D0, D0 + DAY, (_RES % "1") + "," + (_RES % "2"))),
                             ("data[0].results[1].<dimensions>", "duplicate row")),
    # in parts of 1 or 3 rows, the second bucket is in a later part than the first
    "duplicate dimensions in a later bucket": (
        _page(_bucket() + "," + _BUCKET % (D0 + DAY, D0 + 2 * DAY,
                                           ",".join(_RES % n for n in "1234"))),
        ("data[1].results[1].<dimensions>", "duplicate row"),
    ),
    "body not an object": (b"[]", ("<body>", "is not an object")),
    "body null": (b"null", ("<body>", "is not an object")),
    "empty body": (b"", ("<body>", "is not valid JSON")),
    "truncated": (GOOD[:-7], ("<body>", "is not valid JSON")),
    "HTML": (b"<html><body>Bad gateway</body></html>", ("<body>", "is not valid JSON")),
    "junk after": (GOOD + b"x", ("<body>", "is not valid JSON")),
    "two documents": (GOOD + b" " + GOOD, ("<body>", "is not valid JSON")),
    "form feed before": (b"\x0c" + GOOD, ("<body>", "is not valid JSON")),
    "no-break space after": (GOOD + "\u00a0".encode(), ("<body>", "is not valid JSON")),
    "NUL inside": (GOOD[:1] + b"\x00" + GOOD[1:], ("<body>", "is not valid JSON")),
    "deep nesting": (
        _page(_bucket(), '"has_more":false,"x":' + "[" * 200_000 + "]" * 200_000),
        ("<body>", "is not valid JSON"),
    ),
    # bytes that are not UTF-8, even inside a field nobody reads
    "latin-1 byte in an ignored field": (
        GOOD[:-1] + b',"note":"caf\xe9"}',
        ("<body>", f"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position "
                   f"{len(GOOD) + 11}: invalid continuation byte"),
    ),
    "lone surrogate (WTF-8)": (GOOD.replace(b"proj_a", b"\xed\xa0\x80", 1),
                               ("<body>", "UnicodeDecodeError")),
    "UTF-16": (GOOD.decode().encode("utf-16"), ("<body>", "UnicodeDecodeError")),
    "UTF-32": (GOOD.decode().encode("utf-32"), ("<body>", "UnicodeDecodeError")),
    "cut inside a multi-byte character": (
        GOOD.replace(b"gpt-x", "gpt-é".encode()).split(b"\xa9")[0],
        ("<body>", "UnicodeDecodeError"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_named_cases(name):
    content, refused = CASES[name]
    got = outcome(content, COSTS)
    if refused is None:
        assert got == ok(content, COSTS)
    else:
        field, words = refused
        assert got[:2] == ("error", field) and words in got[2], got


def test_invalid_json_names_the_body_and_shows_how_it_starts():
    with pytest.raises(AdminApiResponseError) as err:
        parse(b"<html>" + b"x" * 100, COSTS)
    assert err.value.field == "<body>"
    assert err.value.value == f"106 bytes starting {'<html>' + 'x' * 74!r}"
    assert str(err.value).startswith(
        "/organization/costs: invalid response: field '<body>' is not valid JSON "
        "(DecodeError: JSON is malformed: invalid character (byte 0))"
    )


def test_a_refused_value_is_shown_as_sent():
    body = _page(_BUCKET % (D0, D0 + DAY, '{"amount":{"value":[1.50,"x"]}}'))
    with pytest.raises(AdminApiResponseError) as err:
        parse(body, COSTS)
    assert (err.value.field, err.value.value) == ("data[0].results[0].amount.value",
                                                  [Decimal("1.50"), "x"])
    body = _page(_BUCKET % (D0, D0 + DAY, '{"amount":{"value":"NaN"}}'))
    with pytest.raises(AdminApiResponseError) as err:
        parse(body, COSTS)
    assert (err.value.field, err.value.value) == ("data[0].results[0].amount.value", "NaN")


def test_rows_as_dicts_and_text_kept_once_per_page():
    page = parse(GOOD, COSTS)
    assert len(page) == 2 and page.bucket_starts == [D0, D0 + DAY]
    assert (page.has_more, page.next_page) == (False, None)
    assert list(page.rows()) == [
        {
            "cost_date": day,
            "project_id": "proj_a",
            "line_item": "gpt-x, input",
            "api_key_id": None,
            "amount_usd": Decimal("1.50"),
            "currency": "usd",
            "quantity": None,
            "quantity_unit": None,
        }
        for day in (date(2025, 12, 6), date(2025, 12, 7))
    ]
    first, second = page.columns["line_item"]
    assert first is second  # one str object for a text the page repeats


def test_a_field_the_family_never_has_is_one_repeated_value():
    embeddings = Target("/organization/usage/embeddings", WIN, "embeddings")
    result = (
        '{"object":"organization.usage.embeddings.result","input_tokens":%d,'
        '"num_model_requests":1,"project_id":"proj_a","model":"m-%d"}'
    )
    body = _page(_BUCKET % (D0, D0 + DAY, ",".join(result % (i, i) for i in range(3))))
    page = parse(body, embeddings)
    usage_type, audio, tier = (
        page.columns[c] for c in ("usage_type", "input_audio_tokens", "service_tier")
    )
    assert [type(c) for c in (usage_type, audio, tier)] == [Repeated] * 3
    assert (usage_type.value, audio.value, tier.value) == ("embeddings", 0, None)
    assert len(usage_type) == 3 and list(usage_type) == ["embeddings"] * 3
    assert usage_type[-1] == "embeddings" and usage_type[1:] == ["embeddings"] * 2
    with pytest.raises(IndexError):
        usage_type[3]
    assert page.columns["input_tokens"] == [0, 1, 2]  # a field it has is a list
    assert [r["usage_type"] for r in page.rows()] == ["embeddings"] * 3
