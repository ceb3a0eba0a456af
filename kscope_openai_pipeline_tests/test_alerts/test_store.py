"""sightlines.alerts: the DDL equals its model, and the merge keeps each finding one row
whose announcements survive re-runs (new, refreshed, resolved, reopened)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.alerts import store
from kscope_openai_pipeline.alerts.findings import Finding, alert_id, to_json
from kscope_openai_pipeline.alerts.kinds import BYPASS_SPEND, NEW_BYPASS_KEY, RUN_FAILED
from kscope_openai_pipeline.schemas.alerts import Alerts
from kscope_openai_pipeline.schemas.base import sql_type, table_name

ORG = "org-test"
DAY = dt.date(2026, 11, 20)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    store.ensure_alerts_table(connection)
    yield connection
    warehouse.disconnect(connection)


def spend(subject: str, first: dt.date = DAY, usd: str = "60") -> Finding:
    return Finding(ORG, BYPASS_SPEND.name, subject, first, f'{{"spend_usd": {usd}}}')


def rows(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {
        subject: rest
        for subject, *rest in conn.execute(
            "SELECT subject, first_seen_date, last_seen_date, resolved_date, "
            "notified_at IS NOT NULL, resolved_notified_at IS NOT NULL FROM sightlines.alerts"
        ).fetchall()
    }


def announce(conn: duckdb.DuckDBPyConnection, subject: str, column: str) -> None:
    conn.execute(
        f"UPDATE sightlines.alerts SET {column} = TIMESTAMP '2026-11-21 10:00' "
        "WHERE subject = ?",
        [subject],
    )


def test_the_ddl_and_the_model_agree(conn: duckdb.DuckDBPyConnection) -> None:
    declared = [
        (name, sql_type(Alerts, name), column.nullable)
        for name, column in Alerts.to_schema().columns.items()
    ]
    assert warehouse.table_columns(conn, table_name(Alerts)) == declared
    (comment,) = conn.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'alerts' "
        "AND column_name = 'alert_id'"
    ).fetchone()
    assert comment.startswith("Stable id")


def test_the_alert_id_is_a_hash_of_kind_and_subject_only() -> None:
    a = Finding(ORG, "bypass_spend", "key_a", DAY, "{}")
    b = Finding("org-other", "bypass_spend", "key_a", DAY + dt.timedelta(days=3), '{"x": 1}')
    assert a.alert_id == b.alert_id == alert_id("bypass_spend", "key_a")
    assert len(a.alert_id) == 16
    assert a.alert_id != alert_id("new_bypass_key", "key_a")
    assert a.alert_id != alert_id("bypass_spend", "key_b")


def test_a_finding_is_inserted_once_and_refreshed_on_every_run(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    first = store.merge(conn, [spend("key_a")], [BYPASS_SPEND], DAY)
    assert first == store.MergeResult(new=1, reopened=0, resolved=0, open=1)
    announce(conn, "key_a", "notified_at")
    later = DAY + dt.timedelta(days=2)
    again = store.merge(conn, [spend("key_a", DAY + dt.timedelta(days=1), "70")],
                        [BYPASS_SPEND], later)  # fmt: skip
    assert again == store.MergeResult(new=0, reopened=0, resolved=0, open=1)
    assert rows(conn) == {"key_a": [DAY, later, None, True, False]}
    (details,) = conn.execute("SELECT CAST(details AS VARCHAR) FROM sightlines.alerts").fetchone()
    assert details == '{"spend_usd": 70}'
    # an older run (a backfill judged as of an earlier day) never moves last_seen back
    store.merge(conn, [spend("key_a")], [BYPASS_SPEND], DAY)
    assert rows(conn)["key_a"][1] == later


def test_a_finding_no_longer_seen_is_resolved_only_by_its_own_kind(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    new_key = Finding(ORG, NEW_BYPASS_KEY.name, "key_b", DAY, "{}")
    store.merge(conn, [spend("key_a")], [BYPASS_SPEND], DAY)
    store.merge(conn, [new_key], [NEW_BYPASS_KEY], DAY)
    # a detection of bypass_spend alone resolves key_a, and leaves new_bypass_key alone
    resolved = store.merge(conn, [], [BYPASS_SPEND], DAY + dt.timedelta(days=1))
    assert resolved == store.MergeResult(new=0, reopened=0, resolved=1, open=0)
    assert rows(conn)["key_a"][2] == DAY + dt.timedelta(days=1)
    assert rows(conn)["key_b"][2] is None
    # a kind switched off is not decided, so its open findings stay as they are
    store.merge(conn, [], [], DAY + dt.timedelta(days=2))
    assert rows(conn)["key_b"][2] is None


def test_a_reopened_finding_is_a_new_occurrence_once_its_resolution_was_announced(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    store.merge(conn, [spend("key_a"), spend("key_b")], [BYPASS_SPEND], DAY)
    announce(conn, "key_a", "notified_at")
    announce(conn, "key_b", "notified_at")
    store.merge(conn, [], [BYPASS_SPEND], DAY + dt.timedelta(days=1))
    announce(conn, "key_a", "resolved_notified_at")  # key_b's resolution not announced yet
    back = DAY + dt.timedelta(days=5)
    result = store.merge(conn, [spend("key_a", back), spend("key_b", back)], [BYPASS_SPEND], back)
    assert result == store.MergeResult(new=0, reopened=2, resolved=0, open=2)
    assert rows(conn) == {
        # announced and resolved: a new occurrence, to be announced again
        "key_a": [back, back, None, False, False],
        # its resolution never went out: people still believe it open, as it is
        "key_b": [DAY, back, None, True, False],
    }


def test_events_are_never_resolved(conn: duckdb.DuckDBPyConnection) -> None:
    run = Finding(ORG, RUN_FAILED.name, "run-1", DAY, to_json({"job_name": "daily_refresh_job"}))
    store.merge(conn, [run], [RUN_FAILED], DAY)
    assert store.merge(conn, [], [RUN_FAILED], DAY + dt.timedelta(days=1)).resolved == 0
    assert rows(conn)["run-1"][2] is None


def test_a_detection_may_only_merge_the_kinds_it_decided(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(ValueError, match="did not decide"):
        store.merge(conn, [spend("key_a")], [NEW_BYPASS_KEY], DAY)
    with pytest.raises(ValueError, match="share an alert id"):
        store.merge(conn, [spend("key_a"), spend("key_a")], [BYPASS_SPEND], DAY)
    assert rows(conn) == {}
