"""Management endpoints over real HTTP against the handmade org: list paging, filters,
object shapes, archived-project rules, audit logs and 404s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kscope_openai_pipeline_tests.helpers.handmade_org import DAY, DAY0


def err(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


ACTIVE = ["proj_alpha", "proj_beta", "proj_empty", "proj_99", "proj_100", "proj_101"]


def test_projects_hide_archived_unless_asked(api: httpx.Client) -> None:
    body = api.get("/organization/projects").json()
    assert ids(body) == ACTIVE
    assert (body["object"], body["first_id"], body["last_id"], body["has_more"]) == (
        "list",
        "proj_alpha",
        "proj_101",
        False,
    )
    body = api.get("/organization/projects", params={"include_archived": "true"}).json()
    assert ids(body) == [*ACTIVE, "proj_old"]
    assert body["data"][6] == {
        "id": "proj_old",
        "object": "organization.project",
        "name": "Old",
        "created_at": DAY0 - 300 * DAY,
        "archived_at": DAY0 - 30 * DAY,
        "status": "archived",
    }


def test_list_paging_with_after(api: httpx.Client) -> None:
    params: dict[str, Any] = {"include_archived": "true", "limit": 2}
    pages = [api.get("/organization/projects", params=params).json()]
    while pages[-1]["has_more"]:
        after = {"after": pages[-1]["last_id"]}
        pages.append(api.get("/organization/projects", params={**params, **after}).json())
    assert [ids(page) for page in pages] == [
        ["proj_alpha", "proj_beta"],
        ["proj_empty", "proj_99"],
        ["proj_100", "proj_101"],
        ["proj_old"],
    ]
    assert [page["has_more"] for page in pages] == [True, True, True, False]
    assert (pages[1]["first_id"], pages[1]["last_id"]) == ("proj_empty", "proj_99")
    assert (pages[3]["first_id"], pages[3]["last_id"]) == ("proj_old", "proj_old")


def test_users_default_limit_is_20_and_pages_cover_everyone(api: httpx.Client) -> None:
    first = api.get("/organization/users").json()
    assert len(first["data"]) == 20 and first["has_more"] is True
    assert first["first_id"] == "user-ann" and first["last_id"] == "user-x16"
    pages = [first]
    while pages[-1]["has_more"]:
        pages.append(api.get("/organization/users", params={"after": pages[-1]["last_id"]}).json())
    # 101 users: five full pages of 20 and one of 1
    assert [len(page["data"]) for page in pages] == [20, 20, 20, 20, 20, 1]
    assert ids(pages[1]) == [f"user-x{i:02d}" for i in range(17, 37)]
    assert [i for page in pages for i in ids(page)] == [
        "user-ann",
        "user-bob",
        "user-cyd",
        *(f"user-x{i:02d}" for i in range(98)),
    ]
    assert pages[-1]["has_more"] is False and ids(pages[-1]) == ["user-x97"]
    assert first["data"][0] == {
        "object": "organization.user",
        "id": "user-ann",
        "name": "Ann",
        "email": "ann@example.com",
        "role": "owner",
        "added_at": DAY0 - 400 * DAY,
    }


def test_an_empty_page_has_null_ids(api: httpx.Client) -> None:
    body = api.get("/organization/users", params={"emails": "nobody@example.com"}).json()
    assert body == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"emails": "bob@example.com,ann@example.com"}, ["user-ann", "user-bob"]),
        ({"emails[]": ["Cyd@Example.com", "x03@example.com"]}, ["user-cyd", "user-x03"]),
        ({"emails": ["x01@example.com", "x02@example.com"]}, ["user-x01", "user-x02"]),
        ({"emails": "cyd@example.com"}, []),  # exact addresses
    ],
)
def test_users_emails_filter(
    api: httpx.Client, params: dict[str, Any], expected: list[str]
) -> None:
    assert ids(api.get("/organization/users", params=params).json()) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"limit": 0},
            err(
                "Invalid limit provided: 0. Limit must be greater than or equal to 1.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"limit": 101},
            err(
                "Invalid limit provided: 101. Limit must be less than or equal to 100.",
                None,
                "invalid_request_error",
            ),
        ),
        ({"limit": "many"}, err("Invalid type for 'limit'.", "limit", "invalid_type")),
        (
            {"after": "user-zzz"},
            err("Invalid 'after': 'user-zzz' is not an id in this list.", "after", "invalid_value"),
        ),
    ],
)
def test_list_parameter_errors(
    api: httpx.Client, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    resp = api.get("/organization/users", params=params)
    assert resp.status_code == 400
    assert resp.json() == expected


def test_include_archived_must_be_a_boolean(api: httpx.Client) -> None:
    resp = api.get("/organization/projects", params={"include_archived": "yes"})
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid type for 'include_archived'.", "include_archived", "invalid_type"
    )


def test_limit_100_is_allowed(api: httpx.Client) -> None:
    body = api.get("/organization/users", params={"limit": 100}).json()
    # 101 users: the first 100 in one page, one left for the next
    assert len(body["data"]) == 100 and body["has_more"] is True
    assert (body["first_id"], body["last_id"]) == ("user-ann", "user-x96")


def test_single_objects_and_404s(api: httpx.Client) -> None:
    assert api.get("/organization/projects/proj_old").json()["status"] == "archived"
    assert api.get("/organization/users/user-bob").json()["email"] == "bob@example.com"
    assert api.get("/organization/invites/invite-2").json()["status"] == "expired"
    assert api.get("/organization/admin_api_keys/key_admin_1").json()["name"] == "billing"
    cases = [
        ("/organization/projects/proj_zzz", "No project found with id 'proj_zzz'.", "project_id"),
        ("/organization/users/user-zzz", "No user found with id 'user-zzz'.", "user_id"),
        ("/organization/invites/invite-9", "No invite found with id 'invite-9'.", "invite_id"),
        (
            "/organization/admin_api_keys/key_ann_alpha",
            "No admin API key found with id 'key_ann_alpha'.",
            "key_id",
        ),
        (
            "/organization/projects/proj_alpha/api_keys/key_gone",
            "No API key found with id 'key_gone'.",
            "api_key_id",
        ),
        (
            "/organization/projects/proj_zzz/api_keys",
            "No project found with id 'proj_zzz'.",
            "project_id",
        ),
    ]
    for path, message, param in cases:
        resp = api.get(path)
        assert resp.status_code == 404, path
        assert resp.json() == err(message, param, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/organization/nope"),
        ("GET", "/v1/organization/usage/tokens"),
        ("GET", "/v1/organization/projects/"),
        ("GET", "/organization/projects"),
        ("POST", "/v1/organization/projects"),
        ("DELETE", "/v1/organization/admin_api_keys/key_admin_1"),
    ],
)
def test_unknown_urls_are_404_invalid_url(
    hsb: Any, api: httpx.Client, method: str, path: str
) -> None:
    resp = api.request(method, f"http://{hsb.host}:{hsb.port}{path}")
    assert resp.status_code == 404
    assert resp.json() == err(f"Invalid URL ({method} {path})", None, None)


def test_invites(api: httpx.Client) -> None:
    body = api.get("/organization/invites").json()
    assert ids(body) == ["invite-1", "invite-2", "invite-3"]
    assert body["data"][0] == {
        "object": "organization.invite",
        "id": "invite-1",
        "email": "new@example.com",
        "role": "reader",
        "status": "pending",
        "created_at": DAY0,
        "expires_at": DAY0 + 7 * DAY,
        "accepted_at": None,
        "projects": [{"id": "proj_alpha", "role": "member"}],
    }
    assert [i["status"] for i in body["data"]] == ["pending", "expired", "accepted"]


def test_admin_keys_in_both_orders(api: httpx.Client) -> None:
    asc = api.get("/organization/admin_api_keys").json()
    assert ids(asc) == ["key_admin_0", "key_admin_1"]
    desc = api.get("/organization/admin_api_keys", params={"order": "desc", "limit": 1}).json()
    assert ids(desc) == ["key_admin_1"] and desc["has_more"] is True
    rest = api.get(
        "/organization/admin_api_keys", params={"order": "desc", "after": "key_admin_1"}
    ).json()
    assert ids(rest) == ["key_admin_0"]
    assert asc["data"][0]["expires_at"] == DAY0 + 40 * DAY
    assert asc["data"][1]["owner"] == {
        "type": "user",
        "object": "organization.user",
        "id": "user-ann",
        "name": "Ann",
        "created_at": DAY0 - 400 * DAY,
        "role": "owner",
    }
    resp = api.get("/organization/admin_api_keys", params={"order": "sideways"})
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid value for 'order': 'sideways'. Supported values are: 'asc', 'desc'.",
        "order",
        "invalid_value",
    )


@pytest.mark.parametrize(
    ("project", "access", "expected"),
    [
        ("proj_alpha", None, ["key_ann_alpha", "key_bob_alpha", "key_ci"]),
        ("proj_alpha", "any", ["key_ann_alpha", "key_bob_alpha", "key_ci"]),  # key_gone deleted
        ("proj_beta", None, ["key_bob_beta"]),  # cyd is not a member of beta
        ("proj_beta", "active", ["key_bob_beta"]),
        ("proj_beta", "inactive", ["key_cyd_beta"]),
        ("proj_beta", "any", ["key_cyd_beta", "key_bob_beta"]),
        ("proj_old", "any", ["key_old"]),  # keys of an archived project are still listed
    ],
)
def test_project_api_keys_owner_project_access(
    api: httpx.Client, project: str, access: str | None, expected: list[str]
) -> None:
    params = {} if access is None else {"owner_project_access": access}
    body = api.get(f"/organization/projects/{project}/api_keys", params=params).json()
    assert ids(body) == expected


def test_project_api_key_shapes(api: httpx.Client) -> None:
    body = api.get("/organization/projects/proj_alpha/api_keys").json()
    ann, _, ci = body["data"]
    assert ann == {
        "object": "organization.project.api_key",
        "redacted_value": "sk-proj-****aaaa",
        "name": "ann-alpha",
        "created_at": DAY0 - 50 * DAY,
        "last_used_at": DAY0 + 10 * DAY - 3600,
        "id": "key_ann_alpha",
        "owner_project_access": "active",
        "owner": {
            "type": "user",
            "user": {
                "id": "user-ann",
                "email": "ann@example.com",
                "name": "Ann",
                "created_at": DAY0 - 400 * DAY,
                "role": "owner",
            },
        },
    }
    assert ci["owner"] == {
        "type": "service_account",
        "service_account": {
            "id": "svc_acct_ci",
            "name": "ci-bot",
            "created_at": DAY0 - 50 * DAY,
            "role": "member",
        },
    }
    one = api.get("/organization/projects/proj_beta/api_keys/key_cyd_beta").json()
    assert one["owner_project_access"] == "inactive"
    resp = api.get(
        "/organization/projects/proj_beta/api_keys", params={"owner_project_access": "all"}
    )
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid value for 'owner_project_access': 'all'. Supported values are: 'active', "
        "'inactive', 'any'.",
        "owner_project_access",
        "invalid_value",
    )


def test_service_accounts_and_project_users(api: httpx.Client) -> None:
    sas = api.get("/organization/projects/proj_alpha/service_accounts").json()
    assert sas["data"] == [
        {
            "object": "organization.project.service_account",
            "id": "svc_acct_ci",
            "name": "ci-bot",
            "role": "member",
            "created_at": DAY0 - 50 * DAY,
        }
    ]
    users = api.get("/organization/projects/proj_alpha/users").json()
    assert [(u["id"], u["email"], u["role"]) for u in users["data"]] == [
        ("user-ann", "ann@example.com", "owner"),
        ("user-bob", "bob@example.com", "member"),
    ]
    assert users["data"][0] == {
        "object": "organization.project.user",
        "id": "user-ann",
        "name": "Ann",
        "email": "ann@example.com",
        "role": "owner",
        "added_at": DAY0 - 90 * DAY,
    }
    page = api.get(
        "/organization/projects/proj_alpha/users", params={"limit": 1, "after": "user-ann"}
    ).json()
    assert ids(page) == ["user-bob"] and page["first_id"] == "user-bob"


@pytest.mark.parametrize("what", ["service_accounts", "users"])
def test_archived_project_members_are_a_400(api: httpx.Client, what: str) -> None:
    resp = api.get(f"/organization/projects/proj_old/{what}")
    assert resp.status_code == 400
    label = "service accounts" if what == "service_accounts" else "users"
    assert resp.json() == err(
        f"Project 'proj_old' is archived: its {label} cannot be listed.",
        "project_id",
        "invalid_request_error",
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["audit_log-4", "audit_log-5", "audit_log-3", "audit_log-1", "audit_log-2"]),
        ({"event_types[]": "api_key.created"}, ["audit_log-5", "audit_log-3", "audit_log-1"]),
        ({"event_types[]": ["user.added", "api_key.deleted"]}, ["audit_log-4", "audit_log-2"]),
        (
            {"effective_at[gte]": DAY0 - 45 * DAY, "effective_at[lt]": DAY0},
            ["audit_log-5", "audit_log-3"],
        ),
        (
            {"effective_at[gt]": DAY0 - 45 * DAY, "effective_at[lte]": DAY0 + 2 * DAY},
            ["audit_log-4", "audit_log-5"],
        ),
        ({"project_ids[]": "proj_beta"}, ["audit_log-5"]),
        ({"actor_ids[]": "user-ann"}, ["audit_log-4", "audit_log-3", "audit_log-1", "audit_log-2"]),
        (
            {"actor_emails[]": "ann@example.com", "resource_ids[]": "key_gone"},
            ["audit_log-4", "audit_log-3"],
        ),
        ({"limit": 2}, ["audit_log-4", "audit_log-5"]),
        ({"limit": 2, "after": "audit_log-5"}, ["audit_log-3", "audit_log-1"]),
        ({"limit": 2, "before": "audit_log-3"}, ["audit_log-4", "audit_log-5"]),
    ],
)
def test_audit_logs_newest_first_with_filters(
    api: httpx.Client, params: dict[str, Any], expected: list[str]
) -> None:
    assert ids(api.get("/organization/audit_logs", params=params).json()) == expected


def test_audit_log_shapes(api: httpx.Client) -> None:
    body = api.get("/organization/audit_logs", params={"limit": 2}).json()
    deleted, created = body["data"]
    assert deleted == {
        "object": "organization.audit_log",
        "id": "audit_log-4",
        "type": "api_key.deleted",
        "effective_at": DAY0 + 2 * DAY,
        "project": {"id": "proj_alpha", "name": "Alpha"},
        "actor": {
            "type": "session",
            "session": {
                "user": {"id": "user-ann", "email": "ann@example.com"},
                "ip_address": deleted["actor"]["session"]["ip_address"],
            },
        },
        "api_key.deleted": {"id": "key_gone"},
    }
    assert deleted["actor"]["session"]["ip_address"].startswith("203.0.113.")
    assert created["actor"] is None
    assert created["api_key.created"] == {
        "id": "key_cyd_beta",
        "data": {"scopes": ["api.model.request"]},
    }
    added = api.get("/organization/audit_logs", params={"event_types[]": "user.added"}).json()[
        "data"
    ][0]
    assert added["user.added"] == {"id": "user-bob", "data": {"role": "member"}}
    resp = api.get("/organization/audit_logs", params={"effective_at[gte]": "today"})
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid type for 'effective_at[gte]'.", "effective_at[gte]", "invalid_type"
    )
