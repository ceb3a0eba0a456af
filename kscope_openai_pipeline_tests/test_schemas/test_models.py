"""The pandera models: the warehouse conventions every table follows, the data dictionary
the UI shows, and the vocabulary shared with the client."""

from __future__ import annotations

import pytest

from kscope_openai_pipeline import openai_admin
from kscope_openai_pipeline.schemas import grain, partition_column, table_name
from kscope_openai_pipeline.schemas import kscope as sk
from kscope_openai_pipeline.schemas import openai as so
from kscope_openai_pipeline.schemas import sightlines as ss
from kscope_openai_pipeline.schemas.base import table_schema_columns

MODELS = [*so.MODELS, *sk.MODELS, *ss.MODELS]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: table_name(m))
def test_conventions(model: type) -> None:
    columns = table_schema_columns(model)
    names = [c[0] for c in columns]
    assert names[0] == "organization_id"
    assert all(name == name.lower() and " " not in name for name in names)
    assert all(description for _, _, description in columns), "every column is described"
    for name, kind, _ in columns:
        if name.endswith("_usd"):
            assert kind == "DECIMAL(18,9)"
        if name.endswith("_at"):
            assert kind == "TIMESTAMP"
    assert set(grain(model)) <= set(names)
    partition = partition_column(model)
    if partition is not None:
        assert dict((n, t) for n, t, _ in columns)[partition] == "DATE"
        assert partition in grain(model)


def test_table_schema_columns_for_the_ui() -> None:
    assert table_schema_columns(so.ApiKeyCosts) == [
        ("organization_id", "VARCHAR", "The OpenAI organization ('org-...') this row belongs to."),
        ("cost_date", "DATE", "UTC day the cost was incurred."),
        (
            "api_key_id",
            "VARCHAR",
            "API key charged; NULL for cost no key carries (e.g. seats). May name a deleted key.",
        ),
        ("amount_usd", "DECIMAL(18,9)", "Billed amount in US dollars, exact (9 decimals)."),
        ("currency", "VARCHAR", "Currency OpenAI reported; always 'usd'."),
    ]


def test_the_client_and_the_warehouse_agree_on_the_usage_families() -> None:
    """The client keeps its own list (it imports nothing of the package); the warehouse
    refuses a usage_type outside its list, so the two must be the same, in order."""
    assert openai_admin.USAGE_FAMILIES == so.USAGE_TYPES
