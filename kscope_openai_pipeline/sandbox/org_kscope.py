"""The Kscope side of the synthetic organization: dev tokens, gateway costs, engineers.

Why here: the sightlines join OpenAI's view to Kscope's own records, so the sandbox must
produce both sides of the same organization, with the imperfections real data has:
keys nobody registered, revoked tokens, tokens that only carry the redacted key value,
a gateway that meters at slightly different prices and misses a few days, and member
emails that only match the Asset Registry after case folding, alias lookup, plus-address
stripping or a domain alias. The shapes are those of the `kscope.*` tables (design.md).

Conventions: datetimes are naive UTC `pandas.Timestamp`s; `usage_date` is a
`datetime.date`; money is `Decimal` with 9 places; engineer `aliases` is one
`;`-joined string of addresses (None when the engineer has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import numpy as np
import pandas as pd

from . import org_timeline, prices

DAY = 86_400

#: Every match category a member email can fall in, one of each guaranteed per org.
MEMBER_CATEGORIES: tuple[str, ...] = (
    "exact",  # email == registry email
    "case",  # differs only in case (Ann.Smith@ vs ann.smith@)
    "alias",  # email is one of the engineer's registry aliases
    "plus",  # ann.smith+openai@corp.com
    "domain",  # ann.smith@corp.io where corp.io is an alias domain of corp.com
    "departed",  # matches an engineer whose status is departed
    "none",  # no registry entry at all (personal address / contractor)
)
_EXTRA_CATEGORY_P = (0.6, 0.08, 0.08, 0.06, 0.06, 0.05, 0.07)
TEAMS = ("platform", "search", "ml", "data", "support", "growth", "security", "infra")
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "contractor-hub.dev")


class Person(Protocol):
    first: str
    last: str

    @property
    def name(self) -> str: ...


@dataclass
class KscopeInputs:
    """What the Kscope side needs from the organization plan (integer-coded keys)."""

    rng: np.random.Generator
    start_day: int
    n_days: int
    user_people: list[Person]
    pending_people: list[Person]
    extra_people: list[Person]
    corp_domain: str
    alias_domain: str
    key_ids: list[str]
    key_roles: np.ndarray
    key_reg: np.ndarray
    key_created_at: np.ndarray
    key_deleted_at: np.ndarray
    key_project_ids: list[str]
    key_owner_user: np.ndarray
    key_redacted: list[str]
    user_ids: list[str]
    pending_invite_ids: list[str]
    gateway: pd.DataFrame  # per (day, key, model): requests, tokens, billed nanos
    model_names: list[str]


@dataclass
class KscopeResult:
    user_emails: dict[int, str]
    pending_emails: list[str]
    member_categories: dict[str, str]  # member id (user or pending invite) -> category
    dev_tokens: pd.DataFrame
    gateway_costs: pd.DataFrame
    engineers: pd.DataFrame
    missing_days: list[date]
    drift_bp: dict[date, int]


def _ts(seconds: int | None) -> pd.Timestamp:
    """Unix seconds -> naive UTC Timestamp (NaT for None)."""
    if seconds is None:
        return pd.NaT
    return pd.Timestamp(datetime.fromtimestamp(int(seconds), tz=UTC).replace(tzinfo=None))


def _day(start_day: int, index: int) -> date:
    return datetime.fromtimestamp(start_day + index * DAY, tz=UTC).date()


# --------------------------------------------------------------------------- registry


def _registry(inp: KscopeInputs) -> tuple[dict[int, str], list[str], dict[str, str], pd.DataFrame]:
    """Member emails and the Asset Registry, built together so each category is real."""
    rng = inp.rng
    members = [*inp.user_people, *inp.pending_people]
    member_ids = [*inp.user_ids, *inp.pending_invite_ids]
    n = len(members)
    required = list(MEMBER_CATEGORIES)[: min(n, len(MEMBER_CATEGORIES))]
    rest = rng.choice(len(MEMBER_CATEGORIES), size=n - len(required), p=_EXTRA_CATEGORY_P)
    cats = [*required, *(MEMBER_CATEGORIES[i] for i in rest)]
    cats = [cats[i] for i in rng.permutation(n)]
    dom, alias_dom = inp.corp_domain, inp.alias_domain
    used_aliases: set[str] = set()

    def fresh_alias(p: Person) -> str:
        base = f"{p.first[0]}{p.last}"
        local, k = base, 2
        while local in used_aliases:
            local, k = f"{base}{k}", k + 1
        used_aliases.add(local)
        return f"{local}@{dom}"

    emails: list[str] = []
    engineers: list[dict[str, object]] = []
    for p, cat in zip(members, cats, strict=True):
        canonical = f"{p.first}.{p.last}@{dom}"
        aliases: list[str] = []
        status = "active"
        if cat == "exact":
            email = canonical
            if rng.random() < 0.3:
                aliases.append(fresh_alias(p))
        elif cat == "case":
            email = f"{p.first.capitalize()}.{p.last.capitalize()}@{dom}"
        elif cat == "alias":
            email = fresh_alias(p)
            aliases.append(email)
        elif cat == "plus":
            email = f"{p.first}.{p.last}+openai@{dom}"
        elif cat == "domain":
            email = f"{p.first}.{p.last}@{alias_dom}"
        elif cat == "departed":
            email = canonical
            status = "departed"
        else:
            email = f"{p.first}.{p.last}@{PERSONAL_DOMAINS[int(rng.integers(0, 3))]}"
        emails.append(email)
        if cat != "none":
            engineers.append(
                {"email": canonical, "aliases": aliases, "name": p.name, "status": status}
            )
    for p in inp.extra_people:  # engineers who are not OpenAI members
        status = "departed" if rng.random() < 0.1 else "active"
        aliases = [fresh_alias(p)] if rng.random() < 0.3 else []
        engineers.append(
            {
                "email": f"{p.first}.{p.last}@{dom}",
                "aliases": aliases,
                "name": p.name,
                "status": status,
            }
        )
    order = rng.permutation(len(engineers))
    rows = []
    for j, e in enumerate(order.tolist()):
        eng = engineers[e]
        rows.append(
            {
                "engineer_id": f"eng-{j + 1:05d}",
                "email": eng["email"],
                "aliases": ";".join(eng["aliases"]) or None,  # type: ignore[arg-type]
                "name": eng["name"],
                "team": TEAMS[int(rng.integers(0, len(TEAMS)))],
                "status": eng["status"],
            }
        )
    frame = pd.DataFrame(
        rows, columns=["engineer_id", "email", "aliases", "name", "team", "status"]
    )
    n_users = len(inp.user_people)
    user_emails = {i: emails[i] for i in range(n_users)}
    categories = dict(zip(member_ids, cats, strict=True))
    return user_emails, emails[n_users:], categories, frame


# --------------------------------------------------------------------------- dev tokens


def _dev_tokens(
    inp: KscopeInputs, owner_emails: list[str]
) -> tuple[pd.DataFrame, list[list[tuple[int, int]]]]:
    """Tokens per the keys' registration plan, and each key's metered day windows."""
    rng = inp.rng
    n_days = inp.n_days
    rows: list[dict[str, object]] = []
    windows: list[list[tuple[int, int]]] = [[] for _ in inp.key_ids]

    def day_of(t: int) -> int:
        return (t - inp.start_day) // DAY

    def add(i: int, created: int, revoked: int | None, with_id: bool = True) -> None:
        rows.append(
            {
                "provider_key_id": inp.key_ids[i] if with_id else None,
                "provider_key_redacted": inp.key_redacted[i],
                "owner_email": owner_emails[i],
                "status": "revoked" if revoked is not None else "active",
                "created_at": created,
                "revoked_at": revoked,
            }
        )
        windows[i].append((day_of(created), n_days if revoked is None else day_of(revoked)))

    def revoke_day(created: int, latest: float) -> int:
        """A revocation day at least 2 days after registration, mid-range when possible."""
        lo = max(day_of(created) + 2, round(0.3 * n_days))
        return int(rng.integers(lo, max(lo + 1, round(latest * n_days))))

    for i in range(len(inp.key_ids)):
        reg = inp.key_reg[i]
        created = int(inp.key_created_at[i]) + int(rng.integers(60, 6 * 3600))
        if reg == "none":
            continue
        if inp.key_roles[i] == "deleted":
            add(i, created, int(inp.key_deleted_at[i]) + int(rng.integers(60, 7200)))
        elif reg == "active":
            add(i, created, None)
        elif reg == "redacted":
            add(i, created, None, with_id=False)
        elif reg == "late":  # used unregistered until halfway through the range
            add(i, org_timeline.late_registration_time(inp.start_day, n_days, i), None)
        elif reg == "revoked":
            r_day = revoke_day(created, 0.7)
            add(i, created, inp.start_day + r_day * DAY + int(rng.integers(600, 20 * 3600)))
        elif reg == "reregistered":
            r_day = revoke_day(created, 0.6)
            revoked = inp.start_day + r_day * DAY + int(rng.integers(600, 20 * 3600))
            add(i, created, revoked)
            again = inp.start_day + (r_day + int(rng.integers(1, 5))) * DAY
            add(i, again + int(rng.integers(600, 20 * 3600)), None)
    ids = [f"dt_{j:06d}" for j in range(len(rows))]
    order = rng.permutation(len(rows))
    frame = pd.DataFrame(
        {
            "dev_token_id": [ids[j] for j in range(len(rows))],
            "provider": "openai",
            "provider_key_id": [rows[j]["provider_key_id"] for j in order],
            "provider_key_redacted": [rows[j]["provider_key_redacted"] for j in order],
            "owner_email": [rows[j]["owner_email"] for j in order],
            "status": [rows[j]["status"] for j in order],
            "created_at": pd.to_datetime([_ts(rows[j]["created_at"]) for j in order]),  # type: ignore[arg-type]
            "revoked_at": pd.to_datetime([_ts(rows[j]["revoked_at"]) for j in order]),  # type: ignore[arg-type]
        }
    )
    return frame, windows


# --------------------------------------------------------------------------- gateway


def _gateway_costs(
    inp: KscopeInputs, windows: list[list[tuple[int, int]]]
) -> tuple[pd.DataFrame, list[date], dict[date, int]]:
    """What the Kscope gateway metered: registered keys' model traffic, priced with drift.

    A key is metered on the whole UTC days when one of its tokens is active (from the
    token's creation day up to, not including, its revocation day). A few days are missing
    entirely (gateway outage); on some days the gateway's prices drift by 0.5-2%
    (cost = billed x (1 + bp/10000), rounded half-up to the nano-dollar).
    """
    rng = inp.rng
    n_days, n_keys = inp.n_days, len(inp.key_ids)
    metered = np.zeros((n_keys, n_days), dtype=bool)
    for i, ws in enumerate(windows):
        for a, b in ws:
            metered[i, max(a, 0) : max(min(b, n_days), 0)] = True
    n_missing = {60: 2, 120: 3, 200: 4}.get(n_days, 6)
    missing = np.sort(rng.choice(np.arange(1, n_days - 1), size=n_missing, replace=False))
    drift = np.where(
        rng.random(n_days) < 0.25,
        rng.integers(50, 201, n_days) * rng.choice([-1, 1], n_days),
        0,
    ).astype(np.int64)
    gw = inp.gateway
    day = gw["day"].to_numpy()
    key = gw["key"].to_numpy()
    keep = metered[key, day] & ~np.isin(day, missing)
    gw = gw[keep]
    day = gw["day"].to_numpy()
    nanos = gw["nanos"].to_numpy().astype(np.int64)
    cost = (nanos * (10_000 + drift[day]) + 5_000) // 10_000
    days = [_day(inp.start_day, d) for d in range(n_days)]
    key_ids = np.array(inp.key_ids, dtype=object)
    frame = pd.DataFrame(
        {
            "usage_date": [days[d] for d in day.tolist()],
            "provider_key_id": key_ids[gw["key"].to_numpy()],
            "project_id": np.array(inp.key_project_ids, dtype=object)[gw["key"].to_numpy()],
            "model": np.array(inp.model_names, dtype=object)[gw["model"].to_numpy()],
            "requests": gw["requests"].to_numpy().astype(np.int64),
            "input_tokens": gw["input_tokens"].to_numpy().astype(np.int64),
            "output_tokens": gw["output_tokens"].to_numpy().astype(np.int64),
            "cached_tokens": gw["cached_tokens"].to_numpy().astype(np.int64),
            "cost_usd": [prices.nanos_to_decimal(c) for c in cost.tolist()],
        }
    )
    frame = frame.sort_values(["usage_date", "provider_key_id", "model"], kind="stable")
    frame = frame.reset_index(drop=True)
    drift_map = {days[d]: int(drift[d]) for d in range(n_days) if drift[d] != 0}
    return frame, [days[d] for d in missing.tolist()], drift_map


def build_kscope(inp: KscopeInputs) -> KscopeResult:
    """Registry + member emails, then dev tokens, then gateway costs (in that rng order)."""
    user_emails, pending_emails, categories, engineers = _registry(inp)
    canonical = [f"{p.first}.{p.last}@{inp.corp_domain}" for p in inp.user_people]
    rng = inp.rng
    owner_emails = [
        canonical[int(u)] if u >= 0 else canonical[int(rng.integers(0, len(canonical)))]
        for u in inp.key_owner_user.tolist()
    ]
    tokens, windows = _dev_tokens(inp, owner_emails)
    gateway, missing, drift = _gateway_costs(inp, windows)
    return KscopeResult(
        user_emails=user_emails,
        pending_emails=pending_emails,
        member_categories=categories,
        dev_tokens=tokens,
        gateway_costs=gateway,
        engineers=engineers,
        missing_days=missing,
        drift_bp=drift,
    )
