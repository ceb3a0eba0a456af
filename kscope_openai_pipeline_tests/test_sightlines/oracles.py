"""Independent Python computations of what the ground truth module does not define.

Why: `sandbox.ground_truth` defines bypass statuses, billed key costs, reconciliation and
attribution, but not the token-share allocation of key costs (used when openai.api_key_costs
does not cover a day) nor the seat split. These oracles compute both from the org's RAW
records (usage events, cost rows, users), with plain Python integers, following the rules
documented in `api_key_daily_costs.sql` and `seat_allocation.sql`, so the SQL is checked
against a second implementation rather than against itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import FAMILY_DIMENSIONS, FAMILY_METRICS, SyntheticOrg

NANO = Decimal("0.000000001")


def _nanos(amount: Decimal) -> int:
    return int(amount.scaleb(9))


def _usd(nanos: int) -> Decimal:
    return (Decimal(nanos) * NANO).quantize(NANO)


def allocated_key_costs(
    org: SyntheticOrg, days: set[dt.date]
) -> dict[tuple[dt.date, str], Decimal]:
    """{(day, api_key_id): USD} of project x model costs split by token share on `days`.

    Rules (the SQL's): a cost line belongs to the model named before its first ', '; a
    key's weight in (day, project, model) is input + output tokens, or num_model_requests
    when that project x model has no tokens that day; each part is floor(C x w / W)
    nano-dollars and the residue goes to the row with the largest remainder (ties: the
    greatest api_key_id, a NULL key counting as ''). NULL-key shares are dropped.
    """
    costs: dict[tuple, int] = defaultdict(int)
    for ts, project, line, amount in zip(
        org.costs["ts"], org.costs["project_id"], org.costs["line_item"], org.costs["amount"],
        strict=True,
    ):
        day = gt.to_date(int(ts))
        if day in days and isinstance(line, str):
            costs[(day, project, line.split(", ", 1)[0])] += _nanos(amount)
    tokens: dict[tuple, int] = defaultdict(int)
    requests: dict[tuple, int] = defaultdict(int)
    for family, frame in org.usage.items():
        if "model" not in FAMILY_DIMENSIONS[family]:
            continue
        metrics = FAMILY_METRICS[family]
        n = len(frame)
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
            if day not in days or model is None:
                continue
            k = (day, project, model, key if isinstance(key, str) else None)
            tokens[k] += int(i) + int(o)
            requests[k] += int(r)
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for (day, project, model, key), t in tokens.items():
        groups[(day, project, model)].append((key, t, requests[(day, project, model, key)]))
    out: dict[tuple[dt.date, str], int] = defaultdict(int)
    for group, members in groups.items():
        cost = costs.get(group)
        if cost is None:
            continue
        use_tokens = sum(t for _, t, _ in members) > 0
        weights = [(key, t if use_tokens else r) for key, t, r in members]
        total = sum(w for _, w in weights)
        if total <= 0:
            continue
        parts = []
        for key, w in weights:
            base = (cost * w) // total  # Python floors, like the SQL
            parts.append([key, base, cost * w - base * total])
        residue = cost - sum(p[1] for p in parts)
        if residue:
            winner = max(parts, key=lambda p: (p[2], p[0] or ""))
            winner[1] += residue
        for key, nanos, _ in parts:
            if key is not None:
                out[(group[0], key)] += nanos
    return {k: _usd(v) for k, v in out.items()}


def seat_members(org: SyntheticOrg, day: dt.date) -> list[str]:
    """User ids that are members on `day` (added on or before it, not removed before it:
    former members count on their days), earliest added first."""
    users = sorted([*org.users, *org.former_users], key=lambda u: (u.added_at, u.id))
    return [
        u.id
        for u in users
        if gt.to_date(u.added_at) <= day
        and (u.deleted_at is None or gt.to_date(u.deleted_at) >= day)
    ]


def seat_split(amount: Decimal, members: list[str]) -> dict[str, Decimal]:
    """Even split in nano-dollars, the residue one nano each to the first members."""
    nanos = _nanos(amount)
    base, residue = divmod(nanos, len(members))
    return {m: _usd(base + (1 if i < residue else 0)) for i, m in enumerate(members)}
