"""The one Definitions: loadable, documented, scheduled, and failing in the right way."""

from __future__ import annotations

import dagster as dg
import pytest

from kscope_openai_pipeline import exports, warehouse
from kscope_openai_pipeline.alerts import sqlfiles as alerts_sql
from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.failures import permanent_failures_are_final
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets
from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline.openai_admin import (
    AdminApiBadRequest,
    AdminApiRetryExhausted,
)
from kscope_openai_pipeline.sightlines import runner as sightlines_runner

ASSET_GRAPH = defs.resolve_asset_graph()
#: The permission preflight: it reads the API but writes no table.
ACCESS_CHECK = dg.AssetKey(["openai", "access_check"])
ALL_KEYS = sorted(ASSET_GRAPH.get_all_asset_keys())
TABLE_KEYS = [k for k in ALL_KEYS if k != ACCESS_CHECK]
OPENAI_KEYS = [k for k in TABLE_KEYS if k.path[0] == "openai"]


def test_definitions_are_loadable() -> None:
    dg.Definitions.validate_loadable(defs)
    for name in (
        "openai_inventory_job",
        "openai_daily_job",
        "sightlines_job",
        "daily_refresh_job",
        "focus_export_job",
        "alerts_notify_job",
    ):
        assert defs.resolve_job_def(name).name == name
    assert [k.to_user_string() for k in ALL_KEYS if k.path[0] == "openai"] == [
        "openai/access_check",
        "openai/api_key_costs",
        "openai/api_keys",
        "openai/api_keys_history",
        "openai/audit_logs",
        "openai/costs",
        "openai/invites",
        "openai/organization",
        "openai/project_users",
        "openai/project_users_history",
        "openai/projects",
        "openai/projects_history",
        "openai/service_accounts",
        "openai/usage",
        "openai/users",
        "openai/users_history",
    ]


@pytest.fixture(scope="module")
def ddl_columns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every warehouse table, as the DDL creates them in a fresh file."""
    conn = warehouse.connect(tmp_path_factory.mktemp("ddl") / "kscope.duckdb")
    try:
        warehouse.ensure_schema(
            conn, [sightlines_runner.DDL_FILE, exports.DDL_FILE, alerts_sql.DDL_FILE]
        )
        tables = conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE database_name = current_database()"
        ).fetchall()
        return {
            t: [(name, sql) for name, sql, _ in warehouse.table_columns(conn, t)] for (t,) in tables
        }
    finally:
        conn.close()
        del conn


@pytest.mark.parametrize("key", TABLE_KEYS, ids=lambda k: k.to_user_string())
def test_every_asset_documents_its_table_like_the_ddl(
    key: dg.AssetKey, ddl_columns: dict[str, list[tuple[str, str]]]
) -> None:
    """`dagster/column_schema` is the analysts' data dictionary: same columns and types as
    the DuckDB table, every column described."""
    metadata = ASSET_GRAPH.get(key).metadata
    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert all(c.description and c.description.strip() for c in schema.columns)
    ddl = ddl_columns[metadata["dagster/table_name"]]
    assert [(c.name, c.type) for c in schema.columns] == ddl


def test_ingestion_assets_are_partitioned_pooled_and_retried_as_designed() -> None:
    for key in OPENAI_KEYS:
        node = ASSET_GRAPH.get(key)
        assert node.pools == {"duckdb_writer"}, key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        daily = key.path[1] in {"usage", "costs", "api_key_costs", "audit_logs"}
        assert (node.partitions_def == daily_partitions) is daily, key
    assert daily_partitions.timezone == "UTC"
    access = ASSET_GRAPH.get(ACCESS_CHECK)
    assert access.pools == set()  # writes nothing: never waits for the writer
    assert access.backfill_policy == dg.BackfillPolicy.single_run()
    assert access.partitions_def is None
    for asset in inventory_assets:
        assert asset.op.retry_policy == dg.RetryPolicy(
            max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL
        )


def test_only_permanent_failures_are_final() -> None:
    """A bad request fails for good; exhausted retries stay retryable by the RetryPolicy."""
    with pytest.raises(dg.Failure) as failure, permanent_failures_are_final():
        raise AdminApiBadRequest(
            "/organization/costs: bad param", endpoint="/organization/costs", status=400
        )
    assert failure.value.allow_retries is False
    assert failure.value.description.startswith("AdminApiBadRequest: /organization/costs")
    with pytest.raises(AdminApiRetryExhausted), permanent_failures_are_final():
        raise AdminApiRetryExhausted(
            "gave up", endpoint="/organization/costs", attempts=6, last_status=429
        )
