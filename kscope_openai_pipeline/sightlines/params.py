"""What the sightlines depend on besides the warehouse, and what a run returns.

Kept apart from the runner and the summaries so both can read the same parameters without
importing each other: the runner computes the tables, the summaries describe them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import table_name

#: Default ILIKE patterns of subscription (seat) line items in openai.costs.
#: Only `%seat%`: a broader pattern such as `ChatGPT%` would also match (ILIKE ignores case)
#: the API spend of the `chatgpt-4o-latest` model and drop it from reconciliation.
DEFAULT_SUBSCRIPTION_PATTERNS: tuple[str, ...] = ("%seat%",)

GATEWAY_BYPASS = table_name(models.GatewayBypass)
BILLING_RECONCILIATION = table_name(models.BillingReconciliation)
SEAT_ALLOCATION = table_name(models.SeatAllocation)
SEAT_GOVERNANCE = table_name(models.SeatGovernance)
GATEWAY_BYPASS_DAILY = table_name(models.GatewayBypassDaily)
SEAT_GOVERNANCE_DAILY = table_name(models.SeatGovernanceDaily)


class SightlineError(RuntimeError):
    """A sightline could not be computed or broke its grain; the previous rows were kept."""


@dataclass(frozen=True)
class SightlineParams:
    """Everything the sightlines depend on besides the warehouse.

    as_of: last UTC day of the trailing window (inclusive); window_days: its length.
    tolerance_pct / tolerance_usd: a reconciliation gap is `matched` when
    |gap| <= max(tolerance_pct x billed, tolerance_usd).
    subscription_patterns: ILIKE patterns of seat line items (excluded from the billed side
    of reconciliation, allocated by seat_allocation).
    strip_plus_addresses / domain_aliases ((alias domain, canonical domain) pairs): the
    seat-governance matching rules. recon_start / recon_end: the days reconciled (inclusive;
    None = the first / last day of openai.costs).
    """

    as_of: dt.date
    window_days: int = 30
    tolerance_pct: Decimal = Decimal("0.01")
    tolerance_usd: Decimal = Decimal("0.01")
    subscription_patterns: tuple[str, ...] = DEFAULT_SUBSCRIPTION_PATTERNS
    strip_plus_addresses: bool = True
    domain_aliases: tuple[tuple[str, str], ...] = ()
    recon_start: dt.date | None = None
    recon_end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {self.window_days}")
        if self.tolerance_pct < 0 or self.tolerance_usd < 0:
            raise ValueError("tolerances cannot be negative")
        if not self.subscription_patterns:
            raise ValueError("give at least one subscription line-item pattern")

    @property
    def window_start(self) -> dt.date:
        """First day of the trailing window."""
        return self.as_of - dt.timedelta(days=self.window_days - 1)


@dataclass(frozen=True)
class SightlineResult:
    """What one sightline run wrote: the table, its row count and a summary for metadata."""

    table: str
    rows: int
    summary: dict[str, Any] = field(default_factory=dict)


