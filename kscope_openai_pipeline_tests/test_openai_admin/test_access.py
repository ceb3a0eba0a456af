"""The permission preflight over real HTTP: every result the table can show, the requests it
makes (one each, no retries), and what it learns about the organization."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiAuthError,
    AdminApiRetryExhausted,
    OrganizationEvidence,
)
from kscope_openai_pipeline.openai_admin.access import (
    DENIED,
    INVALID_KEY,
    NOT_CHECKED,
    NOT_ENABLED,
    NOT_THE_API,
    OK,
    UNREACHABLE,
    check_access,
    identify_organization,
)
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.faults import Fault
from kscope_openai_pipeline.sandbox.server import Sandbox

from .scripted_server import Reply, ScriptedServer, Seen

ORG = "org-sandbox7"
NAMES = ("read:organization", "read:projects", "read:api_keys", "read:users", "read:usage",
         "read:costs", "read:audit_log")  # fmt: skip


def last_day(sb: Sandbox) -> date:
    return gt.to_date(sb.org.end_day) - timedelta(days=1)


def results(report) -> dict[str, str]:
    return {p.permission.name: p.result for p in report.probes}


def first_project(sb: Sandbox) -> str:
    with httpx.Client(base_url=sb.base_url + "/", timeout=10) as http:
        body = http.get(
            "organization/projects",
            params={"limit": 1, "include_archived": "true"},
            headers={"Authorization": f"Bearer {sb.admin_key}"},
        ).json()
    sb.clear_requests()
    return body["data"][0]["id"]


def test_an_admin_key_with_every_scope_is_ok_in_seven_requests(sandbox: Sandbox) -> None:
    project = first_project(sandbox)
    day = last_day(sandbox)

    report = check_access(sandbox.admin_key, sandbox.base_url, day=day)

    assert results(report) == dict.fromkeys(NAMES, OK)
    assert report.ok and not report.missing
    assert report.summary() == "All 6 required permissions are ok."
    assert [p.endpoint for p in report.probes] == [
        "GET /organization/admin_api_keys?limit=1",
        "GET /organization/projects?limit=1",
        f"GET /organization/projects/{project}/api_keys?limit=1",
        "GET /organization/users?limit=1",
        f"GET /organization/usage/completions ({day})",
        f"GET /organization/costs ({day - timedelta(days=30)}..{day})",
        "GET /organization/audit_logs?limit=1",
    ]
    assert [(r.path, r.status) for r in sandbox.requests] == [
        ("/organization/admin_api_keys", 200),
        ("/organization/projects", 200),
        (f"/organization/projects/{project}/api_keys", 200),
        ("/organization/users", 200),
        ("/organization/usage/completions", 200),
        ("/organization/costs", 200),
        ("/organization/audit_logs", 200),
    ]
    usage, costs = (dict(r.query) for r in sandbox.requests[4:6])
    assert (usage["limit"], usage["start_time"], usage["end_time"]) == (
        "1", str(gt.to_epoch(day)), str(gt.to_epoch(day + timedelta(days=1)))
    )
    assert (costs["limit"], "group_by" in costs) == ("31", False)
    org = sandbox.org.organization_id
    assert report.evidence == OrganizationEvidence.of(header=[org], cost_rows=[org])
    assert sandbox.admin_key not in report.table()


def test_denied_scopes_say_which_scope_and_fail_the_required_ones() -> None:
    with Sandbox.start(seed=7, size="tiny", deny_scopes=["api.usage.read"]) as sb:
        report = check_access(sb.admin_key, sb.base_url, day=last_day(sb))
    assert results(report) == {**dict.fromkeys(NAMES, OK),
                               "read:usage": DENIED, "read:costs": DENIED}  # fmt: skip
    usage = report.probes[4]
    assert (usage.status, usage.advice) == (
        403,
        "the key lacks api.usage.read: use an admin key allowed to read usage of every family "
        "(an Owner creates one in Organization settings > Admin keys)",
    )
    assert usage.detail and usage.detail.startswith(
        "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
    )
    assert not report.ok and not report.transient
    assert report.summary() == "2 of 6 required permissions are not ok: read:usage, read:costs."
    # the 403s still carried the header; the cost rows could not be read
    assert report.evidence == OrganizationEvidence.of(header=[ORG])


def test_management_denied_leaves_the_project_keys_not_checked() -> None:
    with Sandbox.start(seed=7, size="tiny", deny_scopes=["api.management.read"]) as sb:
        report = check_access(sb.admin_key, sb.base_url, day=last_day(sb))
        served = [r.path for r in sb.requests]
    assert results(report) == {
        "read:organization": DENIED, "read:projects": DENIED, "read:api_keys": NOT_CHECKED,
        "read:users": DENIED, "read:usage": OK, "read:costs": OK, "read:audit_log": OK,
    }  # fmt: skip
    assert report.probes[2].endpoint == "GET /organization/projects/.../api_keys"
    assert report.probes[2].advice == "needs read:projects first (no project to list the keys of)"
    assert len(served) == 6


def test_a_wrong_key_is_an_invalid_key_everywhere(sandbox: Sandbox) -> None:
    report = check_access("sk-admin-not-this-one-0000000000", sandbox.base_url,
                          day=last_day(sandbox))  # fmt: skip
    assert {p.result for p in report.probes} == {INVALID_KEY, NOT_CHECKED}
    assert report.probes[0].advice == (
        "check OPENAI_ADMIN_KEY: a current admin key (sk-admin-...), not revoked or expired"
    )
    assert report.evidence == OrganizationEvidence()  # a rejected key learns nothing
    assert len(sandbox.requests) == 6


def test_audit_logging_off_is_not_enabled_and_optional() -> None:
    with Sandbox.start(seed=7, size="tiny", audit_logging=False) as sb:
        report = check_access(sb.admin_key, sb.base_url, day=last_day(sb))
    audit = report.probes[-1]
    assert (audit.result, audit.status) == (NOT_ENABLED, 403)
    assert audit.advice == (
        "an organization owner can switch audit logging on in the OpenAI dashboard: "
        "Organization settings > Data controls > Data retention > Audit logging (once on, it "
        "cannot be switched off again); events are recorded from that moment on; the crawl "
        "runs without it"
    )
    assert report.ok
    assert audit.permission.label == "read:audit_log (optional)"


def test_a_server_error_is_reported_once_without_retrying(sandbox: Sandbox) -> None:
    sandbox.inject(Fault(kind="503", path="/organization/users", times=5))
    report = check_access(sandbox.admin_key, sandbox.base_url, day=last_day(sandbox))
    users = report.probes[3]
    assert (users.result, users.status) == ("error (HTTP 503)", 503)
    assert users.advice == (
        "the API answered 503: The server is overloaded or not ready yet.; try again later"
    )
    assert report.transient and not report.ok
    assert sum(r.path == "/organization/users" for r in sandbox.requests) == 1


def test_a_refused_connection_is_unreachable_and_the_rest_are_not_tried() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    report = check_access("sk-admin-anything-000000000000", base, day=date(2026, 11, 25))
    assert {p.result for p in report.probes} == {UNREACHABLE}
    first, second = report.probes[0], report.probes[1]
    assert first.advice.startswith(f"check OPENAI_BASE_URL ({base}) and the network: ConnectError")
    assert second.advice == (
        f"check OPENAI_BASE_URL ({base}) and the network (not tried: the API was unreachable)"
    )
    assert report.transient
    assert report.summary().startswith("6 of 6 required permissions are not ok")


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[int]]]:
    """A loopback server that accepts connections and never answers; counts them."""
    accepted: list[int] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1", accepted
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_a_timeout_is_unreachable_after_one_attempt(silent_server) -> None:
    base, accepted = silent_server
    report = check_access("sk-admin-anything-000000000000", base, timeout=0.3,
                          day=date(2026, 11, 25))  # fmt: skip
    assert {p.result for p in report.probes} == {UNREACHABLE}
    assert "ReadTimeout" in (report.probes[0].detail or "")
    assert accepted == [1]  # one connection, one request: no retry storm


def test_identify_reads_the_header_or_else_the_cost_rows() -> None:
    cases = {(True, True): ([ORG], [ORG]), (True, False): ([ORG], []),
             (False, True): ([], [ORG]), (False, False): ([], [])}  # fmt: skip
    for (header, cost_rows), (said_header, said_rows) in cases.items():
        with Sandbox.start(seed=7, size="tiny", organization_header=header,
                           organization_in_costs=cost_rows) as sb:  # fmt: skip
            evidence = identify_organization(sb.admin_key, sb.base_url, day=last_day(sb))
            assert [r.path for r in sb.requests] == ["/organization/costs"]
        assert evidence == OrganizationEvidence.of(header=said_header, cost_rows=said_rows)


def test_identify_raises_the_typed_error_when_it_learns_nothing(sandbox: Sandbox) -> None:
    with pytest.raises(AdminApiAuthError, match=r"\(401\)"):
        identify_organization("sk-admin-wrong-00000000000000", sandbox.base_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AdminApiRetryExhausted, match="is unreachable") as err:
        identify_organization("sk-admin-x-0000000000000000", f"http://127.0.0.1:{port}/v1")
    assert err.value.attempts == 1


@pytest.mark.parametrize(
    ("status", "message", "result"),
    [
        (403, "Audit logging is not enabled for this organization.", NOT_ENABLED),
        (400, "Audit logs have not been enabled for org-x.", NOT_ENABLED),
        (404, "audit_logging is disabled", NOT_ENABLED),
        (400, "Please enable audit logging first.", NOT_ENABLED),
        (403, "You have insufficient permissions for this operation. Missing scopes: "
              "api.audit_logs.read.", DENIED),
    ],
)  # fmt: skip
def test_the_message_not_the_status_says_audit_logging_is_off(
    status: int, message: str, result: str
) -> None:
    """Other organizations' wording of "audit logging is off", as a real server sends it."""

    def script(seen: Seen) -> Reply:
        if seen.path.endswith("/audit_logs"):
            error = {"message": message, "type": "invalid_request_error", "param": None,
                     "code": None}  # fmt: skip
            return Reply(status, {"error": error})
        if seen.path.endswith("/projects"):
            return Reply(200, {"object": "list", "data": [{"id": "proj_1"}], "has_more": False})
        return Reply(200, {"object": "list", "data": [], "has_more": False})

    with ScriptedServer(script) as server:
        report = check_access("sk-admin-scripted-000000000000", server.base_url,
                              day=date(2026, 11, 25))  # fmt: skip
    assert results(report)["read:audit_log"] == result
    assert report.ok  # optional either way


def test_a_server_that_is_not_the_admin_api_is_not_ok() -> None:
    """A base URL that answers 200 with a web page (a proxy, a portal) proves nothing."""

    def script(seen: Seen) -> Reply:
        return Reply(200, b"<html><body>Welcome</body></html>", {"Content-Type": "text/html"})

    with ScriptedServer(script) as server:
        report = check_access("sk-admin-scripted-000000000000", server.base_url,
                              day=date(2026, 11, 25))  # fmt: skip
    assert results(report) == {**dict.fromkeys(NAMES, NOT_THE_API),
                               "read:api_keys": NOT_CHECKED}  # fmt: skip
    assert report.probes[0].advice == (
        f"check OPENAI_BASE_URL ({server.base_url}): HTTP 200 without a JSON object came back"
    )
    assert not report.ok and not report.transient
