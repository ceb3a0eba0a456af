"""Unpartitioned inventory assets: projects, API keys, users, invites, service accounts,
project members, and the organization row derived from them.

Each asset reads its listing completely through the client and replaces its table in one
transaction (`warehouse.replace_table`), so a failed crawl leaves yesterday's inventory.
Per-project listings read the project ids from `openai.projects` rather than listing
projects again, so the inventory costs each listing's pages once.

Projects, API keys, users and project members also keep their history: in the same
transaction the snapshot is merged into `openai.<table>_history` (a version per change,
dated by the crawl) and the time before each object's first listing is rebuilt from the
audit log (`warehouse.history`). Those assets materialize both tables (a multi-asset), and
a blocking check refuses overlapping versions.
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
from kscope_openai_pipeline.warehouse import history

#: The history model of each versioned snapshot table.
HISTORY_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "openai.api_keys": schemas.ApiKeysHistory,
    "openai.users": schemas.UsersHistory,
    "openai.projects": schemas.ProjectsHistory,
    "openai.project_users": schemas.ProjectUsersHistory,
}
HISTORY_CHECK = "versions_do_not_overlap"


def overlapping_versions(
    conn: DuckDBPyConnection, model: type[pa.DataFrameModel], organization_id: str
) -> tuple[int, list[tuple[Any, ...]]]:
    """(objects with overlapping or inverted versions, up to 5 of them) in a history table."""
    table = warehouse.checked_table(model.Config.name)
    keys = ", ".join(c for c in model.Config.metadata["grain"] if c != "valid_from")
    rows = conn.execute(
        f"""
        WITH ordered AS (
            SELECT {keys}, valid_from, valid_to,
                LEAD(valid_from) OVER (PARTITION BY {keys} ORDER BY valid_from) AS next_from
            FROM {table}
            WHERE organization_id = ?
        )
        SELECT DISTINCT {keys}
        FROM ordered
        WHERE valid_to <= valid_from
            OR (next_from IS NOT NULL AND (valid_to IS NULL OR valid_to > next_from))
        """,
        [organization_id],
    ).fetchall()
    return len(rows), rows[:5]

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


def _crawl(
    context: dg.AssetExecutionContext,
    spec: InventoryTable,
    openai_admin: OpenAIAdminResource,
    conn: DuckDBPyConnection,
) -> tuple[int, dict[str, Any], history.MergeResult | None, int]:
    """Read the listing and replace the table (and merge its history) in one transaction.

    Returns (rows, client stats, the history merge or None, audit-log versions rebuilt).
    """
    table = spec.model.Config.name
    org = openai_admin.organization(context)
    warehouse.ensure_schema(conn)
    with permanent_failures_are_final():
        with openai_admin.client(context.log) as client:
            records = spec.fetch(client, conn)
            stats = client.stats.as_dict()
        crawled_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        frame = warehouse.records_frame(records, spec.model, org)
        merged, rebuilt = None, 0
        with warehouse.transaction(conn):
            rows = warehouse.replace_table(
                conn, table, frame, model=spec.model, organization_id=org
            )
            if table in HISTORY_MODELS:
                merged = history.merge_snapshot(conn, table, org, crawled_at)
                rebuilt = history.rebuild_from_audit_log(conn, org, [table])[merged.table]
    context.log.info("%s: replaced with %d rows (%d requests)", table, rows, stats["requests"])
    if merged is not None:
        context.log.info(
            "%s: %d new, %d changed, %d removed, %d returned as of %s; %d versions from the "
            "audit log",
            merged.table,
            merged.new,
            merged.changed,
            merged.removed,
            merged.returned,
            crawled_at.isoformat(),
            rebuilt,
        )
    return rows, stats, merged, rebuilt


def _snapshot_metadata(
    conn: DuckDBPyConnection, table: str, rows: int, stats: dict[str, Any], source: str
) -> dict[str, Any]:
    return {
        "dagster/row_count": rows,
        "requests": stats["requests"],
        "retries": stats["retries"],
        "source": source,
        "preview": preview(conn, f"SELECT * FROM {table}"),
    }


def _inventory_asset(spec: InventoryTable) -> dg.AssetsDefinition:
    table = spec.model.Config.name
    if table in HISTORY_MODELS:
        return _versioned_inventory_asset(spec)

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
        with duckdb.get_connection() as conn:
            rows, stats, _, _ = _crawl(context, spec, openai_admin, conn)
            return dg.MaterializeResult(
                metadata=_snapshot_metadata(conn, table, rows, stats, openai_admin.source)
            )

    return _asset


def _versioned_inventory_asset(spec: InventoryTable) -> dg.AssetsDefinition:
    """The snapshot table and its history, written together (a multi-asset)."""
    table = spec.model.Config.name
    model = HISTORY_MODELS[table]
    key = dg.AssetKey(["openai", spec.name])
    history_key = dg.AssetKey(["openai", f"{spec.name}_history"])

    @dg.multi_asset(
        name=f"openai__{spec.name}",  # the step key a single asset would have
        specs=[
            dg.AssetSpec(
                key=key,
                description=spec.description,
                group_name="openai_inventory",
                deps=[ACCESS_CHECK_KEY]
                + ([dg.AssetKey(["openai", "projects"])] if spec.needs_projects else []),
                metadata=definition_metadata(spec.model),
                kinds={"duckdb", "openai"},
            ),
            dg.AssetSpec(
                key=history_key,
                description=(
                    f"Every version of {table} over time: merged from each crawl (valid_from "
                    "= the crawl's time) and, before each object's first listing, rebuilt "
                    "from the audit log. Answers 'what did the inventory say on day D?'."
                ),
                group_name="openai_inventory",
                deps=[key, dg.AssetKey(["openai", "audit_logs"])],
                metadata=definition_metadata(model),
                kinds={"duckdb"},
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                HISTORY_CHECK,
                asset=history_key,
                blocking=True,
                description="No object has overlapping or inverted validity intervals.",
            )
        ],
        pool=WRITER_POOL,
        retry_policy=API_RETRY,
        backfill_policy=SINGLE_RUN,
        # selecting either table alone still crawls and merges both (one transaction); only
        # the selected ones report a materialization
        can_subset=True,
    )
    def _asset(
        context: dg.AssetExecutionContext,
        openai_admin: OpenAIAdminResource,
        duckdb: DuckDBResource,
    ):
        org = openai_admin.organization(context)
        selected = context.selected_asset_keys
        with duckdb.get_connection() as conn:
            rows, stats, merged, rebuilt = _crawl(context, spec, openai_admin, conn)
            if merged is None:  # every versioned table has a history spec
                raise RuntimeError(f"{table} has no history to merge")
            n_bad, examples = overlapping_versions(conn, model, org)
            (versions,) = conn.execute(
                f"SELECT COUNT(*) FROM {merged.table} WHERE organization_id = ?", [org]
            ).fetchone()  # type: ignore[misc]
            if key in selected:
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata=_snapshot_metadata(conn, table, rows, stats, openai_admin.source),
                )
            if history_key not in selected:
                return
            yield dg.MaterializeResult(
                asset_key=history_key,
                metadata={
                    "dagster/row_count": int(versions),
                    "versions_added": merged.versions_added,
                    "new": merged.new,
                    "changed": merged.changed,
                    "removed": merged.removed,
                    "returned": merged.returned,
                    "audit_log_versions": int(rebuilt),
                },
            )
            if dg.AssetCheckKey(history_key, HISTORY_CHECK) in context.selected_asset_check_keys:
                yield dg.AssetCheckResult(
                    asset_key=history_key,
                    check_name=HISTORY_CHECK,
                    passed=n_bad == 0,
                    metadata={"objects": n_bad, "examples": str(examples)},
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
