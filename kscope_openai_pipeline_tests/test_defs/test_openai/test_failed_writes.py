"""Failures inside a partition write leave the previous rows, and say what went wrong.

Each test first writes a range, then marks the stored rows (so "the old rows" can be told
apart from what a successful re-run would write, the sandbox being deterministic), then
runs again with a failure injected after the window's DELETE has run, and checks that the
table is byte-identical to the marked one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.openai_admin import AdminClient, ColumnPage
from kscope_openai_pipeline.sandbox.server import Fault, Sandbox
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY,
    INVENTORY,
    Pipeline,
    events_of,
    execute,
    expected_usage,
    query,
    stored_usage,
    table_rows,
)

USAGE_STEP = "openai__usage"
COMPLETIONS = "/organization/usage/completions"
EMBEDDINGS = "/organization/usage/embeddings"


def arm_after_first_page(sb: Sandbox, path: str, fault: Fault, mp: pytest.MonkeyPatch) -> None:
    """Inject `fault` the moment the first page of `path` is served, so it hits page 2.

    Faults match the path only (every page of a range has the same path), so the fault is
    injected from the sandbox's request log hook, which runs after page 1 was answered and
    before its bytes are sent: the client cannot have asked for page 2 yet. Deterministic.
    """
    record = sb._record
    armed = threading.Event()

    def record_then_arm(method, served_path, q, status) -> None:
        record(method, served_path, q, status)
        if served_path == path and status == 200 and not armed.is_set():
            armed.set()
            sb.inject(fault)

    mp.setattr(sb, "_record", record_then_arm)


def write_and_mark(pipeline: Pipeline, first: date, last: date) -> dict[str, list[tuple]]:
    """Write the range, then shift every stored metric/amount so old rows are recognisable."""
    pipeline.materialize([*INVENTORY, *DAILY], first, last)
    db = pipeline.db_path
    execute(db, "UPDATE openai.usage SET input_tokens = input_tokens + 1000003")
    execute(db, "UPDATE openai.costs SET amount_usd = amount_usd + 0.000000007")
    pipeline.sandbox.clear_requests()
    return {t: table_rows(db, t) for t in ("openai.usage", "openai.costs", "openai.api_key_costs")}


def step_failure(result: dg.ExecuteInProcessResult, step: str):
    (event,) = events_of(result, "STEP_FAILURE", step)
    return event.step_failure_data


def test_failure_on_the_second_page_of_a_range_keeps_the_old_rows(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 days = 2 usage pages a family; page 2 of completions keeps arriving malformed.

    The client retries a malformed body 3 times, then gives up with a permanent error:
    the window was already deleted and page 1 inserted, yet nothing of it is committed.
    """
    first, last = pipeline.day(0), pipeline.day(31)
    old = write_and_mark(pipeline, first, last)
    arm_after_first_page(
        pipeline.sandbox,
        COMPLETIONS,
        Fault(kind="wrong_type", path=COMPLETIONS, times=3),
        monkeypatch,
    )

    result = pipeline.materialize(DAILY, first, last, raise_on_error=False)

    assert not result.success
    served = [
        (r.path, dict(r.query).get("page") is not None, r.status) for r in pipeline.sandbox.requests
    ]
    # page 2 is asked for once (read ahead while page 1 is written), then retried twice
    assert served == [(COMPLETIONS, False, 200)] + [(COMPLETIONS, True, 200)] * 3
    failure = step_failure(result, USAGE_STEP)
    assert failure.user_failure_data is not None  # a dg.Failure: final, not retried
    message = failure.user_failure_data.description
    assert message.startswith(
        "AdminApiResponseError: /organization/usage/completions: invalid response: field "
    )
    assert "[after 3 attempt(s), 3 malformed]" in message
    assert len(events_of(result, "STEP_START", USAGE_STEP)) == 1
    assert events_of(result, "STEP_UP_FOR_RETRY") == []
    # costs depend on usage: they did not run, and nothing was written anywhere
    assert events_of(result, "STEP_START", "openai__costs") == []
    for table, rows in old.items():
        assert table_rows(pipeline.db_path, table) == rows, table


def test_crash_between_delete_and_insert_keeps_the_old_rows(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse's `on_deleted` hook raises right after the DELETE of openai.costs.

    The hook first proves the window is empty inside the transaction; the crash raises a
    `dg.Failure(allow_retries=False)` so the run ends at once instead of waiting for the
    asset's 30 s retry (the retry path has its own slow test).
    """
    first, last = pipeline.day(13), pipeline.day(15)
    old = write_and_mark(pipeline, first, last)
    seen_inside: list[int] = []

    def crash(conn) -> None:
        seen_inside.append(
            conn.execute(
                "SELECT COUNT(*) FROM openai.costs WHERE cost_date BETWEEN ? AND ?", [first, last]
            ).fetchall()[0][0]
        )
        raise dg.Failure("injected crash between delete and insert", allow_retries=False)

    original = warehouse.replace_window_streaming

    def with_crash(conn, table, *args, **kwargs):
        if table == "openai.costs":
            kwargs["on_deleted"] = crash
        return original(conn, table, *args, **kwargs)

    monkeypatch.setattr(warehouse, "replace_window_streaming", with_crash)

    result = pipeline.materialize(DAILY, first, last, raise_on_error=False)

    assert not result.success
    assert seen_inside == [0]
    failure = step_failure(result, "openai__costs")
    assert failure.user_failure_data.description == "injected crash between delete and insert"
    db = pipeline.db_path
    assert table_rows(db, "openai.costs") == old["openai.costs"]
    # usage ran first in the same run and committed its own window (the fresh values)
    assert stored_usage(db, first, last) == expected_usage(pipeline.org, first, last)
    assert table_rows(db, "openai.api_key_costs") == old["openai.api_key_costs"]


def test_rows_failing_pandera_leave_the_table_and_name_table_column_value_endpoint(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A negative token count in the fetched records stops the write; no retry.

    The client itself refuses negative metrics in an HTTP body, so the bad value is put
    into the decoded part of the page that the asset turns into Arrow (after real HTTP
    and the client's checks), which only pandera sees.
    """
    first, last = pipeline.day(13), pipeline.day(15)
    old = write_and_mark(pipeline, first, last)
    iter_usage = AdminClient.iter_usage

    def poisoned(self, family, start, end, *, compact, **kwargs) -> Iterator[ColumnPage]:
        def poison(part: ColumnPage) -> Any:
            if family == "completions":
                part.columns["input_tokens"][1] = -5
            return compact(part)

        return iter_usage(self, family, start, end, compact=poison, **kwargs)

    monkeypatch.setattr(AdminClient, "iter_usage", poisoned)

    result = pipeline.materialize(DAILY, first, last, raise_on_error=False)

    assert not result.success
    failure = step_failure(result, USAGE_STEP)
    assert failure.user_failure_data.label == "intentional-failure"  # dg.Failure
    assert failure.user_failure_data.description == (
        "WarehouseValidationError: openai.usage: column input_tokens has values < 0: [-5] "
        "(endpoint /organization/usage/completions)"
    )
    assert len(events_of(result, "STEP_START", USAGE_STEP)) == 1
    assert events_of(result, "STEP_UP_FOR_RETRY") == []
    for table, rows in old.items():
        assert table_rows(pipeline.db_path, table) == rows, table
    # usage pages are written in batches of one endpoint (DailyTable.batch_rows): the
    # completions batch was complete, and validated, when the next family's page came;
    # the bad batch stopped the crawl there
    assert [r.path for r in pipeline.sandbox.requests] == [COMPLETIONS, EMBEDDINGS]


@pytest.mark.slow
def test_retries_exhausted_on_page_two_are_retried_by_dagster_and_then_land_exactly(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """429 on every attempt of page 2: the client gives up (transient), Dagster's
    RetryPolicy re-runs the step 30 s later, and the range lands equal to ground truth."""
    first, last = pipeline.day(0), pipeline.day(31)
    pipeline.materialize(INVENTORY)
    pipeline.sandbox.clear_requests()
    attempts = pipeline.resources["openai_admin"].max_attempts
    arm_after_first_page(
        pipeline.sandbox,
        COMPLETIONS,
        Fault(kind="429", path=COMPLETIONS, times=attempts, retry_after_ms=5),
        monkeypatch,
    )

    result = pipeline.materialize(DAILY, first, last)

    assert result.success
    assert len(events_of(result, "STEP_UP_FOR_RETRY", USAGE_STEP)) == 1
    assert [r.status for r in pipeline.sandbox.requests][: attempts + 1] == [200] + [429] * attempts
    assert stored_usage(pipeline.db_path, first, last) == expected_usage(pipeline.org, first, last)
    assert query(
        pipeline.db_path, "SELECT COUNT(*) FROM openai.usage WHERE usage_date > ?", [last]
    ) == [(0,)]
