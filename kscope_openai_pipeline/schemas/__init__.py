"""pandera models of every warehouse table (the checks, and the analysts' data dictionary).

`schemas.openai` and `schemas.kscope` hold one `DataFrameModel` per table; `schemas.base`
holds the field helpers and `table_schema_columns`. The sightlines models live in
`schemas.sightlines`. Nothing here imports Dagster or DuckDB.
"""

from kscope_openai_pipeline.schemas.base import (
    WarehouseModel,
    column_names,
    grain,
    partition_column,
    table_name,
    table_schema_columns,
)

__all__ = [
    "WarehouseModel",
    "column_names",
    "grain",
    "partition_column",
    "table_name",
    "table_schema_columns",
]
