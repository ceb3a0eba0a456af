"""A small hand-built SyntheticOrg whose every number is known, for exact server tests.

Why not only `build_org`: rules such as the partial first bucket, null dimensions, zero
rows or the costs `api_key_id` floor are easiest to assert against events placed by hand
at known minutes; the generated orgs are exercised by the totals and conformance tests.

Timeline: 10 days from 2025-12-01 (DAY0) to 2025-12-11; the costs `api_key_id` floor
(2025-12-06) is DAY0 + 5 days.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

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

DAY = 86_400
HOUR = 3_600
DAY0 = 1_764_547_200  # 2025-12-01T00:00:00Z
END = DAY0 + 10 * DAY
ADMIN_KEY = "sk-admin-handmade-0123456789abcdef"


def _projects() -> list[Project]:
    return [
        Project("proj_alpha", "Alpha", DAY0 - 90 * DAY, None, "active"),
        Project("proj_beta", "Beta", DAY0 - 60 * DAY, None, "active"),
        Project("proj_old", "Old", DAY0 - 300 * DAY, DAY0 - 30 * DAY, "archived"),
    ]


def _users() -> list[User]:
    users = [
        User("user-ann", "ann@example.com", "Ann", "owner", DAY0 - 400 * DAY),
        User("user-bob", "bob@example.com", "Bob", "reader", DAY0 - 200 * DAY),
        User("user-cyd", "Cyd@Example.com", "Cyd", "reader", DAY0 - 100 * DAY),
    ]
    # 22 more so that the default list limit (20) needs two pages
    users += [
        User(f"user-x{i:02d}", f"x{i:02d}@example.com", f"X{i:02d}", "reader", DAY0 - i * DAY)
        for i in range(22)
    ]
    return users


def _keys() -> list[ApiKey]:
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
            "proj_old",
            "old",
            "sk-proj-****gggg",
            t + 6,
            None,
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
            "proj_old",
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
    for col in (
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "num_model_requests",
        "input_audio_tokens",
        "output_audio_tokens",
    ):
        frame[col] = frame[col].astype("int64")
    return frame


def _simple(rows: list[tuple], cols: list[str], metrics: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=cols)
    for col in metrics:
        frame[col] = frame[col].astype("int64")
    return frame


def _usage() -> dict[str, pd.DataFrame]:
    keyed = ["ts", "project_id", "user_id", "api_key_id", "model"]
    usage = {
        "completions": _completions(),
        "embeddings": _simple(
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
            [*keyed, "input_tokens", "num_model_requests"],
            ["input_tokens", "num_model_requests"],
        ),
        "moderations": _simple(
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
            [*keyed, "input_tokens", "num_model_requests"],
            ["input_tokens", "num_model_requests"],
        ),
        "images": _simple(
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
            [*keyed, "size", "source", "images", "num_model_requests"],
            ["images", "num_model_requests"],
        ),
        "audio_speeches": _simple(
            [(DAY0 + 4 * HOUR, "proj_alpha", None, "key_ci", "tts-1", 1234, 1)],
            [*keyed, "characters", "num_model_requests"],
            ["characters", "num_model_requests"],
        ),
        "audio_transcriptions": _simple(
            [(DAY0 + 5 * HOUR, "proj_beta", "user-cyd", "key_cyd_beta", "whisper-1", 95, 2)],
            [*keyed, "seconds", "num_model_requests"],
            ["seconds", "num_model_requests"],
        ),
        "vector_stores": _simple(
            [(DAY0 + 6 * HOUR, "proj_alpha", 4096), (DAY0 + DAY + 6 * HOUR, "proj_alpha", 4096)],
            ["ts", "project_id", "usage_bytes"],
            ["usage_bytes"],
        ),
        "code_interpreter_sessions": _simple(
            [(DAY0 + 7 * HOUR, "proj_beta", 3)],
            ["ts", "project_id", "num_sessions"],
            ["num_sessions"],
        ),
        "file_search_calls": _simple(
            [(DAY0 + 8 * HOUR, "proj_alpha", "user-ann", "key_ann_alpha", "vs_1", 6)],
            ["ts", "project_id", "user_id", "api_key_id", "vector_store_id", "num_requests"],
            ["num_requests"],
        ),
        "web_search_calls": _simple(
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
            [*keyed, "context_level", "num_model_requests", "num_requests"],
            ["num_model_requests", "num_requests"],
        ),
    }
    return usage


def _costs() -> pd.DataFrame:
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


def build_handmade_org() -> SyntheticOrg:
    """The org the exact server tests run against (see the module docstring)."""
    return SyntheticOrg(
        seed=0,
        size="handmade",
        organization_id="org-handmade",
        organization_name="Handmade Org",
        start_day=DAY0,
        end_day=END,
        projects=_projects(),
        users=_users(),
        service_accounts=[
            ServiceAccount("svc_acct_ci", "proj_alpha", "ci-bot", "member", DAY0 - 50 * DAY),
            ServiceAccount("svc_acct_old", "proj_old", "old-bot", "member", DAY0 - 250 * DAY),
        ],
        project_users=[
            ProjectUser("proj_alpha", "user-ann", "owner", DAY0 - 90 * DAY),
            ProjectUser("proj_alpha", "user-bob", "member", DAY0 - 80 * DAY),
            ProjectUser("proj_beta", "user-bob", "owner", DAY0 - 60 * DAY),
            ProjectUser("proj_old", "user-ann", "member", DAY0 - 300 * DAY),
        ],
        api_keys=_keys(),
        invites=[
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
        ],
        audit_events=[
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
        ],
        usage=_usage(),
        costs=_costs(),
        dev_tokens=pd.DataFrame(),
        gateway_costs=pd.DataFrame(),
        engineers=pd.DataFrame(),
        admin_key=ADMIN_KEY,
    )
