"""The six sightlines as one Dagster multi-asset.

They are computed together by `runner.compute_all` in ONE DuckDB transaction (the daily
bypass ledger before reconciliation, allocation before governance), so analysts never see
a bypass table from today next to a reconciliation from yesterday. Each table gets its own
asset key, metadata (a markdown summary and the headline) and checks. The "now" tables
(gateway_bypass, seat_governance) judge by today's inventory; the `_daily` ones judge each
day by what was true that day (the inventory history and the tokens' dates).
"""

from decimal import Decimal

import dagster as dg
from pydantic import Field

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.defs.metadata import column_schema
from kscope_openai_pipeline.defs.policies import WRITER_POOL
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
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
#: (check name, table) as `checks.run_all` reports them; the grain checks are blocking.
_CHECKS = (
    ("one_row_per_key", GATEWAY_BYPASS, True),
    ("gap_exact", BILLING_RECONCILIATION, False),
    ("allocation_sums_exact", SEAT_ALLOCATION, False),
    ("one_row_per_member", SEAT_GOVERNANCE, True),
    ("one_row_per_key_day", GATEWAY_BYPASS_DAILY, True),
    ("one_row_per_member_day", SEAT_GOVERNANCE_DAILY, True),
)


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
        )
        for table, (_, model, description) in _TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=_key(table), blocking=blocking)
        for name, table, blocking in _CHECKS
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
            metadata[name] = (
                dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
            )
        if table == BILLING_RECONCILIATION:
            metadata["chart"] = dg.MetadataValue.path(str(chart_path))
        yield dg.MaterializeResult(asset_key=_key(table), metadata=metadata)
    for outcome in outcomes:
        yield dg.AssetCheckResult(
            asset_key=_key(outcome.table),
            check_name=outcome.name,
            passed=outcome.passed,
            description=outcome.description,
            metadata={k: str(v) if isinstance(v, list) else v for k, v in outcome.metadata.items()},
        )
