"""Every setting a user can set, read from the environment in this one module.

Why one module: the README's settings table and the code cannot drift apart when there is
one place to compare, and an architecture test refuses an environment read anywhere else.
Each function reads its variable when called (not at import), so a test or the demo can
set the environment first. The admin key is the exception in one respect: Dagster resolves
it at run time from `ADMIN_KEY_ENV` (`dg.EnvVar`), so its value never enters run config.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

#: The variable holding the admin key (a secret: only its name lives here).
ADMIN_KEY_ENV = "OPENAI_ADMIN_KEY"

OPENAI_BASE_URL_DEFAULT = "https://api.openai.com/v1"
DUCKDB_PATH_DEFAULT = "data/kscope.duckdb"
#: DuckDB's buffer pool cap while a daily asset writes and checks its range (see
#: `write_memory_limit`).
WRITE_MEMORY_LIMIT_DEFAULT = "128MB"
FIRST_DAY_DEFAULT = "2025-01-01"
RESTATEMENT_DAYS_DEFAULT = 3
#: DuckDB 1.0 and every later release read this storage format (see analyst_storage_version).
ANALYST_STORAGE_VERSION_DEFAULT = "v1.0.0"
DAGSTER_HOME_FOLDER = ".dagster_home"
#: The variable holding the alerts' webhook URL (a secret: only its name lives here).
ALERT_WEBHOOK_ENV = "KSCOPE_ALERT_WEBHOOK_URL"
ALERT_BYPASS_SPEND_USD_DEFAULT = "50"
ALERT_BYPASS_WINDOW_DAYS_DEFAULT = 7
ALERT_GAP_TOLERANCE_USD_DEFAULT = "1"
ALERT_GAP_DAYS_DEFAULT = 2
ALERT_STALE_HOUR_DEFAULT = 9
ALERT_WEBHOOK_TIMEOUT_DEFAULT = 10.0
ALERT_RETRY_SECONDS_DEFAULT = 60.0

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def _get(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def admin_key() -> str:
    """The admin key ('' when unset), for commands that call the API outside Dagster.

    Dagster runs never call this: they resolve `ADMIN_KEY_ENV` themselves (`dg.EnvVar`).
    Wrap the value in `openai_admin.Secret` at once.
    """
    return _get(ADMIN_KEY_ENV)


def openai_base_url() -> str:
    """The Admin API's base URL; the sandbox's URL in sandbox mode."""
    return _get("OPENAI_BASE_URL", OPENAI_BASE_URL_DEFAULT)


def organization_id() -> str | None:
    """The organization every row is stamped with (None when unset)."""
    return _get("OPENAI_ORGANIZATION_ID") or None


def organization_name() -> str:
    return _get("OPENAI_ORGANIZATION_NAME")


def sandbox_mode() -> bool:
    """True when KSCOPE_SANDBOX is set to 1/true/yes: the run talks to the local sandbox."""
    return _get("KSCOPE_SANDBOX").strip().lower() in _TRUE


def duckdb_path() -> str:
    return _get("KSCOPE_DUCKDB_PATH", DUCKDB_PATH_DEFAULT)


def write_memory_limit() -> str | None:
    """DuckDB's `memory_limit` while a daily asset writes and checks its range ('128MB',
    '1GB', ...): the uncommitted rows above it go to disk, so a year's backfill does not hold
    them all in memory. None (an empty value or `default`): DuckDB's own limit, 80% of RAM."""
    value = _get("KSCOPE_WRITE_MEMORY_LIMIT", WRITE_MEMORY_LIMIT_DEFAULT).strip()
    return None if value.lower() in ("", "default") else value


def analyst_copy_path() -> str:
    """The read-only copy analysts open: kscope_analytics.duckdb beside the warehouse."""
    explicit = _get("KSCOPE_ANALYST_COPY_PATH")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(duckdb_path()) or ".", "kscope_analytics.duckdb")


def analyst_storage_version() -> str | None:
    """The DuckDB storage format the analyst copy is written in (`v1.0.0` by default).

    Analysts' tools bundle DuckDB releases older than the pipeline's, which cannot open a
    file in the newest format; `v1.0.0` opens in every DuckDB from 1.0 on. `native`
    writes the pipeline's own DuckDB format (only tools as new as the pipeline open it).
    """
    value = _get("KSCOPE_ANALYST_STORAGE_VERSION", ANALYST_STORAGE_VERSION_DEFAULT).strip()
    return None if value.lower() == "native" else value or ANALYST_STORAGE_VERSION_DEFAULT


def focus_export_dir() -> str:
    """Where the FOCUS Parquet files go: `exports/focus` beside the warehouse by default."""
    explicit = _get("KSCOPE_FOCUS_EXPORT_DIR")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(duckdb_path()) or ".", "exports", "focus")


def reconciliation_chart_path() -> str:
    """The billed-vs-metered chart (self-contained HTML) written beside the analyst copy."""
    return os.path.join(os.path.dirname(analyst_copy_path()) or ".", "reconciliation.html")


def first_day() -> date:
    """The first daily partition (UTC). Days before the earliest API key are skipped anyway."""
    return date.fromisoformat(_get("KSCOPE_FIRST_DAY", FIRST_DAY_DEFAULT))


def restatement_days() -> int:
    """How many days before yesterday the daily schedule re-pulls (OpenAI restates them)."""
    return int(_get("KSCOPE_RESTATEMENT_DAYS", str(RESTATEMENT_DAYS_DEFAULT)))


def skip_before_first_key() -> bool:
    """Whether usage days before the oldest listed API key are skipped (default yes).

    Off (`KSCOPE_SKIP_BEFORE_FIRST_KEY=0`) for an organization that deleted keys older than
    every key it still has: their usage cannot be dated from the inventory.
    """
    return _get("KSCOPE_SKIP_BEFORE_FIRST_KEY", "1").strip().lower() not in _FALSE


def domain_aliases() -> list[str]:
    """`alias.com=canonical.com` pairs for seat-governance e-mail matching."""
    return [pair for pair in _get("KSCOPE_DOMAIN_ALIASES").split(",") if "=" in pair]


def dagster_home(project_root: Path) -> Path:
    """DAGSTER_HOME, or `<project>/.dagster_home` when it is unset."""
    return Path(_get("DAGSTER_HOME") or project_root / DAGSTER_HOME_FOLDER).resolve()


# -- alerts ----------------------------------------------------------------------------------


def _number(name: str, default: str, kind: type[int] | type[float] | type[Decimal]):
    """The variable parsed as `kind`, or an error naming the variable (never a traceback
    about a string a user cannot connect to the setting)."""
    raw = _get(name, default).strip() or default
    try:
        return kind(raw)
    except (ValueError, InvalidOperation):
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def alert_webhook_url() -> str | None:
    """Where alerts go (a Slack incoming webhook or any webhook taking its JSON); None: no
    messages, findings stay in sightlines.alerts and the UI. A secret: callers never log,
    store or put it into run config; it is read again wherever a message is sent."""
    return _get(ALERT_WEBHOOK_ENV).strip() or None


def alerts_disabled() -> frozenset[str]:
    """Alert kinds switched off (`KSCOPE_ALERTS_DISABLED=stale_data,unattributed_member`)."""
    return frozenset(k.strip() for k in _get("KSCOPE_ALERTS_DISABLED").split(",") if k.strip())


def alert_bypass_spend_usd() -> Decimal:
    """bypass_spend: a bypass key's spend over the trailing window above this is a finding."""
    return _number("KSCOPE_ALERT_BYPASS_SPEND_USD", ALERT_BYPASS_SPEND_USD_DEFAULT, Decimal)


def alert_bypass_window_days() -> int:
    """bypass_spend: the trailing window, in days ending with the last stored day."""
    return _number("KSCOPE_ALERT_BYPASS_WINDOW_DAYS", str(ALERT_BYPASS_WINDOW_DAYS_DEFAULT), int)


def alert_gap_tolerance_usd() -> Decimal:
    """reconciliation_gap: a project's day counts when its gap is above this (and outside
    the reconciliation's own tolerance)."""
    return _number("KSCOPE_ALERT_GAP_TOLERANCE_USD", ALERT_GAP_TOLERANCE_USD_DEFAULT, Decimal)


def alert_gap_days() -> int:
    """reconciliation_gap: how many consecutive days, up to the last reconciled one."""
    return _number("KSCOPE_ALERT_GAP_DAYS", str(ALERT_GAP_DAYS_DEFAULT), int)


def alert_stale_hour() -> int:
    """stale_data: the UTC hour by which yesterday's usage and costs must be stored."""
    return _number("KSCOPE_ALERT_STALE_HOUR", str(ALERT_STALE_HOUR_DEFAULT), int)


def alert_webhook_timeout() -> float:
    """Seconds one webhook request may take (connect, send and answer) before it is retried."""
    return _number(
        "KSCOPE_ALERT_WEBHOOK_TIMEOUT_SECONDS", str(ALERT_WEBHOOK_TIMEOUT_DEFAULT), float
    )


def alert_retry_seconds() -> float:
    """The wait before the first retry of a failed webhook delivery; it doubles with each
    failed attempt, up to an hour."""
    return _number("KSCOPE_ALERT_RETRY_SECONDS", str(ALERT_RETRY_SECONDS_DEFAULT), float)
