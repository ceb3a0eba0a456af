"""`exports/focus_costs`: openai.costs as FOCUS 1.2 rows and one Parquet file per month.

Daily-partitioned like the costs it maps, one run per range (`SINGLE_RUN`): the window of
days is replaced in exports.focus_costs in one transaction (`exports.replace_window`),
then the Parquet file of every billing month the window touches is rewritten whole from
the table, atomically. It follows the sightlines because its `x_` columns carry the
reconciliation's figures.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

import dagster as dg
from duckdb import DuckDBPyConnection
from pydantic import Field

from kscope_openai_pipeline import exports, settings
from kscope_openai_pipeline.defs.metadata import definition_metadata, markdown_table, preview
from kscope_openai_pipeline.defs.partitions import daily_partitions, window_days
from kscope_openai_pipeline.defs.policies import SINGLE_RUN, WRITER_POOL
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.schemas import exports as schemas
from kscope_openai_pipeline.sightlines import DEFAULT_SUBSCRIPTION_PATTERNS

KEY = dg.AssetKey(["exports", "focus_costs"])
_UPSTREAM = [
    ["openai", "costs"],
    ["openai", "projects"],
    ["openai", "organization"],
    ["sightlines", "billing_reconciliation"],
]
_CHECKS = {
    "matches_openai_costs": (
        "The run's days: one FOCUS row per openai.costs row, BilledCost equal to amount_usd "
        "to the nano-dollar; each month file it rewrote equals the table. Months with days "
        "not exported yet are listed in the metadata (incomplete_months).",
        True,
    ),
    "reconciliation_carried": (
        "x_GatewayMeteredCost and x_BypassCost sum, per day x project, to the "
        "reconciliation's metered_usd and bypass_explained_usd; lists what no FOCUS row can "
        "carry (no billed API line that day) and days not reconciled yet.",
        False,
    ),
}


class FocusExportConfig(dg.Config):
    """Which line items are subscriptions (FOCUS 'Purchase'); as in the sightlines."""

    subscription_patterns: list[str] = Field(
        default=list(DEFAULT_SUBSCRIPTION_PATTERNS),
        description="ILIKE patterns of seat line items: ChargeCategory 'Purchase'.",
    )


@dg.asset(
    key=KEY,
    description=(
        "openai.costs as FOCUS 1.2 (FinOps Open Cost and Usage Specification) rows, one per "
        "day x project x line item, with Kscope's x_ columns; one Parquet file per billing "
        "month under KSCOPE_FOCUS_EXPORT_DIR (data/exports/focus/)."
    ),
    group_name="exports",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    deps=[dg.AssetKey(k) for k in _UPSTREAM],
    pool=WRITER_POOL,
    metadata={**definition_metadata(schemas.FocusCosts), "focus_version": "1.2"},
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(name, asset=KEY, description=text, blocking=blocking)
        for name, (text, blocking) in _CHECKS.items()
    ],
)
def focus_costs(
    context: dg.AssetExecutionContext, config: FocusExportConfig, duckdb: WarehouseResource
) -> dg.MaterializeResult:
    start, end = window_days(context.partition_time_window)
    folder = settings.focus_export_dir()
    with duckdb.get_connection() as conn:
        try:
            result = exports.replace_window(
                conn, start, end, subscription_patterns=config.subscription_patterns
            )
        except (exports.FocusExportError, ValueError) as err:
            raise dg.Failure(str(err), allow_retries=False) from err
        files = exports.write_month_files(conn, result.months, folder)
        context.log.info(
            "exports.focus_costs: replaced %s..%s with %d rows; rewrote %s",
            start,
            end,
            result.rows,
            ", ".join(f"{f.path.name} ({f.rows} rows)" for f in files),
        )
        for key in context.partition_keys:
            day = dt.date.fromisoformat(key)
            context.add_asset_metadata(
                {"dagster/row_count": result.rows_per_day.get(day, 0)}, partition_key=key
            )
        checks = [
            _matches_costs(conn, result, files, start, end),
            _reconciliation_carried(conn, start, end),
        ]
        return dg.MaterializeResult(
            metadata={
                "rows_in_window": result.rows,
                "window_start": start.isoformat(),
                "window_end_exclusive": end.isoformat(),
                "folder": dg.MetadataValue.path(folder),
                "files": dg.MetadataValue.md(
                    markdown_table(
                        ["billing month", "file", "rows", "BilledCost (USD)"],
                        [(f"{f.month:%Y-%m}", f.path.name if f.rows else "(removed: no rows)",
                          f.rows, f.billed_usd) for f in files],
                    )
                ),
                "preview": preview(
                    conn,
                    "SELECT ChargePeriodStart, SubAccountName, ChargeCategory, "
                    "ChargeDescription, BilledCost, PricingQuantity, PricingUnit, "
                    "x_GatewayMeteredCost, x_BypassCost FROM exports.focus_costs "
                    "WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? "
                    "ORDER BY BilledCost DESC",
                    [start, end],
                ),
            },
            check_results=checks,
        )


def _matches_costs(
    conn: DuckDBPyConnection,
    result: exports.WindowResult,
    files: list[exports.MonthFile],
    start: dt.date,
    end: dt.date,
) -> dg.AssetCheckResult:
    """The run's days: table vs openai.costs; each month file touched vs the table.

    Days of a touched month outside the run (e.g. backfilled with `openai_daily_job`, which
    does not export) are not a failure of this run: they are listed as incomplete months,
    with what to run.
    """
    window = exports.compare_with_costs(conn, start, end)
    problems = [
        f"{m.month:%Y-%m} (days {start}..{end - dt.timedelta(days=1)}): "
        f"{m.focus_rows}/{m.cost_rows} rows, "
        f"{m.focus_billed_usd}/{m.costs_billed_usd} USD, {m.unmatched_keys} unmatched"
        for m in window
        if not m.exact
    ]
    first, last = result.months[0], result.months[-1]
    after = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    months = exports.compare_with_costs(conn, first, after)
    for f in files:
        if not f.rows:
            continue
        in_file = conn.execute(
            "SELECT COUNT(*), CAST(coalesce(SUM(BilledCost), 0) AS DECIMAL(38, 9)) "
            "FROM read_parquet(?)",
            [str(f.path)],
        ).fetchone()
        in_table = (
            sum(m.focus_rows for m in months if m.month == f.month),
            sum((m.focus_billed_usd for m in months if m.month == f.month), Decimal(0)),
        )
        if in_file is None or (int(in_file[0]), in_file[1]) != in_table:
            problems.append(f"{f.path.name}: {in_file} (rows, USD) but the table has {in_table}")
    metadata: dict[str, Any] = {
        f"billed_usd_{m.month:%Y_%m}": float(m.focus_billed_usd) for m in months
    }
    incomplete = [f"{m.month:%Y-%m}" for m in months if not m.exact]
    if incomplete:
        metadata["incomplete_months"] = (
            f"{', '.join(incomplete)}: openai.costs has days this export has not covered "
            "yet; materialize exports/focus_costs for those days to complete the files"
        )
    if problems:
        metadata["problems"] = "; ".join(problems)
    return dg.AssetCheckResult(
        asset_key=KEY, check_name="matches_openai_costs", passed=not problems, metadata=metadata
    )


def _reconciliation_carried(
    conn: DuckDBPyConnection, start: dt.date, end: dt.date
) -> dg.AssetCheckResult:
    differences = exports.reconciliation_differences(conn, start, end)
    by_reason: dict[str, int] = {}
    for d in differences:
        by_reason[d["reason"]] = by_reason.get(d["reason"], 0) + 1
    metadata: dict[str, Any] = {f"{reason}": n for reason, n in sorted(by_reason.items())}
    if differences:
        metadata["examples"] = dg.MetadataValue.md(
            markdown_table(list(differences[0]), [list(d.values()) for d in differences[:10]])
        )
    return dg.AssetCheckResult(
        asset_key=KEY,
        check_name="reconciliation_carried",
        passed=not differences,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )
