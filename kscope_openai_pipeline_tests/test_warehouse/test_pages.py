"""Column pages written through Arrow: DDL types, exact money, the frame route's errors."""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from kscope_openai_pipeline.openai_admin import Repeated
from kscope_openai_pipeline.schemas import column_names
from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.schemas.base import sql_type
from kscope_openai_pipeline.warehouse import (
    WarehouseValidationError,
    arrow_schema,
    page_table,
    records_frame,
    replace_window,
    replace_window_streaming,
    validate,
    validate_table,
)
from kscope_openai_pipeline.warehouse.frames import TEXT_DICTIONARY

from .builders import ORG, cost_row, day, snapshot, usage_row

USAGE_ENDPOINT = "/organization/usage/completions"


@dataclass
class Page:
    """What the client hands out for usage and costs: a page held column by column."""

    columns: dict[str, list[Any]]
    num_rows: int


def page_of(rows: list[dict[str, Any]]) -> Page:
    names = [c for c in rows[0] if c != "organization_id"] if rows else []
    return Page({c: [r[c] for r in rows] for c in names}, len(rows))


def _usage(*rows: dict[str, Any]) -> Page:
    return page_of(list(rows))


def test_a_page_becomes_a_table_typed_like_the_ddl() -> None:
    table = page_table(_usage(usage_row(day(1), batch=True, input_tokens=3)), so.Usage, ORG)
    assert table.column_names == column_names(so.Usage)
    assert table.schema.field("usage_date").type == pa.date32()
    assert table.schema.field("batch").type == pa.bool_()
    assert table.schema.field("input_tokens").type == pa.int64()
    assert table.column("organization_id").to_pylist() == [ORG]
    costs = page_table(page_of([cost_row(day(1), "1.5", quantity=Decimal("2.5"))]), so.Costs, ORG)
    assert costs.schema.field("amount_usd").type == pa.decimal128(18, 9)
    assert costs.schema.field("quantity").type == pa.float64()
    assert costs.to_pylist()[0] == {
        "organization_id": ORG,
        "cost_date": day(1),
        "project_id": "proj_a",
        "line_item": "gpt-4o, input",
        "amount_usd": Decimal("1.500000000"),
        "currency": "usd",
        "quantity": 2.5,
        "quantity_unit": None,
    }


def test_text_is_held_once_per_distinct_value() -> None:
    """A page's ids repeat over its rows: the table keeps each text once and an int32 index
    per row (a year's costs page: 21 MiB instead of 53 MiB as plain strings)."""
    rows = [cost_row(day(1), "1", project_id=f"proj_{i % 4}") for i in range(10_000)]
    table = page_table(page_of(rows), so.Costs, ORG)
    text = ["organization_id", "project_id", "line_item", "currency", "quantity_unit"]
    assert [f.name for f in table.schema if f.type == TEXT_DICTIONARY] == text
    projects = table.column("project_id").chunk(0)
    assert projects.dictionary.to_pylist() == ["proj_0", "proj_1", "proj_2", "proj_3"]
    assert projects.nbytes == 40_000 + 40  # int32 indices, then the four texts once
    assert table.column("organization_id").chunk(0).dictionary.to_pylist() == [ORG]
    assert table.column("project_id").to_pylist()[:5] == [
        "proj_0",
        "proj_1",
        "proj_2",
        "proj_3",
        "proj_0",
    ]


def test_a_repeated_column_is_one_constant_array_equal_to_its_list() -> None:
    rows = [usage_row(day(1), input_tokens=n, project_id=f"proj_{n}") for n in (3, 4, 5)]
    repeated = page_of(rows)
    for column, value in (("usage_type", "completions"), ("images", 0), ("image_size", None)):
        repeated.columns[column] = Repeated(value, 3)
    table = page_table(repeated, so.Usage, ORG)
    assert table.equals(page_table(page_of(rows), so.Usage, ORG))
    assert table.column("usage_type").chunk(0).dictionary.to_pylist() == ["completions"]
    assert table.column("usage_type").to_pylist() == ["completions"] * 3
    assert table.column("images").type == pa.int64()
    assert table.column("images").to_pylist() == [0, 0, 0]
    assert table.column("image_size").null_count == 3
    assert table.column("input_tokens").to_pylist() == [3, 4, 5]


def test_a_repeated_value_that_does_not_fit_gets_the_frame_routes_error() -> None:
    page = page_of([usage_row(day(1)), usage_row(day(1), project_id="proj_b")])
    page.columns["images"] = Repeated("3", 2)
    with pytest.raises(WarehouseValidationError) as err:
        page_table(page, so.Usage, ORG)
    assert "column images has the wrong type (expected int64, got object)" in str(err.value)
    page.columns["images"] = ["3", "3"]
    with pytest.raises(WarehouseValidationError) as as_list:
        page_table(page, so.Usage, ORG)
    assert str(err.value) == str(as_list.value)


def test_money_is_rounded_half_even_to_nine_places_like_the_frame_route() -> None:
    amounts = ["0.06000000000000001", "0.0000000015", "0.0000000025", "-0.0000000025", "7"]
    rows = [cost_row(day(1), a, line_item=f"item {i}") for i, a in enumerate(amounts)]
    table = page_table(page_of(rows), so.Costs, ORG)
    expected = ["0.060000000", "0.000000002", "0.000000002", "-0.000000002", "7.000000000"]
    assert table.column("amount_usd").to_pylist() == [Decimal(a) for a in expected]
    frame = records_frame(page_of(rows), so.Costs, ORG)
    assert frame["amount_usd"].tolist() == [Decimal(a) for a in expected]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"output_tokens": 2.5},
            "openai.usage: column output_tokens has the wrong type (expected int64, got float64)",
        ),
        (
            {"usage_date": dt.datetime(2026, 1, 1, 5)},
            "openai.usage: column usage_date has the wrong type (expected date): "
            "[2026-01-01 05:00:00]",
        ),
        (
            {"model": ["gpt"]},
            "openai.usage: column model has the wrong type (expected str): [['gpt']]",
        ),
        (
            {"batch": 1},
            "openai.usage: column batch has the wrong type (expected boolean, got float64)",
        ),
    ],
)
def test_a_value_that_does_not_fit_its_column_gets_the_frame_routes_error(
    override: dict[str, Any], message: str
) -> None:
    """Arrow would coerce these (2.5 to 2, a datetime to its day): they are refused."""
    page = _usage(usage_row(day(1)), usage_row(day(1), api_key_id="key_2", **override))
    with pytest.raises(WarehouseValidationError) as info:
        page_table(page, so.Usage, ORG)
    assert str(info.value) == message


def test_a_float_amount_is_refused_not_converted() -> None:
    page = page_of([cost_row(day(1), "1", amount_usd=0.1)])
    with pytest.raises(WarehouseValidationError) as info:
        page_table(page, so.Costs, ORG)
    assert str(info.value) == (
        "openai.costs: column amount_usd has values that are not exact dollars (a Decimal "
        "with at most 9 decimal places, below 1e9; floats are refused): [0.1]; "
        "column amount_usd has the wrong type (expected object, got float64)"
    )


def test_validating_a_table_leaves_no_frame_for_the_garbage_collector() -> None:
    """pandera's accessor and the frame it validates point at each other, so without care
    each validated page's buffers stay alive until a full garbage collection (in a
    year-long backfill, the page before stayed beside the page being decoded). The gc is
    off while objects are counted, so a frame kept only by a cycle would be counted."""
    rows = [usage_row(day(1), model=f"m{i}", input_tokens=i) for i in range(50)]
    table = page_table(page_of(rows), so.Usage, ORG)
    gc.collect()
    gc.disable()
    try:
        frames_before = _frames()
        assert validate_table(so.Usage, table) is table
        assert _frames() == frames_before
        frame = records_frame(page_of(rows), so.Usage, ORG)
        frames_before = _frames()
        assert len(validate(so.Usage, frame)) == 50  # the frame route too
        assert _frames() == frames_before
    finally:
        gc.enable()


def _frames() -> int:
    return sum(isinstance(o, pd.DataFrame | pd.Series) for o in gc.get_objects())


def _errors(model: type, rows: list[dict[str, Any]], **kwargs: Any) -> tuple[str, str]:
    """The message of the Arrow route and of the frame route for the same rows."""
    with pytest.raises(WarehouseValidationError) as arrow_route:
        validate_table(model, page_table(page_of(rows), model, ORG), **kwargs)
    frame = records_frame(page_of(rows), model, ORG)
    with pytest.raises(WarehouseValidationError) as frame_route:
        validate(model, frame, **kwargs)
    return str(arrow_route.value), str(frame_route.value)


def test_value_problems_read_as_in_the_frame_route() -> None:
    rows = [
        usage_row(day(1), input_tokens=10),
        usage_row(day(2), model="a", input_tokens=-5, usage_type="chat"),
        usage_row(day(9), model="b", usage_type=None),
    ]
    arrow_message, frame_message = _errors(
        so.Usage, rows, endpoint=USAGE_ENDPOINT, start=day(1), end=day(5)
    )
    assert arrow_message == frame_message
    assert arrow_message == (
        "openai.usage: column usage_type has null values in rows [2]; "
        "column usage_type has values not in ['completions', 'embeddings', "
        "'moderations', 'images', 'audio_speeches', 'audio_transcriptions', 'vector_stores', "
        "'code_interpreter_sessions', 'file_search_calls', 'web_search_calls']: ['chat']; "
        "column input_tokens has values < 0: [-5]; "
        "column usage_date has dates outside the window [2026-01-01, 2026-01-05): [2026-01-09] "
        "(endpoint /organization/usage/completions)"
    )


def test_at_most_five_values_with_the_row_count() -> None:
    rows = [usage_row(day(1), model=f"m{i}", num_requests=-i) for i in range(1, 9)]
    arrow_message, frame_message = _errors(so.Usage, rows)
    assert (
        arrow_message
        == frame_message
        == ("openai.usage: column num_requests has values < 0: [-1, -2, -3, -4, -5] (8 rows)")
    )


def test_a_currency_other_than_usd_is_named() -> None:
    rows = [cost_row(day(1), "1"), cost_row(day(1), "2", line_item="x", currency="USD")]
    arrow_message, frame_message = _errors(so.Costs, rows)
    assert (
        arrow_message
        == frame_message
        == ("openai.costs: column currency has values not in ['usd']: ['USD']")
    )


@pytest.mark.parametrize("dictionary_text", [False, True])
def test_the_arrow_schema_is_the_models(dictionary_text: bool) -> None:
    text = TEXT_DICTIONARY if dictionary_text else pa.string()
    for model in (so.Usage, so.Costs, so.ApiKeyCosts):
        schema = arrow_schema(model, dictionary_text)
        columns = model.to_schema().columns
        assert list(schema.columns) == list(columns)
        for name, column in schema.columns.items():
            assert column.nullable == columns[name].nullable, name
            expected = [c.name for c in columns[name].checks if c.name != "decimal_money"]
            assert [c.name for c in column.checks] == expected, name
            if sql_type(model, name) == "VARCHAR":
                assert column.dtype.type == pd.ArrowDtype(text), name


def test_a_table_of_plain_strings_validates_too() -> None:
    """Tables read back from DuckDB (the FOCUS export's staging) hold plain strings."""
    rows = [cost_row(day(1), "1.5"), cost_row(day(1), "2", currency="eur")]
    plain = page_table(page_of(rows), so.Costs, ORG).cast(
        pa.schema(
            [
                pa.field(f.name, pa.string()) if f.type == TEXT_DICTIONARY else f
                for f in page_table(page_of(rows), so.Costs, ORG).schema
            ]
        )
    )
    assert plain.schema.field("currency").type == pa.string()
    with pytest.raises(WarehouseValidationError, match=r"column currency .*\['eur'\]"):
        validate_table(so.Costs, plain)
    assert validate_table(so.Costs, plain.slice(0, 1)) is not None


def test_pages_stream_into_the_same_rows_as_frames(conn: duckdb.DuckDBPyConnection) -> None:
    rows = [
        cost_row(day(1), "0.000000001", quantity=Decimal("1.25"), quantity_unit="tokens"),
        cost_row(day(1), "-3.5", project_id=None, line_item="credit"),
        cost_row(day(2), "999999999.999999999", line_item=None),
    ]
    replace_window(
        conn,
        "openai.costs",
        records_frame(page_of(rows), so.Costs, ORG),
        "cost_date",
        day(1),
        day(3),
        model=so.Costs,
    )
    by_frames = snapshot(conn, "openai.costs")
    conn.execute("DELETE FROM openai.costs")
    n = replace_window_streaming(
        conn,
        "openai.costs",
        [
            page_table(page_of(rows[:2]), so.Costs, ORG),
            page_table(page_of(rows[2:]), so.Costs, ORG),
        ],
        "cost_date",
        day(1),
        day(3),
        model=so.Costs,
        organization_id=ORG,
    )
    assert n == 3
    assert snapshot(conn, "openai.costs") == by_frames
    assert by_frames[0][4] == Decimal("-3.500000000")


def test_a_bad_page_rolls_back_the_window(conn: duckdb.DuckDBPyConnection) -> None:
    good = [usage_row(day(d), input_tokens=1) for d in (1, 2)]
    replace_window_streaming(
        conn,
        "openai.usage",
        [page_table(page_of(good), so.Usage, ORG)],
        "usage_date",
        day(1),
        day(3),
        model=so.Usage,
    )
    before = snapshot(conn, "openai.usage")
    pages = [
        page_table(page_of([usage_row(day(1), input_tokens=7)]), so.Usage, ORG),
        page_table(page_of([usage_row(day(2), seconds=-3)]), so.Usage, ORG),
    ]
    with pytest.raises(WarehouseValidationError) as info:
        replace_window_streaming(
            conn,
            "openai.usage",
            pages,
            "usage_date",
            day(1),
            day(3),
            model=so.Usage,
            endpoint="/organization/usage/audio_transcriptions",
        )
    assert str(info.value) == (
        "openai.usage: column seconds has values < 0: [-3] "
        "(endpoint /organization/usage/audio_transcriptions)"
    )
    assert snapshot(conn, "openai.usage") == before


def test_a_grain_repeated_across_pages_is_refused(conn: duckdb.DuckDBPyConnection) -> None:
    page = page_table(page_of([usage_row(day(1), project_id="proj_a")]), so.Usage, ORG)
    with pytest.raises(WarehouseValidationError, match=r"duplicate grain values across batches"):
        replace_window_streaming(
            conn, "openai.usage", [page, page], "usage_date", day(1), day(2), model=so.Usage
        )
    assert snapshot(conn, "openai.usage") == []


def test_rows_of_another_organization_are_refused(conn: duckdb.DuckDBPyConnection) -> None:
    page = page_table(page_of([usage_row(day(1))]), so.Usage, "org-other")
    with pytest.raises(WarehouseValidationError, match="rows of another organization"):
        replace_window_streaming(
            conn,
            "openai.usage",
            [page],
            "usage_date",
            day(1),
            day(2),
            model=so.Usage,
            organization_id=ORG,
        )
