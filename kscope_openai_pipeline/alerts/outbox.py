"""Which messages are due, and the marks that make each one go out exactly once.

A message is due when:
- `new`: the finding is open and was never announced (`notified_at` NULL);
- `resolved`: the finding was announced, is resolved, and its resolution was not
  announced yet (`resolved_notified_at` NULL). A finding that came and went before
  anything was announced (no webhook then) gets no message at all;
and its backoff time (`next_attempt_at`) has passed. Kinds switched off are not sent.

A message is marked in the table right after the webhook acknowledged it (2xx), one
commit per message, so a crash between two messages resends neither. A failure marks the
attempt (count, error, next attempt time with exponential backoff) and ends the round:
the webhook is down, so the other due messages wait for the same time instead of each
costing a timeout now. Nothing here raises for a failing webhook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from kscope_openai_pipeline.alerts.findings import from_json
from kscope_openai_pipeline.alerts.store import TABLE
from kscope_openai_pipeline.alerts.webhook import Delivery

NEW = "new"
RESOLVED = "resolved"
#: The longest wait between two attempts of a message.
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True)
class Message:
    """A due message: which finding, which event, and the finding as stored."""

    organization_id: str
    alert_id: str
    event: str  # NEW or RESOLVED
    kind: str
    subject: str
    severity: str
    first_seen_date: dt.date
    last_seen_date: dt.date
    resolved_date: dt.date | None
    details: dict[str, Any]
    attempts: int


@dataclass
class RoundResult:
    """One delivery round: what went out, what failed and when the rest is tried again."""

    delivered: list[Message] = field(default_factory=list)
    failed: Message | None = None
    error: str | None = None
    pending: int = 0
    next_attempt_at: dt.datetime | None = None


def backoff_seconds(attempts: int, base: float) -> float:
    """Wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base ... <= 1 h."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


_SEVERITY_ORDER = "CASE severity WHEN 'high' THEN 0 ELSE 1 END"


def due(
    conn: duckdb.DuckDBPyConnection, now: dt.datetime, disabled: Iterable[str] = ()
) -> list[Message]:
    """Messages due at `now` (naive UTC), most severe and oldest first."""
    rows = conn.execute(
        f"""
        SELECT
            organization_id, alert_id,
            CASE WHEN resolved_date IS NULL THEN '{NEW}' ELSE '{RESOLVED}' END AS event,
            kind, subject, severity, first_seen_date, last_seen_date, resolved_date,
            CAST(details AS VARCHAR), delivery_attempts
        FROM {TABLE}
        WHERE NOT list_contains(?, kind)
            AND (
                (resolved_date IS NULL AND notified_at IS NULL)
                OR (resolved_date IS NOT NULL AND notified_at IS NOT NULL
                    AND resolved_notified_at IS NULL)
            )
            AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
        ORDER BY {_SEVERITY_ORDER}, first_seen_date, kind, subject
        """,
        [sorted(disabled), now],
    ).fetchall()
    return [Message(*r[:9], from_json(r[9]), int(r[10])) for r in rows]  # type: ignore[arg-type]


def pending(conn: duckdb.DuckDBPyConnection, disabled: Iterable[str] = ()) -> tuple[int, Any]:
    """(messages not delivered yet, the earliest time one of them may be tried)."""
    row = conn.execute(
        f"""
        SELECT COUNT(*), MIN(coalesce(next_attempt_at, TIMESTAMP '1970-01-01'))
        FROM {TABLE}
        WHERE NOT list_contains(?, kind)
            AND (
                (resolved_date IS NULL AND notified_at IS NULL)
                OR (resolved_date IS NOT NULL AND notified_at IS NOT NULL
                    AND resolved_notified_at IS NULL)
            )
        """,
        [sorted(disabled)],
    ).fetchone()
    return int(row[0]), row[1]  # type: ignore[index]


def mark_delivered(conn: duckdb.DuckDBPyConnection, message: Message, at: dt.datetime) -> None:
    """The webhook acknowledged `message` at `at`: never send it again (committed now)."""
    column = "notified_at" if message.event == NEW else "resolved_notified_at"
    conn.execute(
        f"""
        UPDATE {TABLE}
        SET {column} = ?, delivery_attempts = 0, next_attempt_at = NULL,
            last_delivery_error = NULL
        WHERE organization_id = ? AND alert_id = ? AND {column} IS NULL
        """,
        [at, message.organization_id, message.alert_id],
    )


def mark_failed(
    conn: duckdb.DuckDBPyConnection,
    message: Message,
    error: str,
    retry_at: dt.datetime,
    waiting: Iterable[Message],
) -> None:
    """`message` failed: count the attempt, keep the error, retry at `retry_at`; the
    messages `waiting` behind it are not tried before then either."""
    conn.execute(
        f"""
        UPDATE {TABLE}
        SET delivery_attempts = delivery_attempts + 1, next_attempt_at = ?,
            last_delivery_error = ?
        WHERE organization_id = ? AND alert_id = ?
        """,
        [retry_at, error, message.organization_id, message.alert_id],
    )
    for other in waiting:
        conn.execute(
            f"UPDATE {TABLE} SET next_attempt_at = ? WHERE organization_id = ? AND alert_id = ?",
            [retry_at, other.organization_id, other.alert_id],
        )


def deliver_due(
    conn: duckdb.DuckDBPyConnection,
    send: Callable[[Message], Delivery],
    now: Callable[[], dt.datetime],
    *,
    retry_base_seconds: float,
    disabled: Iterable[str] = (),
) -> RoundResult:
    """Send every due message through `send`, marking each as it is acknowledged.

    `now` gives naive UTC times (the marks are taken after each answer). Stops at the
    first failure (see the module docstring). Each mark commits on its own: the caller
    must not hold a transaction open around this.
    """
    disabled = tuple(disabled)
    result = RoundResult()
    messages = due(conn, now(), disabled)
    for i, message in enumerate(messages):
        delivery = send(message)
        if delivery.ok:
            mark_delivered(conn, message, now())
            result.delivered.append(message)
            continue
        error = delivery.error or "failed"
        wait = backoff_seconds(message.attempts + 1, retry_base_seconds)
        retry_at = now() + dt.timedelta(seconds=wait)
        mark_failed(conn, message, error, retry_at, messages[i + 1 :])
        result.failed, result.error = message, error
        break
    result.pending, result.next_attempt_at = pending(conn, disabled)
    if not result.pending:
        result.next_attempt_at = None
    return result
