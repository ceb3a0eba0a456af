"""The admin key never appears in logs (httpx/httpcore at DEBUG included), exception
messages, reprs or formatted tracebacks, over a full crawl of the sandbox with faults and
with the 401/403 paths."""

from __future__ import annotations

import logging
import pickle
import traceback
from datetime import date

import pytest

from kscope_openai_pipeline.openai_admin import (
    USAGE_FAMILIES,
    AdminApiAuthError,
    AdminApiError,
    AdminApiPermissionError,
    AdminClient,
    Secret,
)
from kscope_openai_pipeline.sandbox.server import Fault, Sandbox

SENTINEL = "sk-admin-SENTINEL-KEY-9d8c7b6a5f4e3d2c"
WRONG = "sk-admin-WRONG-SENTINEL-1a2b3c4d5e6f"
PROJECT_KEY = "sk-proj-SENTINEL-PROJECT-7e7e7e7e7e"
SECRETS = (SENTINEL, WRONG, PROJECT_KEY)


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_secret_wrapper_redacts_every_textual_form():
    s = Secret(SENTINEL)
    logging_style = "%s %r" % (s, s)  # noqa: UP031 (how logging formats its args)
    for text in (repr(s), str(s), f"{s}", f"{s!r:>80}", logging_style):
        assert leaks(text) == []
    assert s.reveal() == SENTINEL
    assert s.scrub(f"echo {SENTINEL}!") == "echo <redacted admin key>!"
    with pytest.raises(TypeError):
        pickle.dumps(s)
    for bad in ("", "sk-admin- with space", "sk-admin-\n", "sk-admin-ключ"):
        with pytest.raises(ValueError) as exc:
            Secret(bad)
        assert bad.strip() == "" or bad not in str(exc.value)


def test_full_crawl_at_debug_never_logs_or_raises_the_key(handmade_org, caplog):
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG), Sandbox.start(org=handmade_org, admin_key=SENTINEL) as sb:
        for kind in ("429", "500", "drop", "truncated", "wrong_type"):
            sb.inject(Fault(kind=kind, path="*", times=1))
        with AdminClient(
            SENTINEL, base_url=sb.base_url, sleep=lambda s: None, max_concurrency=4
        ) as c:
            assert leaks(repr(c)) == []
            projects = c.list_projects()
            c.list_project_api_keys(projects)
            c.list_service_accounts(projects)
            c.list_project_users(projects)
            c.list_admin_api_keys()
            c.list_users()
            c.list_invites()
            c.list_audit_events(["api_key.created"], date(2025, 1, 1), date(2025, 2, 1))
            for family in USAGE_FAMILIES:
                list(c.iter_usage(family, date(2025, 1, 1), date(2025, 2, 5)))
            list(c.iter_costs(date(2025, 1, 1), date(2025, 2, 5)))
            assert c.stats.retries >= 5
        for key, cls in ((WRONG, AdminApiAuthError), (PROJECT_KEY, AdminApiPermissionError)):
            with AdminClient(key, base_url=sb.base_url) as bad, pytest.raises(cls) as exc:
                bad.list_users()
            errors.append(exc.value)
        with (
            Sandbox.start(org=handmade_org, admin_key=SENTINEL, expired_keys=[SENTINEL]) as expired,
            AdminClient(SENTINEL, base_url=expired.base_url) as c,
            pytest.raises(AdminApiAuthError) as exc,
        ):
            list(c.iter_costs(date(2025, 1, 1), date(2025, 1, 2)))
        errors.append(exc.value)
    http_records = [r for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    assert len(http_records) > 100  # DEBUG really was on for the HTTP stack
    assert any(r.name.startswith("httpcore") and r.levelno == logging.DEBUG for r in http_records)
    assert leaks(caplog.text) == []
    assert all(leaks(r.getMessage()) == [] for r in caplog.records)
    for err in errors:
        assert isinstance(err, AdminApiError)
        formatted = "".join(traceback.format_exception(err))
        assert leaks(str(err)) == [] and leaks(repr(err)) == [] and leaks(formatted) == []
    assert "check OPENAI_ADMIN_KEY" in str(errors[0])
    assert "Admin role" in str(errors[1]) and "api.management.read" in str(errors[1])
    assert "expired" in str(errors[2])
