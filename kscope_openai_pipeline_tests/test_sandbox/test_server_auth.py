"""Authentication over real HTTP: missing, wrong, project and expired keys, exact bodies."""

from __future__ import annotations

from typing import Any

import pytest

from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.handmade_org import ADMIN_KEY, DAY0

from .clients import client

NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
    "field (with blank username) if you're accessing the API from your browser and are "
    "prompted for a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)


def err(message: str, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": ADMIN_KEY},
    ],
)
def test_missing_key_is_401(hsb: Sandbox, headers: dict[str, str]) -> None:
    with client(hsb.base_url, **headers) as http:
        resp = http.get("/organization/projects")
    assert resp.status_code == 401
    assert resp.json() == err(NO_KEY, None)


def test_wrong_key_is_401_and_never_echoed_whole(hsb: Sandbox) -> None:
    wrong = "sk-admin-not-the-right-one-9876"
    with client(hsb.base_url, wrong) as http:
        resp = http.get("/organization/usage/completions", params={"start_time": DAY0})
    assert resp.status_code == 401
    assert resp.json() == err(
        "Incorrect API key provided: sk-************************9876. You can find your API "
        "key at https://platform.openai.com/account/api-keys.",
        "invalid_api_key",
    )
    assert wrong not in resp.text


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/organization/usage/completions?start_time=0", "api.usage.read"),
        ("/organization/costs?start_time=0", "api.usage.read"),
        ("/organization/projects", "api.management.read"),
        ("/organization/audit_logs", "api.audit_logs.read"),
    ],
)
def test_project_key_is_403_missing_scope(hsb: Sandbox, path: str, scope: str) -> None:
    with client(hsb.base_url, "sk-proj-abcdefghijklmnopqrstuvwxyz") as http:
        resp = http.get(path)
    assert resp.status_code == 403
    assert resp.json() == err(
        "You have insufficient permissions for this operation. Missing scopes: "
        f"{scope}. Check that you have the correct role in your organization (Reader, "
        "Writer, Owner) and project (Member, Owner), and if you're using a restricted API "
        "key, that it has the necessary scopes.",
        None,
    )


def test_expired_admin_key_is_401_with_an_expiry_message(handmade_org: SyntheticOrg) -> None:
    with (
        Sandbox.start(org=handmade_org, expired_keys=[ADMIN_KEY]) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        resp = http.get("/organization/projects")
    assert resp.status_code == 401
    assert resp.json() == err(
        "The admin API key provided has expired: sk-***************************cdef. Create a "
        "new admin key at https://platform.openai.com/settings/organization/admin-keys.",
        "invalid_api_key",
    )
    assert ADMIN_KEY not in resp.text


def test_admin_key_override_and_repr_hides_it(handmade_org: SyntheticOrg) -> None:
    with Sandbox.start(org=handmade_org, admin_key="sk-admin-other-key-000000") as sb:
        assert sb.admin_key == "sk-admin-other-key-000000"
        assert "sk-admin" not in repr(sb)
        with client(sb.base_url, "sk-admin-other-key-000000") as http:
            assert http.get("/organization/projects").status_code == 200
        with client(sb.base_url, ADMIN_KEY) as http:
            assert http.get("/organization/projects").status_code == 401


def test_every_route_requires_the_key(hsb: Sandbox) -> None:
    paths = [
        "/organization/projects",
        "/organization/projects/proj_alpha",
        "/organization/projects/proj_alpha/api_keys",
        "/organization/projects/proj_alpha/api_keys/key_ci",
        "/organization/projects/proj_alpha/service_accounts",
        "/organization/projects/proj_alpha/users",
        "/organization/admin_api_keys",
        "/organization/admin_api_keys/key_admin_1",
        "/organization/users",
        "/organization/users/user-ann",
        "/organization/invites",
        "/organization/invites/invite-1",
        "/organization/audit_logs",
        "/organization/costs?start_time=0",
        "/organization/usage/images?start_time=0",
    ]
    with client(hsb.base_url) as anonymous, client(hsb.base_url, ADMIN_KEY) as admin:
        for path in paths:
            assert anonymous.get(path).status_code == 401, path
            assert admin.get(path).status_code == 200, path
