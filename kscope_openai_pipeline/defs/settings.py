"""Environment settings the Dagster definitions read, in one place.

Everything a user may set lives here with its default, so the README's table of settings
and the code cannot drift apart.
"""

from __future__ import annotations

import os
from datetime import date

OPENAI_BASE_URL_DEFAULT = "https://api.openai.com/v1"
DUCKDB_PATH_DEFAULT = "data/kscope.duckdb"
ANALYST_COPY_DEFAULT = "data/kscope_analytics.duckdb"
FIRST_DAY_DEFAULT = "2025-01-01"
RESTATEMENT_DAYS_DEFAULT = 3


def sandbox_mode() -> bool:
    """True when KSCOPE_SANDBOX is set to 1/true/yes: the run talks to the local sandbox."""
    return os.environ.get("KSCOPE_SANDBOX", "").strip().lower() in {"1", "true", "yes"}


def duckdb_path() -> str:
    return os.environ.get("KSCOPE_DUCKDB_PATH", DUCKDB_PATH_DEFAULT)


def analyst_copy_path() -> str:
    """The read-only copy analysts open: kscope_analytics.duckdb beside the warehouse."""
    explicit = os.environ.get("KSCOPE_ANALYST_COPY_PATH")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(duckdb_path()) or ".", "kscope_analytics.duckdb")


def first_day() -> date:
    """The first daily partition (UTC). Days before the earliest API key are skipped anyway."""
    return date.fromisoformat(os.environ.get("KSCOPE_FIRST_DAY", FIRST_DAY_DEFAULT))


def restatement_days() -> int:
    """How many days before yesterday the daily schedule re-pulls (OpenAI restates them)."""
    return int(os.environ.get("KSCOPE_RESTATEMENT_DAYS", RESTATEMENT_DAYS_DEFAULT))


def reconciliation_chart_path() -> str:
    """The billed-vs-metered chart (self-contained HTML) written beside the analyst copy."""
    return os.path.join(os.path.dirname(analyst_copy_path()) or ".", "reconciliation.html")


def skip_before_first_key() -> bool:
    """Whether usage days before the oldest listed API key are skipped (default yes).

    Off (`KSCOPE_SKIP_BEFORE_FIRST_KEY=0`) for an organization that deleted keys older than
    every key it still has: their usage cannot be dated from the inventory.
    """
    return os.environ.get("KSCOPE_SKIP_BEFORE_FIRST_KEY", "1").strip().lower() not in {
        "0",
        "false",
        "no",
    }
