"""The messages: Slack's incoming-webhook shape (`text` plus `blocks`) within its limits,
one sentence per kind that says what happened and to whom, and the resolution."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from kscope_openai_pipeline.alerts import slack
from kscope_openai_pipeline.alerts.findings import from_json
from kscope_openai_pipeline.alerts.kinds import KINDS
from kscope_openai_pipeline.alerts.outbox import NEW, RESOLVED, Message

DETAILS = {
    "new_bypass_key": {"project_name": "support-bot", "owner_email": "ann@corp.com",
                       "key_created_by": "bob@corp.com", "first_bypass_day": "2026-11-01",
                       "spend_usd": 12.345},
    "bypass_spend": {"project_name": "support-bot", "owner_email": "ann@corp.com",
                     "spend_usd": 1234.5, "window_days": 7, "as_of": "2026-11-25",
                     "threshold_usd": 50},
    "reconciliation_gap": {"project_name": "support-bot", "gap_usd": 7.927, "as_of": "2026-11-25",
                           "days": 4, "tolerance_usd": 1, "streak_gap_usd": 31.54,
                           "streak_start": "2026-11-22"},
    "unattributed_member": {"email": "x@corp.io", "role": "reader",
                            "reason": "engineer_departed"},
    "access_lost": {"endpoint": "GET /organization/costs", "result": "denied (403)",
                    "last_ok_at": "2026-11-24T02:00:00"},
    "stale_data": {"table": "openai.usage", "missing_day": "2026-11-30",
                   "deadline": "2026-12-01 09:00 UTC", "last_stored_day": "2026-11-25"},
    "run_failed": {"job_name": "daily_refresh_job", "failed_steps": ["openai__access_check"],
                   "error": "2 of 6 required permissions are not ok: read:usage, read:costs."},
}  # fmt: skip
SENTENCES = {
    "new_bypass_key": "Key key_1 in support-bot sends traffic without an active Kscope Dev "
    "Token since 2026-11-01: $12.35 so far (owner ann@corp.com, created by bob@corp.com).",
    "bypass_spend": "Bypass key key_1 in support-bot spent $1,234.50 in the 7 days to "
    "2026-11-25, over the $50.00 threshold (owner ann@corp.com).",
    "reconciliation_gap": "support-bot billed $7.93 more than the gateway metered on "
    "2026-11-25, 4 days in a row over $1.00 ($31.54 since 2026-11-22).",
    "unattributed_member": "Member x@corp.io (reader) matches no active engineer in the "
    "Asset Registry: engineer departed.",
    "access_lost": "The admin key lost key_1: GET /organization/costs answers denied (403) "
    "(it answered ok on 2026-11-24T02:00:00).",
    "stale_data": "openai.usage for 2026-11-30 was not in the warehouse by 2026-12-01 09:00 "
    "UTC (last stored day: 2026-11-25).",
    "run_failed": "Run key_1 of daily_refresh_job failed (openai__access_check): 2 of 6 "
    "required permissions are not ok: read:usage, read:costs.",
}


def message(kind: str, event: str = NEW) -> Message:
    return Message(
        "org-x", "abcdef0123456789", event, kind, "key_1", KINDS[kind].severity,
        dt.date(2026, 11, 20), dt.date(2026, 11, 25),
        dt.date(2026, 11, 26) if event == RESOLVED else None,
        from_json(json.dumps(DETAILS[kind])), 0,
    )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_its_sentence_in_text_and_blocks(kind: str) -> None:
    payload = slack.message_payload(message(kind))
    severity = KINDS[kind].severity
    emoji = ":rotating_light:" if severity == "high" else ":warning:"
    assert payload["text"] == f"{emoji} [{severity.upper()}] {SENTENCES[kind]}"
    header, section, context = payload["blocks"]
    assert header == {"type": "header",
                      "text": {"type": "plain_text", "text": f"{KINDS[kind].title}: key_1"}}
    assert section["text"] == {"type": "mrkdwn", "text": SENTENCES[kind]}
    assert 1 <= len(section["fields"]) <= 10
    assert all(len(f["text"]) <= 2000 for f in section["fields"])
    assert context["elements"][0]["text"] == (
        f"{kind} · {severity} · first seen 2026-11-20 · alert abcdef0123456789 · org-x"
    )
    json.dumps(payload)  # plain JSON, as the webhook receives it


def test_a_resolution_says_when_and_what_it_was() -> None:
    payload = slack.message_payload(message("bypass_spend", RESOLVED))
    assert payload["text"] == (
        f":white_check_mark: [RESOLVED] Resolved on 2026-11-26. Was: {SENTENCES['bypass_spend']}"
    )
    header = payload["blocks"][0]["text"]["text"]
    assert header == "Resolved: Bypass key spend over threshold: key_1"


def test_long_values_are_cut_to_slacks_limits() -> None:
    long = message("run_failed")
    long.details["job_name"] = "j" * 3000
    payload = slack.message_payload(long)
    assert all(len(f["text"]) <= 2000 for f in payload["blocks"][1]["fields"])
    header = slack.message_payload(dataclasses.replace(long, subject="r" * 300))["blocks"][0]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")


def test_money_is_shown_to_the_cent() -> None:
    assert [slack.usd(v) for v in (0, 1234.5, "0.005", None)] == [
        "$0.00", "$1,234.50", "$0.01", "n/a"
    ]  # fmt: skip
