"""`kscope-openai check-access` as a user runs it: the table, the organization, the exit code.

Real HTTP to the sandbox (served by this process on loopback) through click's runner.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from click.testing import CliRunner, Result

from kscope_openai_pipeline.cli import main
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox

ORG = "org-sandbox7"


def run(sb_url: str, key: str | None, *args: str, org: str | None = None) -> Result:
    env = {"OPENAI_ADMIN_KEY": key, "OPENAI_BASE_URL": sb_url, "OPENAI_ORGANIZATION_ID": org,
           "KSCOPE_SANDBOX": None}  # fmt: skip
    return CliRunner().invoke(main, ["check-access", "--day", "2026-11-25", *args], env=env)


def table_rows(result: Result) -> dict[str, list[str]]:
    """permission -> [endpoint, result, what to do], split on the table's column gaps."""
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("permission"))
    rows = {}
    for line in lines[start + 2 : start + 9]:
        cells = [c for c in line.split("  ") if c.strip()]
        rows[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return rows


def test_every_permission_ok_exits_0(sandbox: Sandbox) -> None:
    # --day 2026-11-25 is the sandbox's last day: usage and costs have rows to show
    assert gt.to_date(sandbox.org.end_day) - timedelta(days=1) == date(2026, 11, 25)
    result = run(sandbox.base_url, sandbox.admin_key)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Admin API at {sandbox.base_url}"
    assert lines[1].split() == ["permission", "endpoint", "probed", "result", "what", "to", "do"]
    rows = table_rows(result)
    assert {name: cells[1] for name, cells in rows.items()} == {
        "read:organization": "ok", "read:projects": "ok", "read:api_keys": "ok",
        "read:users": "ok", "read:usage": "ok", "read:costs": "ok",
        "read:audit_log (optional)": "ok",
    }  # fmt: skip
    assert rows["read:costs"][0] == "GET /organization/costs (2026-10-26..2026-11-25)"
    assert lines[-2:] == [
        "All 6 required permissions are ok.",
        f"Organization: {ORG} (as the API says: the openai-organization header, cost rows)",
    ]
    assert sandbox.admin_key not in result.output
    assert len(sandbox.requests) == 7


def test_a_denied_required_scope_exits_1_with_what_to_do() -> None:
    with Sandbox.start(seed=7, size="tiny", deny_scopes=["api.usage.read"]) as sb:
        result = run(sb.base_url, sb.admin_key, org=ORG)
    assert result.exit_code == 1
    rows = table_rows(result)
    assert rows["read:usage"] == [
        "GET /organization/usage/completions (2026-11-25)",
        "denied (403)",
        "the key lacks api.usage.read: use an admin key allowed to read usage of every family "
        "(an Owner creates one in Organization settings > Admin keys)",
    ]
    assert rows["read:costs"][1] == "denied (403)"
    assert result.stdout.splitlines()[-2:] == [
        "2 of 6 required permissions are not ok: read:usage, read:costs.",
        f"Organization: {ORG} (OPENAI_ORGANIZATION_ID; the API agrees (the "
        "openai-organization header))",
    ]


def test_an_invalid_key_exits_1(sandbox: Sandbox) -> None:
    result = run(sandbox.base_url, "sk-admin-revoked-000000000000000")
    assert result.exit_code == 1
    assert table_rows(result)["read:users"][1:] == [
        "invalid key (401)",
        "check OPENAI_ADMIN_KEY: a current admin key (sk-admin-...), not revoked or expired",
    ]
    assert "sk-admin-revoked-000000000000000" not in result.output


def test_audit_logging_off_is_reported_but_exits_0() -> None:
    with Sandbox.start(seed=7, size="tiny", audit_logging=False) as sb:
        result = run(sb.base_url, sb.admin_key)
    assert result.exit_code == 0, result.output
    assert table_rows(result)["read:audit_log (optional)"][1] == "not enabled"


def test_an_unreachable_api_exits_1() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = run(url, "sk-admin-anything-000000000000", "--timeout", "2")
    assert result.exit_code == 1
    rows = table_rows(result)
    assert {cells[1] for cells in rows.values()} == {"unreachable"}
    assert rows["read:organization"][2].startswith(f"check OPENAI_BASE_URL ({url}) and the network")


def test_an_organization_other_than_the_setting_exits_1_naming_both(sandbox: Sandbox) -> None:
    result = run(sandbox.base_url, sandbox.admin_key, org="org-expected")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == (
        f"Organization: OPENAI_ORGANIZATION_ID is org-expected but the Admin API says {ORG} "
        "(the openai-organization header, cost rows): the admin key belongs to another "
        "organization. Use an admin key of org-expected, or set OPENAI_ORGANIZATION_ID to the "
        "key's organization (or unset it: the API's answer is then used)."
    )


@pytest.mark.parametrize(
    ("header", "cost_rows", "line"),
    [
        (False, True, f"Organization: {ORG} (as the API says: cost rows)"),
        (True, False, f"Organization: {ORG} (as the API says: the openai-organization header)"),
        (False, False, "Organization: OPENAI_ORGANIZATION_ID is not set: every row is stamped "
                       "with the organization id and no Admin API endpoint returns it. Copy it "
                       "(org-...) from the OpenAI dashboard's organization settings and set "
                       "OPENAI_ORGANIZATION_ID."),
    ],
)  # fmt: skip
def test_without_the_setting_the_organization_comes_from_the_api(
    header: bool, cost_rows: bool, line: str
) -> None:
    with Sandbox.start(seed=7, size="tiny", organization_header=header,
                       organization_in_costs=cost_rows) as sb:  # fmt: skip
        result = run(sb.base_url, sb.admin_key)
    assert result.stdout.splitlines()[-1] == line
    assert result.exit_code == (0 if header or cost_rows else 1)


def test_no_key_exits_1_naming_the_variable(sandbox: Sandbox) -> None:
    result = run(sandbox.base_url, None)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: OPENAI_ADMIN_KEY is not set: export an OpenAI admin key (sk-admin-...)\n"
    )
    assert sandbox.requests == []
