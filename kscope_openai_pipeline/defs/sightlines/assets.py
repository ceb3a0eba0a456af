"""The six sightlines as one Dagster multi-asset.

They are computed together by `runner.compute_all` in ONE DuckDB transaction (the daily
bypass ledger before reconciliation, allocation before governance), so analysts never see
a bypass table from today next to a reconciliation from yesterday. Each table gets its own
asset key, metadata (a markdown summary and the headline) and checks. The "now" tables
(gateway_bypass, seat_governance) judge by today's inventory; the `_daily` ones judge each
day by what was true that day (the inventory history and the tokens' dates).

Money in the metadata is a float of dollars (`MetadataValue.float`), so the UI plots it
across materializations; the tables keep the exact DECIMAL. The chart is a `file://` URL
(the UI renders URLs as links, paths only as copy buttons) plus its path.

They follow their upstream by declarative automation (`automation.py`): after a backfill
or any other run that updates their inputs without them, they are recomputed once.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.defs.metadata import column_schema
from kscope_openai_pipeline.defs.policies import WRITER_POOL
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.defs.sightlines.automation import AFTER_UPSTREAM_UPDATES
from kscope_openai_pipeline.schemas import sightlines as schemas
from kscope_openai_pipeline.sightlines import chart, checks, runner, summaries
from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    DEFAULT_SUBSCRIPTION_PATTERNS,
    GATEWAY_BYPASS,
    GATEWAY_BYPASS_DAILY,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SEAT_GOVERNANCE_DAILY,
    SightlineParams,
)

_UPSTREAM = [
    ["openai", "usage"],
    ["openai", "costs"],
    ["openai", "api_key_costs"],
    ["openai", "api_keys"],
    ["openai", "users"],
    ["openai", "invites"],
    ["openai", "audit_logs"],
    ["openai", "api_keys_history"],
    ["openai", "users_history"],
    ["openai", "projects_history"],
    ["kscope", "dev_tokens"],
    ["kscope", "gateway_costs"],
    ["kscope", "engineers"],
]
_TABLES = {
    GATEWAY_BYPASS: (
        "gateway_bypass",
        schemas.GatewayBypass,
        "Every non-admin OpenAI key, matched to a Kscope Dev Token or flagged as bypassing "
        "the gateway, with its tokens, requests and cost over the trailing window.",
    ),
    BILLING_RECONCILIATION: (
        "billing_reconciliation",
        schemas.BillingReconciliation,
        "OpenAI-billed vs gateway-metered cost per day and project (plus an organization "
        "total); a positive gap is spend outside the gateway.",
    ),
    SEAT_ALLOCATION: (
        "seat_allocation",
        schemas.SeatAllocation,
        "Subscription (seat) line items split per day across that day's members, exactly.",
    ),
    SEAT_GOVERNANCE: (
        "seat_governance",
        schemas.SeatGovernance,
        "Every member and pending invite, attributed to a known engineer or not (and why).",
    ),
    GATEWAY_BYPASS_DAILY: (
        "gateway_bypass_daily",
        schemas.GatewayBypassDaily,
        "Each key's usage and cost per day, with its Dev Token status THAT day: the ledger "
        "of when traffic bypassed the gateway, and who created the key.",
    ),
    SEAT_GOVERNANCE_DAILY: (
        "seat_governance_daily",
        schemas.SeatGovernanceDaily,
        "Every member on every day, attributed to an engineer as the registry stood that "
        "day, with that day's seat cost.",
    ),
}
#: (check name, table, blocking, description) as `checks.run_all` reports them.
_CHECKS = (
    ("one_row_per_key", GATEWAY_BYPASS, True,
     "Every listed project key appears exactly once: none duplicated, missing or unexpected."),
    ("gap_exact", BILLING_RECONCILIATION, False,
     "gap_usd = billed_usd - metered_usd exactly on every row, and each day's organization "
     "row sums its project rows."),
    ("allocation_sums_exact", SEAT_ALLOCATION, False,
     "Each subscription (seat) line item of openai.costs equals the sum of its allocation "
     "to the nano-dollar, and none is missing."),
    ("one_row_per_member", SEAT_GOVERNANCE, True,
     "Every user and pending invite appears exactly once: none duplicated, missing or "
     "unexpected."),
    ("one_row_per_key_day", GATEWAY_BYPASS_DAILY, True,
     "Every (day, key) with usage appears exactly once in the daily ledger: a missing "
     "key-day would hide bypass spend from the reconciliation."),
    ("one_row_per_member_day", SEAT_GOVERNANCE_DAILY, True,
     "Every member of every day appears exactly once, and no seat cost goes to someone "
     "who was not a member that day."),
)  # fmt: skip


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["sightlines", _TABLES[table][0]])


class SightlinesConfig(dg.Config):
    """Sightline rules a FinOps engineer may tune per run (launchpad) or by default."""

    window_days: int = Field(default=30, description="Trailing window of the bypass view.")
    tolerance_pct: float = Field(
        default=0.01, description="A gap within max(pct x billed, usd) is 'matched'."
    )
    tolerance_usd: float = Field(default=0.01)
    subscription_patterns: list[str] = Field(
        default=list(DEFAULT_SUBSCRIPTION_PATTERNS),
        description="ILIKE patterns of seat line items (allocated, not reconciled).",
    )
    strip_plus_addresses: bool = Field(default=True, description="ann+x@corp is ann@corp.")
    domain_aliases: list[str] = Field(
        default_factory=settings.domain_aliases,
        description="'alias.com=canonical.com' pairs for seat governance email matching.",
    )

    def params(self, as_of) -> SightlineParams:
        return SightlineParams(
            as_of=as_of,
            window_days=self.window_days,
            tolerance_pct=Decimal(str(self.tolerance_pct)),
            tolerance_usd=Decimal(str(self.tolerance_usd)),
            subscription_patterns=tuple(self.subscription_patterns),
            strip_plus_addresses=self.strip_plus_addresses,
            domain_aliases=tuple(
                tuple(pair.strip().lower().split("=", 1)) for pair in self.domain_aliases
            ),
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=_key(table),
            description=description,
            group_name="sightlines",
            deps=[dg.AssetKey(k) for k in _UPSTREAM],
            metadata={
                "dagster/column_schema": column_schema(model),
                "dagster/table_name": table,
            },
            kinds={"duckdb", "sql"},
            automation_condition=AFTER_UPSTREAM_UPDATES,
        )
        for table, (_, model, description) in _TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=_key(table), blocking=blocking, description=description)
        for name, table, blocking, description in _CHECKS
    ],
    pool=WRITER_POOL,
)
def sightlines(
    context: dg.AssetExecutionContext, config: SightlinesConfig, duckdb: WarehouseResource
):
    with duckdb.get_connection() as conn:
        runner.ensure_sightlines_schema(conn)
        as_of = runner.default_as_of(conn)
        if as_of is None:
            raise dg.Failure(
                "no usage or costs in the warehouse yet: materialize openai/usage and "
                "openai/costs for at least one day first",
                allow_retries=False,
            )
        params = config.params(as_of)
        results = runner.compute_all(conn, params)
        chart_path = chart.write_reconciliation_chart(
            conn, settings.reconciliation_chart_path(), params
        )
        outcomes = checks.run_all(conn, params.subscription_patterns)
        for line in summaries.headlines(conn, params):
            context.log.info(line)
    for table, result in results.items():
        summary = dict(result.summary)
        metadata = {
            "dagster/row_count": result.rows,
            "as_of": as_of.isoformat(),
            "window_days": params.window_days,
        }
        if "headline" in summary:
            metadata["headline"] = summary.pop("headline")
        if "markdown" in summary:
            metadata["summary"] = dg.MetadataValue.md(summary.pop("markdown"))
        for name, value in summary.items():
            metadata[name] = _metadata_value(value)
        if table == BILLING_RECONCILIATION:
            metadata["chart"] = dg.MetadataValue.url(Path(chart_path).resolve().as_uri())
            metadata["chart_path"] = dg.MetadataValue.path(str(Path(chart_path).resolve()))
        yield dg.MaterializeResult(asset_key=_key(table), metadata=metadata)
    for outcome in outcomes:
        yield dg.AssetCheckResult(
            asset_key=_key(outcome.table),
            check_name=outcome.name,
            passed=outcome.passed,
            description=outcome.description,
            metadata={k: str(v) if isinstance(v, list) else v for k, v in outcome.metadata.items()},
        )


def _plain(value: Any) -> Any:
    """JSON-ready: dollars as floats, inside lists and dicts too."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _metadata_value(value: Any) -> Any:
    """Money (Decimal dollars) as a float the UI can plot; lists and dicts as JSON."""
    if isinstance(value, Decimal):
        return dg.MetadataValue.float(float(value))
    if isinstance(value, list | dict):
        return dg.MetadataValue.json(_plain(value))
    return value
