"""Auth failures: a missing, empty, garbled, wrong (401), project (403) or expired admin
key each stop the run at once with one message that says what to do.

Through real Dagster runs (`dg.materialize`, so the assets' RetryPolicy is live): the
failure must not be retried (neither by the client nor by Dagster), every failing step
says the same thing once, and the key never appears (only OpenAI's redacted form).
"""

from __future__ import annotations

import dagster as dg
import pytest

from kscope_openai_pipeline.defs.openai.daily import daily_assets
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.sandbox.auth import redact
from kscope_openai_pipeline.sandbox.server import Sandbox

from .harness import SEED, SENTINEL_KEY, SIZE, environment, sandbox_env

pytestmark = pytest.mark.reliability

WRONG_KEY = "sk-admin-WRONGkey0000000000000000000000000001"
PROJECT_KEY = "sk-proj-PROJECTkey00000000000000000000000000002"
EXPIRED_KEY = "sk-admin-EXPIREDkey000000000000000000000000003"

PROJECTS = next(a for a in inventory_assets if dg.AssetKey(["openai", "projects"]) in a.keys)
USAGE = next(a for a in daily_assets if a.key == dg.AssetKey(["openai", "usage"]))
STEPS = {"openai__projects": "/organization/projects",
         "openai__usage": "/organization/usage/completions"}
SCOPE = {"openai__projects": "api.management.read", "openai__usage": "api.usage.read"}


def expected(case: str, step: str) -> str:
    endpoint = STEPS[step]
    rejected = (
        f"AdminApiAuthError: {endpoint}: the admin key was rejected (401): check "
        "OPENAI_ADMIN_KEY is a current admin key (sk-admin-...), not revoked or expired. "
        "The API said: "
    )
    return {
        "empty": "OPENAI_ADMIN_KEY: the admin key is empty: set OPENAI_ADMIN_KEY to an "
        "admin key",
        "garbled": "OPENAI_ADMIN_KEY: the admin key contains whitespace or "
        "non-printable/non-ASCII characters: check OPENAI_ADMIN_KEY (value not shown)",
        "wrong": rejected + f"Incorrect API key provided: {redact(WRONG_KEY)}. You can find "
        "your API key at https://platform.openai.com/account/api-keys.",
        "expired": rejected + f"The admin API key provided has expired: {redact(EXPIRED_KEY)}."
        " Create a new admin key at "
        "https://platform.openai.com/settings/organization/admin-keys.",
        "project": f"AdminApiPermissionError: {endpoint}: permission denied (403): the key is "
        "not an admin key or lacks a scope this endpoint needs (e.g. api.usage.read). Create "
        "an admin key with the Admin role in the organization settings (API keys > Admin "
        "keys). The API said: You have insufficient permissions for this operation. Missing "
        f"scopes: {SCOPE[step]}. Check that you have the correct role in your organization "
        "(Reader, Writer, Owner) and project (Member, Owner), and if you're using a "
        "restricted API key, that it has the necessary scopes.",
    }[case]


KEYS = {"empty": "", "garbled": "sk-admin-has space", "wrong": WRONG_KEY,
        "project": PROJECT_KEY, "expired": EXPIRED_KEY}
#: requests the sandbox must see: one per failing step when the key reaches it, else none
REQUESTS = {"empty": 0, "garbled": 0, "wrong": 2, "project": 2, "expired": 2}


@pytest.fixture
def auth_sandbox():
    with Sandbox.start(seed=SEED, size=SIZE, admin_key=SENTINEL_KEY,
                       expired_keys=[EXPIRED_KEY]) as sb:
        yield sb


@pytest.mark.parametrize("case", list(KEYS))
def test_bad_key_fails_once_with_what_to_do(auth_sandbox, tmp_path, tally, case):
    env = sandbox_env(auth_sandbox, tmp_path / "w.duckdb", OPENAI_ADMIN_KEY=KEYS[case])
    with environment(env):
        result = dg.materialize(
            [PROJECTS, USAGE], resources=build_resources(), raise_on_error=False,
            tags={"dagster/asset_partition_range_start": "2026-11-20",
                  "dagster/asset_partition_range_end": "2026-11-21"},
        )
    assert not result.success
    failures = {
        e.step_key: e.step_failure_data.user_failure_data.description
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    }
    retried = len([e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"])
    tally.add("auth", cases=1, retried=retried)
    assert failures == {step: expected(case, step) for step in STEPS}
    assert retried == 0
    assert len(auth_sandbox.requests) == REQUESTS[case]  # the client did not retry either
    assert all(SENTINEL_KEY not in m and (not KEYS[case] or KEYS[case] not in m)
               for m in failures.values())
    tally.add("auth", clear_messages=1)


def test_missing_key_names_the_variable_to_set(auth_sandbox, tmp_path, tally):
    env = {**sandbox_env(auth_sandbox, tmp_path / "w.duckdb"), "OPENAI_ADMIN_KEY": None}
    with environment(env), pytest.raises(dg.DagsterInvalidConfigError) as caught:
        dg.materialize([PROJECTS], resources=build_resources())
    message = str(caught.value)
    assert (
        'You have attempted to fetch the environment variable "OPENAI_ADMIN_KEY" which is not '
        "set. In order for this execution to succeed it must be set in this environment."
    ) in message
    assert auth_sandbox.requests == []
    tally.add("auth", cases=1, clear_messages=1)
