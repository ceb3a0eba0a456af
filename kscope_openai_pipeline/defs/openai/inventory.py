"""Unpartitioned inventory assets: projects, API keys, users, invites, service accounts,
project members, and the organization row derived from them.

Each asset reads its listing completely through the client and replaces its table in one
transaction (`warehouse.replace_table`), so a failed crawl leaves yesterday's inventory.
Per-project listings read the project ids from `openai.projects` rather than listing
projects again, so the inventory costs each listing's pages once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.failures import permanent_failures_are_final
from kscope_openai_pipeline.defs.metadata import definition_metadata, preview
from kscope_openai_pipeline.defs.openai.access import ACCESS_CHECK_KEY
from kscope_openai_pipeline.defs.policies import API_RETRY, SINGLE_RUN, WRITER_POOL
from kscope_openai_pipeline.defs.resources.openai_admin import OpenAIAdminResource
from kscope_openai_pipeline.openai_admin import AdminClient
from kscope_openai_pipeline.schemas import openai as schemas

Fetch = Callable[[AdminClient, DuckDBPyConnection], list[dict[str, Any]]]


def project_refs(conn: DuckDBPyConnection) -> list[dict[str, Any]]:
    """Project ids with status from the stored projects (archived ones flagged)."""
    rows = conn.execute(
        "SELECT project_id, status FROM openai.projects ORDER BY project_id"
    ).fetchall()
    return [{"project_id": pid, "status": status} for pid, status in rows]


def fetch_api_keys(client: AdminClient, conn: DuckDBPyConnection) -> list[dict[str, Any]]:
    """Project keys of every project (archived included) followed by the admin keys."""
    return client.list_project_api_keys(project_refs(conn)) + client.list_admin_api_keys()


@dataclass(frozen=True)
class InventoryTable:
    """One listing endpoint -> one table."""

    name: str
    model: type[pa.DataFrameModel]
    description: str
    fetch: Fetch
    needs_projects: bool = False


INVENTORY_TABLES: tuple[InventoryTable, ...] = (
    InventoryTable(
        "projects",
        schemas.Projects,
        "Every project, archived ones included (GET /organization/projects?include_archived=true).",
        lambda client, _: client.list_projects(include_archived=True),
    ),
    InventoryTable(
        "api_keys",
        schemas.ApiKeys,
        "Project API keys of every project (owner_project_access=any) and admin API keys.",
        fetch_api_keys,
        needs_projects=True,
    ),
    InventoryTable(
        "users",
        schemas.Users,
        "Organization members (GET /organization/users).",
        lambda client, _: client.list_users(),
    ),
    InventoryTable(
        "invites",
        schemas.Invites,
        "Invites, pending, expired and accepted (GET /organization/invites).",
        lambda client, _: client.list_invites(),
    ),
    InventoryTable(
        "service_accounts",
        schemas.ServiceAccounts,
        "Service accounts of every active project (archived projects cannot be listed).",
        lambda client, conn: client.list_service_accounts(project_refs(conn)),
        needs_projects=True,
    ),
    InventoryTable(
        "project_users",
        schemas.ProjectUsers,
        "Project memberships of every active project (archived projects cannot be listed).",
        lambda client, conn: client.list_project_users(project_refs(conn)),
        needs_projects=True,
    ),
)


def _inventory_asset(spec: InventoryTable) -> dg.AssetsDefinition:
    table = spec.model.Config.name

    @dg.asset(
        key=["openai", spec.name],
        description=spec.description,
        group_name="openai_inventory",
        deps=[ACCESS_CHECK_KEY]
        + ([dg.AssetKey(["openai", "projects"])] if spec.needs_projects else []),
        pool=WRITER_POOL,
        retry_policy=API_RETRY,
        backfill_policy=SINGLE_RUN,
        metadata=definition_metadata(spec.model),
        kinds={"duckdb", "openai"},
    )
    def _asset(
        context: dg.AssetExecutionContext,
        openai_admin: OpenAIAdminResource,
        duckdb: DuckDBResource,
    ) -> dg.MaterializeResult:
        org = openai_admin.organization(context)
        with duckdb.get_connection() as conn:
            warehouse.ensure_schema(conn)
            with permanent_failures_are_final():
                with openai_admin.client(context.log) as client:
                    records = spec.fetch(client, conn)
                    stats = client.stats.as_dict()
                frame = warehouse.records_frame(records, spec.model, org)
                rows = warehouse.replace_table(
                    conn,
                    table,
                    frame,
                    model=spec.model,
                    organization_id=org,
                )
            context.log.info(
                "%s: replaced with %d rows (%d requests)", table, rows, stats["requests"]
            )
            return dg.MaterializeResult(
                metadata={
                    "dagster/row_count": rows,
                    "requests": stats["requests"],
                    "retries": stats["retries"],
                    "source": openai_admin.source,
                    "preview": preview(conn, f"SELECT * FROM {table}"),
                }
            )

    return _asset


inventory_assets = [_inventory_asset(spec) for spec in INVENTORY_TABLES]

ORGANIZATION_SQL = """
SELECT
    ?                                           AS organization_id,
    ?                                           AS name,
    ?                                           AS source,
    (SELECT MIN(created_at) FROM openai.api_keys WHERE organization_id = ?)
                                                AS earliest_key_created_at,
    (SELECT COUNT(*) > 1 FROM openai.projects WHERE organization_id = ?)
                                                AS uses_projects,
    ?                                           AS crawled_at
"""


@dg.asset(
    key=["openai", "organization"],
    description=(
        "The crawled organization: its id (the setting, else what the API says in passing) "
        "and name (config), whether it is the sandbox, the earliest API key creation and "
        "whether Projects are in use."
    ),
    group_name="openai_inventory",
    deps=[dg.AssetKey(["openai", "api_keys"]), dg.AssetKey(["openai", "projects"])],
    pool=WRITER_POOL,
    backfill_policy=SINGLE_RUN,
    metadata=definition_metadata(schemas.Organization),
    kinds={"duckdb"},
)
def organization(
    context: dg.AssetExecutionContext,
    openai_admin: OpenAIAdminResource,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    org = openai_admin.organization(context)
    crawled_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with duckdb.get_connection() as conn:
        warehouse.ensure_schema(conn)
        frame = warehouse.read_frame(
            conn,
            ORGANIZATION_SQL,
            [org, openai_admin.organization_name, openai_admin.source, org, org, crawled_at],
        )
        warehouse.replace_table(
            conn, "openai.organization", frame, model=schemas.Organization, organization_id=org
        )
        row = frame.iloc[0]
        context.log.info(
            "organization %s (%s): earliest key created %s, projects in use: %s",
            org,
            openai_admin.source,
            row["earliest_key_created_at"],
            row["uses_projects"],
        )
        return dg.MaterializeResult(
            metadata={
                "source": openai_admin.source,
                "earliest_key_created_at": str(row["earliest_key_created_at"]),
                "uses_projects": bool(row["uses_projects"]),
            }
        )
