"""The synthetic organization: determinism, sizes, every real-org feature, costs = usage x price.

Exact counts are for `build_org(7, "tiny")`; they change only when the generator changes
on purpose (then update them together with the README's numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd
import pytest

from kscope_openai_pipeline.sandbox import prices
from kscope_openai_pipeline.sandbox.model import (
    FAMILY_DIMENSIONS,
    FAMILY_METRICS,
    USAGE_FAMILIES,
    SyntheticOrg,
)
from kscope_openai_pipeline.sandbox.org import END_DAY, SIZES, build_org

DAY = 86_400
NANO = Decimal("0.000000001")


@pytest.fixture(scope="module")
def tiny() -> SyntheticOrg:
    return build_org(7, "tiny")


@pytest.fixture(scope="module")
def small() -> SyntheticOrg:
    return build_org(7, "small")


def _assert_same(a: SyntheticOrg, b: SyntheticOrg) -> None:
    for name in (
        "organization_id",
        "start_day",
        "end_day",
        "projects",
        "users",
        "service_accounts",
        "project_users",
        "api_keys",
        "invites",
        "audit_events",
        "extra",
    ):
        assert getattr(a, name) == getattr(b, name), name
    for family in USAGE_FAMILIES:
        pd.testing.assert_frame_equal(a.usage[family], b.usage[family], check_exact=True)
    for name in ("costs", "dev_tokens", "gateway_costs", "engineers"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_org_without_the_cache(tiny: SyntheticOrg) -> None:
    fresh = build_org.__wrapped__(7, "tiny")  # bypass lru_cache: a real second build
    assert fresh is not tiny
    _assert_same(fresh, tiny)


def test_build_is_cached(tiny: SyntheticOrg) -> None:
    assert build_org(7, "tiny") is tiny


def test_same_org_in_a_fresh_interpreter(tiny: SyntheticOrg) -> None:
    """No hash randomization or wall clock: another process builds the same bytes."""
    code = (
        "import hashlib;from kscope_openai_pipeline.sandbox.org import build_org;"
        "o=build_org(7,'tiny');h=hashlib.sha256();"
        "[h.update(pd.to_csv().encode()) for pd in [*o.usage.values(),o.costs,o.dev_tokens,"
        "o.gateway_costs,o.engineers]];h.update(repr((o.api_keys,o.users,o.invites)).encode());"
        "print(h.hexdigest())"
    )
    out = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert out[0] == out[1]
    assert len(out[0].strip()) == 64


def test_different_seed_differs(tiny: SyntheticOrg) -> None:
    other = build_org(8, "tiny")
    assert other.organization_id == "org-sandbox8"
    assert {k.id for k in other.api_keys}.isdisjoint({k.id for k in tiny.api_keys})
    assert len(other.usage["completions"]) != len(tiny.usage["completions"])
    assert other.start_day == tiny.start_day  # the time axis is fixed, not seeded


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown size 'huge'"):
        build_org(7, "huge")
    with pytest.raises(ValueError, match="non-negative int"):
        build_org(-1, "tiny")


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
def test_sizes_have_their_counts(size: str) -> None:
    org = build_org(7, size)
    spec = SIZES[size]
    keys = org.api_keys
    assert len(org.projects) == spec.projects
    assert sum(k.kind == "project" for k in keys) == spec.project_keys
    assert sum(k.kind == "admin" for k in keys) == spec.admin_keys
    assert len(org.users) == spec.users
    assert len(org.invites) == spec.invites
    assert org.end_day == END_DAY == int(datetime(2026, 11, 26, tzinfo=UTC).timestamp())
    assert org.start_day == END_DAY - spec.days * DAY
    models = set(org.usage["completions"]["model"])
    assert models == set(list(prices.COMPLETION_MODELS)[: spec.models])
    for family, frame in org.usage.items():
        assert len(frame) > 0, family
        assert frame["ts"].min() >= org.start_day
        assert frame["ts"].max() < org.end_day
    assert org.costs["ts"].min() == org.start_day
    assert org.costs["ts"].max() == org.end_day - DAY


def test_size_table_is_documented() -> None:
    assert list(SIZES) == ["tiny", "small", "medium", "large"]
    assert (SIZES["tiny"].projects, SIZES["tiny"].project_keys, SIZES["tiny"].days) == (3, 8, 60)
    assert (SIZES["large"].projects, SIZES["large"].project_keys, SIZES["large"].users) == (
        300,
        3000,
        1500,
    )
    assert SIZES["large"].models == 40 == len(prices.COMPLETION_MODELS)
    assert SIZES["large"].days == 400


@pytest.mark.slow
def test_large_builds_in_time_and_memory() -> None:
    """A fresh interpreter: CPU time and peak RSS of `build_org(7, "large")`.

    CPU time, not wall time: other processes on a loaded machine stretch the wall time
    (42 s instead of under 30 s was seen) but not the work done; the wall time is printed.
    """
    code = (
        "import time,resource,json;from kscope_openai_pipeline.sandbox.org import build_org;"
        "r=resource.getrusage(resource.RUSAGE_SELF);c=r.ru_utime+r.ru_stime;"
        "t=time.perf_counter();o=build_org(7,'large');dt=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_SELF);"
        "print(json.dumps({'s':dt,'cpu':r.ru_utime+r.ru_stime-c,'rss_mb':r.ru_maxrss/1024,"
        "'completions':len(o.usage['completions']),'keys':len(o.api_keys),"
        "'costs':len(o.costs)}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    facts = json.loads(run.stdout)
    print(f"build_org(7, 'large'): {facts['s']:.1f} s wall, {facts['cpu']:.1f} s CPU")
    assert facts["cpu"] < 30
    assert facts["rss_mb"] < 2048
    assert 1_000_000 <= facts["completions"] <= 3_000_000
    assert facts["keys"] == 3005


# --------------------------------------------------------------------------- inventory


def test_tiny_inventory_exact(tiny: SyntheticOrg) -> None:
    assert tiny.organization_id == "org-sandbox7"
    assert tiny.organization_name == "Sandbox Org 7 (tiny)"
    assert [p.status for p in tiny.projects] == ["active", "active", "archived"]
    assert tiny.projects[0].name == "Default project"
    keys = tiny.api_keys
    assert len(keys) == 9
    assert sum(k.kind == "admin" and k.project_id is None for k in keys) == 1
    assert sum(k.owner_type == "service_account" for k in keys) == 2
    assert sum(k.owner_type == "user" and k.kind == "project" for k in keys) == 6
    assert [k.id for k in keys if k.deleted] == ["key_EqFsNuJ5a7NO3a6r"]
    assert [k.id for k in keys if k.last_used_at is None] == ["key_Up4xgsEOSVCJFQP8"]
    assert len(tiny.service_accounts) == 2
    assert len(tiny.project_users) == 3
    assert sorted(i.status for i in tiny.invites) == ["accepted", "expired", "pending"]
    types = pd.Series([e.type for e in tiny.audit_events]).value_counts().to_dict()
    assert types == {
        "api_key.created": 9,
        "api_key.deleted": 1,
        "user.added": 7,  # the 6 members and the former member
        "user.deleted": 1,
        "project.created": 3,
        "project.archived": 1,
        "invite.sent": 3,
        "invite.accepted": 1,
        "rate_limit.updated": 2,  # one per service account, with its own key
        "login.succeeded": 52,
        "login.failed": 2,
    }


def test_projects_are_created_before_their_keys(small: SyntheticOrg) -> None:
    created = {p.id: p.created_at for p in small.projects}
    for k in small.api_keys:
        if k.project_id is not None:
            assert created[k.project_id] < k.created_at


def test_earliest_key_is_created_at_start_day(tiny: SyntheticOrg, small: SyntheticOrg) -> None:
    for org in (tiny, small):
        earliest = min(k.created_at for k in org.api_keys)
        assert earliest == org.start_day == org.extra["earliest_key_created_at"]
    late = [k for k in tiny.api_keys if k.created_at >= tiny.start_day + DAY]
    assert len(late) == 3  # two project keys created partway + the admin key


def test_service_accounts_belong_to_their_keys_project(small: SyntheticOrg) -> None:
    sa = {s.id: s for s in small.service_accounts}
    sa_keys = [k for k in small.api_keys if k.owner_type == "service_account"]
    assert len(sa_keys) == len(sa) == 15
    for k in sa_keys:
        assert sa[k.owner_id].project_id == k.project_id
        assert sa[k.owner_id].created_at <= k.created_at


def test_key_owners_exist_before_their_keys(small: SyntheticOrg) -> None:
    users = {u.id: u for u in small.users}
    members = {(p.project_id, p.user_id) for p in small.project_users}
    for k in small.api_keys:
        if k.owner_type == "user":
            assert users[k.owner_id].added_at < k.created_at
            if k.kind == "project":
                assert (k.project_id, k.owner_id) in members


def test_redacted_values_are_unique(small: SyntheticOrg) -> None:
    values = [k.redacted_value for k in small.api_keys]
    assert len(set(values)) == len(values)
    assert all(v.startswith(("sk-proj-****", "sk-svcacct-****", "sk-admin-****")) for v in values)


def test_invites(tiny: SyntheticOrg) -> None:
    by = {i.status: i for i in tiny.invites}
    assert by["pending"].expires_at > tiny.end_day > by["pending"].created_at
    assert by["expired"].expires_at < tiny.end_day
    accepted = by["accepted"]
    user = next(u for u in tiny.users if u.email == accepted.email)
    assert accepted.accepted_at == user.added_at


def test_audit_events_match_records(tiny: SyntheticOrg) -> None:
    created = {
        e.resource_id: e.effective_at for e in tiny.audit_events if e.type == "api_key.created"
    }
    assert created == {k.id: k.created_at for k in tiny.api_keys}
    deleted = [
        (e.resource_id, e.effective_at) for e in tiny.audit_events if e.type == "api_key.deleted"
    ]
    assert deleted == [(k.id, k.deleted_at) for k in tiny.api_keys if k.deleted]
    added = {e.resource_id: e.effective_at for e in tiny.audit_events if e.type == "user.added"}
    assert added == {u.id: u.added_at for u in [*tiny.users, *tiny.former_users]}
    removed = {e.resource_id: e.effective_at for e in tiny.audit_events if e.type == "user.deleted"}
    assert removed == {u.id: u.deleted_at for u in tiny.former_users}
    assert len(removed) == 1
    projects = {
        e.resource_id: e.effective_at for e in tiny.audit_events if e.type == "project.created"
    }
    assert projects == {p.id: p.created_at for p in tiny.projects}
    archived = {
        e.resource_id: e.effective_at for e in tiny.audit_events if e.type == "project.archived"
    }
    assert archived == {p.id: p.archived_at for p in tiny.projects if p.archived_at}
    assert len({e.id for e in tiny.audit_events}) == len(tiny.audit_events)


# --------------------------------------------------------------------------- usage


def test_usage_columns_are_the_contract(small: SyntheticOrg) -> None:
    for family in USAGE_FAMILIES:
        frame = small.usage[family]
        assert list(frame.columns) == ["ts", *FAMILY_DIMENSIONS[family], *FAMILY_METRICS[family]]
        for metric in FAMILY_METRICS[family]:
            assert frame[metric].dtype == np.int64
            assert (frame[metric] >= 0).all()
        assert frame["ts"].is_monotonic_increasing
        assert (frame["ts"] % 60 == 0).all()


def test_tiny_usage_rows_exact(tiny: SyntheticOrg) -> None:
    rows = {f: len(df) for f, df in tiny.usage.items()}
    assert rows == {
        "completions": 6023,
        "embeddings": 523,
        "moderations": 628,
        "images": 300,
        "audio_speeches": 166,
        "audio_transcriptions": 209,
        "vector_stores": 87,
        "code_interpreter_sessions": 28,
        "file_search_calls": 791,
        "web_search_calls": 355,
    }
    c = tiny.usage["completions"]
    # org-level traffic: no project and no key, but a user
    org_level = c[c["project_id"].isna()]
    assert len(org_level) == 35
    assert org_level["api_key_id"].isna().all() and org_level["user_id"].notna().all()
    assert int(c["batch"].sum()) == 621
    assert c["service_tier"].value_counts().to_dict() == {
        "default": 5260,
        "flex": 428,
        "priority": 335,
    }
    assert not c.loc[c["batch"], "service_tier"].ne("default").any()


def test_metric_relations(small: SyntheticOrg) -> None:
    c = small.usage["completions"]
    assert (c["input_cached_tokens"] <= c["input_tokens"]).all()
    assert (c["input_cached_tokens"] + c["input_audio_tokens"] <= c["input_tokens"]).all()
    assert (c["output_audio_tokens"] <= c["output_tokens"]).all()
    assert c["input_cached_tokens"].sum() > 0
    audio_models = {m for m, p in prices.COMPLETION_MODELS.items() if p.audio_input is not None}
    has_audio = c["input_audio_tokens"] > 0
    assert has_audio.any()
    assert set(c.loc[has_audio, "model"]) <= audio_models
    assert not c.loc[c["model"].isin(audio_models), "batch"].any()  # no batch audio


def test_project_only_families_have_no_key(tiny: SyntheticOrg) -> None:
    assert list(tiny.usage["vector_stores"].columns) == ["ts", "project_id", "usage_bytes"]
    assert list(tiny.usage["code_interpreter_sessions"].columns) == [
        "ts",
        "project_id",
        "num_sessions",
    ]
    assert (tiny.usage["vector_stores"]["ts"] % DAY == 0).all()
    vs = tiny.usage["vector_stores"]
    assert not vs.duplicated(["ts", "project_id"]).any()


def test_service_account_traffic_has_no_user(small: SyntheticOrg) -> None:
    owner = {k.id: k for k in small.api_keys}
    for family in ("completions", "embeddings", "file_search_calls"):
        frame = small.usage[family]
        keyed = frame[frame["api_key_id"].notna()]
        is_sa = keyed["api_key_id"].map(lambda k: owner[k].owner_type == "service_account")
        assert keyed.loc[is_sa, "user_id"].isna().all()
        expected_user = keyed.loc[~is_sa, "api_key_id"].map(lambda k: owner[k].owner_id)
        assert (keyed.loc[~is_sa, "user_id"] == expected_user).all()


def test_keys_are_used_only_while_they_exist(small: SyntheticOrg) -> None:
    keys = {k.id: k for k in small.api_keys}
    projects = {p.id: p for p in small.projects}
    last_seen: dict[str, int] = defaultdict(lambda: -1)
    for family in USAGE_FAMILIES:
        frame = small.usage[family]
        if "api_key_id" not in frame.columns:
            continue
        keyed = frame[frame["api_key_id"].notna()]
        first = keyed.groupby("api_key_id")["ts"].min()
        last = keyed.groupby("api_key_id")["ts"].max()
        for kid, ts in first.items():
            assert ts >= keys[kid].created_at
        for kid, ts in last.items():
            key = keys[kid]
            last_seen[kid] = max(last_seen[kid], int(ts))
            if key.deleted:
                assert ts < key.deleted_at
            archived = projects[key.project_id].archived_at
            if archived is not None:
                assert ts < archived
    for key in small.api_keys:
        if key.kind == "project":
            assert key.last_used_at == last_seen.get(key.id)


def test_archived_project_and_deleted_key_have_usage_and_costs(tiny: SyntheticOrg) -> None:
    archived = [p for p in tiny.projects if p.status == "archived"]
    assert len(archived) == 1 and archived[0].archived_at is not None
    c = tiny.usage["completions"]
    assert (c["project_id"] == archived[0].id).sum() == 572
    deleted = next(k for k in tiny.api_keys if k.deleted)
    assert (c["api_key_id"] == deleted.id).sum() == 311
    assert tiny.costs.loc[tiny.costs["api_key_id"] == deleted.id, "amount_nanos"].sum() > 0


def test_weekends_are_quieter(small: SyntheticOrg) -> None:
    c = small.usage["completions"]
    days = c["ts"] // DAY
    per_day = days.value_counts()
    weekday = (per_day.index + 3) % 7
    weekend_mean = per_day[weekday >= 5].mean()
    workday_mean = per_day[weekday < 5].mean()
    assert workday_mean > 2 * weekend_mean


def test_hourly_profile_supports_small_buckets(tiny: SyntheticOrg) -> None:
    c = tiny.usage["completions"]
    hours = (c["ts"] % DAY) // 3600
    assert hours.nunique() == 24
    assert (c["ts"] % 3600 != 0).any()  # minutes, not only whole hours


def test_every_family_has_traffic_in_the_last_week(tiny: SyntheticOrg) -> None:
    for family, frame in tiny.usage.items():
        assert (frame["ts"] >= tiny.end_day - 7 * DAY).any(), family


# --------------------------------------------------------------------------- costs


def _unit_price(line_item: str, unit: str | None) -> Decimal:
    """Independent reading of the price table by line-item name."""
    if line_item == prices.VECTOR_STORE_LINE_ITEM:
        raise AssertionError("vector storage is priced per byte-day, handled separately")
    if line_item == prices.CODE_INTERPRETER_LINE_ITEM:
        return prices.CODE_INTERPRETER_SESSION
    if line_item == prices.FILE_SEARCH_LINE_ITEM:
        return prices.FILE_SEARCH_CALL
    model, _, kind = line_item.partition(", ")
    if kind == "web search tool calls":
        return prices.WEB_SEARCH_CALL
    if model in prices.EMBEDDING_MODELS:
        return prices.EMBEDDING_MODELS[model] / 10**6
    if model in prices.SPEECH_MODELS:
        return prices.SPEECH_MODELS[model] / 10**6
    if model in prices.TRANSCRIPTION_MODELS:
        return prices.TRANSCRIPTION_MODELS[model]
    if model in prices.IMAGE_MODELS:
        return prices.IMAGE_MODELS[model][kind.removeprefix("images ")]
    tp = prices.COMPLETION_MODELS[model]
    batch = kind.startswith("batch ")
    field = kind.removeprefix("batch ")
    price = {
        "input": tp.input,
        "cached input": tp.cached_input,
        "output": tp.output,
        "audio input": tp.audio_input,
        "audio output": tp.audio_output,
    }[field]
    assert price is not None
    return (price / 2 if batch else price) / 10**6


def _expected_cost_quantities(org: SyntheticOrg) -> dict[tuple, int]:
    """Per (day, project, line item, key): the billed quantity, recomputed row by row."""
    q: dict[tuple, int] = defaultdict(int)

    def add(day: int, project: object, line: str, key: object, amount: int) -> None:
        if amount:
            q[(day, project, line, key)] += amount

    for r in org.usage["completions"].itertuples(index=False):
        day = r.ts - r.ts % DAY
        pre = f"{r.model}, batch " if r.batch else f"{r.model}, "
        text_in = r.input_tokens - r.input_cached_tokens - r.input_audio_tokens
        add(day, r.project_id, pre + "input", r.api_key_id, text_in)
        add(day, r.project_id, pre + "cached input", r.api_key_id, r.input_cached_tokens)
        add(
            day, r.project_id, pre + "output", r.api_key_id, r.output_tokens - r.output_audio_tokens
        )
        add(day, r.project_id, pre + "audio input", r.api_key_id, r.input_audio_tokens)
        add(day, r.project_id, pre + "audio output", r.api_key_id, r.output_audio_tokens)
    simple = {
        "embeddings": ("input", "input_tokens"),
        "audio_speeches": ("characters", "characters"),
        "audio_transcriptions": ("audio seconds", "seconds"),
    }
    for family, (suffix, metric) in simple.items():
        for r in org.usage[family].itertuples(index=False):
            line = f"{r.model}, {suffix}"
            add(r.ts - r.ts % DAY, r.project_id, line, r.api_key_id, getattr(r, metric))
    for r in org.usage["images"].itertuples(index=False):
        line = f"{r.model}, images {r.size}"
        add(r.ts - r.ts % DAY, r.project_id, line, r.api_key_id, r.images)
    for r in org.usage["web_search_calls"].itertuples(index=False):
        line = f"{r.model}, web search tool calls"
        add(r.ts - r.ts % DAY, r.project_id, line, r.api_key_id, r.num_requests)
    for r in org.usage["file_search_calls"].itertuples(index=False):
        add(
            r.ts - r.ts % DAY,
            r.project_id,
            prices.FILE_SEARCH_LINE_ITEM,
            r.api_key_id,
            r.num_requests,
        )
    for r in org.usage["code_interpreter_sessions"].itertuples(index=False):
        line = prices.CODE_INTERPRETER_LINE_ITEM
        add(r.ts - r.ts % DAY, r.project_id, line, None, r.num_sessions)
    for r in org.usage["vector_stores"].itertuples(index=False):
        add(r.ts, r.project_id, prices.VECTOR_STORE_LINE_ITEM, None, r.usage_bytes)
    return q


def test_costs_equal_usage_times_price_table(tiny: SyntheticOrg) -> None:
    expected = _expected_cost_quantities(tiny)
    costs = tiny.costs
    seats = costs[costs["line_item"].map(prices.is_subscription)]
    usage_costs = costs[~costs["line_item"].map(prices.is_subscription)]
    actual = {(r.ts, r.project_id, r.line_item, r.api_key_id): r for r in usage_costs.itertuples()}
    assert set(actual) == set(expected)
    for grain, qty in expected.items():
        row = actual[grain]
        if grain[2] == prices.VECTOR_STORE_LINE_ITEM:
            with localcontext() as ctx:
                ctx.prec = 60
                want = (Decimal(qty) * prices.VECTOR_STORE_GIB_DAY / 2**30).quantize(
                    NANO, ROUND_HALF_UP
                )
            assert row.quantity == pytest.approx(qty * 24 / 2**30)
        else:
            want = prices.amount_decimal(qty, _unit_price(grain[2], row.quantity_unit))
            assert row.quantity == qty
        assert row.amount == want, grain
    # seats: a fixed amount every day, no project and no key
    assert len(seats) == 60
    assert set(seats["amount"]) == {Decimal("4.931506850")}
    assert seats["project_id"].isna().all() and seats["api_key_id"].isna().all()
    assert set(seats["quantity"]) == {5.0} and set(seats["quantity_unit"]) == {"seats"}
    assert set(seats["ts"]) == {tiny.start_day + d * DAY for d in range(60)}


def test_cost_rows_are_exact_and_unique(small: SyntheticOrg) -> None:
    costs = small.costs
    assert list(costs.columns)[:7] == [
        "ts",
        "project_id",
        "line_item",
        "api_key_id",
        "amount",
        "quantity",
        "quantity_unit",
    ]
    assert not costs.duplicated(["ts", "project_id", "line_item", "api_key_id"]).any()
    assert (costs["ts"] % DAY == 0).all()
    for amount, nanos in zip(costs["amount"], costs["amount_nanos"], strict=True):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent >= -9
        assert Decimal(0) <= amount < 100_000
        assert amount.scaleb(9) == nanos
        assert Decimal(repr(float(amount))) == amount  # float round-trips
    units = set(costs["quantity_unit"])
    assert units == {
        "tokens",
        "images",
        "calls",
        "gibibyte_hours",
        "seats",
        "duration_seconds",
        "sessions",
        "characters",
    }


def test_tiny_costs_exact(tiny: SyntheticOrg) -> None:
    costs = tiny.costs
    assert len(costs) == 2839
    assert sum(costs["amount"]) == Decimal("1165.816171069")
    assert int(costs["api_key_id"].isna().sum()) == 281
    assert int(costs["project_id"].isna().sum()) == 172
    lines = set(costs["line_item"])
    assert {
        "gpt-4o-2024-08-06, input",
        "gpt-4o-2024-08-06, output",
        "gpt-4o-2024-08-06, cached input",
        "gpt-4o-2024-08-06, batch input",
        "gpt-4o-audio-preview-2024-12-17, audio input",
        "ChatGPT Team seats",
        "Vector store storage",
        "Code interpreter sessions",
        "File search tool calls",
        "text-embedding-3-small, input",
        "dall-e-3, images 1024x1024",
        "tts-1, characters",
        "whisper-1, audio seconds",
    } <= lines


def test_moderations_are_free(tiny: SyntheticOrg) -> None:
    assert not tiny.costs["line_item"].str.startswith(tuple(prices.MODERATION_MODELS)).any()


# --------------------------------------------------------------------------- Kscope side


def test_dev_tokens_shape_and_features(tiny: SyntheticOrg, small: SyntheticOrg) -> None:
    for org in (tiny, small):
        t = org.dev_tokens
        assert list(t.columns) == [
            "dev_token_id",
            "provider",
            "provider_key_id",
            "provider_key_redacted",
            "owner_email",
            "status",
            "created_at",
            "revoked_at",
        ]
        assert t["dev_token_id"].is_unique
        assert set(t["provider"]) == {"openai"}
        assert str(t["created_at"].dtype) == "datetime64[ns]"  # naive UTC
        assert ((t["status"] == "revoked") == t["revoked_at"].notna()).all()
        assert (t["revoked_at"].dropna() > t.loc[t["revoked_at"].notna(), "created_at"]).all()
    t = tiny.dev_tokens
    assert len(t) == 5
    assert t["status"].value_counts().to_dict() == {"active": 3, "revoked": 2}
    assert int(t["provider_key_id"].isna().sum()) == 1  # matched by redacted value only
    listed = [k for k in tiny.api_keys if k.kind == "project" and not k.deleted]
    registered = set(t["provider_key_id"].dropna()) | {
        k.id for k in listed if k.redacted_value in set(t["provider_key_redacted"])
    }
    assert len([k for k in listed if k.id not in registered]) == 3  # unregistered keys
    s = small.dev_tokens
    per_key = s["provider_key_id"].value_counts()
    assert (per_key == 2).sum() == 1  # revoked and registered again


def test_gateway_costs_meter_registered_keys_only(tiny: SyntheticOrg) -> None:
    g = tiny.gateway_costs
    assert list(g.columns) == [
        "usage_date",
        "provider_key_id",
        "project_id",
        "model",
        "requests",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "cost_usd",
    ]
    assert len(g) == 360  # the key registered halfway through is metered from then on
    assert all(isinstance(d, date) for d in g["usage_date"])
    assert all(isinstance(c, Decimal) and c.as_tuple().exponent >= -9 for c in g["cost_usd"])
    tokens = tiny.dev_tokens
    keyed = set(tokens["provider_key_id"].dropna())
    redacted = {k.redacted_value: k.id for k in tiny.api_keys}
    registered = keyed | {redacted[r] for r in tokens["provider_key_redacted"]}
    assert set(g["provider_key_id"]) <= registered
    assert not g.duplicated(["usage_date", "provider_key_id", "project_id", "model"]).any()
    missing = tiny.extra["gateway_missing_days"]
    assert missing == [date(2026, 10, 9), date(2026, 10, 19)]
    assert not g["usage_date"].isin(missing).any()


def test_gateway_prices_drift_a_little_on_some_days(tiny: SyntheticOrg) -> None:
    """Gateway cost = billed cost of that (day, key, model) x (1 + drift bp / 10000)."""
    costs = tiny.costs[tiny.costs["model"].notna() & tiny.costs["api_key_id"].notna()]
    billed = costs.groupby([costs["ts"], "api_key_id", "model"])["amount_nanos"].sum().to_dict()
    drift = tiny.extra["gateway_drift_bp"]
    assert len(drift) == 17 and all(50 <= abs(bp) <= 200 for bp in drift.values())
    drifted = exact = 0
    for r in tiny.gateway_costs.itertuples():
        ts = int(
            datetime(
                r.usage_date.year, r.usage_date.month, r.usage_date.day, tzinfo=UTC
            ).timestamp()
        )
        nanos = billed[(ts, r.provider_key_id, r.model)]
        bp = drift.get(r.usage_date, 0)
        want = (Decimal(nanos) * (10_000 + bp) / 10_000).quantize(1, ROUND_HALF_UP).scaleb(-9)
        assert r.cost_usd == want
        drifted += bp != 0
        exact += bp == 0
    assert drifted > 0 and exact > 0


def test_gateway_counts_equal_usage(tiny: SyntheticOrg) -> None:
    c = tiny.usage["completions"]
    g = tiny.gateway_costs
    row = g[g["model"].isin(list(prices.COMPLETION_MODELS))].iloc[0]
    day = int(
        datetime(
            row.usage_date.year, row.usage_date.month, row.usage_date.day, tzinfo=UTC
        ).timestamp()
    )
    sel = c[
        (c["ts"] // DAY * DAY == day)
        & (c["api_key_id"] == row.provider_key_id)
        & (c["model"] == row.model)
    ]
    assert len(sel) > 0
    assert row.requests == sel["num_model_requests"].sum()
    assert row.input_tokens == sel["input_tokens"].sum()
    assert row.output_tokens == sel["output_tokens"].sum()
    assert row.cached_tokens == sel["input_cached_tokens"].sum()


def test_engineers_registry(tiny: SyntheticOrg, small: SyntheticOrg) -> None:
    for org in (tiny, small):
        e = org.engineers
        assert list(e.columns) == [
            "engineer_id", "email", "aliases", "name", "team", "status", "departed_on"
        ]
        assert e["engineer_id"].is_unique and e["email"].is_unique
        assert set(e["status"]) == {"active", "departed"}
        assert all(a is None or (isinstance(a, str) and "@" in a) for a in e["aliases"])
    cats = tiny.extra["member_categories"]
    assert sorted(cats.values()) == sorted(
        ["exact", "case", "alias", "plus", "domain", "departed", "none"]
    )
    emails = {u.id: u.email for u in tiny.users} | {i.id: i.email for i in tiny.invites}
    by_cat = {c: emails[m] for m, c in cats.items()}
    assert by_cat["case"] != by_cat["case"].lower()
    assert "+" in by_cat["plus"]
    assert by_cat["domain"].endswith("@corp.io")
    assert not by_cat["none"].endswith(("@corp.com", "@corp.io"))
    registry = set(tiny.engineers["email"])
    assert by_cat["case"].lower() in registry and by_cat["exact"] in registry
    alias_rows = tiny.engineers[tiny.engineers["aliases"].notna()]
    assert by_cat["alias"] in set(";".join(alias_rows["aliases"]).split(";"))
    departed = tiny.engineers.loc[tiny.engineers["status"] == "departed", "email"].tolist()
    assert by_cat["departed"] in departed
    # the departed engineer still owns keys in the org
    departed_user = next(u for u in tiny.users if u.email == by_cat["departed"])
    assert any(k.owner_id == departed_user.id for k in tiny.api_keys)
    # engineers who are not members exist too (the registry covers more than OpenAI)
    assert len(tiny.engineers) == 8
