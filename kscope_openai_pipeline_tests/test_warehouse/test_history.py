"""The inventory history: versions from crawls, the time before the first listing from the
audit log, removals dated by the log, and results that do not depend on the order of writes.

Hand-built crawls of one small organization into a real DuckDB file; each test states the
versions it expects, row by row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import openai as schemas
from kscope_openai_pipeline.warehouse import history

ORG = "org-h"
T = dt.datetime


def at(day: int, hour: int = 0) -> dt.datetime:
    """2026-10-<day> <hour>:00 (naive UTC)."""
    return T(2026, 10, day, hour)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.ensure_schema(connection)
    yield connection
    connection.close()


def crawl_users(
    conn: duckdb.DuckDBPyConnection, crawled_at: dt.datetime, *users: tuple
) -> history.MergeResult:
    """One inventory run of openai.users: replace the table, merge, rebuild (as the asset)."""
    frame = pd.DataFrame(
        [(ORG, uid, email, name, role, added) for uid, email, name, role, added in users],
        columns=["organization_id", "user_id", "email", "name", "role", "added_at"],
    )
    frame["added_at"] = frame["added_at"].astype("datetime64[ns]")
    with warehouse.transaction(conn):
        warehouse.replace_table(conn, "openai.users", frame, model=schemas.Users)
        merged = history.merge_snapshot(conn, "openai.users", ORG, crawled_at)
        history.rebuild_from_audit_log(conn, ORG, ["openai.users"])
    return merged


def store_audit_log(conn: duckdb.DuckDBPyConnection, *events: tuple) -> None:
    """(id, type, effective_at, target_id, actor_user_id, actor_email, data) events."""
    rows = [
        {
            "organization_id": ORG,
            "audit_log_id": eid,
            "event_type": kind,
            "effective_at": when,
            "event_date": when.date(),
            "project_id": None,
            "actor_type": "session" if actor else None,
            "actor_user_id": actor,
            "actor_email": email,
            "actor_api_key_id": None,
            "actor_service_account_id": None,
            "target_id": target,
            "details": json.dumps({"id": target, **data} if target else data, sort_keys=True),
        }
        for eid, kind, when, target, actor, email, data in events
    ]
    frame = pd.DataFrame(rows, columns=[c for c, _, _ in warehouse.table_columns(
        conn, "openai.audit_logs")])
    frame["effective_at"] = frame["effective_at"].astype("datetime64[ns]")
    with warehouse.transaction(conn):
        warehouse.replace_table(conn, "openai.audit_logs", frame, model=schemas.AuditLogs)
        history.rebuild_from_audit_log(conn, ORG)


def versions(conn: duckdb.DuckDBPyConnection, table: str = "openai.users_history") -> list:
    key = "user_id" if "users" in table else "project_id" if "projects" in table else "api_key_id"
    return conn.execute(
        f"SELECT {key}, valid_from, valid_to, deleted, source FROM {table} "
        f"ORDER BY {key}, valid_from"
    ).fetchall()


ANN = ("user-ann", "ann@x.io", "Ann", "owner", at(1))
BOB = ("user-bob", "bob@x.io", "Bob", "reader", at(2))


def test_crawls_add_a_version_per_change_and_none_when_nothing_changed(conn) -> None:
    assert crawl_users(conn, at(10), ANN, BOB).versions_added == 2
    assert crawl_users(conn, at(11), ANN, BOB).versions_added == 0  # a re-run adds nothing
    promoted = ("user-bob", "bob@x.io", "Bob", "owner", at(2))
    assert crawl_users(conn, at(12), ANN, promoted).changed == 1
    assert crawl_users(conn, at(13), ANN).removed == 1
    assert crawl_users(conn, at(14), ANN).versions_added == 0
    assert crawl_users(conn, at(15), ANN, promoted).returned == 1
    assert versions(conn) == [
        ("user-ann", at(10), None, False, "snapshot"),
        ("user-bob", at(10), at(12), False, "snapshot"),
        ("user-bob", at(12), at(13), False, "snapshot"),
        ("user-bob", at(13), at(15), True, "snapshot"),
        ("user-bob", at(15), None, False, "snapshot"),
    ]
    roles = conn.execute(
        "SELECT role, email FROM openai.users_history WHERE user_id = 'user-bob' "
        "ORDER BY valid_from"
    ).fetchall()
    assert roles == [("reader", "bob@x.io"), ("owner", "bob@x.io"), ("owner", "bob@x.io"),
                     ("owner", "bob@x.io")]  # the removal keeps the last known values


def test_a_clock_step_back_never_inverts_an_interval(conn) -> None:
    crawl_users(conn, at(10), ANN, BOB)
    crawl_users(conn, at(9), ANN)  # the crawl's clock is behind the last version
    assert versions(conn)[1:] == [
        ("user-bob", at(10), at(10) + dt.timedelta(seconds=1), False, "snapshot"),
        ("user-bob", at(10) + dt.timedelta(seconds=1), None, True, "snapshot"),
    ]


def test_last_used_at_is_carried_not_versioned(conn) -> None:
    def keys(crawled_at: dt.datetime, last_used: dt.datetime) -> history.MergeResult:
        frame = pd.DataFrame(
            [(ORG, "key_1", "project", "proj_1", "k", "sk-proj-****AAAA", "user", "user-ann",
              "ann@x.io", "Ann", at(1), last_used)],
            columns=[c for c, _, _ in warehouse.table_columns(conn, "openai.api_keys")],
        )
        for column in ("created_at", "last_used_at"):
            frame[column] = frame[column].astype("datetime64[ns]")
        warehouse.replace_table(conn, "openai.api_keys", frame, model=schemas.ApiKeys)
        return history.merge_snapshot(conn, "openai.api_keys", ORG, crawled_at)

    assert keys(at(10), at(9)).new == 1
    assert keys(at(11), at(10, 5)).versions_added == 0
    assert conn.execute(
        "SELECT valid_from, last_used_at FROM openai.api_keys_history"
    ).fetchall() == [(at(10), at(10, 5))]


ADDED_CAROL = ("a-1", "user.added", at(3, 9), "user-carol", "user-ann", "ann@x.io",
               {"data": {"role": "member"}})
CAROL_LOGIN = ("a-2", "login.succeeded", at(4, 8), None, "user-carol", "carol@x.io", {})
CAROL_REMOVED = ("a-3", "user.deleted", at(6, 17), "user-carol", "user-ann", "ann@x.io", {})
BOB_REMOVED = ("a-4", "user.deleted", at(12, 15), "user-bob", "user-ann", "ann@x.io", {})
ANN_LOGIN = ("a-5", "login.succeeded", at(2, 8), None, "user-ann", "ann@x.io", {})


def test_before_the_first_crawl_history_comes_from_the_audit_log(conn) -> None:
    store_audit_log(conn, ANN_LOGIN, ADDED_CAROL, CAROL_LOGIN, CAROL_REMOVED)
    crawl_users(conn, at(10), ANN, BOB)
    assert versions(conn) == [
        ("user-ann", at(1), at(10), False, "audit_log"),  # listed: its own added_at
        ("user-ann", at(10), None, False, "snapshot"),
        ("user-bob", at(2), at(10), False, "audit_log"),
        ("user-bob", at(10), None, False, "snapshot"),
        ("user-carol", at(3, 9), at(6, 17), False, "audit_log"),  # never listed
        ("user-carol", at(6, 17), None, True, "audit_log"),
    ]
    carol = conn.execute(
        "SELECT email, name, role, added_at FROM openai.users_history "
        "WHERE user_id = 'user-carol' AND NOT deleted"
    ).fetchall()
    assert carol == [("carol@x.io", None, "member", at(3, 9))]  # e-mail from her own events


def test_without_an_audit_log_history_starts_at_the_first_crawl(conn) -> None:
    crawl_users(conn, at(10), ANN, BOB)
    assert {v[1] for v in versions(conn)} == {at(10)}
    assert history.rebuild_from_audit_log(conn, ORG) == {
        "openai.api_keys_history": 0,
        "openai.users_history": 0,
        "openai.projects_history": 0,
        "openai.project_users_history": 0,
    }


@pytest.mark.parametrize("audit_first", [True, False], ids=["audit-first", "crawls-first"])
def test_removals_are_dated_by_the_audit_log_whatever_came_first(conn, audit_first) -> None:
    if audit_first:
        store_audit_log(conn, ANN_LOGIN, BOB_REMOVED)
    crawl_users(conn, at(10), ANN, BOB)
    crawl_users(conn, at(13, 2), ANN)  # the daily crawl notices Bob is gone
    if not audit_first:
        store_audit_log(conn, ANN_LOGIN, BOB_REMOVED)
    store_audit_log(conn, ANN_LOGIN, BOB_REMOVED)  # a re-pulled window changes nothing
    assert versions(conn) == [
        ("user-ann", at(1), at(10), False, "audit_log"),
        ("user-ann", at(10), None, False, "snapshot"),
        ("user-bob", at(2), at(10), False, "audit_log"),
        ("user-bob", at(10), at(12, 15), False, "snapshot"),
        ("user-bob", at(12, 15), None, True, "snapshot"),
    ]


def test_archivals_are_dated_by_the_project(conn) -> None:
    def projects(crawled_at: dt.datetime, status: str, archived_at: dt.datetime | None) -> None:
        frame = pd.DataFrame(
            [(ORG, "proj_1", "Search", status, at(1), archived_at)],
            columns=["organization_id", "project_id", "name", "status", "created_at",
                     "archived_at"],
        )
        for column in ("created_at", "archived_at"):
            frame[column] = frame[column].astype("datetime64[ns]")
        with warehouse.transaction(conn):
            warehouse.replace_table(conn, "openai.projects", frame, model=schemas.Projects)
            history.merge_snapshot(conn, "openai.projects", ORG, crawled_at)
            history.rebuild_from_audit_log(conn, ORG, ["openai.projects"])

    projects(at(10), "active", None)
    projects(at(13, 2), "archived", at(12, 15))
    projects(at(14, 2), "archived", at(12, 15))
    assert versions(conn, "openai.projects_history") == [
        ("proj_1", at(10), at(12, 15), False, "snapshot"),
        ("proj_1", at(12, 15), None, False, "snapshot"),
    ]
