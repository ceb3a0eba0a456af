"""Materialization metadata shared by every asset: the data dictionary and a preview.

Dagster's UI is where analysts first meet a table, so each asset declares a
`dg.TableSchema` built from its pandera model's column descriptions, and each
materialization carries row counts and a few rows as markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg
import duckdb
import pandera.pandas as pa

from kscope_openai_pipeline.schemas.base import table_schema_columns


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The table's columns with SQL types and descriptions, for `dagster/column_schema`."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=sql, description=description)
            for name, sql, description in table_schema_columns(model)
        ]
    )


def definition_metadata(model: type[pa.DataFrameModel]) -> dict[str, Any]:
    """Static metadata for an asset that writes `model`'s table."""
    return {
        "dagster/column_schema": column_schema(model),
        "dagster/table_name": model.Config.name,
        "grain": ", ".join(model.Config.metadata.get("grain", [])),
    }


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A small GitHub-style markdown table (no extra dependency for five rows)."""

    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def preview(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), limit: int = 5
) -> dg.MarkdownMetadataValue:
    """The first `limit` rows of a query as markdown metadata."""
    relation = conn.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", list(params))
    columns = [d[0] for d in relation.description]
    return dg.MetadataValue.md(markdown_table(columns, relation.fetchall()))
