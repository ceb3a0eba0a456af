"""The usage/costs fast paths are a second implementation: prove them equal to the checked one.

`parse_bucket_text` (a streaming, bucket-by-bucket parse of the raw body) and the fast
normalizers (`usage_normalizer(f).fast`, `normalize_cost.fast`) exist only for speed. Each
must give exactly what the checked path gives: the same records with the same Python types
and spellings (Decimal('1.50') is not Decimal('1.5')), or the same exception with the same
message, field and value. The oracle is `parse_bucket_page(parse_json(body))`, run twice:
as shipped, and with normalizers stripped of their `.fast` twin (purely checked).

Real pages come from the sandbox over loopback HTTP; the mutation corpus is seeded, so a
failure names a reproducible case.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.openai_admin import AdminApiResponseError
from kscope_openai_pipeline.openai_admin.records import (
    COST_KEY_COLUMNS,
    COSTS_RESULT_OBJECT,
    USAGE_FAMILIES,
    USAGE_GROUP_BY,
    USAGE_KEY_COLUMNS,
    USAGE_OPTIONAL_METRICS,
    USAGE_REQUIRED_METRICS,
    USAGE_RESULT_OBJECTS,
    ResultNormalizer,
    Window,
    _Obj,
    _stream_bucket_page,
    normalize_cost,
    parse_bucket_page,
    parse_bucket_text,
    parse_json,
    usage_normalizer,
    utc_date,
)
from kscope_openai_pipeline.sandbox.server import Sandbox

DAY = 86400
EP_COSTS = "/organization/costs"


# ------------------------------------------------------------------------ JSON writing


class Raw(str):
    """JSON text written verbatim: numbers spelled as an API might ("1e3", "12.50"),
    NaN, escaped keys, trailing commas."""


class Pairs(list):
    """A JSON object as (key, value) pairs, so that a key can repeat."""


def dump(v: Any, ws: str = "") -> str:
    """Serialize like the API (Decimal digits kept as parsed); `ws` goes after every
    structural character so layouts other than the compact one are exercised too."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict | Pairs):
        items = v.items() if isinstance(v, dict) else v
        inner = f",{ws}".join(
            f"{k if isinstance(k, Raw) else json.dumps(k)}{ws}:{ws}{dump(x, ws)}" for k, x in items
        )
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
    return json.loads(content, parse_float=Decimal)


# ------------------------------------------------------------------------ comparing


def typed(records: list[dict[str, Any]]) -> list[list[tuple[str, str, str]]]:
    """Records with key order, type and exact spelling of every value."""
    return [[(k, type(v).__name__, repr(v)) for k, v in r.items()] for r in records]


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        page = call()
    except AdminApiResponseError as exc:
        return ("error", type(exc).__name__, str(exc), exc.field, repr(exc.value))
    except (ValueError, RecursionError) as exc:  # anything that escapes both paths alike
        return ("error", type(exc).__name__, str(exc))
    return ("ok", typed(page.records), page.bucket_starts, page.has_more, page.next_page)


def plain(normalize: ResultNormalizer) -> ResultNormalizer:
    """The same normalizer without its `.fast` twin: the purely checked path."""
    return lambda obj, day: normalize(obj, day)


@dataclass(frozen=True)
class Target:
    """What a body is parsed against: the endpoint, the asked window and the normalizer."""

    endpoint: str
    window: Window
    normalize: ResultNormalizer
    keys: tuple[str, ...]


def all_outcomes(content: bytes, t: Target) -> dict[str, tuple[Any, ...]]:
    """Every way a body can be parsed; all must agree."""
    args = (t.endpoint, t.window)

    def text_call(body: bytes | bytearray | str) -> Callable[[], Any]:
        return lambda: parse_bucket_text(body, *args, t.normalize, t.keys)

    got = {
        "checked": outcome(
            lambda: parse_bucket_page(parse_json(content, t.endpoint), *args, t.normalize, t.keys)
        ),
        "checked_slow": outcome(
            lambda: parse_bucket_page(
                parse_json(content, t.endpoint), *args, plain(t.normalize), t.keys
            )
        ),
        "bytes": outcome(text_call(content)),
        "bytearray": outcome(text_call(bytearray(content))),
    }
    with contextlib.suppress(UnicodeDecodeError):  # the client hands over UTF-8 as text
        got["text"] = outcome(text_call(content.decode("utf-8")))
    return got


def assert_agree(content: bytes, t: Target, label: str) -> tuple[Any, ...]:
    got = all_outcomes(content, t)
    reference = got["checked_slow"]
    for way, result in got.items():
        assert result == reference, (
            f"{label}: {way} differs from the checked path {content[:300]!r}"
        )
    return reference


# ------------------------------------------------------------------------ sandbox pages


@dataclass(frozen=True)
class Served:
    label: str
    target: Target
    body: bytes


def _usage_target(family: str, start: int, end: int) -> Target:
    endpoint = f"/organization/usage/{family}"
    return Target(endpoint, Window(start, end), usage_normalizer(family), USAGE_KEY_COLUMNS)


def _costs_target(start: int, end: int) -> Target:
    return Target(EP_COSTS, Window(start, end), normalize_cost, COST_KEY_COLUMNS)


@pytest.fixture(scope="module")
def served() -> Iterator[list[Served]]:
    """Raw bodies of a spread of usage/costs queries (group_by, widths, misaligned starts,
    windows before the data, filters, second pages) on the seed-7 tiny sandbox."""
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

        def get(label: str, path: str, t: Target, params: list[tuple[str, str]]) -> None:
            query = [
                ("start_time", str(t.window.start_ts)),
                ("end_time", str(t.window.end_ts)),
                *params,
            ]
            for page_no in (1, 2):  # a second page when there is one
                r = http.get(path.lstrip("/"), params=query)
                assert r.status_code == 200, (label, r.text[:300])
                out.append(Served(f"{label} p{page_no}", t, r.content))
                nxt = load(r.content)["next_page"]
                if nxt is None:
                    return
                query = [*query, ("page", nxt)]

        a_project = next(iter(load_projects(http)))
        for family in USAGE_FAMILIES:
            ep = f"/organization/usage/{family}"
            dims = USAGE_GROUP_BY[family]
            full = [("group_by", g) for g in dims]
            t = _usage_target(family, end_day - 7 * DAY, end_day)
            get(f"{family} full", ep, t, [("limit", "7"), *full])
            t = _usage_target(family, first_day - 3 * DAY, first_day + 28 * DAY)
            get(f"{family} ungrouped", ep, t, [("limit", "31")])
            t = _usage_target(family, end_day - 20 * DAY + 3600, end_day - 15 * DAY)
            get(f"{family} misaligned", ep, t, [("limit", "31"), ("group_by", dims[0])])
            t = _usage_target(family, end_day - 30 * DAY, end_day - 23 * DAY)
            get(f"{family} paged", ep, t, [("limit", "3"), *full])
            t = _usage_target(family, end_day - 10 * DAY, end_day - 3 * DAY)
            get(f"{family} filtered", ep, t, [("project_ids", a_project), *full])
        t = _usage_target("completions", end_day - 2 * DAY, end_day)
        get(
            "completions hourly",
            "/organization/usage/completions",
            t,
            [
                ("bucket_width", "1h"),
                ("limit", "48"),
                *[("group_by", g) for g in USAGE_GROUP_BY["completions"]],
            ],
        )
        costs = [
            ("costs project+line_item", first_day, end_day, ["project_id", "line_item"], "180"),
            ("costs api_key", end_day - 14 * DAY, end_day, ["api_key_id"], "180"),
            ("costs ungrouped", first_day - 5 * DAY, end_day, [], "180"),
            ("costs line_item misaligned", end_day - 9 * DAY + 7200, end_day, ["line_item"], "180"),
            ("costs paged", end_day - 12 * DAY, end_day, ["project_id", "line_item"], "5"),
        ]
        for label, start, end, group_by, limit in costs:
            params = [("limit", limit), *[("group_by", g) for g in group_by]]
            get(label, EP_COSTS, _costs_target(start, end), params)
        get(
            "costs filtered",
            EP_COSTS,
            _costs_target(end_day - 20 * DAY, end_day),
            [("limit", "180"), ("project_ids", a_project), ("group_by", "line_item")],
        )
    yield out


def load_projects(http: httpx.Client) -> list[str]:
    body = http.get("organization/projects", params={"limit": "100"}).json()
    return [p["id"] for p in body["data"]]


def raw_results(s: Served) -> Iterator[tuple[dict[str, Any], date]]:
    for bucket in load(s.body)["data"]:
        for res in bucket["results"]:
            yield res, utc_date(bucket["start_time"])


# ------------------------------------------------------------------------ 1. real pages


def test_real_pages_parse_identically_and_take_the_streaming_path(served):
    per_endpoint: dict[str, int] = {}
    string_amounts = 0
    for s in served:
        t = s.target
        ref = assert_agree(s.body, t, s.label)
        assert ref[0] == "ok", (s.label, ref)
        # the streaming reader itself (not its fallback) accepts every real page
        streamed = _stream_bucket_page(
            s.body.decode("utf-8"), t.endpoint, t.window, t.normalize, t.keys
        )
        assert typed(streamed.records) == ref[1]
        per_endpoint[t.endpoint] = per_endpoint.get(t.endpoint, 0) + len(streamed.records)
        string_amounts += sum(
            isinstance(r.get("amount", {}).get("value"), str) for r, _ in raw_results(s)
        )
    # the spread covers every family and costs with real rows, and both amount spellings
    assert sorted(per_endpoint) == sorted(
        [EP_COSTS, *(f"/organization/usage/{f}" for f in USAGE_FAMILIES)]
    )
    assert all(n > 0 for n in per_endpoint.values()), per_endpoint
    assert string_amounts > 0


# ------------------------------------------------------------------------ 3. normalizers

# Values a field could wrongly (or unusually) carry.
ODD_VALUES: tuple[Any, ...] = (
    None,
    "",
    " ",
    "x",
    "5",
    "12.50",
    " 12.5 ",
    "1e3",
    "abc",
    "NaN",
    "Infinity",
    "sNaN",
    "é✓",
    0,
    5,
    -1,
    -7,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    10**30,
    True,
    False,
    Decimal("1.5"),
    Decimal("-0.0"),
    Decimal("1E+2"),
    Decimal("12.500000000"),
    Decimal("1.2345678901234567890123456789"),
    Decimal("1E-7"),
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    [],
    [1],
    {},
    {"a": 1},
)
_MISSING = object()


def _objects_for(expected: str) -> tuple[Any, ...]:
    return (
        expected,
        _MISSING,
        None,
        "",
        5,
        "organization.usage.unknown.result",
        USAGE_RESULT_OBJECTS["completions"],
        USAGE_RESULT_OBJECTS["file_search_calls"],
        COSTS_RESULT_OBJECT,
    )


def _set(d: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        d.pop(key, None)
    else:
        d[key] = copy.deepcopy(value)


def mutate_result(rng: random.Random, res: dict[str, Any], kind: str) -> str:
    """One in-place change to a result; returns what it did (for failure messages)."""
    if kind == "costs":
        fields = [
            "amount",
            "amount.value",
            "amount.value",
            "amount.currency",
            "project_id",
            "line_item",
            "api_key_id",
            "quantity",
            "quantity_unit",
            "object",
            "extra",
        ]
    else:
        dims = list(USAGE_GROUP_BY[kind])
        fields = [
            *USAGE_REQUIRED_METRICS[kind],
            *USAGE_OPTIONAL_METRICS.get(kind, ()),
            *dims,
            "output_tokens",
            "model",
            "object",
            "extra",
        ]
    field = rng.choice(fields)
    if field == "object":
        value = rng.choice(
            _objects_for(COSTS_RESULT_OBJECT if kind == "costs" else USAGE_RESULT_OBJECTS[kind])
        )
    else:
        value = rng.choice((*ODD_VALUES, _MISSING))
    if field == "extra":
        field = rng.choice(["zzz", "usage_type", "cost_date", "results"])
    if field.startswith("amount."):
        amount = res.get("amount")
        if isinstance(amount, dict):
            _set(amount, field.split(".")[1], value)
        return f"{field}={value!r}"
    _set(res, field, value)
    return f"{field}={value!r}"


def compare_normalizers(normalize: ResultNormalizer, raw: Any, day: date) -> str:
    """Fast vs checked on one result: 'fast' (same record), 'deferred' (fast said None)."""
    fast = normalize.fast  # type: ignore[attr-defined]
    before = dump(raw)
    record = fast(raw, day, {}.setdefault)
    assert dump(raw) == before, "the fast normalizer changed its input"
    try:
        checked: Any = typed([normalize(_Obj("/x", raw, "r"), day)])
    except AdminApiResponseError as exc:
        checked = exc
    if record is None:
        return "deferred"
    assert not isinstance(checked, Exception), f"fast accepted what checked refuses: {checked}"
    assert typed([record]) == checked
    return "fast"


def _normalizer(s: Served) -> tuple[ResultNormalizer, str]:
    if s.target.endpoint == EP_COSTS:
        return normalize_cost, "costs"
    return s.target.normalize, s.target.endpoint.rsplit("/", 1)[1]


def test_fast_normalizers_match_checked_on_real_results(served):
    counts = {"fast": 0, "deferred": 0}
    string_amounts = 0
    for s in served:
        normalize, _ = _normalizer(s)
        for raw, day in raw_results(s):
            counts[compare_normalizers(normalize, raw, day)] += 1
            string_amounts += isinstance(raw.get("amount", {}).get("value"), str)
    # a plain real result always takes the fast path, except a string amount ("12.50")
    assert counts["deferred"] == string_amounts
    assert counts["fast"] > 0


def test_fast_normalizers_match_checked_on_mutated_results(served):
    rng = random.Random(20261126)
    samples: dict[str, list[tuple[dict[str, Any], date, ResultNormalizer]]] = {}
    for s in served:
        normalize, kind = _normalizer(s)
        for raw, day in raw_results(s):
            if len(samples.setdefault(kind, [])) < 6:
                samples[kind].append((raw, day, normalize))
    assert sorted(samples) == sorted(["costs", *USAGE_FAMILIES])
    counts = {"fast": 0, "deferred": 0}
    for kind, pool in sorted(samples.items()):
        for n in range(60):
            raw, day, normalize = pool[n % len(pool)]
            res = copy.deepcopy(raw)
            what = [mutate_result(rng, res, kind) for _ in range(1 + n % 3)]
            try:
                counts[compare_normalizers(normalize, res, day)] += 1
            except AssertionError as exc:
                raise AssertionError(f"{kind} {what}: {exc}") from None
        for odd in (None, 5, "x", [], [res]):  # not an object at all
            with pytest.raises(AdminApiResponseError, match="is not an object"):
                normalize(_Obj("/x", odd, "r"), day)
    assert counts["fast"] > 100 and counts["deferred"] > 300, counts


# ------------------------------------------------------------------------ 2. mutation corpus


def _bases(served: list[Served]) -> list[Served]:
    """Small real pages with rows (<= 3 buckets of <= 4 results) to mutate."""
    picked: dict[str, Served] = {}
    for s in served:
        if s.target.endpoint in picked or not any(True for _ in raw_results(s)):
            continue
        page = load(s.body)
        page["data"] = [b for b in page["data"] if b["results"]][:3]
        for b in page["data"]:
            b["results"] = b["results"][:4]
        picked[s.target.endpoint] = Served(s.label, s.target, dump(page).encode("utf-8"))
    return list(picked.values())


def _any_result(rng: random.Random, page: dict[str, Any]) -> dict[str, Any] | None:
    data = page.get("data")
    results = [
        r
        for b in (data if isinstance(data, list) else [])
        if type(b) is dict
        for r in (b.get("results") if isinstance(b.get("results"), list) else [])
        if type(r) is dict
    ]
    return rng.choice(results) if results else None


PAGE_OPS: tuple[str, ...] = (
    "result",
    "start_time",
    "result",
    "end_time",
    "result",
    "dup_bucket",
    "result",
    "dup_result",
    "bucket_odd",
    "results_odd",
    "legacy_result",
    "envelope",
    "envelope_dup",
    "bucket_dup_key",
    "result_dup_key",
    "escaped_key",
    "order",
    "data_trailing_comma",
    "results_trailing_comma",
    "nan",
    "non_ascii",
    "result_odd",
)
BYTE_OPS: tuple[str, ...] = (
    "bom",
    "truncate",
    "bad_byte",
    "utf16",
    "utf32",
    "space",
    "junk",
    "surrogate",
    "latin1",
    "envelope_trailing_comma",
    "nul",
    "two_docs",
    "drop_comma",
)


def mutate_page(rng: random.Random, page: dict[str, Any], t: Target, op: str) -> tuple[str, Any]:
    """One structural change; returns (what, page) where page may become Raw/Pairs/bytes."""
    kind = "costs" if t.endpoint == EP_COSTS else t.endpoint.rsplit("/", 1)[1]
    w = t.window
    buckets = page["data"] if isinstance(page.get("data"), list) else []
    plain_buckets = [x for x in buckets if type(x) is dict]
    b = rng.choice(plain_buckets) if plain_buckets else None
    b_results = b.get("results") if b is not None else None
    if not isinstance(b_results, list):
        b_results = []
    if op == "result":
        res = _any_result(rng, page)
        return (mutate_result(rng, res, kind) if res is not None else "none"), page
    if op in ("start_time", "end_time") and b is not None:
        value = rng.choice(
            [
                w.start_ts - DAY,
                w.start_ts - 1,
                w.end_ts,
                w.end_ts + DAY,
                b["start_time"],
                w.start_ts + 1,
                w.end_ts - 1,
                Decimal(f"{b.get(op)}.0"),
                str(b.get(op)),
                None,
                True,
                _MISSING,
                -1,
                2**64,
                w.start_ts + DAY,
            ]
        )
        _set(b, op, value)
        return f"{op}={value!r}", page
    if op == "dup_bucket" and b is not None:
        buckets.insert(rng.randrange(len(buckets) + 1), copy.deepcopy(b))
        return op, page
    if op == "dup_result" and b_results:
        b_results.append(copy.deepcopy(rng.choice(b_results)))
        return op, page
    if op == "bucket_odd" and buckets:
        buckets[rng.randrange(len(buckets))] = rng.choice([None, 5, "b", [], {}])
        return op, page
    if op == "results_odd" and b is not None:
        _set(b, "results", rng.choice([None, 5, "r", {}, _MISSING, [None], [5]]))
        return op, page
    if op == "result_odd" and b_results:
        b_results[rng.randrange(len(b_results))] = rng.choice([None, 7, "s", [], {}])
        return op, page
    if op == "legacy_result" and b is not None:
        b["result"] = b.pop("results", None) if rng.random() < 0.7 else []
        return op, page
    if op == "envelope":
        key = rng.choice(["has_more", "next_page", "data", "object", "extra"])
        value = rng.choice([_MISSING, None, "", "x", 0, 1, True, False, [], {}, {"a": [1]}])
        _set(page, key, value)
        return f"envelope {key}={value!r}", page
    if op == "envelope_dup":
        key = rng.choice(["has_more", "next_page", "data", "object"])
        pairs = Pairs(page.items())
        pairs.insert(rng.randrange(len(pairs) + 1), (key, rng.choice([True, None, [], "p"])))
        return f"duplicate top-level {key}", pairs
    if op == "bucket_dup_key" and buckets:
        i = rng.randrange(len(buckets))
        if isinstance(buckets[i], dict):
            key = rng.choice(["start_time", "end_time", "results", "object"])
            pairs = Pairs(buckets[i].items())
            pairs.insert(rng.randrange(len(pairs) + 1), (key, rng.choice([w.start_ts, [], 0])))
            buckets[i] = pairs
            return f"duplicate bucket {key}", page
    if op == "result_dup_key":
        res = _any_result(rng, page)
        if res is not None and b is not None:
            key = rng.choice(list(res) or ["x"])
            pairs = Pairs(res.items())
            pairs.insert(rng.randrange(len(pairs) + 1), (key, rng.choice([None, 3, "y"])))
            for bb in plain_buckets:
                rs = bb.get("results")
                for i, r in enumerate(rs if isinstance(rs, list) else []):
                    if r is res:
                        rs[i] = pairs
            return f"duplicate result key {key}", page
    if op == "escaped_key":
        key = rng.choice(["data", "has_more", "next_page"])
        if key in page:
            escaped = Raw('"' + "".join(f"\\u{ord(c):04x}" for c in key) + '"')
            return f"escaped {key}", Pairs((escaped if k == key else k, v) for k, v in page.items())
    if op == "order":
        items = list(page.items())
        rng.shuffle(items)
        return "key order", dict(items)
    if op == "data_trailing_comma" and buckets:
        page["data"] = Raw("[" + ",".join(dump(x) for x in buckets) + rng.choice([",", ", "]) + "]")
        return op, page
    if op == "results_trailing_comma" and b is not None and b_results:
        b["results"] = Raw("[" + ",".join(dump(x) for x in b_results) + ",]")
        return op, page
    if op == "nan":
        res = _any_result(rng, page)
        if res is not None:
            field = "amount" if kind == "costs" else USAGE_REQUIRED_METRICS[kind][0]
            value = Raw(rng.choice(["NaN", "Infinity", "-Infinity"]))
            if field == "amount" and isinstance(res.get("amount"), dict):
                res["amount"]["value"] = value
            else:
                res[field] = value
            return f"constant {value}", page
    if op == "non_ascii":
        res = _any_result(rng, page)
        if res is not None:
            field = "project_id"
            res[field] = rng.choice(["proj_é", "proj_✓😀", "proj_\u2028", "\\u00e9"])
            return f"non-ASCII {res[field]!r}", page
    return "none", page


def mutate_bytes(rng: random.Random, content: bytes, op: str) -> tuple[str, bytes]:
    if op == "bom":
        return op, b"\xef\xbb\xbf" + content
    if op == "truncate":
        n = rng.randrange(len(content))
        return f"truncate@{n}", content[:n]
    if op == "bad_byte":
        n = rng.randrange(len(content))
        return f"bad byte@{n}", content[:n] + rng.choice([b"\xff", b"\xc3", b"\x80"]) + content[n:]
    if op == "utf16":
        return op, content.decode("utf-8").encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be"]))
    if op == "utf32":
        return op, content.decode("utf-8").encode("utf-32")
    if op == "space":
        pad = rng.choice([" ", "\n", "\r\n\t ", "\x0c", "\u00a0"]).encode("utf-8")
        return f"padding {pad!r}", rng.choice([pad + content, content + pad, pad + content + pad])
    if op == "junk":
        return op, content + rng.choice([b"x", b"]", b"}", b",", b"null"])
    if op == "surrogate":  # WTF-8: json.loads(bytes) decodes it with surrogatepass
        n = content.find(b'"proj')
        if n >= 0:
            return op, content[: n + 1] + b"\xed\xa0\x80" + content[n + 1 :]
        return op, content
    if op == "latin1":
        return op, content.replace(b'"proj', '"é'.encode("latin-1"), 1)
    if op == "envelope_trailing_comma":
        return op, content[:-1] + b",}"
    if op == "drop_comma":
        commas = [i + 1 for i in range(len(content)) if content.startswith(b"},{", i)]
        n = rng.choice(commas) if commas else 0
        return f"drop comma@{n}", content[:n] + content[n + 1 :] if commas else content
    if op == "nul":
        n = rng.randrange(min(3, len(content)))
        return f"nul@{n}", content[:n] + b"\x00" + content[n:]
    return op, content + b" " + content


def test_mutation_corpus_both_paths_agree(served):
    rng = random.Random(7)
    bases = _bases(served)
    assert len(bases) == len(USAGE_FAMILIES) + 1
    seen: dict[str, int] = {"ok": 0, "error": 0, "streamed_ok": 0, "streamed_refused": 0}
    cases = 0
    for n in range(480):
        base = bases[n % len(bases)]
        t = base.target
        page: Any = load(base.body)
        what: list[str] = []
        # every base meets every operation; further steps are drawn at random
        ops = [PAGE_OPS[(n // len(bases)) % len(PAGE_OPS)]]
        ops += [rng.choice(PAGE_OPS) for _ in range(n % 3)]
        for op in ops:
            if not isinstance(page, dict):
                break
            step, page = mutate_page(rng, page, t, op)
            what.append(step)
        content = dump(page, rng.choice(["", "", " ", "\n  ", "\r\n\t", "\x0c"])).encode("utf-8")
        if n % 2 == 1:
            step, content = mutate_bytes(rng, content, BYTE_OPS[(n // 2) % len(BYTE_OPS)])
            what.append(step)
        ref = assert_agree(content, t, f"case {n} {what}")
        seen[ref[0]] += 1
        cases += 1
        try:  # how often the streaming reader decided alone (no fallback)
            _stream_bucket_page(content, t.endpoint, t.window, t.normalize, t.keys)
            seen["streamed_ok"] += 1
        except Exception:  # any refusal means the checked path decided
            seen["streamed_refused"] += 1
    assert cases == 480
    # the corpus exercises both outcomes and both routes through parse_bucket_text
    assert seen["ok"] > 60 and seen["error"] > 300, seen
    assert seen["streamed_ok"] > 40 and seen["streamed_refused"] > 300, seen


# Fixed cases worth naming (the first is a divergence this file found: the streaming
# reader accepted a trailing comma in `data` that json.loads rejects).
D0 = 1764979200  # 2025-12-06 00:00 UTC
WIN = Window(D0, D0 + 3 * DAY)
COSTS = Target(EP_COSTS, WIN, normalize_cost, COST_KEY_COLUMNS)
_RES = (
    '{"object":"organization.costs.result","amount":{"value":%s,"currency":"usd"},'
    '"project_id":"proj_a","line_item":"gpt-x, input"}'
)
_BUCKET = '{"object":"bucket","start_time":%d,"end_time":%d,"results":[%s]}'


def _page(data: str, tail: str = '"has_more":false,"next_page":null') -> bytes:
    return ('{"object":"page","data":[' + data + "]," + tail + "}").encode("utf-8")


def _bucket(amount: str = "1.50", start: int = D0) -> str:
    return _BUCKET % (start, start + DAY, _RES % amount)


FIXED: dict[str, tuple[bytes, str]] = {
    "data trailing comma": (_page(_bucket() + ","), "error"),
    "data trailing comma + space": (_page(_bucket() + " , "), "error"),
    "missing comma between buckets": (_page(_bucket() + " " + _bucket(start=D0 + DAY)), "error"),
    "empty data": (_page(""), "ok"),
    "string amount, many decimals": (_page(_bucket('"12.500000000"')), "ok"),
    "exponent amount": (_page(_bucket("1.5E+3")), "ok"),
    "exponent string amount": (_page(_bucket('" 1e-7 "')), "ok"),
    "negative zero amount": (_page(_bucket("-0.0")), "ok"),
    "huge int amount": (_page(_bucket("1" + "0" * 40)), "ok"),
    "too many digits for int()": (_page(_bucket("1" * 5000)), "error"),
    "NaN amount": (_page(_bucket("NaN")), "error"),
    "two buckets": (_page(_bucket() + "," + _bucket(start=D0 + DAY)), "ok"),
    "duplicate bucket": (_page(_bucket() + "," + _bucket()), "error"),
    "bucket before window": (_page(_bucket(start=D0 - DAY)), "error"),
    "data last": (b'{"has_more":false,"data":[' + _bucket().encode() + b"]}", "ok"),
    "no data": (b'{"has_more":false}', "error"),
    "duplicate data key": (
        b'{"data":[],"data":[' + _bucket().encode() + b'],"has_more":true}',
        "ok",
    ),
    "duplicate has_more": (_page(_bucket(), '"has_more":"x","has_more":false'), "ok"),
    "bom": (b"\xef\xbb\xbf" + _page(_bucket()), "ok"),
    "JSON whitespace around": (b" \r\n\t" + _page(_bucket()) + b"\n ", "ok"),
    "form feed before": (b"\x0c" + _page(_bucket()), "error"),
    "form feed after": (_page(_bucket()) + b"\x0c", "error"),
    "form feed inside data": (_page("\x0c" + _bucket()), "error"),
    "no-break space after": (_page(_bucket()) + "\u00a0".encode(), "error"),
    "deep nesting": (
        _page(_bucket(), '"has_more":false,"x":' + "[" * 200_000 + "]" * 200_000),
        "error",
    ),
}


@pytest.mark.parametrize("name", list(FIXED))
def test_named_cases(name):
    content, expected = FIXED[name]
    ref = assert_agree(content, COSTS, name)
    assert ref[0] == expected, ref
