"""pandera model of `sightlines.alerts`, the findings that need a person.

Why a model although the table is written by SQL: the Dagster UI shows its columns as the
data dictionary, DuckDB carries the descriptions as column comments, and a test keeps the
DDL (`alerts/sql/00_alerts_table.sql`) and this model equal.
"""

from __future__ import annotations

import pandas as pd
from pandera.engines import pandas_engine
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import (
    WarehouseModel,
    count,
    day,
    json_document,
    text,
    timestamp,
)

KINDS = [
    "new_bypass_key",
    "bypass_spend",
    "reconciliation_gap",
    "unattributed_member",
    "access_lost",
    "stale_data",
    "run_failed",
]
SEVERITIES = ["high", "warning"]


class Alerts(WarehouseModel):
    """sightlines.alerts: one row per finding, its life (seen, resolved) and its messages."""

    organization_id: Series[str] = text(
        "The OpenAI organization ('org-...') this finding belongs to.", nullable=False
    )
    alert_id: Series[str] = text(
        "Stable id: a hash of kind and subject, the same on every run.", nullable=False
    )
    kind: Series[str] = text(
        "new_bypass_key | bypass_spend | reconciliation_gap | unattributed_member | "
        "access_lost | stale_data | run_failed.",
        nullable=False,
        isin=KINDS,
    )
    subject: Series[str] = text(
        "What the finding is about: an API key id, a project id, a member id, a "
        "permission, a table's asset key or a run id.",
        nullable=False,
    )
    severity: Series[str] = text("high | warning.", nullable=False, isin=SEVERITIES)
    first_seen_date: Series[pandas_engine.Date] = day(
        "UTC day the condition started (e.g. the key's first bypass day)."
    )
    last_seen_date: Series[pandas_engine.Date] = day(
        "Last day a detection saw it open (the data's last day, or the day of the check)."
    )
    resolved_date: Series[pandas_engine.Date] = day(
        "First day a detection no longer saw it; NULL while open.", nullable=True
    )
    details: Series[str] = json_document(
        "What a person needs to act, as JSON (owner, project, spend, days, ...)."
    )
    notified_at: Series[pd.Timestamp] = timestamp(
        "When the webhook acknowledged (2xx) the message about the finding (UTC)."
    )
    resolved_notified_at: Series[pd.Timestamp] = timestamp(
        "When the webhook acknowledged the message about its resolution (UTC)."
    )
    delivery_attempts: Series[int] = count(
        "Failed deliveries of the pending message so far (0 once delivered)."
    )
    next_attempt_at: Series[pd.Timestamp] = timestamp(
        "Not before this time is the pending message tried again (UTC backoff)."
    )
    last_delivery_error: Series[str] = text(
        "Why the last delivery failed ('HTTP 500', 'timeout', ...); never the URL."
    )

    class Config:
        name = "sightlines.alerts"
        metadata = {"grain": ["organization_id", "alert_id"], "partition": None}


MODELS: tuple[type[WarehouseModel], ...] = (Alerts,)
