"""The DuckDB warehouse: DDL, exact transactional writes, validation, the analyst copy.

No Dagster here: the assets call these functions with a DuckDB connection.

    from kscope_openai_pipeline import warehouse
    warehouse.ensure_schema(conn)
    warehouse.replace_window(conn, "openai.usage", df, "usage_date", start, end,
                             model=schemas.openai.Usage, endpoint="/organization/usage/...")
    pages = (warehouse.page_table(page, schemas.openai.Usage, org) for page in client_pages)
    warehouse.replace_window_streaming(conn, "openai.usage", pages, "usage_date", start, end,
                                       model=schemas.openai.Usage)
    warehouse.publish("data/kscope.duckdb", "data/kscope_analytics.duckdb", conn=conn)
"""

from kscope_openai_pipeline.warehouse import history
from kscope_openai_pipeline.warehouse.arrow_validation import arrow_schema, validate_table
from kscope_openai_pipeline.warehouse.connection import (
    CATALOG,
    connect,
    disconnect,
    memory_limit,
)
from kscope_openai_pipeline.warehouse.ddl import (
    SQL_DIR,
    WAREHOUSE_SCHEMAS,
    check_database_name,
    checked_table,
    ddl_files,
    default_models,
    ensure_schema,
    table_columns,
)
from kscope_openai_pipeline.warehouse.frames import (
    execute_over_arrow,
    insert_arrow,
    insert_frame,
    read_frame,
    read_table,
    to_arrow,
)
from kscope_openai_pipeline.warehouse.publish import PublishResult, open_analyst, publish
from kscope_openai_pipeline.warehouse.records import page_table, records_frame
from kscope_openai_pipeline.warehouse.tx import transaction
from kscope_openai_pipeline.warehouse.validation import (
    Problem,
    WarehouseValidationError,
    conform,
    validate,
)
from kscope_openai_pipeline.warehouse.writes import (
    duplicate_grain,
    replace_table,
    replace_window,
    replace_window_streaming,
)

__all__ = [
    "CATALOG",
    "SQL_DIR",
    "Problem",
    "PublishResult",
    "WarehouseValidationError",
    "WAREHOUSE_SCHEMAS",
    "arrow_schema",
    "check_database_name",
    "checked_table",
    "connect",
    "disconnect",
    "conform",
    "ddl_files",
    "default_models",
    "duplicate_grain",
    "ensure_schema",
    "execute_over_arrow",
    "insert_arrow",
    "history",
    "insert_frame",
    "memory_limit",
    "open_analyst",
    "page_table",
    "publish",
    "read_frame",
    "read_table",
    "records_frame",
    "replace_table",
    "replace_window",
    "replace_window_streaming",
    "table_columns",
    "to_arrow",
    "transaction",
    "validate",
    "validate_table",
]
