"""The kinds of finding, how serious each is, and the thresholds that decide them.

Why one registry: the detection SQL, the table's checks in the UI, the Slack messages and
the README all speak of the same kinds; a kind added here is a kind everywhere.

Severity: `high` is money leaving governance now or the pipeline unable to see it
(a bypass key's spend over the threshold, a reconciliation gap that persists, a lost API
permission, stale data, a failed run); `warning` is something a person should look at
soon but that costs little by itself yet (a new key that bypasses the gateway, a member
nobody can name).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kscope_openai_pipeline import settings

HIGH = "high"
WARNING = "warning"


@dataclass(frozen=True)
class Kind:
    """One kind of finding. `resolves`: False for events (a failed run stays what it was)."""

    name: str
    severity: str
    title: str
    meaning: str
    resolves: bool = True


NEW_BYPASS_KEY = Kind(
    "new_bypass_key", WARNING, "New key bypassing the gateway",
    "An API key's first day of traffic without an active Kscope Dev Token; resolved once "
    "the key is registered.",
)  # fmt: skip
BYPASS_SPEND = Kind(
    "bypass_spend", HIGH, "Bypass key spend over threshold",
    "A key without an active Dev Token spent more than the threshold over the trailing "
    "window; resolved when its window spend falls back under it.",
)  # fmt: skip
RECONCILIATION_GAP = Kind(
    "reconciliation_gap", HIGH, "Spend outside the gateway",
    "A project's billed spend exceeded what the gateway metered by more than the "
    "tolerance on consecutive days up to the last reconciled day (only once the gateway "
    "is deployed); resolved when the streak ends.",
)  # fmt: skip
UNATTRIBUTED_MEMBER = Kind(
    "unattributed_member", WARNING, "Member nobody can name",
    "An organization member whose e-mail matches no active engineer of the Asset "
    "Registry; resolved when attributed or gone.",
)  # fmt: skip
ACCESS_LOST = Kind(
    "access_lost", HIGH, "Admin key lost access",
    "An endpoint the access check once read now answers 401 or 403; resolved when it "
    "answers again.",
)  # fmt: skip
STALE_DATA = Kind(
    "stale_data", HIGH, "Data not in the warehouse on time",
    "Yesterday's usage or costs were not stored by the configured hour (UTC); resolved "
    "once the day is stored.",
)  # fmt: skip
RUN_FAILED = Kind(
    "run_failed", HIGH, "Pipeline run failed",
    "A run of one of the pipeline's jobs failed; an event, never resolved.",
    resolves=False,
)  # fmt: skip

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        NEW_BYPASS_KEY,
        BYPASS_SPEND,
        RECONCILIATION_GAP,
        UNATTRIBUTED_MEMBER,
        ACCESS_LOST,
        STALE_DATA,
        RUN_FAILED,
    )
}
#: Kinds decided by SQL over the warehouse (the alerts asset).
WAREHOUSE_KINDS = (NEW_BYPASS_KEY, BYPASS_SPEND, RECONCILIATION_GAP, UNATTRIBUTED_MEMBER)
#: Kinds decided from what Dagster recorded (access checks, partitions, runs).
OPERATIONAL_KINDS = (ACCESS_LOST, STALE_DATA, RUN_FAILED)


@dataclass(frozen=True)
class AlertRules:
    """Which kinds are on, and their thresholds (defaults: the settings)."""

    disabled: frozenset[str] = frozenset()
    bypass_spend_usd: Decimal = Decimal(settings.ALERT_BYPASS_SPEND_USD_DEFAULT)
    bypass_window_days: int = settings.ALERT_BYPASS_WINDOW_DAYS_DEFAULT
    gap_tolerance_usd: Decimal = Decimal(settings.ALERT_GAP_TOLERANCE_USD_DEFAULT)
    gap_days: int = settings.ALERT_GAP_DAYS_DEFAULT
    stale_hour: int = settings.ALERT_STALE_HOUR_DEFAULT

    def __post_init__(self) -> None:
        unknown = sorted(self.disabled - set(KINDS))
        if unknown:
            raise ValueError(
                f"KSCOPE_ALERTS_DISABLED names unknown alert kinds {unknown}; "
                f"the kinds are {sorted(KINDS)}"
            )
        if self.bypass_window_days < 1 or self.gap_days < 1:
            raise ValueError("alert windows and day counts must be at least 1")
        if not 0 <= self.stale_hour <= 23:
            raise ValueError(f"KSCOPE_ALERT_STALE_HOUR must be 0..23, got {self.stale_hour}")

    @classmethod
    def from_settings(cls) -> AlertRules:
        return cls(
            disabled=settings.alerts_disabled(),
            bypass_spend_usd=settings.alert_bypass_spend_usd(),
            bypass_window_days=settings.alert_bypass_window_days(),
            gap_tolerance_usd=settings.alert_gap_tolerance_usd(),
            gap_days=settings.alert_gap_days(),
            stale_hour=settings.alert_stale_hour(),
        )

    def enabled(self, kinds: tuple[Kind, ...] = tuple(KINDS.values())) -> tuple[Kind, ...]:
        return tuple(k for k in kinds if k.name not in self.disabled)
