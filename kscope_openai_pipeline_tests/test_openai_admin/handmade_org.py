"""A small, hand-built `SyntheticOrg` whose counts the tests choose exactly.

Why: page-boundary tests need lists of exactly 99, 100, 101 and 0 items and usage that
spans known days; the generated orgs (`sandbox/org.py`) are realistic but their counts
are whatever the seed gives. The sandbox serves this org like any other
(`Sandbox.start(org=...)`), and the expected answers are computed here independently,
with pandas, from the same event rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from kscope_openai_pipeline.openai_admin import USAGE_GROUP_BY
from kscope_openai_pipeline.openai_admin.usage import (
    USAGE_DIMENSIONS,
    USAGE_OPTIONAL_METRICS,
    USAGE_REQUIRED_METRICS,
)
from kscope_openai_pipeline.sandbox.model import (
    ApiKey,
    AuditEvent,
    Invite,
    Project,
    ProjectUser,
    ServiceAccount,
    SyntheticOrg,
    User,
)

DAY = 86400
FIRST_DAY = date(2025, 1, 1)
T0 = 1735689600  # 2025-01-01 00:00 UTC
N_DAYS = 420  # data through 2026-02-24
ADMIN_KEY = "sk-admin-handmade-0123456789abcdef"

# Keys per project: 0 (empty listing), 99 / 100 / 101 (page boundary at limit=100).
KEYS_PER_PROJECT = {"proj_empty": 0, "proj_99": 99, "proj_100": 100, "proj_101": 101}
ARCHIVED = "proj_old"

_DIM_VALUES = {
    "project_id": ["proj_99", "proj_100", None],
    "api_key_id": ["key_a", "key_b", "key_deleted"],
    "model": ["gpt-4o", "gpt-4o-mini"],
    "batch": [False, True],
    "service_tier": ["default", None],
    "size": ["1024x1024", "256x256"],
    "source": ["image.generation", "image.edit"],
    "vector_store_id": ["vs_1", None],
    "context_level": ["low", "high"],
}


def _usage_frame(family: str, salt: int) -> pd.DataFrame:
    """Three events a day on most days; some days none; two events share dimensions."""
    dims = USAGE_GROUP_BY[family]
    metrics = USAGE_REQUIRED_METRICS[family] + USAGE_OPTIONAL_METRICS.get(family, ())
    rows = []
    for d in range(N_DAYS):
        if (d + salt) % 7 == 3:  # a day with no traffic: an empty bucket
            continue
        for e in range(3):
            row: dict[str, object] = {"ts": T0 + d * DAY + 3600 * (e * 7 + salt % 5) + 59}
            for i, dim in enumerate(dims):
                values = _DIM_VALUES[dim]
                # events 0 and 1 share every dimension (the server must sum them)
                row[dim] = values[(d + i + (e == 2)) % len(values)]
            row["user_id"] = f"user-{e}"  # not grouped: must be summed away
            for j, metric in enumerate(metrics):
                row[metric] = (d * 37 + e * 11 + j * 5 + salt) % 997 + 1
            rows.append(row)
    return pd.DataFrame(rows)


def _costs_frame() -> pd.DataFrame:
    rows = []
    for d in range(N_DAYS):
        for i, (project, item, key, qty) in enumerate(
            [
                ("proj_99", "gpt-4o, input", "key_a", 1000),
                ("proj_99", "gpt-4o, input", "key_b", 500),
                ("proj_100", "gpt-4o, output", "key_b", 200),
                (None, "ChatGPT seats", None, None),
            ]
        ):
            cents = Decimal((d * 131 + i * 977) % 10007).scaleb(-4)
            rows.append(
                {
                    "ts": T0 + d * DAY,
                    "project_id": project,
                    "line_item": item,
                    "api_key_id": key,
                    "amount": (cents + Decimal("0.000000123")).quantize(Decimal("1e-9")),
                    "quantity": qty,
                    "quantity_unit": None if qty is None else "tokens",
                }
            )
    return pd.DataFrame(rows)


def make_org(n_users: int = 101, n_invites: int = 0) -> SyntheticOrg:
    """The hand-built org: `n_users` users, `n_invites` invites, fixed everything else."""
    projects = [
        Project(pid, f"Project {pid}", T0 + i, None, "active")
        for i, pid in enumerate(KEYS_PER_PROJECT)
    ]
    projects.append(Project(ARCHIVED, "Old", T0 + 9, T0 + 100 * DAY, "archived"))
    users = [
        User(f"user-{i:03d}", f"u{i}@example.com", f"User {i}", "reader", T0 + i)
        for i in range(n_users)
    ]
    owner = users[0].id if users else "user-gone"  # a deleted user still owns keys
    service_accounts = [
        ServiceAccount("svc_acct_1", "proj_100", "ci-bot", "member", T0 + 50),
        ServiceAccount("svc_acct_2", ARCHIVED, "old-bot", "member", T0 + 51),
    ]
    project_users = [ProjectUser("proj_100", u.id, "member", T0 + 60) for u in users[:3]]
    project_users.append(ProjectUser(ARCHIVED, owner, "owner", T0 + 61))
    keys: list[ApiKey] = []
    for pid, n in KEYS_PER_PROJECT.items():
        for k in range(n):
            kid = f"key_{pid}_{k:03d}"
            keys.append(
                ApiKey(
                    kid,
                    "project",
                    pid,
                    f"k{k}",
                    f"sk-proj-****{k:04d}",
                    T0 + k,
                    None,
                    "service_account",
                    "svc_acct_1",
                )
            )
    keys.append(
        ApiKey(
            "key_old_1", "project", ARCHIVED, "old", "sk-proj-****OLD1", T0, T0 + DAY, "user", owner
        )
    )
    keys.append(
        ApiKey(
            "key_deleted",
            "project",
            "proj_99",
            "gone",
            "sk-proj-****GONE",
            T0,
            None,
            "user",
            owner,
            deleted=True,
        )
    )
    keys.append(
        ApiKey(
            "key_admin_1",
            "admin",
            None,
            "crawler",
            "sk-admin-****AAAA",
            T0 + 5,
            T0 + 6,
            "user",
            owner,
            expires_at=T0 + 400 * DAY,
        )
    )
    invites = [
        Invite(f"invite-{i}", f"i{i}@example.com", "reader", "pending", T0 + i, T0 + i + DAY, None)
        for i in range(n_invites)
    ]
    audit = [
        AuditEvent(f"audit_log-{i:03d}", t, T0 + i * DAY, "proj_99", owner, f"key_{i}")
        for i, t in enumerate(["api_key.created", "api_key.deleted", "user.added"] * 5)
    ]
    usage = {family: _usage_frame(family, salt) for salt, family in enumerate(USAGE_GROUP_BY)}
    return SyntheticOrg(
        seed=0,
        size="handmade",
        organization_id="org-handmade",
        organization_name="Handmade",
        start_day=T0,
        end_day=T0 + N_DAYS * DAY,
        projects=projects,
        users=users,
        service_accounts=service_accounts,
        project_users=project_users,
        api_keys=keys,
        invites=invites,
        audit_events=audit,
        usage=usage,
        costs=_costs_frame(),
        dev_tokens=pd.DataFrame(),
        gateway_costs=pd.DataFrame(),
        engineers=pd.DataFrame(),
        admin_key=ADMIN_KEY,
    )


def expected_usage(org: SyntheticOrg, family: str, start: date, end: date) -> list[dict]:
    """Daily sums per group_by tuple, computed from the raw events, as client records."""
    frame = org.usage[family].copy()
    lo = (start - FIRST_DAY).days * DAY + T0
    hi = (end - FIRST_DAY).days * DAY + T0
    frame = frame[(frame["ts"] >= lo) & (frame["ts"] < hi)]
    dims = list(USAGE_GROUP_BY[family])
    metrics = list(USAGE_REQUIRED_METRICS[family] + USAGE_OPTIONAL_METRICS.get(family, ()))
    frame["day"] = (frame["ts"] // DAY) * DAY
    sums = (
        frame.astype({d: object for d in dims}).groupby(["day", *dims], dropna=False)[metrics].sum()
    )
    out = []
    api_to_col = {v: k for k, v in USAGE_DIMENSIONS.items()}
    for idx, row in sums.iterrows():
        day, *dim_values = idx
        record: dict[str, object] = {
            "usage_type": family,
            "usage_date": pd.Timestamp(day, unit="s").date(),
        }
        for col in USAGE_DIMENSIONS:
            record[col] = None
        for dim, value in zip(dims, dim_values, strict=True):
            record[api_to_col[dim]] = None if pd.isna(value) else value
        for m in (
            "input_tokens",
            "output_tokens",
            "input_cached_tokens",
            "input_audio_tokens",
            "output_audio_tokens",
            "num_model_requests",
            "images",
            "characters",
            "seconds",
            "usage_bytes",
            "num_sessions",
            "num_requests",
        ):
            record[m] = int(row[m]) if m in metrics else 0
        out.append(record)
    return out


def expected_costs(
    org: SyntheticOrg, start: date, end: date, group_by: tuple[str, ...]
) -> list[dict]:
    """Daily cost sums per group_by tuple from the raw cost rows (exact Decimals)."""
    lo = (start - FIRST_DAY).days * DAY + T0
    hi = (end - FIRST_DAY).days * DAY + T0
    sums: dict[tuple, list] = {}
    for row in org.costs.itertuples(index=False):
        if not lo <= row.ts < hi:
            continue
        key = (row.ts, *(getattr(row, g) for g in group_by))
        acc = sums.setdefault(key, [Decimal(0), None])
        acc[0] += row.amount
        if "line_item" in group_by and row.quantity is not None and row.quantity == row.quantity:
            acc[1] = (acc[1] or 0) + int(row.quantity)
    out = []
    for (ts, *values), (amount, qty) in sums.items():
        dims = dict(zip(group_by, values, strict=True))
        out.append(
            {
                "cost_date": pd.Timestamp(ts, unit="s").date(),
                "project_id": dims.get("project_id"),
                "line_item": dims.get("line_item"),
                "api_key_id": dims.get("api_key_id"),
                "amount_usd": amount,
                "currency": "usd",
                "quantity": None if qty is None else Decimal(qty),
                "quantity_unit": None if qty is None else "tokens",
            }
        )
    return out


def sort_key(record: dict) -> tuple:
    """Total order over records with None-able values."""
    return tuple((v is None, str(v)) for v in record.values())
