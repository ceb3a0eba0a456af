"""The one hand-built `SyntheticOrg` that the sandbox and Admin API client tests run against.

Why by hand: the generated orgs (`sandbox/org.py`) are realistic, but their counts are
whatever the seed gives. The server tests assert exact numbers (a partial first bucket,
null dimensions, no zero rows, the costs `api_key_id` floor) and the client tests need
lists of exactly 0, 99, 100 and 101 items; both are easiest against records chosen here.
Why one org: two hand-built orgs drift apart and each test suite would only see half of
the edge cases; one org keeps every case in front of every test.

The org has two kinds of traffic, kept apart in time so that each keeps its exact numbers:

- the generated history, 2025-01-01 (T0) to 2025-10-31: three events a day per usage
  family (some days none, two events of a day sharing every dimension) and four cost
  lines a day, on `proj_99`, `proj_100` and no project (org-level), keys `key_a`/`key_b`
  and the deleted `key_deleted`. The client tests compare what they read with `expected_usage` and
  `expected_costs`, computed here independently with pandas from the raw rows.
- the hand-placed days, 2025-12-01 (DAY0) to 2025-12-10: a few events per family at
  known minutes on projects Alpha, Beta and the archived Old, including org-level traffic
  without a project, a deleted key with usage, an all-zero event and cost lines on both
  sides of the `api_key_id` floor 2025-12-06 (DAY0 + 5 days). The server tests assert
  their literals against these.

November has no traffic (the server tests expect empty buckets just before DAY0), and
`end_day` is END (2025-12-11), so that a server test reading from DAY0 with the default
end gets exactly the hand-placed days.

People and lists: 101 users (Ann, Bob, Cyd, then fillers `user-x00`...), more than one
default page (20) and one past a full page (100); projects `proj_alpha`, `proj_beta`,
then `proj_empty`, `proj_99`, `proj_100`, `proj_101` (0, 99, 100 and 101 keys: the page
boundary at limit 100) and the archived `proj_old`; three invites; five audit events.
"""

from __future__ import annotations

import dataclasses
import functools
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
    FAMILY_DIMENSIONS,
    FAMILY_METRICS,
    ApiKey,
    AuditEvent,
    Invite,
    Project,
    ProjectUser,
    ServiceAccount,
    SyntheticOrg,
    User,
)

DAY = 86_400
HOUR = 3_600
FIRST_DAY = date(2025, 1, 1)
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z, the first day of the generated history
HISTORY_DAYS = 304  # 2025-01-01 to 2025-10-31
DAY0 = 1_764_547_200  # 2025-12-01T00:00:00Z, the first hand-placed day
END = DAY0 + 10 * DAY  # exclusive: the org's end_day
ADMIN_KEY = "sk-admin-handmade-0123456789abcdef"

# Keys per project: 0 (empty listing), 99 / 100 / 101 (page boundary at limit=100).
KEYS_PER_PROJECT = {"proj_empty": 0, "proj_99": 99, "proj_100": 100, "proj_101": 101}
ARCHIVED = "proj_old"
N_USERS = 101  # one past a full page of 100


# -- people -----------------------------------------------------------------------------


def _users(n: int) -> list[User]:
    """Ann, Bob and Cyd, then fillers `user-x00`, ... up to `n` users."""
    named = [
        User("user-ann", "ann@example.com", "Ann", "owner", DAY0 - 400 * DAY),
        User("user-bob", "bob@example.com", "Bob", "reader", DAY0 - 200 * DAY),
        User("user-cyd", "Cyd@Example.com", "Cyd", "reader", DAY0 - 100 * DAY),
    ]
    fillers = [
        User(f"user-x{i:02d}", f"x{i:02d}@example.com", f"X{i:02d}", "reader", DAY0 - i * DAY)
        for i in range(max(0, n - len(named)))
    ]
    return [*named, *fillers][:n]


def _invites(n: int) -> list[Invite]:
    """The three hand-placed invites (pending, expired, accepted), then pending fillers."""
    placed = [
        Invite(
            "invite-1",
            "new@example.com",
            "reader",
            "pending",
            DAY0,
            DAY0 + 7 * DAY,
            None,
            (("proj_alpha", "member"),),
        ),
        Invite(
            "invite-2",
            "late@example.com",
            "reader",
            "expired",
            DAY0 - 20 * DAY,
            DAY0 - 13 * DAY,
            None,
        ),
        Invite(
            "invite-3",
            "bob@example.com",
            "reader",
            "accepted",
            DAY0 - 201 * DAY,
            DAY0 - 194 * DAY,
            DAY0 - 200 * DAY,
        ),
    ]
    fillers = [
        Invite(
            f"invite-x{i:03d}",
            f"guest{i:03d}@example.com",
            "reader",
            "pending",
            DAY0 + i,
            DAY0 + 7 * DAY + i,
            None,
        )
        for i in range(max(0, n - len(placed)))
    ]
    return [*placed, *fillers][:n]


def _projects() -> list[Project]:
    return [
        Project("proj_alpha", "Alpha", DAY0 - 90 * DAY, None, "active"),
        Project("proj_beta", "Beta", DAY0 - 60 * DAY, None, "active"),
        *(
            Project(pid, f"Project {pid}", T0 + i, None, "active")
            for i, pid in enumerate(KEYS_PER_PROJECT)
        ),
        Project(ARCHIVED, "Old", DAY0 - 300 * DAY, DAY0 - 30 * DAY, "archived"),
    ]


def _service_accounts() -> list[ServiceAccount]:
    return [
        ServiceAccount("svc_acct_ci", "proj_alpha", "ci-bot", "member", DAY0 - 50 * DAY),
        ServiceAccount("svc_acct_1", "proj_100", "keys-bot", "member", T0 + 50),
        ServiceAccount("svc_acct_old", ARCHIVED, "old-bot", "member", DAY0 - 250 * DAY),
    ]


def _project_users() -> list[ProjectUser]:
    return [
        ProjectUser("proj_alpha", "user-ann", "owner", DAY0 - 90 * DAY),
        ProjectUser("proj_alpha", "user-bob", "member", DAY0 - 80 * DAY),
        ProjectUser("proj_beta", "user-bob", "owner", DAY0 - 60 * DAY),
        *(ProjectUser("proj_100", f"user-x{i:02d}", "member", T0 + 60) for i in range(3)),
        ProjectUser(ARCHIVED, "user-ann", "member", DAY0 - 300 * DAY),
    ]


def _placed_keys() -> list[ApiKey]:
    """The hand-placed keys: Alpha's, Beta's (Cyd is no member: inactive), a deleted one
    with usage, the archived project's, and two admin keys."""
    t = DAY0 - 50 * DAY
    return [
        ApiKey(
            "key_ann_alpha",
            "project",
            "proj_alpha",
            "ann-alpha",
            "sk-proj-****aaaa",
            t,
            END - HOUR,
            "user",
            "user-ann",
        ),
        ApiKey(
            "key_bob_alpha",
            "project",
            "proj_alpha",
            "bob-alpha",
            "sk-proj-****bbbb",
            t + 1,
            None,
            "user",
            "user-bob",
        ),
        ApiKey(
            "key_ci",
            "project",
            "proj_alpha",
            "ci-bot",
            "sk-svcac****cccc",
            t + 2,
            END - DAY,
            "service_account",
            "svc_acct_ci",
        ),
        ApiKey(
            "key_cyd_beta",
            "project",
            "proj_beta",
            "cyd-beta",
            "sk-proj-****dddd",
            t + 3,
            None,
            "user",
            "user-cyd",
        ),
        ApiKey(
            "key_bob_beta",
            "project",
            "proj_beta",
            "bob-beta",
            "sk-proj-****eeee",
            t + 4,
            None,
            "user",
            "user-bob",
        ),
        ApiKey(
            "key_gone",
            "project",
            "proj_alpha",
            "gone",
            "sk-proj-****ffff",
            t + 5,
            DAY0 + DAY,
            "user",
            "user-ann",
            deleted=True,
            deleted_at=DAY0 + 2 * DAY,
        ),
        ApiKey(
            "key_old",
            "project",
            ARCHIVED,
            "old",
            "sk-proj-****gggg",
            t + 6,
            DAY0 + 9 * DAY + 23 * HOUR + 59 * 60,  # its last event (see _completions)
            "user",
            "user-ann",
        ),
        ApiKey(
            "key_admin_1",
            "admin",
            None,
            "billing",
            "sk-admin-****hhhh",
            t + 7,
            END - HOUR,
            "user",
            "user-ann",
        ),
        ApiKey(
            "key_admin_0",
            "admin",
            None,
            "older",
            "sk-admin-****iiii",
            t - 10,
            None,
            "user",
            "user-ann",
            expires_at=END + 30 * DAY,
        ),
    ]


def _boundary_keys() -> list[ApiKey]:
    """0, 99, 100 and 101 keys per project, and a deleted key the history still uses."""
    keys = [
        ApiKey(
            f"key_{pid}_{k:03d}",
            "project",
            pid,
            f"k{k}",
            f"sk-proj-****{k:04d}",
            T0 + k,
            None,
            "service_account",
            "svc_acct_1",
        )
        for pid, n in KEYS_PER_PROJECT.items()
        for k in range(n)
    ]
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
            "user-ann",
            deleted=True,
        )
    )
    return keys


def _audit_events() -> list[AuditEvent]:
    return [
        AuditEvent(
            "audit_log-1",
            "api_key.created",
            DAY0 - 50 * DAY,
            "proj_alpha",
            "user-ann",
            "key_ann_alpha",
        ),
        AuditEvent(
            "audit_log-2", "user.added", DAY0 - 80 * DAY, "proj_alpha", "user-ann", "user-bob"
        ),
        AuditEvent(
            "audit_log-3",
            "api_key.created",
            DAY0 - 45 * DAY,
            "proj_alpha",
            "user-ann",
            "key_gone",
        ),
        AuditEvent(
            "audit_log-4",
            "api_key.deleted",
            DAY0 + 2 * DAY,
            "proj_alpha",
            "user-ann",
            "key_gone",
        ),
        AuditEvent(
            "audit_log-5", "api_key.created", DAY0 - 40 * DAY, "proj_beta", None, "key_cyd_beta"
        ),
    ]


# -- the generated history ----------------------------------------------------------------

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


def _history_usage(family: str, salt: int) -> pd.DataFrame:
    """Three events a day on most days; some days none; two events share dimensions."""
    dims = USAGE_GROUP_BY[family]
    metrics = USAGE_REQUIRED_METRICS[family] + USAGE_OPTIONAL_METRICS.get(family, ())
    rows = []
    for d in range(HISTORY_DAYS):
        if (d + salt) % 7 == 3:  # a day with no traffic: an empty bucket
            continue
        for e in range(3):
            row: dict[str, object] = {"ts": T0 + d * DAY + 3600 * (e * 7 + salt % 5) + 59}
            for i, dim in enumerate(dims):
                values = _DIM_VALUES[dim]
                # events 0 and 1 share every dimension (the server must sum them)
                row[dim] = values[(d + i + (e == 2)) % len(values)]
            row["user_id"] = f"user-{e}"  # not grouped by the client: must be summed away
            for j, metric in enumerate(metrics):
                row[metric] = (d * 37 + e * 11 + j * 5 + salt) % 997 + 1
            rows.append(row)
    return pd.DataFrame(rows)


def _history_costs() -> pd.DataFrame:
    rows = []
    for d in range(HISTORY_DAYS):
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


# -- the hand-placed days -------------------------------------------------------------------


def _completions() -> pd.DataFrame:
    """Hand-placed completion events (ts, dims..., metrics...)."""
    rows = [
        # day 0: two keys, one batch, a partial-bucket probe at 12:30
        (
            DAY0 + 1 * HOUR,
            "proj_alpha",
            "user-ann",
            "key_ann_alpha",
            "gpt-4o",
            False,
            "default",
            100,
            10,
            5,
            1,
        ),
        (
            DAY0 + 12 * HOUR + 30 * 60,
            "proj_alpha",
            "user-ann",
            "key_ann_alpha",
            "gpt-4o",
            False,
            "default",
            200,
            20,
            0,
            2,
        ),
        (
            DAY0 + 13 * HOUR,
            "proj_alpha",
            None,
            "key_ci",
            "gpt-4o-mini",
            True,
            "default",
            1000,
            100,
            0,
            3,
        ),
        # day 1: the deleted key still has usage; org-level traffic with a NULL project
        (
            DAY0 + DAY + 5 * HOUR,
            "proj_alpha",
            "user-ann",
            "key_gone",
            "gpt-4o",
            False,
            "flex",
            300,
            30,
            30,
            1,
        ),
        (
            DAY0 + DAY + 6 * HOUR,
            None,
            "user-bob",
            None,
            "gpt-4o-mini",
            False,
            "default",
            50,
            5,
            0,
            1,
        ),
        # day 2: nothing; day 3: an all-zero event that must not produce a row
        (
            DAY0 + 3 * DAY + HOUR,
            "proj_beta",
            "user-bob",
            "key_bob_beta",
            "gpt-4o",
            False,
            "default",
            0,
            0,
            0,
            0,
        ),
        # day 6 (after the costs floor): beta traffic
        (
            DAY0 + 6 * DAY + 2 * HOUR,
            "proj_beta",
            "user-bob",
            "key_bob_beta",
            "gpt-4o",
            False,
            "default",
            400,
            40,
            0,
            4,
        ),
        (
            DAY0 + 6 * DAY + 2 * HOUR,
            "proj_beta",
            "user-cyd",
            "key_cyd_beta",
            "gpt-4o",
            False,
            "priority",
            500,
            50,
            10,
            5,
        ),
        # day 9: the archived project's key
        (
            DAY0 + 9 * DAY + 23 * HOUR + 59 * 60,
            ARCHIVED,
            "user-ann",
            "key_old",
            "gpt-4o-mini",
            False,
            "default",
            7,
            1,
            0,
            1,
        ),
    ]
    cols = [
        "ts",
        "project_id",
        "user_id",
        "api_key_id",
        "model",
        "batch",
        "service_tier",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "num_model_requests",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame["input_audio_tokens"] = 0
    frame["output_audio_tokens"] = 0
    return frame


def _placed_usage() -> dict[str, pd.DataFrame]:
    keyed = ["ts", "project_id", "user_id", "api_key_id", "model"]
    return {
        "completions": _completions(),
        "embeddings": pd.DataFrame(
            [
                (
                    DAY0 + HOUR,
                    "proj_alpha",
                    "user-ann",
                    "key_ann_alpha",
                    "text-embedding-3-small",
                    800,
                    2,
                )
            ],
            columns=[*keyed, "input_tokens", "num_model_requests"],
        ),
        "moderations": pd.DataFrame(
            [
                (
                    DAY0 + 2 * HOUR,
                    "proj_beta",
                    "user-bob",
                    "key_bob_beta",
                    "omni-moderation-latest",
                    60,
                    3,
                )
            ],
            columns=[*keyed, "input_tokens", "num_model_requests"],
        ),
        "images": pd.DataFrame(
            [
                (
                    DAY0 + 3 * HOUR,
                    "proj_alpha",
                    "user-ann",
                    "key_ann_alpha",
                    "dall-e-3",
                    "1024x1024",
                    "image.generation",
                    4,
                    2,
                ),
                (
                    DAY0 + 3 * HOUR,
                    "proj_alpha",
                    "user-ann",
                    "key_ann_alpha",
                    "dall-e-3",
                    "1024x1792",
                    "image.edit",
                    1,
                    1,
                ),
            ],
            columns=[*keyed, "size", "source", "images", "num_model_requests"],
        ),
        "audio_speeches": pd.DataFrame(
            [(DAY0 + 4 * HOUR, "proj_alpha", None, "key_ci", "tts-1", 1234, 1)],
            columns=[*keyed, "characters", "num_model_requests"],
        ),
        "audio_transcriptions": pd.DataFrame(
            [(DAY0 + 5 * HOUR, "proj_beta", "user-cyd", "key_cyd_beta", "whisper-1", 95, 2)],
            columns=[*keyed, "seconds", "num_model_requests"],
        ),
        "vector_stores": pd.DataFrame(
            [(DAY0 + 6 * HOUR, "proj_alpha", 4096), (DAY0 + DAY + 6 * HOUR, "proj_alpha", 4096)],
            columns=["ts", "project_id", "usage_bytes"],
        ),
        "code_interpreter_sessions": pd.DataFrame(
            [(DAY0 + 7 * HOUR, "proj_beta", 3)],
            columns=["ts", "project_id", "num_sessions"],
        ),
        "file_search_calls": pd.DataFrame(
            [(DAY0 + 8 * HOUR, "proj_alpha", "user-ann", "key_ann_alpha", "vs_1", 6)],
            columns=[
                "ts",
                "project_id",
                "user_id",
                "api_key_id",
                "vector_store_id",
                "num_requests",
            ],
        ),
        "web_search_calls": pd.DataFrame(
            [
                (
                    DAY0 + 9 * HOUR,
                    "proj_alpha",
                    "user-ann",
                    "key_ann_alpha",
                    "gpt-4o",
                    "medium",
                    2,
                    3,
                )
            ],
            columns=[*keyed, "context_level", "num_model_requests", "num_requests"],
        ),
    }


def _placed_costs() -> pd.DataFrame:
    d = Decimal
    rows = [
        (DAY0, "proj_alpha", "gpt-4o, input", "key_ann_alpha", d("0.000750000"), 300.0, "tokens"),
        (DAY0, "proj_alpha", "gpt-4o, output", "key_ann_alpha", d("0.000300000"), 30.0, "tokens"),
        (DAY0, "proj_alpha", "gpt-4o-mini, input", "key_ci", d("0.000075000"), 1000.0, "tokens"),
        (DAY0, None, "ChatGPT seats", None, d("12.500000000"), 1.0, None),
        (DAY0 + DAY, "proj_alpha", "gpt-4o, input", "key_gone", d("0.000750000"), 300.0, "tokens"),
        (
            DAY0 + 6 * DAY,
            "proj_beta",
            "gpt-4o, input",
            "key_bob_beta",
            d("0.001000000"),
            400.0,
            "tokens",
        ),
        (
            DAY0 + 6 * DAY,
            "proj_beta",
            "gpt-4o, input",
            "key_cyd_beta",
            d("0.001250000"),
            500.0,
            "tokens",
        ),
        (
            DAY0 + 6 * DAY,
            "proj_beta",
            "gpt-4o, output",
            "key_cyd_beta",
            d("0.000500000"),
            50.0,
            "tokens",
        ),
        (DAY0 + 6 * DAY, None, "ChatGPT seats", None, d("12.500000000"), 1.0, None),
        (
            DAY0 + 7 * DAY,
            "proj_beta",
            "gpt-4o, input",
            "key_bob_beta",
            d("0.000000001"),
            1.0,
            "tokens",
        ),
        # a zero-amount line without quantity: no row on the API
        (DAY0 + 8 * DAY, "proj_beta", "gpt-4o, input", "key_bob_beta", d("0"), None, None),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "ts",
            "project_id",
            "line_item",
            "api_key_id",
            "amount",
            "quantity",
            "quantity_unit",
        ],
    )


# -- the org ------------------------------------------------------------------------------


def _usage_contract(family: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """History and hand-placed events as one frame in `SyntheticOrg`'s column contract:
    `ts`, the family's dimensions (None for no value), its int64 metrics, sorted by `ts`."""
    dims = list(FAMILY_DIMENSIONS[family])
    metrics = list(FAMILY_METRICS[family])
    frame = pd.concat([p[["ts", *dims, *metrics]] for p in parts], ignore_index=True)
    frame = frame.sort_values("ts", kind="stable", ignore_index=True)
    for col in ("ts", *metrics):
        frame[col] = frame[col].astype("int64")
    for col in dims:
        if col != "batch":
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


@functools.cache
def build_handmade_org() -> SyntheticOrg:
    """The org every sandbox and client test serves (see the module docstring).

    Built once per process and shared: the sandbox caches its indexes per org object, and
    every test treats the org as read-only.
    """
    placed = _placed_usage()
    usage = {
        family: _usage_contract(family, [_history_usage(family, salt), placed[family]])
        for salt, family in enumerate(USAGE_GROUP_BY)
    }
    costs = pd.concat([_history_costs(), _placed_costs()], ignore_index=True)
    return SyntheticOrg(
        seed=0,
        size="handmade",
        organization_id="org-handmade",
        organization_name="Handmade Org",
        start_day=T0,
        end_day=END,
        projects=_projects(),
        users=_users(N_USERS),
        service_accounts=_service_accounts(),
        project_users=_project_users(),
        api_keys=[*_placed_keys(), *_boundary_keys()],
        invites=_invites(3),
        audit_events=_audit_events(),
        usage=usage,
        costs=costs.sort_values("ts", kind="stable", ignore_index=True),
        dev_tokens=pd.DataFrame(),
        gateway_costs=pd.DataFrame(),
        engineers=pd.DataFrame(),
        admin_key=ADMIN_KEY,
    )


def with_people(org: SyntheticOrg, n: int) -> SyntheticOrg:
    """The org with exactly `n` users and `n` invites (its own first, then fillers).

    Why: the client's page-boundary test reads the user and invite lists at 0, 99, 100,
    101 and 200 items; one org holds one length at a time, so that test serves this copy,
    which differs from the org in those two lists only.
    """
    return dataclasses.replace(org, users=_users(n), invites=_invites(n))


# -- expected answers, computed independently from the raw rows -----------------------------


def _window(start: date, end: date) -> tuple[int, int]:
    return (start - FIRST_DAY).days * DAY + T0, (end - FIRST_DAY).days * DAY + T0


def expected_usage(org: SyntheticOrg, family: str, start: date, end: date) -> list[dict]:
    """Daily sums per group_by tuple, computed from the raw events, as client records.

    As on the API, a group whose metrics all sum to zero is no row.
    """
    frame = org.usage[family].copy()
    lo, hi = _window(start, end)
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
        if not any(row[m] for m in metrics):
            continue
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
    """Daily cost sums per group_by tuple from the raw cost rows (exact Decimals).

    As on the API: a group with a zero amount and no quantity is no row; quantity and
    its unit (the line item's) are reported only when grouping by line item.
    """
    lo, hi = _window(start, end)
    units: dict[str, str] = {}
    for row in org.costs.itertuples(index=False):
        if isinstance(row.quantity_unit, str):
            units.setdefault(row.line_item, row.quantity_unit)
    sums: dict[tuple, list] = {}
    for row in org.costs.itertuples(index=False):
        if not lo <= row.ts < hi:
            continue
        key = (row.ts, *(getattr(row, g) for g in group_by))
        acc = sums.setdefault(key, [Decimal(0), None])
        acc[0] += row.amount
        if row.quantity is not None and row.quantity == row.quantity:
            acc[1] = (acc[1] or 0) + int(row.quantity)
    out = []
    for (ts, *values), (amount, qty) in sums.items():
        if amount == 0 and not qty:
            continue
        dims = dict(zip(group_by, values, strict=True))
        by_item = "line_item" in group_by
        out.append(
            {
                "cost_date": pd.Timestamp(ts, unit="s").date(),
                "project_id": dims.get("project_id"),
                "line_item": dims.get("line_item"),
                "api_key_id": dims.get("api_key_id"),
                "amount_usd": amount,
                "currency": "usd",
                "quantity": Decimal(qty) if by_item and qty is not None else None,
                "quantity_unit": units.get(dims["line_item"]) if by_item else None,
            }
        )
    return out


def sort_key(record: dict) -> tuple:
    """Total order over records with None-able values."""
    return tuple((v is None, str(v)) for v in record.values())
