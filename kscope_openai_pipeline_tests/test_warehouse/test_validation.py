"""`validate`: one readable error naming table, column, values and endpoint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.schemas.kscope import Engineers
from kscope_openai_pipeline.warehouse import WarehouseValidationError, conform, validate

from .builders import ORG, cost_row, day, frame, usage_frame, usage_row, user_row

ENDPOINT = "/organization/usage/completions"


def _error(model: type, df: pd.DataFrame, **kwargs: object) -> WarehouseValidationError:
    with pytest.raises(WarehouseValidationError) as info:
        validate(model, df, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_a_negative_metric_names_table_column_value_and_endpoint() -> None:
    df = usage_frame([usage_row(day(1), input_tokens=10), usage_row(day(2), input_tokens=-5)])
    err = _error(so.Usage, df, endpoint=ENDPOINT)
    assert str(err) == (
        "openai.usage: column input_tokens has values < 0: [-5] "
        "(endpoint /organization/usage/completions)"
    )
    assert err.table == "openai.usage"
    assert [(p.column, p.values, p.rows) for p in err.problems] == [("input_tokens", [-5], [1])]


def test_at_most_five_distinct_values_with_the_row_count() -> None:
    df = usage_frame([usage_row(day(1), model=f"m{i}", num_requests=-i) for i in range(1, 9)])
    err = _error(so.Usage, df)
    assert str(err) == (
        "openai.usage: column num_requests has values < 0: [-1, -2, -3, -4, -5] (8 rows)"
    )


def test_every_problem_is_reported_at_once() -> None:
    rows = [
        usage_row(day(1), organization_id=None),
        usage_row(day(2), usage_type="chat", output_tokens=-1),
        usage_row(day(9)),
    ]
    err = _error(so.Usage, usage_frame(rows), start=day(1), end=day(5))
    assert str(err) == (
        "openai.usage: column organization_id has null values in rows [0]; "
        "column usage_type has values not in ['completions', 'embeddings', 'moderations', "
        "'images', 'audio_speeches', 'audio_transcriptions', 'vector_stores', "
        "'code_interpreter_sessions', 'file_search_calls', 'web_search_calls']: ['chat']; "
        "column output_tokens has values < 0: [-1]; "
        "column usage_date has dates outside the window [2026-01-01, 2026-01-05): [2026-01-09]"
    )


def test_a_float_metric_is_a_wrong_type_not_silently_truncated() -> None:
    df = usage_frame([usage_row(day(1), output_tokens=2.5)])
    err = _error(so.Usage, df)
    assert str(err) == (
        "openai.usage: column output_tokens has the wrong type (expected int64, got float64)"
    )


def test_money_must_be_an_exact_decimal() -> None:
    rows = [
        cost_row(day(1), "1", line_item="float", amount_usd=0.1),
        cost_row(day(1), "0.0000000001", line_item="ten places"),
        cost_row(day(1), "1000000000", line_item="too big"),
        cost_row(day(1), "999999999.999999999", line_item="largest"),
        cost_row(day(1), "-0.000000001", line_item="credit"),
    ]
    err = _error(so.Costs, frame(so.Costs, rows))
    (problem,) = err.problems
    assert problem.column == "amount_usd"
    assert problem.values == [0.1, Decimal("1E-10"), Decimal("1000000000")]
    assert problem.rows == [0, 1, 2]


def test_a_duplicate_grain_counts_nulls_as_one_group() -> None:
    rows = [
        usage_row(day(1), project_id=None, input_tokens=1),
        usage_row(day(1), project_id=None, input_tokens=2),
        usage_row(day(1), project_id="proj_a"),
        usage_row(day(1), project_id="proj_a", batch=True),
    ]
    err = _error(so.Usage, usage_frame(rows))
    assert str(err) == (
        "openai.usage: columns (usage_date, usage_type, project_id, api_key_id, model, batch, "
        "service_tier, image_size, image_source, vector_store_id, context_level) have "
        "duplicate grain values: [(2026-01-01, 'completions', NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL)] (2 rows)"
    )
    (problem,) = err.problems
    assert problem.rows == [0, 1]
    assert problem.count == 2
    validate(so.Usage, usage_frame(rows[1:]))  # NULL and 'proj_a', batch NULL and TRUE differ


def test_missing_and_unexpected_columns_are_named() -> None:
    df = frame(so.Users, [user_row("user-1")]).drop(columns=["email"]).assign(extra=1)
    err = _error(so.Users, df)
    assert [(p.column, p.issue) for p in err.problems] == [
        ("extra", "no place in the table (unexpected column)"),
        ("email", "no such column in the frame (missing)"),
    ]


def test_validate_returns_the_conformed_frame() -> None:
    df = usage_frame([usage_row(day(1), input_tokens=7)])
    df["input_tokens"] = df["input_tokens"].astype("int32")
    df["usage_date"] = pd.to_datetime(df["usage_date"])  # midnight datetimes -> dates
    df = df[list(reversed(df.columns))]  # any order -> table order
    out = validate(so.Usage, df)
    assert list(out.columns)[:3] == ["organization_id", "usage_date", "usage_type"]
    assert out["input_tokens"].dtype == np.int64
    assert out["usage_date"].tolist() == [day(1)]


def test_conform_only_makes_lossless_conversions() -> None:
    users = frame(
        so.Users,
        [
            user_row("user-1", added_at=dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)),
            user_row("user-2", added_at=pd.Timestamp("2026-01-01 10:00", tz="Europe/Paris")),
        ],
    )
    out = conform(so.Users, users)
    assert out["added_at"].dtype == "datetime64[ns]"
    assert out["added_at"].tolist() == [
        pd.Timestamp("2026-01-01 09:00"),
        pd.Timestamp("2026-01-01 09:00"),
    ]
    projects = frame(
        so.Projects,
        [
            dict(
                organization_id=ORG,
                project_id="proj_a",
                name="A",
                status="active",
                created_at=dt.datetime(2025, 1, 1),
                archived_at=None,
            )
        ],
    )
    assert projects["archived_at"].dtype == object  # all-None from records
    out = validate(so.Projects, projects)
    assert out["archived_at"].dtype == "datetime64[ns]"
    assert out["archived_at"].isna().all()
    engineers = frame(
        Engineers,
        [
            dict(
                organization_id=ORG,
                engineer_id="e1",
                email="a@x.io",
                aliases=("b@x.io",),
                name="A",
                team="core",
                status="active",
            )
        ],
    )
    assert validate(Engineers, engineers)["aliases"].tolist() == [["b@x.io"]]


def test_a_datetime_that_is_not_midnight_is_not_a_date() -> None:
    df = usage_frame([usage_row(day(1))])
    df["usage_date"] = pd.to_datetime(["2026-01-01 13:00"])
    err = _error(so.Usage, df)
    assert str(err) == (
        "openai.usage: column usage_date has the wrong type (expected date): [2026-01-01T13:00:00]"
    )


def test_strings_are_not_parsed_as_dates() -> None:
    df = usage_frame([usage_row("2026-01-01")])  # type: ignore[arg-type]
    err = _error(so.Usage, df, start=day(1), end=day(2))
    assert [p.column for p in err.problems] == ["usage_date", "usage_date"]
    assert err.problems[0].issue == "the wrong type (expected date)"
    assert err.problems[0].values == ["2026-01-01"]


def test_table_name_defaults_to_the_model_and_can_be_overridden() -> None:
    df = frame(so.Users, [user_row("user-1", role=None, added_at=None)])
    assert str(_error(so.Users, df)).startswith("openai.users: column added_at has null values")
    assert str(_error(so.Users, df, table="staging.users")).startswith("staging.users: ")


def test_a_datetime_hidden_among_dates_is_caught() -> None:
    """The fast date check must not let a datetime (a date subclass) through."""
    rows = [usage_row(day(1)), usage_row(day(2)), usage_row(dt.datetime(2026, 1, 2, 5))]
    err = _error(so.Usage, usage_frame(rows), start=day(1), end=day(5))
    assert [(p.column, p.issue, p.values, p.rows) for p in err.problems] == [
        ("usage_date", "the wrong type (expected date)", [dt.datetime(2026, 1, 2, 5)], [2]),
        (
            "usage_date",
            "dates outside the window [2026-01-01, 2026-01-05)",
            [dt.datetime(2026, 1, 2, 5)],
            [2],
        ),
    ]


def test_unhashable_values_are_reported_not_crashed_on() -> None:
    df = usage_frame([usage_row(day(1)), usage_row(day(2), model=["gpt"])])
    err = _error(so.Usage, df, start=day(1), end=day(5))
    assert str(err) == "openai.usage: column model has the wrong type (expected str): [['gpt']]"
