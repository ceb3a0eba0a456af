"""Transactional writes on a real DuckDB file: exact money, windows, rollbacks, streaming."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow
import pytest

from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.warehouse import (
    WarehouseValidationError,
    duplicate_grain,
    ensure_schema,
    read_table,
    replace_table,
    replace_window,
    replace_window_streaming,
    to_arrow,
    transaction,
)

from .builders import ORG, cost_row, day, frame, snapshot, usage_frame, usage_row, user_row

EXACT = ["0.000000001", "12345.678901234", "999999999.999999999", "-0.000000001", "0"]


class Boom(RuntimeError):
    """The failure tests inject between the delete and the insert."""


def _boom(_: duckdb.DuckDBPyConnection) -> None:
    raise Boom("injected between delete and insert")


def _usage_days(conn: duckdb.DuckDBPyConnection) -> list[tuple[dt.date, int, int]]:
    return conn.execute(
        "SELECT usage_date, COUNT(*), SUM(input_tokens) FROM openai.usage GROUP BY 1 ORDER BY 1"
    ).fetchall()


def _fill_usage(conn: duckdb.DuckDBPyConnection, days: range, tokens: int) -> None:
    rows = [
        usage_row(day(d), project_id=p, input_tokens=tokens) for d in days for p in ("proj_a", None)
    ]
    replace_window(
        conn,
        "openai.usage",
        usage_frame(rows),
        "usage_date",
        day(days.start),
        day(days.stop),
        model=so.Usage,
    )


def test_money_round_trips_exactly(conn: duckdb.DuckDBPyConnection) -> None:
    rows = [cost_row(day(1), amount, line_item=f"item {i}") for i, amount in enumerate(EXACT)]
    n = replace_window(
        conn, "openai.costs", frame(so.Costs, rows), "cost_date", day(1), day(2), model=so.Costs
    )
    assert n == 5
    stored = conn.execute("SELECT amount_usd FROM openai.costs ORDER BY line_item").fetchall()
    assert [r[0] for r in stored] == [Decimal(a) for a in EXACT]
    back = read_table(conn, "openai.costs", ["line_item"])
    assert back["amount_usd"].tolist() == [Decimal(a) for a in EXACT]
    assert conn.execute("SELECT SUM(amount_usd) FROM openai.costs").fetchone() == (
        Decimal("1000012345.678901233"),
    )
    assert conn.execute("SELECT typeof(amount_usd) FROM openai.costs LIMIT 1").fetchone() == (
        "DECIMAL(18,9)",
    )


def test_an_over_precise_amount_is_refused_not_rounded(conn: duckdb.DuckDBPyConnection) -> None:
    """Without a model, Arrow itself refuses to round a Decimal into DECIMAL(18,9)."""
    good = frame(so.Costs, [cost_row(day(1), "1.5")])
    replace_window(conn, "openai.costs", good, "cost_date", day(1), day(2))
    bad = frame(so.Costs, [cost_row(day(1), "0.1234567891")])
    with pytest.raises(ValueError, match=r"column amount_usd \(DECIMAL\(18,9\)\)"):
        replace_window(conn, "openai.costs", bad, "cost_date", day(1), day(2))
    assert snapshot(conn, "openai.costs")[0][4] == Decimal("1.5")


def test_replacing_a_window_never_duplicates_and_never_touches_other_days(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _fill_usage(conn, range(1, 8), tokens=10)
    assert _usage_days(conn) == [(day(d), 2, 20) for d in range(1, 8)]
    outside_before = [r for r in snapshot(conn, "openai.usage") if r[1] in (day(1), day(7))]
    _fill_usage(conn, range(3, 5), tokens=500)
    _fill_usage(conn, range(3, 5), tokens=500)  # re-run: identical, not doubled
    assert _usage_days(conn) == [
        (day(1), 2, 20),
        (day(2), 2, 20),
        (day(3), 2, 1000),
        (day(4), 2, 1000),
        (day(5), 2, 20),
        (day(6), 2, 20),
        (day(7), 2, 20),
    ]
    assert [r for r in snapshot(conn, "openai.usage") if r[1] in (day(1), day(7))] == (
        outside_before
    )


def test_an_empty_frame_empties_its_window(conn: duckdb.DuckDBPyConnection) -> None:
    """Partitions before the earliest key are written as empty: the window holds no rows."""
    _fill_usage(conn, range(1, 4), tokens=10)
    n = replace_window(
        conn, "openai.usage", usage_frame([]), "usage_date", day(2), day(3), model=so.Usage
    )
    assert n == 0
    assert _usage_days(conn) == [(day(1), 2, 20), (day(3), 2, 20)]


def test_rows_outside_the_window_are_refused_before_anything_changes(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _fill_usage(conn, range(1, 4), tokens=10)
    before = snapshot(conn, "openai.usage")
    stray = usage_frame([usage_row(day(2)), usage_row(day(3), model="m")])
    with pytest.raises(
        ValueError,
        match=r"usage_date has dates outside the window "
        r"\[2026-01-02, 2026-01-03\): \[2026-01-03\]",
    ):
        replace_window(conn, "openai.usage", stray, "usage_date", day(2), day(3))
    assert snapshot(conn, "openai.usage") == before


@pytest.mark.parametrize("failure", [Boom, KeyboardInterrupt])
def test_a_failure_between_delete_and_insert_keeps_the_old_rows(
    conn: duckdb.DuckDBPyConnection, failure: type[BaseException]
) -> None:
    _fill_usage(conn, range(1, 6), tokens=10)
    before = snapshot(conn, "openai.usage")

    def fail(c: duckdb.DuckDBPyConnection) -> None:  # days 1-3 deleted, 4-5 left
        assert c.execute("SELECT COUNT(*) FROM openai.usage").fetchone() == (4,)
        raise failure("injected")

    new = usage_frame([usage_row(day(d), input_tokens=999) for d in range(1, 4)])
    with pytest.raises(failure):
        replace_window(
            conn, "openai.usage", new, "usage_date", day(1), day(4), model=so.Usage, on_deleted=fail
        )
    assert snapshot(conn, "openai.usage") == before
    # the connection is usable afterwards (no transaction left open)
    assert replace_window(conn, "openai.usage", new, "usage_date", day(1), day(4)) == 3


def test_a_failure_inside_the_insert_keeps_the_old_rows(
    db_path: Path, conn: duckdb.DuckDBPyConnection
) -> None:
    costs = frame(so.Costs, [cost_row(day(1), "1.25"), cost_row(day(2), "2.5")])
    replace_window(conn, "openai.costs", costs, "cost_date", day(1), day(3))
    before = snapshot(conn, "openai.costs")
    bad = frame(so.Costs, [cost_row(day(1), "3"), cost_row(day(2), "4")])
    bad.loc[1, "amount_usd"] = "not money"  # no model: only Arrow stands in the way
    with pytest.raises(ValueError, match="amount_usd"):
        replace_window(conn, "openai.costs", bad, "cost_date", day(1), day(3))
    conn.close()
    reopened = duckdb.connect(str(db_path))  # what is on disk, not in a cache
    assert snapshot(reopened, "openai.costs") == before
    reopened.close()


def test_a_pandera_failure_leaves_the_table_unchanged_and_names_the_column(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _fill_usage(conn, range(1, 4), tokens=10)
    before = snapshot(conn, "openai.usage")
    bad = usage_frame([usage_row(day(1), input_tokens=5), usage_row(day(2), seconds=-3)])
    with pytest.raises(WarehouseValidationError) as info:
        replace_window(
            conn,
            "openai.usage",
            bad,
            "usage_date",
            day(1),
            day(4),
            model=so.Usage,
            endpoint="/organization/usage/audio_transcriptions",
        )
    assert str(info.value) == (
        "openai.usage: column seconds has values < 0: [-3] "
        "(endpoint /organization/usage/audio_transcriptions)"
    )
    assert snapshot(conn, "openai.usage") == before


def test_null_dimensions_are_a_grain_value_and_rewrite_cleanly(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    rows = [
        usage_row(day(1), usage_type="vector_stores", project_id=None, usage_bytes=10),
        usage_row(day(1), usage_type="vector_stores", project_id="proj_a", usage_bytes=20),
        usage_row(
            day(1), project_id=None, api_key_id="key_1", model="gpt", batch=False, input_tokens=3
        ),
        usage_row(
            day(1), project_id=None, api_key_id="key_1", model="gpt", batch=None, input_tokens=4
        ),
    ]
    for _ in range(2):
        replace_window(
            conn, "openai.usage", usage_frame(rows), "usage_date", day(1), day(2), model=so.Usage
        )
    assert conn.execute(
        "SELECT project_id, batch, input_tokens, usage_bytes FROM openai.usage "
        "ORDER BY usage_type, project_id NULLS FIRST, batch NULLS FIRST"
    ).fetchall() == [
        (None, None, 4, 0),
        (None, False, 3, 0),
        (None, None, 0, 10),
        ("proj_a", None, 0, 20),
    ]
    assert duplicate_grain(conn, "openai.usage", so.Usage.__config__.metadata["grain"]) == (0, [])


def test_organization_scope_leaves_other_organizations_alone(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    for org, tokens in (("org-a", 1), ("org-b", 2)):
        rows = [usage_row(day(d), organization_id=org, input_tokens=tokens) for d in (1, 2)]
        replace_window(
            conn,
            "openai.usage",
            usage_frame(rows),
            "usage_date",
            day(1),
            day(3),
            organization_id=org,
        )
    new = [usage_row(day(1), organization_id="org-a", input_tokens=100)]
    replace_window(
        conn,
        "openai.usage",
        usage_frame(new),
        "usage_date",
        day(1),
        day(3),
        organization_id="org-a",
    )
    assert conn.execute(
        "SELECT organization_id, usage_date, input_tokens FROM openai.usage ORDER BY ALL"
    ).fetchall() == [("org-a", day(1), 100), ("org-b", day(1), 2), ("org-b", day(2), 2)]
    with pytest.raises(ValueError, match="rows of another organization than 'org-a'"):
        replace_window(
            conn,
            "openai.usage",
            usage_frame([usage_row(day(1), organization_id="org-b")]),
            "usage_date",
            day(1),
            day(3),
            organization_id="org-a",
        )


def test_replace_table_is_all_or_nothing(conn: duckdb.DuckDBPyConnection) -> None:
    users = frame(so.Users, [user_row("user-1"), user_row("user-2")])
    assert replace_table(conn, "openai.users", users, model=so.Users) == 2
    before = snapshot(conn, "openai.users")
    assert before[0] == (
        ORG,
        "user-1",
        "user-1@corp.com",
        "User-1",
        "reader",
        dt.datetime(2025, 1, 1, 12, 30),
    )
    with pytest.raises(Boom):
        replace_table(conn, "openai.users", frame(so.Users, [user_row("user-3")]), on_deleted=_boom)
    assert snapshot(conn, "openai.users") == before
    assert replace_table(conn, "openai.users", frame(so.Users, [user_row("user-3")])) == 1
    assert [r[1] for r in snapshot(conn, "openai.users")] == ["user-3"]


def test_writes_compose_into_one_transaction(conn: duckdb.DuckDBPyConnection) -> None:
    replace_table(conn, "openai.users", frame(so.Users, [user_row("user-1")]))
    with pytest.raises(Boom), transaction(conn):
        replace_table(conn, "openai.users", frame(so.Users, [user_row("user-2")]))
        replace_window(
            conn, "openai.usage", usage_frame([usage_row(day(1))]), "usage_date", day(1), day(2)
        )
        raise Boom("after both writes")
    assert [r[1] for r in snapshot(conn, "openai.users")] == ["user-1"]
    assert snapshot(conn, "openai.usage") == []
    with transaction(conn):
        replace_table(conn, "openai.users", frame(so.Users, [user_row("user-2")]))
        replace_window(
            conn, "openai.usage", usage_frame([usage_row(day(1))]), "usage_date", day(1), day(2)
        )
    assert [r[1] for r in snapshot(conn, "openai.users")] == ["user-2"]
    assert len(snapshot(conn, "openai.usage")) == 1


def _pages(days: range, fail_on: int | None = None) -> Iterator[pd.DataFrame]:
    for i, d in enumerate(days):
        if i == fail_on:
            raise Boom(f"API failed on page {i}")
        yield usage_frame([usage_row(day(d), model=m, input_tokens=d) for m in ("a", "b")])


def test_streaming_inserts_every_batch_in_one_transaction(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _fill_usage(conn, range(1, 11), tokens=1)
    progress: list[tuple[int, int]] = []
    n = replace_window_streaming(
        conn,
        "openai.usage",
        _pages(range(2, 6)),
        "usage_date",
        day(2),
        day(6),
        model=so.Usage,
        on_batch=lambda i, rows: progress.append((i, rows)),
    )
    assert n == 8
    assert progress == [(0, 2), (1, 2), (2, 2), (3, 2)]
    assert _usage_days(conn) == [(day(1), 2, 2)] + [(day(d), 2, 2 * d) for d in range(2, 6)] + [
        (day(d), 2, 2) for d in range(6, 11)
    ]


def test_streaming_holds_no_inserted_arrow_batch_until_commit(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    """A year is one transaction: each Arrow batch must be let go once inserted, not at
    COMMIT (DuckDB keeps a table registered on a connection alive until the commit, which
    held a year of usage pages, ~270 MiB). References are counted, not bytes: pandera's
    Arrow checks keep small caches of their own."""
    made: list[pyarrow.Table] = []

    def batches() -> Iterator[pyarrow.Table]:
        for d in range(1, 6):
            rows = [usage_row(day(d), model=f"m{i}", input_tokens=i) for i in range(1_000)]
            made.append(to_arrow(conn, "openai.usage", usage_frame(rows))[0])
            yield made[-1]

    # once the next batch is in, the one before is held by `made` and getrefcount's argument
    # only
    refs: list[int] = []
    n = replace_window_streaming(
        conn,
        "openai.usage",
        batches(),
        "usage_date",
        day(1),
        day(6),
        model=so.Usage,
        on_batch=lambda i, rows: refs.extend([sys.getrefcount(made[i - 1])] if i else []),
    )
    assert n == 5_000
    assert refs == [2, 2, 2, 2]
    assert _usage_days(conn) == [(day(d), 1_000, 499_500) for d in range(1, 6)]


def test_streaming_lets_go_of_a_written_batch_before_the_next_is_read(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    """While the iterator reads the next batch (a page downloading and decoding), nothing
    of the writer may still hold the batch before: two pages would be alive at once. And
    the batches are made with the C library's allocator, which gives a freed page's
    memory back (pyarrow's default, mimalloc, kept it mapped)."""
    made: list[pyarrow.Table] = []
    held: list[int] = []
    allocators: list[str] = []
    pyarrow.set_memory_pool(pyarrow.mimalloc_memory_pool())

    def batches() -> Iterator[pyarrow.Table]:
        for d in range(1, 6):
            allocators.append(pyarrow.default_memory_pool().backend_name)
            if made:  # held by `made` and getrefcount's argument, nothing else
                held.append(sys.getrefcount(made[-1]))
            rows = [usage_row(day(d), model=f"m{i}", input_tokens=i) for i in range(100)]
            made.append(to_arrow(conn, "openai.usage", usage_frame(rows))[0])
            yield made[-1]

    n = replace_window_streaming(
        conn, "openai.usage", batches(), "usage_date", day(1), day(6), model=so.Usage
    )
    assert n == 500
    assert held == [2, 2, 2, 2]
    assert allocators == ["system"] * 5


@pytest.mark.parametrize("fail_on", [0, 3])
def test_streaming_rolls_back_when_a_page_fails(
    conn: duckdb.DuckDBPyConnection, fail_on: int
) -> None:
    _fill_usage(conn, range(1, 11), tokens=1)
    before = snapshot(conn, "openai.usage")
    with pytest.raises(Boom):
        replace_window_streaming(
            conn,
            "openai.usage",
            _pages(range(2, 6), fail_on=fail_on),
            "usage_date",
            day(2),
            day(6),
            model=so.Usage,
        )
    assert snapshot(conn, "openai.usage") == before


def test_streaming_refuses_a_grain_duplicated_across_batches(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _fill_usage(conn, range(1, 4), tokens=1)
    before = snapshot(conn, "openai.usage")
    page = usage_frame([usage_row(day(2), project_id=None, input_tokens=5)])
    with pytest.raises(
        WarehouseValidationError,
        match=r"duplicate grain values across "
        r"batches \(1 keys\)",
    ):
        replace_window_streaming(
            conn, "openai.usage", [page, page], "usage_date", day(1), day(4), model=so.Usage
        )
    assert snapshot(conn, "openai.usage") == before


def test_streaming_refuses_a_page_outside_the_window(conn: duckdb.DuckDBPyConnection) -> None:
    _fill_usage(conn, range(1, 4), tokens=1)
    before = snapshot(conn, "openai.usage")
    with pytest.raises(WarehouseValidationError, match="dates outside the window"):
        replace_window_streaming(
            conn, "openai.usage", _pages(range(1, 5)), "usage_date", day(1), day(4), model=so.Usage
        )
    assert snapshot(conn, "openai.usage") == before


def test_bad_arguments_fail_before_any_write(conn: duckdb.DuckDBPyConnection) -> None:
    df = usage_frame([])
    with pytest.raises(ValueError, match="start 2026-01-03 is after end 2026-01-02"):
        replace_window(conn, "openai.usage", df, "usage_date", day(3), day(2))
    with pytest.raises(ValueError, match="must be a datetime.date"):
        replace_window(conn, "openai.usage", df, "usage_date", dt.datetime(2026, 1, 1), day(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has no column 'day'"):
        replace_window(conn, "openai.usage", df, "day", day(1), day(2))
    with pytest.raises(ValueError, match="not a 'schema.table' name"):
        replace_table(conn, "openai.users; DROP TABLE openai.usage", df)
    with pytest.raises(ValueError, match="does not exist"):
        replace_table(conn, "openai.nope", df)


def test_timestamps_are_stored_naive_utc(conn: duckdb.DuckDBPyConnection) -> None:
    paris = pd.Timestamp("2026-01-01 10:00", tz="Europe/Paris")
    users = frame(so.Users, [user_row("user-1", added_at=paris)])
    replace_table(conn, "openai.users", users, model=so.Users)
    assert conn.execute("SELECT typeof(added_at), added_at FROM openai.users").fetchone() == (
        "TIMESTAMP",
        dt.datetime(2026, 1, 1, 9, 0),
    )
    assert read_table(conn, "openai.users")["added_at"].tolist() == [
        pd.Timestamp("2026-01-01 09:00")
    ]


def test_ensure_schema_joins_an_open_transaction(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    with pytest.raises(Boom), transaction(conn):
        ensure_schema(conn)
        replace_table(conn, "openai.users", frame(so.Users, [user_row("user-1")]))
        raise Boom("after creating the tables")
    assert conn.execute("SELECT COUNT(*) FROM duckdb_tables()").fetchone() == (0,)
    with transaction(conn):
        ensure_schema(conn)
        replace_table(conn, "openai.users", frame(so.Users, [user_row("user-1")]))
    assert [r[1] for r in snapshot(conn, "openai.users")] == ["user-1"]


def test_duplicate_grain_counts_keys_nulls_as_one_and_only_where_asked(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    """The hash pass finds the repeated grains; the exact pass counts and names them."""
    conn.execute("CREATE TABLE kscope.grain_probe (organization_id VARCHAR, d DATE, k VARCHAR)")
    rows = [
        ("org-a", day(1), None), ("org-a", day(1), None), ("org-a", day(1), "x"),
        ("org-a", day(2), "x"), ("org-a", day(2), "x"), ("org-a", day(2), "x"),
        ("org-b", day(1), None), ("org-b", day(2), "x"),
    ]  # fmt: skip
    conn.executemany("INSERT INTO kscope.grain_probe VALUES (?, ?, ?)", rows)
    n, examples = duplicate_grain(
        conn, "kscope.grain_probe", ["d", "k"], "organization_id = ?", ["org-a"]
    )
    assert (n, sorted(examples, key=str)) == (2, [(day(1), None), (day(2), "x")])
    assert duplicate_grain(
        conn, "kscope.grain_probe", ["d", "k"], "organization_id = ?", ["org-b"]
    ) == (0, [])
    whole = duplicate_grain(conn, "kscope.grain_probe", ["organization_id", "d", "k"], limit=1)
    assert whole[0] == 2 and len(whole[1]) == 1
    assert duplicate_grain(conn, "kscope.grain_probe", ["d", "k"])[0] == 2
