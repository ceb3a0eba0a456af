"""pandera models of the `sightlines.*` tables (what the sightline SQL must produce).

Why: the sightlines are computed in DuckDB, not in pandas, but analysts and the Dagster UI
need the same data dictionary as for the openai.* tables, and the asset checks need the
grains. The column order is that of `defs/sightlines/sql/00_sightlines_tables.sql`; a test
keeps the two in agreement. `validate` on a frame read back with `warehouse.read_table`
checks the values (statuses, non-negative counts, exact money).
"""

from __future__ import annotations

import pandas as pd
from pandera.engines import pandas_engine
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import (
    WarehouseModel,
    count,
    day,
    flag,
    money,
    number,
    text,
    timestamp,
)

_ORG = "The OpenAI organization ('org-...') this row belongs to."

BYPASS_STATUSES = ["registered", "registered_revoked", "bypass_active", "bypass_dormant"]
COST_BASES = ["billed_per_key", "allocated_by_token_share", "mixed"]
RECON_STATUSES = [
    "matched",
    "spend_outside_gateway",
    "over_metered",
    "gateway_not_deployed",
    "gateway_data_missing",
]
MATCH_RULES = ["exact", "case_insensitive", "alias", "plus_address", "domain_alias"]
UNATTRIBUTED_REASONS = ["no_registry_match", "engineer_departed"]


class GatewayBypass(WarehouseModel):
    """sightlines.gateway_bypass: every project API key, registered with the gateway or not."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    api_key_id: Series[str] = text("OpenAI API key id ('key_...').", nullable=False)
    key_name: Series[str] = text("Key name in OpenAI.")
    redacted_value: Series[str] = text("Redacted key value, e.g. 'sk-proj-****Zx9Q'.")
    project_id: Series[str] = text("Project the key belongs to.")
    project_name: Series[str] = text("Project name (openai.projects).")
    owner_type: Series[str] = text("'user' or 'service_account'.")
    owner_id: Series[str] = text("User or service account owning the key.")
    owner_email: Series[str] = text("Owner's e-mail (users only).")
    owner_name: Series[str] = text("Owner's name.")
    created_at: Series[pd.Timestamp] = timestamp("When the key was created (UTC).",
                                                 nullable=False)
    last_used_at: Series[pd.Timestamp] = timestamp("Last use OpenAI reports (UTC).")
    registered: Series[bool] = flag(
        "TRUE when an ACTIVE Kscope Dev Token registers the key.", nullable=False
    )
    dev_token_id: Series[str] = text(
        "The matched Dev Token: an active one if any, else the most recently revoked."
    )
    dev_token_status: Series[str] = text("Status of the matched Dev Token.")
    token_match_rule: Series[str] = text(
        "How the token matched: 'provider_key_id' (key id) or 'provider_key_redacted' "
        "(fallback on the redacted value, for tokens without a key id)."
    )
    status: Series[str] = text(
        "registered | registered_revoked (only revoked tokens) | bypass_active (no token, "
        "used in the window) | bypass_dormant (no token, unused in the window).",
        nullable=False,
        isin=BYPASS_STATUSES,
    )
    window_start: Series[pandas_engine.Date] = day("First day of the trailing window.")
    as_of: Series[pandas_engine.Date] = day("Last day of the trailing window (inclusive).")
    input_tokens: Series[int] = count("Input tokens in the window (openai.usage).")
    output_tokens: Series[int] = count("Output tokens in the window (openai.usage).")
    requests: Series[int] = count(
        "Requests in the window: num_model_requests + num_requests (openai.usage)."
    )
    last_usage_date: Series[pandas_engine.Date] = day(
        "Last day in the window with usage rows for the key.", nullable=True
    )
    cost_usd: Series[object] = money("Cost over the window in USD (see cost_basis).")
    cost_basis: Series[str] = text(
        "billed_per_key: openai.api_key_costs covers every window day; "
        "allocated_by_token_share: no window day is covered, the key's share of its "
        "project x model costs by tokens; mixed: some of each.",
        nullable=False,
        isin=COST_BASES,
    )

    class Config:
        name = "sightlines.gateway_bypass"
        metadata = {"grain": ["organization_id", "api_key_id"], "partition": None}


class BillingReconciliation(WarehouseModel):
    """sightlines.billing_reconciliation: OpenAI-billed versus gateway-metered spend per day."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    recon_date: Series[pandas_engine.Date] = day("UTC day reconciled.")
    scope: Series[str] = text(
        "'project' (one project's day) or 'organization' (the day's total).",
        nullable=False,
        isin=["project", "organization"],
    )
    project_id: Series[str] = text(
        "Project; NULL on organization rows, and on project rows holding spend OpenAI "
        "attributes to no project."
    )
    project_name: Series[str] = text("Project name (openai.projects).")
    billed_usd: Series[object] = money(
        "Billed by OpenAI (openai.costs), subscription line items excluded."
    )
    metered_usd: Series[object] = money("Metered by the Kscope gateway (kscope.gateway_costs).")
    gap_usd: Series[object] = money("billed_usd - metered_usd, exactly; > 0: spend outside.")
    coverage_ratio: Series[float] = number("metered_usd / billed_usd; NULL when nothing billed.")
    bypass_explained_usd: Series[object] = money(
        "Part of the billed spend made with keys that bypassed the gateway that day "
        "(sightlines.gateway_bypass_daily.bypass)."
    )
    tolerance_usd: Series[object] = money(
        "The gap still 'matched': max(tolerance_pct x billed_usd, tolerance_usd floor), "
        "rounded half-up to 9 places."
    )
    status: Series[str] = text(
        "matched | spend_outside_gateway | over_metered | gateway_not_deployed (no gateway "
        "data at all) | gateway_data_missing (gateway deployed, this day absent).",
        nullable=False,
        isin=RECON_STATUSES,
    )

    class Config:
        name = "sightlines.billing_reconciliation"
        metadata = {
            "grain": ["organization_id", "recon_date", "scope", "project_id"],
            "partition": "recon_date",
        }


class SeatAllocation(WarehouseModel):
    """sightlines.seat_allocation: subscription line items split across each day's members."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    cost_date: Series[pandas_engine.Date] = day("UTC day of the subscription line item.")
    project_id: Series[str] = text("Project of the source line (NULL: organization level).")
    line_item: Series[str] = text("The subscription line item, e.g. 'ChatGPT Team seats'.",
                                  nullable=False)
    user_id: Series[str] = text("Member charged; NULL only for a day without members.")
    email: Series[str] = text("Member's e-mail.")
    members: Series[int] = count(
        "Members that day (openai.users_history): the divisor of the split."
    )
    line_item_usd: Series[object] = money("The whole source line item in USD.")
    allocated_usd: Series[object] = money("This member's part in USD (parts sum to the line).")

    class Config:
        name = "sightlines.seat_allocation"
        metadata = {
            "grain": ["organization_id", "cost_date", "project_id", "line_item", "user_id"],
            "partition": "cost_date",
        }


class SeatGovernance(WarehouseModel):
    """sightlines.seat_governance: every member and pending invite, attributed or not."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    member_id: Series[str] = text("User id ('user-...') or invite id ('invite-...').",
                                  nullable=False)
    member_type: Series[str] = text("'user' or 'invite' (pending invites only).",
                                    nullable=False, isin=["user", "invite"])
    email: Series[str] = text("E-mail as OpenAI has it.")
    name: Series[str] = text("Name (users only).")
    role: Series[str] = text("Organization role: 'owner' or 'reader'.")
    joined_at: Series[pd.Timestamp] = timestamp("Users: added_at; invites: created_at.")
    attributed: Series[bool] = flag("TRUE when matched to an ACTIVE engineer.", nullable=False)
    engineer_id: Series[str] = text("Matched engineer (also set when the match is departed).")
    engineer_email: Series[str] = text("Matched engineer's primary e-mail.")
    engineer_status: Series[str] = text("'active' or 'departed'.")
    team: Series[str] = text("Matched engineer's team.")
    match_rule: Series[str] = text(
        "exact | case_insensitive | alias | plus_address | domain_alias (first that matched).",
        isin=MATCH_RULES,
    )
    reason: Series[str] = text(
        "Why not attributed: no_registry_match | engineer_departed; NULL when attributed.",
        isin=UNATTRIBUTED_REASONS,
    )
    keys_owned: Series[int] = count("Listed project keys the user owns.")
    last_key_used_at: Series[pd.Timestamp] = timestamp("Latest last_used_at of those keys.")
    window_start: Series[pandas_engine.Date] = day("First day of the seat-cost window.")
    as_of: Series[pandas_engine.Date] = day("Last day of the seat-cost window (inclusive).")
    allocated_seat_usd: Series[object] = money(
        "Seat cost allocated to the member over the window (sightlines.seat_allocation)."
    )

    class Config:
        name = "sightlines.seat_governance"
        metadata = {"grain": ["organization_id", "member_id"], "partition": None}


TOKEN_STATUSES = ["registered", "registered_revoked", "unregistered"]


class GatewayBypassDaily(WarehouseModel):
    """sightlines.gateway_bypass_daily: each key's traffic per day, judged by that day."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    usage_date: Series[pandas_engine.Date] = day("UTC day of the traffic or cost.")
    api_key_id: Series[str] = text("OpenAI API key id; deleted keys included.", nullable=False)
    key_kind: Series[str] = text("'project' or 'admin'.")
    project_id: Series[str] = text("Project the key belongs to.")
    project_name: Series[str] = text("Project name as it was that day.")
    owner_type: Series[str] = text(
        "'user' or 'service_account'; NULL for a key no crawl listed (the audit log names "
        "who created a key, not who owns it: see key_created_by)."
    )
    owner_id: Series[str] = text("Owning user or service account.")
    owner_email: Series[str] = text("Owner's e-mail (users only).")
    input_tokens: Series[int] = count("Input tokens that day (openai.usage).")
    output_tokens: Series[int] = count("Output tokens that day (openai.usage).")
    requests: Series[int] = count("Model requests that day (num_model_requests).")
    cost_usd: Series[object] = money("The key's cost that day in USD (see cost_basis).")
    cost_basis: Series[str] = text(
        "billed_per_key: openai.api_key_costs covers the day; allocated_by_token_share: "
        "the key's token share of its project x model costs.",
        nullable=False,
        isin=COST_BASES[:2],
    )
    token_status: Series[str] = text(
        "That day: registered (a matching Dev Token was active at some moment of it) | "
        "registered_revoked (matching tokens existed, none active) | unregistered (no "
        "matching token existed yet).",
        nullable=False,
        isin=TOKEN_STATUSES,
    )
    bypass: Series[bool] = flag(
        "TRUE unless registered that day: the traffic skipped the gateway.", nullable=False
    )
    dev_token_id: Series[str] = text(
        "The Dev Token active that day (the latest created), else the latest existing one."
    )
    key_created_at: Series[pd.Timestamp] = timestamp("When the key was created (UTC).")
    key_created_by: Series[str] = text(
        "Who created the key (the api_key.created event's actor): an e-mail, else a "
        "service account id; NULL without the audit log."
    )

    class Config:
        name = "sightlines.gateway_bypass_daily"
        metadata = {
            "grain": ["organization_id", "usage_date", "api_key_id"],
            "partition": "usage_date",
        }


class SeatGovernanceDaily(WarehouseModel):
    """sightlines.seat_governance_daily: every member on every day, attributed as of that day."""

    organization_id: Series[str] = text(_ORG, nullable=False)
    day: Series[pandas_engine.Date] = day("UTC day.")
    member_id: Series[str] = text("User id ('user-...') of a member that day.", nullable=False)
    email: Series[str] = text("E-mail as OpenAI had it that day.")
    name: Series[str] = text("Name (NULL for members known only from the audit log).")
    role: Series[str] = text("Organization role that day.")
    joined_at: Series[pd.Timestamp] = timestamp("When the member joined (added_at).")
    attributed: Series[bool] = flag(
        "TRUE when matched to an engineer who had not departed by that day.", nullable=False
    )
    engineer_id: Series[str] = text("Matched engineer (also set when departed).")
    engineer_email: Series[str] = text("Matched engineer's primary e-mail.")
    engineer_status: Series[str] = text(
        "'active' or 'departed' on that day (departed_on, else the registry's status).",
        isin=["active", "departed"],
    )
    team: Series[str] = text("Matched engineer's team.")
    match_rule: Series[str] = text(
        "exact | case_insensitive | alias | plus_address | domain_alias.", isin=MATCH_RULES
    )
    reason: Series[str] = text(
        "Why not attributed: no_registry_match | engineer_departed; NULL when attributed.",
        isin=UNATTRIBUTED_REASONS,
    )
    seat_usd: Series[object] = money(
        "Seat cost allocated to the member that day (sightlines.seat_allocation)."
    )
    membership_source: Series[str] = text(
        "Where that day's membership comes from (openai.users_history.source).",
        nullable=False,
        isin=["snapshot", "audit_log"],
    )

    class Config:
        name = "sightlines.seat_governance_daily"
        metadata = {"grain": ["organization_id", "day", "member_id"], "partition": "day"}


#: Every sightlines.* model, in DDL order.
MODELS: tuple[type[WarehouseModel], ...] = (
    GatewayBypass,
    BillingReconciliation,
    SeatAllocation,
    SeatGovernance,
    GatewayBypassDaily,
    SeatGovernanceDaily,
)
