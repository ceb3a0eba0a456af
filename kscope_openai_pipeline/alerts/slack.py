"""The messages, as Slack incoming webhooks take them: `text` plus `blocks`.

`text` is the whole message in one line (notifications, and any webhook that ignores
blocks); `blocks` lay the same facts out for Slack: a header, the sentence, up to ten
fields, and a context line with the kind, severity and alert id (to find the row in
sightlines.alerts). Slack's limits are kept: header 150 characters, field 2,000.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kscope_openai_pipeline.alerts.kinds import KINDS
from kscope_openai_pipeline.alerts.outbox import NEW, Message

_HEADER_LIMIT = 150
_FIELD_LIMIT = 2000
_EMOJI = {"high": ":rotating_light:", "warning": ":warning:"}


def usd(value: Any) -> str:
    """Dollars for people: $1,234.56 (exact in, rounded half up to the cent for reading)."""
    if value is None:
        return "n/a"
    return f"${Decimal(str(value)).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def _who(d: Mapping[str, Any]) -> str:
    return d.get("owner_email") or d.get("owner_id") or "no owner listed"


def _project(d: Mapping[str, Any]) -> str:
    return d.get("project_name") or d.get("project_id") or "no project"


def _new_bypass_key(s: str, d: Mapping[str, Any]) -> str:
    return (
        f"Key {s} in {_project(d)} sends traffic without an active Kscope Dev Token since "
        f"{d.get('first_bypass_day')}: {usd(d.get('spend_usd'))} so far (owner {_who(d)}, "
        f"created by {d.get('key_created_by') or 'unknown'})."
    )


def _bypass_spend(s: str, d: Mapping[str, Any]) -> str:
    return (
        f"Bypass key {s} in {_project(d)} spent {usd(d.get('spend_usd'))} in the "
        f"{d.get('window_days')} days to {d.get('as_of')}, over the "
        f"{usd(d.get('threshold_usd'))} threshold (owner {_who(d)})."
    )


def _reconciliation_gap(s: str, d: Mapping[str, Any]) -> str:
    return (
        f"{_project(d)} billed {usd(d.get('gap_usd'))} more than the gateway metered on "
        f"{d.get('as_of')}, {d.get('days')} days in a row over {usd(d.get('tolerance_usd'))} "
        f"({usd(d.get('streak_gap_usd'))} since {d.get('streak_start')})."
    )


def _unattributed_member(s: str, d: Mapping[str, Any]) -> str:
    reason = str(d.get("reason") or "no registry match").replace("_", " ")
    return (
        f"Member {d.get('email') or s} ({d.get('role') or 'member'}) matches no active "
        f"engineer in the Asset Registry: {reason}."
    )


def _access_lost(s: str, d: Mapping[str, Any]) -> str:
    return (
        f"The admin key lost {s}: {d.get('endpoint')} answers {d.get('result')} (it "
        f"answered ok on {d.get('last_ok_at')})."
    )


def _stale_data(s: str, d: Mapping[str, Any]) -> str:
    return (
        f"{d.get('table') or s} for {d.get('missing_day')} was not in the warehouse by "
        f"{d.get('deadline')} (last stored day: {d.get('last_stored_day') or 'none'})."
    )


def _run_failed(s: str, d: Mapping[str, Any]) -> str:
    steps = ", ".join(d.get("failed_steps") or []) or "no step"
    return f"Run {s} of {d.get('job_name')} failed ({steps}): {d.get('error') or 'no message'}"


_SENTENCES: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "new_bypass_key": _new_bypass_key,
    "bypass_spend": _bypass_spend,
    "reconciliation_gap": _reconciliation_gap,
    "unattributed_member": _unattributed_member,
    "access_lost": _access_lost,
    "stale_data": _stale_data,
    "run_failed": _run_failed,
}
#: Details shown as fields, in this order, when present.
_FIELDS = (
    ("project_name", "Project"), ("owner_email", "Owner"), ("key_created_by", "Created by"),
    ("spend_usd", "Spend"), ("gap_usd", "Gap"), ("email", "E-mail"), ("reason", "Reason"),
    ("endpoint", "Endpoint"), ("result", "Result"), ("missing_day", "Missing day"),
    ("job_name", "Job"),
)  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value(name: str, value: Any) -> str:
    return usd(value) if name.endswith("_usd") else str(value)


def message_payload(message: Message) -> dict[str, Any]:
    """The webhook body for one due message (a finding, or its resolution)."""
    kind = KINDS[message.kind]
    sentence = _SENTENCES[message.kind](message.subject, message.details)
    if message.event == NEW:
        title = f"{kind.title}: {message.subject}"
        text = f"{_EMOJI[message.severity]} [{message.severity.upper()}] {sentence}"
    else:
        title = f"Resolved: {kind.title}: {message.subject}"
        sentence = f"Resolved on {message.resolved_date}. Was: {sentence}"
        text = f":white_check_mark: [RESOLVED] {sentence}"
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{label}*\n{_value(name, message.details[name])}",
                                        _FIELD_LIMIT)}
        for name, label in _FIELDS
        if message.details.get(name) not in (None, "")
    ][:10]  # fmt: skip
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": sentence}}
    if fields:
        section["fields"] = fields
    context = (
        f"{message.kind} · {message.severity} · first seen {message.first_seen_date} · "
        f"alert {message.alert_id} · {message.organization_id}"
    )
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _HEADER_LIMIT)}},
            section,
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }
