"""Ground truth of the daily (point-in-time) sightlines: what was true on each day.

Why a module of its own: `ground_truth.py` defines the "now" view; these functions define
the day-by-day one, from the organization's records (keys, tokens, members, engineers,
the audit log), never from a warehouse. The daily sightline SQL reproduces them; when the
two disagree, one has a bug. Conventions are `ground_truth`'s (UTC days, half-open
ranges, exact Decimals with 9 places, absent rows mean nothing happened).

What a crawler can know is part of the definition: the functions describe the warehouse
of a pipeline that crawled the inventory once, after the organization's last day, and
stored the audit log of `audit_days` (None: audit logging off). So a key deleted before
that crawl has no known owner (the audit log does not say who owns a key), and a key's
creator is known only when its creation event is among the stored days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd

from . import ground_truth as gt
from .model import FAMILY_DIMENSIONS, FAMILY_METRICS, ApiKey, SyntheticOrg
from .prices import is_subscription, nanos_to_decimal

DAY = 86_400
#: The Costs API groups by api_key_id from this day on (earlier days are allocated).
API_KEY_COSTS_FIRST_DAY = date(2025, 12, 6)
TOKEN_STATUSES = ("registered", "registered_revoked", "unregistered")
ZERO = Decimal("0.000000000")

DayRange = tuple[gt.DayLike, gt.DayLike]


def _days(start: gt.DayLike, end: gt.DayLike) -> list[date]:
    first, stop = gt.to_date(gt.to_epoch(start)), gt.to_date(gt.to_epoch(end))
    return [first + timedelta(days=i) for i in range((stop - first).days)]


def _naive(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).replace(tzinfo=None)


def _seconds(value: object) -> int | None:
    """A token's naive-UTC timestamp as Unix seconds (None for NaT/None)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return int(pd.Timestamp(value).tz_localize("UTC").timestamp())


# --------------------------------------------------------------------------- tokens


def token_status_on(
    tokens: Iterable[tuple[int, int | None, str]], day: date
) -> str:
    """A key's Dev Token status on `day`, from its matched tokens (created, revoked, status).

    `registered`: a token was active at some moment of the UTC day (created before the
    day's end, not revoked before its start; a token revoked at an unknown time counts as
    revoked); `registered_revoked`: tokens created before the day's end exist, none was
    active that day; `unregistered`: no matching token existed yet (or ever).
    """
    start = gt.to_epoch(day)
    end = start + DAY
    existed = False
    for created, revoked, status in tokens:
        if created >= end:
            continue
        existed = True
        active = revoked >= start if revoked is not None else status == "active"
        if active:
            return "registered"
    return "registered_revoked" if existed else "unregistered"


def key_tokens(org: SyntheticOrg) -> dict[str, list[tuple[int, int | None, str]]]:
    """(created, revoked, status) of the tokens matched to every key with any.

    Matching as in the "now" view (`ground_truth.key_token_matches`): by key id; only
    when no token carries the key's id, tokens without one whose redacted value equals
    the key's, and only for keys the crawl lists (a deleted key's redacted value is known
    to no crawl after its deletion).
    """
    t = org.dev_tokens
    rows = list(
        zip(
            t["provider_key_id"],
            t["provider_key_redacted"],
            t["created_at"],
            t["revoked_at"],
            t["status"],
            strict=True,
        )
    )
    by_id: dict[str, list] = defaultdict(list)
    by_redacted: dict[str, list] = defaultdict(list)
    for kid, red, created, revoked, status in rows:
        entry = (_seconds(created), _seconds(revoked), status)
        if isinstance(kid, str):
            by_id[kid].append(entry)
        elif isinstance(red, str):
            by_redacted[red].append(entry)
    out: dict[str, list[tuple[int, int | None, str]]] = {}
    for key in org.api_keys:
        found = by_id.get(key.id) or ([] if key.deleted else by_redacted.get(key.redacted_value))
        if found:
            out[key.id] = found
    return out


# --------------------------------------------------------------------------- key costs


def _covered_days(org: SyntheticOrg, days: list[date]) -> set[date]:
    """Days openai.api_key_costs has rows for: from the API's first day, any cost row."""
    billed = gt.api_key_cost_totals(org, days[0], days[-1] + timedelta(days=1)) if days else {}
    return {d for d, _ in billed if d >= API_KEY_COSTS_FIRST_DAY}


def allocated_key_costs(org: SyntheticOrg, days: set[date]) -> dict[tuple[date, str], Decimal]:
    """{(day, key): USD} of project x model costs split by token share on `days`.

    A cost line belongs to the model named before its first ', '; a key's weight in
    (day, project, model) is its input + output tokens, or its num_model_requests when
    the group has no tokens that day; each part is floor(C x w / W) nano-dollars and the
    residue goes to the largest remainder (ties: the greatest key id, no key counting as
    ''). Traffic without a key takes its share, which belongs to no key.
    """
    if not days:
        return {}
    costs: dict[tuple, int] = defaultdict(int)
    nanos = gt._nanos(org.costs)
    for ts, project, line, amount in zip(
        org.costs["ts"].tolist(), org.costs["project_id"], org.costs["line_item"], nanos.tolist(),
        strict=True,
    ):
        day = gt.to_date(int(ts))
        if day in days and isinstance(line, str):
            costs[(day, project, line.split(", ", 1)[0])] += int(amount)
    tokens: dict[tuple, int] = defaultdict(int)
    requests: dict[tuple, int] = defaultdict(int)
    for family, frame in org.usage.items():
        if "model" not in FAMILY_DIMENSIONS[family]:
            continue
        metrics, n = FAMILY_METRICS[family], len(frame)
        zeros = [0] * n
        ins = frame["input_tokens"].tolist() if "input_tokens" in metrics else zeros
        outs = frame["output_tokens"].tolist() if "output_tokens" in metrics else zeros
        reqs = frame["num_model_requests"].tolist() if "num_model_requests" in metrics else zeros
        keys = frame["api_key_id"].tolist() if "api_key_id" in frame.columns else [None] * n
        for ts, project, model, key, i, o, r in zip(
            frame["ts"].tolist(), frame["project_id"].tolist(), frame["model"].tolist(), keys,
            ins, outs, reqs, strict=True,
        ):
            day = gt.to_date(int(ts))
            if day in days and model is not None:
                group = (day, project, model, key if isinstance(key, str) else None)
                tokens[group] += int(i) + int(o)
                requests[group] += int(r)
    members: dict[tuple, list[tuple]] = defaultdict(list)
    for (day, project, model, key), t in tokens.items():
        members[(day, project, model)].append((key, t, requests[(day, project, model, key)]))
    out: dict[tuple[date, str], int] = defaultdict(int)
    for group, keys in members.items():
        cost = costs.get(group)
        if cost is None:
            continue
        by_tokens = sum(t for _, t, _ in keys) > 0
        weights = [(key, t if by_tokens else r) for key, t, r in keys]
        total = sum(w for _, w in weights)
        if total <= 0:
            continue
        parts = [[key, (cost * w) // total, cost * w - (cost * w) // total * total]
                 for key, w in weights]
        residue = cost - sum(p[1] for p in parts)
        if residue:
            max(parts, key=lambda p: (p[2], p[0] or ""))[1] += residue
        for key, part, _ in parts:
            if key is not None:
                out[(group[0], key)] += part
    return {k: nanos_to_decimal(v) for k, v in out.items()}


def key_daily_costs(
    org: SyntheticOrg, start: gt.DayLike, end: gt.DayLike
) -> dict[tuple[date, str], Decimal]:
    """Each key's cost per day: billed per key on days the Costs API groups by key (and
    has any row), allocated by token share on the others (`allocated_key_costs`)."""
    days = _days(start, end)
    covered = _covered_days(org, days)
    out: dict[tuple[date, str], Decimal] = {}
    for (day, key), amount in gt.api_key_cost_totals(org, start, end).items():
        if key is not None and day in covered:
            out[(day, key)] = amount
    out.update(allocated_key_costs(org, set(days) - covered))
    return out


# --------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class BypassDay:
    """One row of `sightlines.gateway_bypass_daily`: a key on a day it was used or billed."""

    project_id: str | None
    owner_type: str | None
    owner_id: str | None
    owner_email: str | None
    input_tokens: int
    output_tokens: int
    requests: int
    cost_usd: Decimal
    token_status: str
    bypass: bool
    key_created_at: datetime | None
    key_created_by: str | None


def _creators(
    org: SyntheticOrg, audit_days: DayRange | None
) -> dict[str, tuple[int, str | None]]:
    """key id -> (created, actor e-mail or service account) from the stored audit log."""
    if audit_days is None:
        return {}
    lo, hi = gt.to_epoch(audit_days[0]), gt.to_epoch(audit_days[1])
    emails = {u.id: u.email for u in [*org.users, *org.former_users]}
    out: dict[str, tuple[int, str | None]] = {}
    for e in org.audit_events:
        if e.type == "api_key.created" and lo <= e.effective_at < hi and e.resource_id:
            by = emails.get(e.actor_user_id or "") or e.actor_service_account_id
            out[e.resource_id] = (e.effective_at, by)
    return out


def gateway_bypass_daily(
    org: SyntheticOrg, start: gt.DayLike, end: gt.DayLike, *, audit_days: DayRange | None
) -> dict[tuple[date, str], BypassDay]:
    """One row per (day, api_key_id) with usage (any family carrying keys) or key cost.

    Tokens and requests as in `ground_truth.key_window_totals`, for that day; cost from
    `key_daily_costs`; `token_status` from `token_status_on` and the key's matched tokens;
    `bypass` unless registered that day. Owner: the listed key's owner (a user's e-mail,
    none for service accounts); unknown for keys deleted before the crawl. Creation: the
    listed key's `created_at`, else the stored creation event's time; the creator is the
    stored `api_key.created` event's actor (user e-mail, else service account id).
    """
    usage: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    lo, hi = gt.to_epoch(start), gt.to_epoch(end)
    for family in gt.KEY_FAMILIES:
        frame = org.usage[family]
        sel = frame[(frame["ts"] >= lo) & (frame["ts"] < hi) & frame["api_key_id"].notna()]
        metrics = FAMILY_METRICS[family]
        for row in sel.itertuples(index=False):
            totals = usage[(gt.to_date(int(row.ts)), row.api_key_id)]
            totals[0] += int(row.input_tokens) if "input_tokens" in metrics else 0
            totals[1] += int(row.output_tokens) if "output_tokens" in metrics else 0
            totals[2] += int(row.num_model_requests) if "num_model_requests" in metrics else 0
    costs = key_daily_costs(org, start, end)
    keys: dict[str, ApiKey] = {k.id: k for k in org.api_keys}
    emails = {u.id: u.email for u in org.users}
    tokens = key_tokens(org)
    creators = _creators(org, audit_days)
    out: dict[tuple[date, str], BypassDay] = {}
    for day, kid in sorted(set(usage) | set(costs)):
        key = keys.get(kid)
        listed = key is not None and not key.deleted
        status = token_status_on(tokens.get(kid, []), day)
        created = key.created_at if listed else creators.get(kid, (None, None))[0]
        tin, tout, req = usage.get((day, kid), (0, 0, 0))
        out[(day, kid)] = BypassDay(
            project_id=key.project_id if key else None,
            owner_type=key.owner_type if listed else None,
            owner_id=key.owner_id if listed else None,
            owner_email=emails.get(key.owner_id) if listed and key.owner_type == "user" else None,
            input_tokens=tin,
            output_tokens=tout,
            requests=req,
            cost_usd=costs.get((day, kid), ZERO),
            token_status=status,
            bypass=status != "registered",
            key_created_at=_naive(created),
            key_created_by=creators.get(kid, (None, None))[1],
        )
    return out


def bypass_explained(
    org: SyntheticOrg, start: gt.DayLike, end: gt.DayLike
) -> dict[tuple[date, str | None], Decimal]:
    """`billing_reconciliation.bypass_explained_usd` per (day, project): the cost of the
    keys that bypassed the gateway THAT day (the ledger's `bypass`), by the key's project."""
    out: dict[tuple[date, str | None], Decimal] = defaultdict(lambda: ZERO)
    for (day, _), row in gateway_bypass_daily(org, start, end, audit_days=None).items():
        if row.bypass and row.cost_usd:
            out[(day, row.project_id)] += row.cost_usd
    return dict(out)


# --------------------------------------------------------------------------- seats


def engineers_on(org: SyntheticOrg, day: date) -> pd.DataFrame:
    """The Asset Registry as it was on `day`: an engineer with `departed_on` is active on
    the days before it and departed from it on; without one, the status is taken as is."""
    eng = org.engineers.copy()
    if "departed_on" in eng.columns:
        on = [d for d in eng["departed_on"]]
        eng["status"] = [
            ("active" if day < d else "departed") if isinstance(d, date) else s
            for d, s in zip(on, eng["status"], strict=True)
        ]
    return eng


def member_order(org: SyntheticOrg, day: gt.DayLike) -> list[str]:
    """That day's members (`ground_truth.members_on`), earliest added first (then id)."""
    added = {u.id: u.added_at for u in [*org.users, *org.former_users]}
    return sorted(gt.members_on(org, day), key=lambda u: (added[u], u))


def seat_allocation_daily(
    org: SyntheticOrg, start: gt.DayLike, end: gt.DayLike
) -> dict[tuple[date, str, str | None], Decimal]:
    """{(day, line item, user id): USD}: each seat line split evenly in nano-dollars over
    that day's members, one residue nano each to the earliest; a day without members
    keeps the line whole on user None."""
    out: dict[tuple[date, str, str | None], Decimal] = {}
    for (day, line), amount in gt.subscription_totals(org, start, end).items():
        members = member_order(org, day)
        if not members:
            out[(day, line, None)] = amount
            continue
        total = int(amount.scaleb(9))
        base, residue = divmod(total, len(members))
        for i, member in enumerate(members):
            out[(day, line, member)] = nanos_to_decimal(base + (1 if i < residue else 0))
    return out


@dataclass(frozen=True)
class SeatDay:
    """One row of `sightlines.seat_governance_daily`."""

    email: str
    attributed: bool
    engineer_id: str | None
    match_rule: str | None
    reason: str | None
    seat_usd: Decimal


def seat_governance_daily(
    org: SyntheticOrg,
    start: gt.DayLike,
    end: gt.DayLike,
    rules: gt.MatchRules | None = None,
) -> dict[tuple[date, str], SeatDay]:
    """Every member on every day, attributed by `ground_truth.attribution`'s rules against
    the registry as it was that day (`engineers_on`), with that day's seat cost."""
    rules = rules or gt.default_rules(org)
    seats = seat_allocation_daily(org, start, end)
    seat_of: dict[tuple[date, str], Decimal] = defaultdict(lambda: ZERO)
    for (day, line, member), amount in seats.items():
        if member is not None and is_subscription(line):
            seat_of[(day, member)] += amount
    everyone = {u.id: u for u in [*org.users, *org.former_users]}
    out: dict[tuple[date, str], SeatDay] = {}
    for day in _days(start, end):
        users = [everyone[m] for m in gt.members_on(org, day)]
        that_day = replace(org, users=users, invites=[], engineers=engineers_on(org, day))
        for member, a in gt.attribution(that_day, rules).items():
            out[(day, member)] = SeatDay(
                a.email, a.attributed, a.engineer_id, a.rule, a.reason, seat_of[(day, member)]
            )
    return out
