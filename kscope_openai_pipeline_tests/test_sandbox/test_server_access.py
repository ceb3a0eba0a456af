"""What a key may see and what the responses say about the organization, over real HTTP:
denied scopes, audit logging switched off, the organization id in the header and in cost
rows (either, both or neither), and the command-line switches for them."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from click.testing import CliRunner

from kscope_openai_pipeline.cli import main
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import AUDIT_LOGGING_OFF, Sandbox
from kscope_openai_pipeline_tests.helpers.handmade_org import ADMIN_KEY, DAY0

from .clients import client
from .test_server_cli import FIRST_LINE, _command

ORG = "org-handmade"
COSTS = "/organization/costs"


def missing_scope(scope: str) -> dict[str, Any]:
    return {
        "error": {
            "message": "You have insufficient permissions for this operation. Missing scopes: "
            f"{scope}. Check that you have the correct role in your organization (Reader, "
            "Writer, Owner) and project (Member, Owner), and if you're using a restricted API "
            "key, that it has the necessary scopes.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_a_denied_scope_answers_403_naming_it_on_its_routes_only(
    handmade_org: SyntheticOrg,
) -> None:
    with (
        Sandbox.start(org=handmade_org, deny_scopes=["api.usage.read"]) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        usage = http.get("/organization/usage/completions", params={"start_time": DAY0})
        costs = http.get(COSTS, params={"start_time": DAY0})
        projects = http.get("/organization/projects")
        audit = http.get("/organization/audit_logs")
    assert (usage.status_code, costs.status_code) == (403, 403)
    assert usage.json() == costs.json() == missing_scope("api.usage.read")
    assert (projects.status_code, audit.status_code) == (200, 200)
    # the key is valid: a denied request still says which organization it reached
    assert usage.headers["openai-organization"] == ORG


def test_every_scope_can_be_denied_and_unknown_ones_are_refused(
    handmade_org: SyntheticOrg,
) -> None:
    denied = ["api.management.read", "api.audit_logs.read"]
    with (
        Sandbox.start(org=handmade_org, deny_scopes=denied) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        statuses = {
            path: http.get(path).status_code
            for path in ("/organization/users", "/organization/projects/proj_alpha/api_keys",
                         "/organization/audit_logs", f"{COSTS}?start_time={DAY0}")
        }  # fmt: skip
        assert http.get("/organization/users").json() == missing_scope("api.management.read")
    assert statuses == {
        "/organization/users": 403,
        "/organization/projects/proj_alpha/api_keys": 403,
        "/organization/audit_logs": 403,
        f"{COSTS}?start_time={DAY0}": 200,
    }
    with pytest.raises(ValueError, match=r"unknown scope\(s\) \['api.costs.read'\]"):
        Sandbox.start(org=handmade_org, deny_scopes=["api.costs.read"])


def test_audit_logging_off_answers_that_it_is_not_enabled(handmade_org: SyntheticOrg) -> None:
    with (
        Sandbox.start(org=handmade_org, audit_logging=False) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        audit = http.get("/organization/audit_logs", params={"limit": 1})
        users = http.get("/organization/users")
    assert audit.status_code == 403
    assert audit.json() == {
        "error": {
            "message": AUDIT_LOGGING_OFF,
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert AUDIT_LOGGING_OFF.startswith("Audit logging is not enabled for this organization.")
    assert users.status_code == 200


@pytest.mark.parametrize(
    ("header", "cost_rows"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_the_organization_is_told_in_the_header_cost_rows_both_or_neither(
    handmade_org: SyntheticOrg, header: bool, cost_rows: bool
) -> None:
    with (
        Sandbox.start(
            org=handmade_org, organization_header=header, organization_in_costs=cost_rows
        ) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        costs = http.get(COSTS, params={"start_time": DAY0, "limit": 10})
        grouped = http.get(
            COSTS, params={"start_time": DAY0, "limit": 10, "group_by": "project_id,line_item"}
        )
        usage = http.get("/organization/usage/completions", params={"start_time": DAY0})
    results = [r for b in costs.json()["data"] for r in b["results"]]
    results += [r for b in grouped.json()["data"] for r in b["results"]]
    assert len(results) == 13  # 4 ungrouped days, 9 project x line-item rows
    assert {r.get("organization_id") for r in results} == ({ORG} if cost_rows else {None})
    usage_rows = [r for b in usage.json()["data"] for r in b["results"]]
    assert usage_rows and all("organization_id" not in r for r in usage_rows)
    for response in (costs, grouped, usage):
        assert response.headers.get("openai-organization") == (ORG if header else None)


def test_a_rejected_key_learns_no_organization(hsb: Sandbox) -> None:
    with client(hsb.base_url, "sk-admin-wrong-key-000000000000") as http:
        resp = http.get("/organization/projects")
    assert resp.status_code == 401
    assert "openai-organization" not in resp.headers


def test_cli_denies_scopes_and_tells_the_organization_where_asked() -> None:
    proc = subprocess.Popen(
        [*_command(), "sandbox", "--port", "0", "--size", "tiny",
         "--deny-scope", "api.usage.read", "--organization-in", "cost-rows"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        match = FIRST_LINE.match(proc.stdout.readline().rstrip("\n"))
        assert match
        base_url, _, key = match.groups()
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(9)]
        assert lines[7:] == [
            "  denied scope: api.usage.read (403 on its endpoints)",
            "  organization id told in: cost-rows",
        ]
        with client(base_url, key) as http:
            denied = http.get(COSTS, params={"start_time": 0})
            users = http.get("/organization/users")
        assert denied.json() == missing_scope("api.usage.read")
        assert users.status_code == 200 and "openai-organization" not in users.headers
        proc.terminate()
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_cli_refuses_an_unknown_scope() -> None:
    result = CliRunner().invoke(
        main, ["sandbox", "--port", "0", "--size", "tiny", "--deny-scope", "api.costs.read"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--deny-scope'" in result.output
