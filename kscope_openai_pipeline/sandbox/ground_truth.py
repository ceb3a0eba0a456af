"""Ground truth: what the pipeline must store and conclude, computed from the org's records.

Why: end-to-end tests crawl the sandbox over HTTP, store everything in DuckDB, compute the
sightlines in SQL, and then compare with these functions, which read the `SyntheticOrg`
directly (never through HTTP). The docstrings below ARE the definitions the sightlines
reproduce; if a sightline and this module disagree, one of them has a bug.

Conventions for every function:
- Days are UTC. A day argument may be a `datetime.date`, a `datetime` (its UTC date is
  used) or an int of Unix seconds (used as is, so `usage_totals` can take hour bounds).
  Ranges are half-open: `start` inclusive, `end` exclusive.
- Results are keyed by `datetime.date` and real ids; `None` (an org-level row with no
  project, a cost no key carries) is kept as its own key, never dropped.
- Money is `Decimal` with exactly 9 decimal places, summed exactly (from the integer
  nano-dollars of each row); counts are Python ints.
- Only days/groups that have at least one row appear (absence means zero), like the
  warehouse tables.

One unit, though long: every definition the sightlines reproduce is here, side by side,
so that a reader can compare a SQL file with its plain-Python twin in one place.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from .model import FAMILY_DIMENSIONS, FAMILY_METRICS, USAGE_FAMILIES, SyntheticOrg
from .prices import is_subscription, nanos_to_decimal

DAY = 86_400
DayLike = date | datetime | int

#: Statuses of `bypass_keys` (also `sightlines.gateway_bypass.status`).
BYPASS_STATUSES = ("registered", "registered_revoked", "bypass_active", "bypass_dormant")
#: Families whose results carry `api_key_id` (the others have project_id only).
KEY_FAMILIES = tuple(f for f in USAGE_FAMILIES if "api_key_id" in FAMILY_DIMENSIONS[f])


def to_epoch(value: DayLike) -> int:
    """Unix seconds of a day bound: a date's UTC midnight, a datetime's UTC date midnight."""
    if isinstance(value, bool):
        raise TypeError("a day bound cannot be a bool")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())


def to_date(ts: int) -> date:
    """The UTC date of Unix seconds."""
    return datetime.fromtimestamp(int(ts) - int(ts) % DAY, tz=UTC).date()


def _in_range(ts: pd.Series, start: DayLike, end: DayLike) -> pd.Series:
    return (ts >= to_epoch(start)) & (ts < to_epoch(end))


def _nanos(costs: pd.DataFrame) -> np.ndarray:
    """Each cost row's amount in integer nano-dollars (the generator's exact column)."""
    if "amount_nanos" in costs.columns:
        return costs["amount_nanos"].to_numpy(dtype=np.int64)
    return np.array([int(a.scaleb(9)) for a in costs["amount"]], dtype=np.int64)


def _group_decimal(keys: list[tuple], nanos: np.ndarray) -> dict[tuple, Decimal]:
    sums: dict[tuple, int] = defaultdict(int)
    for k, v in zip(keys, nanos.tolist(), strict=True):
        sums[k] += v
    return {k: nanos_to_decimal(v) for k, v in sums.items()}


# --------------------------------------------------------------------------- usage


@dataclass(frozen=True)
class UsageTotals:
    """Metric sums of one family: over the whole range and per UTC day (days with rows)."""

    family: str
    total: dict[str, int]
    per_day: dict[date, dict[str, int]]
    rows: int


def usage_totals(org: SyntheticOrg, family: str, start: DayLike, end: DayLike) -> UsageTotals:
    """Sum of every metric of `family` over the usage events with `start <= ts < end`.

    This is what `/organization/usage/<family>` returns summed over all buckets and all
    results of any `group_by` (or none), and what `openai.usage` holds summed over the
    family's rows for those days. `total` has every metric of the family (0 when no row);
    `per_day` only days with at least one event.
    """
    if family not in FAMILY_METRICS:
        raise ValueError(f"unknown usage family {family!r}")
    metrics = FAMILY_METRICS[family]
    frame = org.usage[family]
    sel = frame[_in_range(frame["ts"], start, end)]
    total = {m: int(sel[m].sum()) for m in metrics}
    per_day: dict[date, dict[str, int]] = {}
    if len(sel):
        days = (sel["ts"] // DAY) * DAY
        grouped = sel[list(metrics)].groupby(days.to_numpy()).sum()
        for ts, row in grouped.iterrows():
            per_day[to_date(int(ts))] = {m: int(row[m]) for m in metrics}
    return UsageTotals(family, total, per_day, int(len(sel)))


# --------------------------------------------------------------------------- costs


@dataclass(frozen=True)
class CostTotals:
    """Billed USD over a range: total, per day, per (day, project), per (day, project, line)."""

    total: Decimal
    per_day: dict[date, Decimal]
    per_day_project: dict[tuple[date, str | None], Decimal]
    per_day_project_line_item: dict[tuple[date, str | None, str], Decimal]


def cost_totals(
    org: SyntheticOrg, start: DayLike, end: DayLike, *, include_subscriptions: bool = True
) -> CostTotals:
    """Sum of cost rows whose day is in [start, end).

    This is what `/organization/costs` returns summed over its results (any grouping) and
    what `openai.costs` holds for those days. `per_day_project` keys use `None` for the
    organization-level rows (seats, org-level traffic with no project). With
    `include_subscriptions=False` the seat line items (`prices.is_subscription`) are left
    out: that is the billed side of billing reconciliation, since seats never pass
    through an API gateway.
    """
    costs = org.costs
    sel = costs[_in_range(costs["ts"], start, end)]
    if not include_subscriptions:
        sel = sel[~sel["line_item"].map(is_subscription)]
    nanos = _nanos(sel)
    days = [to_date(t) for t in sel["ts"].tolist()]
    projects = sel["project_id"].tolist()
    lines = sel["line_item"].tolist()
    per_line = _group_decimal(list(zip(days, projects, lines, strict=True)), nanos)
    per_project = _group_decimal(list(zip(days, projects, strict=True)), nanos)
    per_day = {k[0]: v for k, v in _group_decimal([(d,) for d in days], nanos).items()}
    return CostTotals(
        total=nanos_to_decimal(int(nanos.sum())),
        per_day=per_day,
        per_day_project=per_project,  # type: ignore[arg-type]
        per_day_project_line_item=per_line,  # type: ignore[arg-type]
    )


def api_key_cost_totals(
    org: SyntheticOrg, start: DayLike, end: DayLike
) -> dict[tuple[date, str | None], Decimal]:
    """Billed USD per (day, api_key_id) over [start, end), `None` for rows no key carries.

    This is `/organization/costs?group_by=api_key_id` (the API refuses that grouping for
    windows starting before 2025-12-06; this function does not apply that floor). Deleted
    keys keep their id. `openai.api_key_costs` holds these for the dates the API allows.
    """
    costs = org.costs
    sel = costs[_in_range(costs["ts"], start, end)]
    days = [to_date(t) for t in sel["ts"].tolist()]
    keys = list(zip(days, sel["api_key_id"].tolist(), strict=True))
    return _group_decimal(keys, _nanos(sel))  # type: ignore[return-value]


def metered_totals(
    org: SyntheticOrg, start: DayLike, end: DayLike
) -> dict[tuple[date, str], Decimal]:
    """Gateway-metered USD per (usage_date, project_id) from `kscope.gateway_costs`.

    Sum of `cost_usd` over the gateway rows of days in [start, end). Days the gateway
    missed have no entry at all.
    """
    gw = org.gateway_costs
    lo, hi = to_date(to_epoch(start)), to_date(to_epoch(end))
    sums: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for d, p, c in zip(gw["usage_date"], gw["project_id"], gw["cost_usd"], strict=True):
        if lo <= d < hi:
            sums[(d, p)] += c
    return dict(sums)


# --------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class ReconRow:
    billed: Decimal
    metered: Decimal
    gap: Decimal
    status: str


def reconciliation(
    org: SyntheticOrg,
    start: DayLike,
    end: DayLike,
    *,
    tolerance_pct: Decimal = Decimal("0.01"),
    tolerance_usd: Decimal = Decimal("0.01"),
) -> dict[tuple[date, str | None], ReconRow]:
    """Billing reconciliation per (day, project_id), days in [start, end).

    Rows: every (day, project) that has a billed non-subscription cost or a metered
    gateway cost (project `None` = the organization-level billed rows, never metered).
    billed = `cost_totals(..., include_subscriptions=False).per_day_project`, metered =
    `metered_totals`, gap = billed - metered (exact). Status, first that applies:
    `gateway_not_deployed` (the gateway has no rows at all), `gateway_data_missing`
    (the gateway has rows on other days but none on this day), `matched`
    (|gap| <= max(tolerance_pct * billed, tolerance_usd)), `spend_outside_gateway`
    (gap > 0), `over_metered` (gap < 0).
    """
    billed = cost_totals(org, start, end, include_subscriptions=False).per_day_project
    metered = metered_totals(org, start, end)
    deployed = len(org.gateway_costs) > 0
    gateway_days = set(org.gateway_costs["usage_date"]) if deployed else set()
    out: dict[tuple[date, str | None], ReconRow] = {}
    for key in sorted(set(billed) | set(metered), key=lambda k: (k[0], k[1] or "")):
        b = billed.get(key, Decimal("0.000000000"))
        m = metered.get(key, Decimal("0.000000000"))  # type: ignore[call-overload]
        status = _status(b, m, deployed, key[0] in gateway_days, tolerance_pct, tolerance_usd)
        out[key] = ReconRow(b, m, b - m, status)
    return out


def _status(
    billed: Decimal,
    metered: Decimal,
    deployed: bool,
    day_has_gateway_rows: bool,
    tolerance_pct: Decimal,
    tolerance_usd: Decimal,
) -> str:
    gap = billed - metered
    if not deployed:
        return "gateway_not_deployed"
    if not day_has_gateway_rows:
        return "gateway_data_missing"
    if abs(gap) <= max(tolerance_pct * billed, tolerance_usd):
        return "matched"
    return "spend_outside_gateway" if gap > 0 else "over_metered"


def reconciliation_org_totals(
    org: SyntheticOrg,
    start: DayLike,
    end: DayLike,
    *,
    tolerance_pct: Decimal = Decimal("0.01"),
    tolerance_usd: Decimal = Decimal("0.01"),
) -> dict[date, ReconRow]:
    """The per-day organization total row of billing reconciliation.

    For every day in [start, end) with billed non-subscription cost or metered cost:
    billed = sum over all projects (None included), metered = sum over all projects,
    gap = billed - metered, status by the same rules as `reconciliation`.
    """
    rows = reconciliation(org, start, end, tolerance_pct=tolerance_pct, tolerance_usd=tolerance_usd)
    billed: dict[date, Decimal] = defaultdict(lambda: Decimal("0.000000000"))
    metered: dict[date, Decimal] = defaultdict(lambda: Decimal("0.000000000"))
    for (day, _), row in rows.items():
        billed[day] += row.billed
        metered[day] += row.metered
    deployed = len(org.gateway_costs) > 0
    gateway_days = set(org.gateway_costs["usage_date"]) if deployed else set()
    out: dict[date, ReconRow] = {}
    for day in sorted(billed):
        b, m = billed[day], metered[day]
        status = _status(b, m, deployed, day in gateway_days, tolerance_pct, tolerance_usd)
        out[day] = ReconRow(b, m, b - m, status)
    return out


# --------------------------------------------------------------------------- seats


def subscription_totals(
    org: SyntheticOrg, start: DayLike, end: DayLike
) -> dict[tuple[date, str], Decimal]:
    """Billed USD of each subscription (seat) line item per day, days in [start, end).

    These are the amounts `sightlines.seat_allocation` splits across the day's members;
    the parts of each (day, line item) must sum to exactly this value.
    """
    per_line = cost_totals(org, start, end).per_day_project_line_item
    out: dict[tuple[date, str], Decimal] = defaultdict(lambda: Decimal("0.000000000"))
    for (day, _, line), amount in per_line.items():
        if is_subscription(line):
            out[(day, line)] += amount
    return dict(out)


def members_on(org: SyntheticOrg, day: DayLike) -> list[str]:
    """User ids that are organization members on `day`: members at some moment of it,
    i.e. added before that day ended and not removed before it began (former members
    count on the days they were members)."""
    start = to_epoch(day) // DAY * DAY
    end = start + DAY
    users = [*org.users, *org.former_users]
    return sorted(
        u.id for u in users if u.added_at < end and (u.deleted_at is None or u.deleted_at >= start)
    )


# --------------------------------------------------------------------------- gateway bypass


def listed_keys(org: SyntheticOrg) -> list:
    """The key inventory a crawler can see: non-deleted keys (deleted keys are listed nowhere)."""
    return [k for k in org.api_keys if not k.deleted]


def _window(as_of_day: DayLike, window_days: int) -> tuple[int, int]:
    """[first second, end second) of the `window_days` UTC days ending with `as_of_day`."""
    end = to_epoch(as_of_day) // DAY * DAY + DAY
    return end - window_days * DAY, end


def key_token_matches(org: SyntheticOrg) -> dict[str, list[str]]:
    """dev_token_ids matched to each listed non-admin key.

    A token matches a key by `provider_key_id == api_key_id`. Only when no token carries
    the key's id, the fallback applies: tokens with a null `provider_key_id` whose
    `provider_key_redacted` equals the key's `redacted_value`.
    """
    tokens = org.dev_tokens
    by_id: dict[str, list[str]] = defaultdict(list)
    by_redacted: dict[str, list[str]] = defaultdict(list)
    for tid, kid, red in zip(
        tokens["dev_token_id"],
        tokens["provider_key_id"],
        tokens["provider_key_redacted"],
        strict=True,
    ):
        if isinstance(kid, str):
            by_id[kid].append(tid)
        elif isinstance(red, str):
            by_redacted[red].append(tid)
    out: dict[str, list[str]] = {}
    for key in listed_keys(org):
        if key.kind != "project":
            continue
        out[key.id] = sorted(by_id.get(key.id) or by_redacted.get(key.redacted_value, []))
    return out


def keys_used_in_window(org: SyntheticOrg, as_of_day: DayLike, window_days: int = 30) -> set[str]:
    """Key ids with at least one usage row (any family carrying api_key_id) in the window."""
    lo, hi = _window(as_of_day, window_days)
    used: set[str] = set()
    for family in KEY_FAMILIES:
        frame = org.usage[family]
        sel = frame.loc[(frame["ts"] >= lo) & (frame["ts"] < hi), "api_key_id"]
        used.update(k for k in sel.unique().tolist() if isinstance(k, str))
    return used


def bypass_keys(org: SyntheticOrg, as_of_day: DayLike, window_days: int = 30) -> dict[str, str]:
    """Gateway-bypass status of every listed non-admin key (`sightlines.gateway_bypass`).

    The inventory is `listed_keys` restricted to `kind == "project"`: deleted keys are not
    in it (no endpoint lists them; their spend still shows in reconciliation), admin keys
    are excluded. Tokens are matched by `key_token_matches` and taken with their current
    `status` (the dev_tokens table is a snapshot). The window is the `window_days` UTC days
    ending with `as_of_day` inclusive. Status:
      - `registered`: at least one matched token is `active`;
      - `registered_revoked`: matched tokens exist and all are `revoked`;
      - `bypass_active`: no matched token, and the key has usage in the window;
      - `bypass_dormant`: no matched token and no usage in the window (incl. never used).
    """
    status_of = dict(zip(org.dev_tokens["dev_token_id"], org.dev_tokens["status"], strict=True))
    used = keys_used_in_window(org, as_of_day, window_days)
    out: dict[str, str] = {}
    for kid, tokens in key_token_matches(org).items():
        if tokens:
            active = any(status_of[t] == "active" for t in tokens)
            out[kid] = "registered" if active else "registered_revoked"
        else:
            out[kid] = "bypass_active" if kid in used else "bypass_dormant"
    return out


@dataclass(frozen=True)
class KeyWindowTotals:
    """One key's activity over the trailing window."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = field(default_factory=lambda: Decimal("0.000000000"))


def key_window_totals(
    org: SyntheticOrg, as_of_day: DayLike, window_days: int = 30
) -> dict[str, KeyWindowTotals]:
    """Per listed non-admin key: requests, tokens and billed cost over the window.

    requests = sum of `num_model_requests` over every family that has it and carries
    api_key_id (completions, embeddings, moderations, images, audio_speeches,
    audio_transcriptions, web_search_calls); input_tokens/output_tokens = completions
    input_tokens + embeddings and moderations input_tokens / completions output_tokens;
    cost = the key's billed cost rows (group_by api_key_id) on the window's days. Keys
    without activity get zeros.
    """
    lo, hi = _window(as_of_day, window_days)
    keys = list(key_token_matches(org))
    req: dict[str, int] = defaultdict(int)
    tin: dict[str, int] = defaultdict(int)
    tout: dict[str, int] = defaultdict(int)
    for family in KEY_FAMILIES:
        frame = org.usage[family]
        sel = frame[(frame["ts"] >= lo) & (frame["ts"] < hi) & frame["api_key_id"].notna()]
        metrics = FAMILY_METRICS[family]
        cols = [m for m in ("num_model_requests", "input_tokens", "output_tokens") if m in metrics]
        if not cols or not len(sel):
            continue
        sums = sel.groupby("api_key_id")[cols].sum()
        for kid, row in sums.iterrows():
            if "num_model_requests" in cols:
                req[kid] += int(row["num_model_requests"])
            if "input_tokens" in cols:
                tin[kid] += int(row["input_tokens"])
            if "output_tokens" in cols:
                tout[kid] += int(row["output_tokens"])
    per_key = api_key_cost_totals(org, lo, hi)
    cost: dict[str | None, Decimal] = defaultdict(lambda: Decimal("0.000000000"))
    for (_, kid), amount in per_key.items():
        cost[kid] += amount
    return {k: KeyWindowTotals(req[k], tin[k], tout[k], cost[k]) for k in keys}


# --------------------------------------------------------------------------- seat governance


@dataclass(frozen=True)
class MatchRules:
    """How a member email is matched to the Asset Registry (`kscope.engineers`).

    `strip_plus_addresses`: `ann+openai@corp.com` is read as `ann@corp.com`;
    `domain_aliases`: (alias domain, canonical domain) pairs, e.g. ("corp.io", "corp.com").
    """

    strip_plus_addresses: bool = True
    domain_aliases: tuple[tuple[str, str], ...] = ()


def default_rules(org: SyntheticOrg) -> MatchRules:
    """Plus-address stripping on, and the organization's own domain aliases."""
    aliases = org.extra.get("domain_aliases", {})
    pairs = tuple(sorted((k.lower(), v.lower()) for k, v in dict(aliases).items()))  # type: ignore[call-overload]
    return MatchRules(True, pairs)


MATCH_RULES_ORDER = ("exact", "case_insensitive", "alias", "plus_address", "domain_alias")


@dataclass(frozen=True)
class Attribution:
    """One member's seat-governance outcome."""

    member_id: str
    email: str
    kind: str  # "user" | "invite"
    attributed: bool
    engineer_id: str | None
    rule: str | None  # one of MATCH_RULES_ORDER when attributed
    reason: str | None  # "no_registry_match" | "engineer_departed" when not attributed


def _strip_plus(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _map_domain(email: str, aliases: dict[str, str]) -> str:
    local, _, domain = email.partition("@")
    return f"{local}@{aliases.get(domain, domain)}"


def members(org: SyntheticOrg) -> list[tuple[str, str, str]]:
    """Seat-governance members: (member_id, email, kind) for every user and pending invite."""
    out = [(u.id, u.email, "user") for u in org.users]
    out += [(i.id, i.email, "invite") for i in org.invites if i.status == "pending"]
    return out


def attribution(org: SyntheticOrg, rules: MatchRules | None = None) -> dict[str, Attribution]:
    """Match every member (user or pending invite) to an engineer.

    Emails are trimmed. The rules are tried in order, each against every engineer's
    `email` and each address of `aliases` (`;`-separated):
      1. `exact`: member email == registry address (case-sensitive), registry `email` only;
      2. `case_insensitive`: equal after lower-casing, registry `email` only;
      3. `alias`: lower-cased member email equals a lower-cased alias;
      4. `plus_address` (when `rules.strip_plus_addresses`): equal after lower-casing and
         dropping `+tag` from the local part, on both sides, against email and aliases;
      5. `domain_alias`: as 4 (plus stripping only if enabled) and then mapping each side's
         domain through `rules.domain_aliases`, against email and aliases.
    The first rule under which an `active` engineer matches attributes the member (the
    smallest engineer_id if several). When no active engineer matches under any rule but a
    `departed` one does, the reason is `engineer_departed` (engineer_id = that engineer);
    otherwise `no_registry_match`.
    """
    rules = rules or default_rules(org)
    dom = dict(rules.domain_aliases)
    eng = org.engineers.sort_values("engineer_id", kind="stable")

    def plus(e: str) -> str:
        return _strip_plus(e) if rules.strip_plus_addresses else e

    level_index: list[dict[str, list[tuple[str, str]]]] = [defaultdict(list) for _ in range(5)]
    for eid, email, aliases, status in zip(
        eng["engineer_id"], eng["email"], eng["aliases"], eng["status"], strict=True
    ):
        primary = str(email).strip()
        alias_list = (
            [a.strip() for a in str(aliases).split(";") if a.strip()]
            if isinstance(aliases, str)
            else []
        )
        addresses = [primary.lower(), *(a.lower() for a in alias_list)]
        level_index[0][primary].append((eid, status))
        level_index[1][primary.lower()].append((eid, status))
        for a in alias_list:
            level_index[2][a.lower()].append((eid, status))
        if rules.strip_plus_addresses:
            for a in addresses:
                level_index[3][plus(a)].append((eid, status))
        for a in addresses:
            level_index[4][_map_domain(plus(a), dom)].append((eid, status))

    out: dict[str, Attribution] = {}
    for member_id, raw, kind in members(org):
        email = raw.strip()
        low = email.lower()
        probes = [
            email,
            low,
            low,
            plus(low) if rules.strip_plus_addresses else None,
            _map_domain(plus(low), dom),
        ]
        departed: str | None = None
        result: Attribution | None = None
        for level, probe in enumerate(probes):
            if probe is None:
                continue
            hits = level_index[level].get(probe, [])
            active = sorted(e for e, s in hits if s == "active")
            if active:
                result = Attribution(
                    member_id, raw, kind, True, active[0], MATCH_RULES_ORDER[level], None
                )
                break
            gone = sorted(e for e, s in hits if s != "active")
            if gone and departed is None:
                departed = gone[0]
        if result is None:
            reason = "engineer_departed" if departed else "no_registry_match"
            result = Attribution(member_id, raw, kind, False, departed, None, reason)
        out[member_id] = result
    return out


def unattributed_members(org: SyntheticOrg, rules: MatchRules | None = None) -> dict[str, str]:
    """{member_id: reason} for the members `attribution` cannot attribute to an active engineer.

    reason is `no_registry_match` or `engineer_departed`; members are users and pending
    invites (accepted invites are users already; expired ones hold no seat).
    """
    return {m: a.reason for m, a in attribution(org, rules).items() if not a.attributed}  # type: ignore[misc]
