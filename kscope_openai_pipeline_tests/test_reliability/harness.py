"""Shared machinery of the reliability suite: real assets, a real sandbox, exact snapshots.

Why one harness: every category (faults, crash, concurrency, idempotency, bad input)
asks the same question, "are the stored tables exactly what a fault-free run stores, or
exactly what was there before?", so they share one way to run the pipeline's own assets
(Dagster runs over real HTTP against the sandbox) and one exact way to compare tables
(every row as a tuple of Python values, Decimals kept exact; a multiset per table).

The reference states, built once per session by `build_world`:
- `baseline`: inventory + usage + costs + api_key_costs of the tiny sandbox org over
  WINDOW, from one fault-free run;
- `stale`: the baseline with every table changed (a row deleted, metrics and amounts
  altered, a row OpenAI no longer reports), standing for "what yesterday's run stored".
A run that survives its faults must turn `stale` into `baseline`; a run that fails must
leave `stale` exactly as it was.
"""

from __future__ import annotations

import gc
import hashlib
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.openai.daily import daily_assets
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets, organization
from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.defs.resources.openai_admin import OpenAIAdminResource
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline.schemas import openai as openai_models
from kscope_openai_pipeline.schemas.base import column_names

#: The admin key of every sandbox in this suite: unique per session, so the secrets test
#: can grep for it anywhere and a stray match cannot be a coincidence.
SENTINEL_KEY = f"sk-admin-kscopeCANARY{secrets.token_hex(16)}"

SEED, SIZE = 7, "tiny"
#: First and last daily partition of the reference window (the tiny org's last 35 days:
#: two usage pages of 31 and 4 buckets per family, one costs page).
WINDOW_FIRST, WINDOW_LAST = date(2026, 10, 22), date(2026, 11, 25)

INVENTORY_ASSETS = [*inventory_assets, organization]
#: Usage and costs; the audit log (daily too) and the inventory history are covered by
#: their own tests (their versions carry each crawl's wall clock).
DAILY_ASSETS = [a for a in daily_assets if a.key != dg.AssetKey(["openai", "audit_logs"])]
ALL_ASSETS = [*INVENTORY_ASSETS, *DAILY_ASSETS]
INVENTORY_KEYS = [k for a in INVENTORY_ASSETS for k in a.keys]
DAILY_KEYS = [k for a in DAILY_ASSETS for k in a.keys]
USAGE_KEY = dg.AssetKey(["openai", "usage"])
COSTS_KEYS = [dg.AssetKey(["openai", "costs"]), dg.AssetKey(["openai", "api_key_costs"])]

TABLES: tuple[str, ...] = tuple(
    m.Config.name
    for m in openai_models.MODELS
    if m.Config.name != "openai.audit_logs" and not m.Config.name.endswith("_history")
)
DAILY_TABLES = ("openai.usage", "openai.costs", "openai.api_key_costs")
INVENTORY_TABLES = tuple(t for t in TABLES if t not in DAILY_TABLES)
DATE_COLUMN = {"openai.usage": "usage_date", "openai.costs": "cost_date",
               "openai.api_key_costs": "cost_date"}
_COLUMNS = {m.Config.name: column_names(m) for m in openai_models.MODELS}
#: Columns that legitimately differ between two correct runs (the crawl's wall clock).
VOLATILE: dict[str, tuple[str, ...]] = {"openai.organization": ("crawled_at",)}

#: Client settings of in-suite runs: real retries, tiny waits (see OpenAIAdminResource).
#: The timeout is long enough that no healthy request times out on a machine loaded by
#: the whole suite: such a timeout is a retry that the fault tests, which count retries
#: exactly, would not expect. The "slow" faults set their own short timeout.
FAST_CLIENT: dict[str, Any] = {
    "retry_base_delay": 0.005,
    "retry_max_delay": 0.02,
    "timeout_seconds": 30.0,
    "max_attempts": 4,
}

Snapshot = dict[str, Counter]


# --------------------------------------------------------------------------- environment


def sandbox_env(sb: Sandbox, db_path: Path | str, **extra: str) -> dict[str, str]:
    """The settings a user sets to point the pipeline at a running sandbox."""
    return {
        "OPENAI_ADMIN_KEY": sb.admin_key,
        "OPENAI_BASE_URL": sb.base_url,
        "OPENAI_ORGANIZATION_ID": sb.org.organization_id,
        "OPENAI_ORGANIZATION_NAME": sb.org.organization_name,
        "KSCOPE_SANDBOX": "1",
        "KSCOPE_DUCKDB_PATH": str(db_path),
        **extra,
    }


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the block only."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in values.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        yield


def pipeline_resources(**client: Any) -> dict[str, Any]:
    """`build_resources()` from the current environment, with client settings replaced.

    The key stays a `dg.EnvVar`, resolved when the run starts, as in production.
    """
    built = build_resources()
    admin = built["openai_admin"]
    assert isinstance(admin, OpenAIAdminResource)
    settings = {**FAST_CLIENT, **client}
    built["openai_admin"] = OpenAIAdminResource(
        api_key=dg.EnvVar("OPENAI_ADMIN_KEY"),
        base_url=admin.base_url,
        organization_id=admin.organization_id,
        organization_name=admin.organization_name,
        sandbox=admin.sandbox,
        **settings,
    )
    return built


# --------------------------------------------------------------------------- runs


_JOB_ASSETS: list[dg.AssetsDefinition] = []
_JOB_RESOURCES: dict[str, Any] = {}


def reliability_job() -> dg.JobDefinition:
    """The pipeline's own assets as one partitioned job (reconstructable for execute_job)."""
    job = dg.define_asset_job(
        "reliability_job",
        selection=dg.AssetSelection.assets(*_JOB_ASSETS),
        partitions_def=daily_partitions,
    )
    return dg.Definitions(
        assets=list(_JOB_ASSETS),
        jobs=[job],
        resources=dict(_JOB_RESOURCES),
        executor=dg.in_process_executor,
    ).resolve_job_def("reliability_job")


@dataclass
class Outcome:
    """What a Dagster run did: success, each failed step's full message, metadata."""

    success: bool
    run_id: str
    failures: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Sum of an integer metadata entry (e.g. "retries") over every materialization."""
        return sum(int(m.get(name, 0)) for m in self.metadata.values())


def range_tags(first: date, last: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def failure_text(event: dg.DagsterEvent) -> str:
    """A failed step's description plus its whole error chain, as a user sees it."""
    data = event.step_failure_data
    parts: list[str] = []
    if data.user_failure_data is not None and data.user_failure_data.description:
        parts.append(data.user_failure_data.description)
    error = data.error
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return "\n".join(parts)


def run_assets(
    keys: Sequence[dg.AssetKey],
    resources: Mapping[str, Any],
    *,
    first: date = WINDOW_FIRST,
    last: date = WINDOW_LAST,
    instance: dg.DagsterInstance | None = None,
) -> Outcome:
    """Materialize `keys` for partitions first..last as ONE real Dagster run.

    Runs through `dg.execute_job` with the in-process executor and step retries disabled:
    the assets' RetryPolicy waits 30 s before re-running a step whose API retries ran
    out, which a test of that failure does not need to sit through (the step fails the
    same way each time while the fault lasts).
    """
    _JOB_ASSETS[:] = ALL_ASSETS
    _JOB_RESOURCES.clear()
    _JOB_RESOURCES.update(resources)
    result = dg.execute_job(
        dg.reconstructable(reliability_job),
        instance=instance or _shared_instance(),
        run_config={
            "execution": {"config": {"retries": {"disabled": {}}}},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
        tags=range_tags(first, last),
        asset_selection=list(keys),
        raise_on_error=False,
    )
    with result:
        events = list(result.all_events)
        outcome = Outcome(success=result.success, run_id=result.run_id)
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            outcome.failures[event.step_key or "?"] = failure_text(event)
        elif event.event_type_value == "STEP_SKIPPED":
            outcome.skipped.append(event.step_key or "?")
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization  # type: ignore[union-attr]
            outcome.metadata["/".join(mat.asset_key.path)] = {
                k: getattr(v, "value", v) for k, v in mat.metadata.items()
            }
    return outcome


_INSTANCE: list[dg.DagsterInstance] = []


def _shared_instance() -> dg.DagsterInstance:
    """One ephemeral instance for the session's in-process runs (creating one costs 0.2 s)."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.ephemeral())
    return _INSTANCE[0]


def release_files() -> None:
    """Close every warehouse attachment this process no longer uses, now.

    `warehouse.connect` releases a file when its last connection is garbage-collected;
    a failed run's traceback can keep one alive. Call before another process must take
    the file's lock (crash and concurrency tests) or before copying a file.
    """
    gc.collect()


# --------------------------------------------------------------------------- snapshots


@contextmanager
def reading(path: Path | str, read_only: bool = False) -> Iterator[Any]:
    """A warehouse connection, closed after the block (see `release_files`)."""
    conn = warehouse.connect(path, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()
        del conn


def _select(table: str) -> str:
    drop = VOLATILE.get(table, ())
    exclude = f" EXCLUDE ({', '.join(drop)})" if drop else ""
    return f"SELECT *{exclude} FROM {table}"


def snapshot(path: Path | str, tables: Iterable[str] = TABLES) -> Snapshot:
    """Every row of every table as a multiset of exact Python tuples."""
    with reading(path) as conn:
        warehouse.ensure_schema(conn)
        return {t: Counter(conn.execute(_select(t)).fetchall()) for t in tables}


def checksum(snap: Snapshot) -> dict[str, str]:
    """sha256 per table over the sorted rows (the 'same checksum' of the issue)."""
    return {
        table: hashlib.sha256(
            "\n".join(sorted(repr(row) for row in rows.elements())).encode()
        ).hexdigest()[:16]
        for table, rows in snap.items()
    }


def rows_lost(expected: Snapshot, actual: Snapshot) -> int:
    """Rows the expected state has that the actual one lacks (multiset difference)."""
    return sum(sum((expected[t] - actual.get(t, Counter())).values()) for t in expected)


def rows_extra(expected: Snapshot, actual: Snapshot) -> int:
    """Rows the actual state has that the expected one lacks (duplicates, inventions)."""
    return sum(sum((actual[t] - expected.get(t, Counter())).values()) for t in actual)


def restrict(snap: Snapshot, days: Callable[[date], bool]) -> Snapshot:
    """The daily tables' rows whose date satisfies `days`; other tables unchanged."""
    out: Snapshot = {}
    for table, rows in snap.items():
        if table not in DATE_COLUMN:
            out[table] = rows
            continue
        at = _COLUMNS[table].index(DATE_COLUMN[table])
        out[table] = Counter({row: n for row, n in rows.items() if days(row[at])})
    return out


def refreshed(fresh: Snapshot, old: Snapshot, days: Callable[[date], bool]) -> Snapshot:
    """What the daily runs must leave: `fresh` rows on the days they covered, `old` rows
    on every other day, and the other (inventory) tables as in `old`."""
    return {
        table: (
            restrict({table: fresh[table]}, days)[table]
            + restrict({table: old[table]}, lambda d: not days(d))[table]
            if table in DATE_COLUMN
            else old[table]
        )
        for table in old
    }


def merge(*parts: Snapshot) -> Snapshot:
    out: Snapshot = {}
    for part in parts:
        for table, rows in part.items():
            out[table] = out.get(table, Counter()) + rows
    return out


def describe(expected: Snapshot, actual: Snapshot, limit: int = 3) -> str:
    """Which tables differ, by how many rows, with a few examples (assertion messages)."""
    lines = []
    for table in expected:
        missing = expected[table] - actual.get(table, Counter())
        extra = actual.get(table, Counter()) - expected[table]
        if missing or extra:
            lines.append(
                f"{table}: {sum(missing.values())} missing e.g. {list(missing)[:limit]}; "
                f"{sum(extra.values())} extra e.g. {list(extra)[:limit]}"
            )
    return "\n".join(lines) or "no difference"


def copy_db(src: Path, dst: Path) -> Path:
    """Copy a (closed, checkpointed) warehouse file, WAL included if any."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
    return dst


def duplicate_keys(path: Path | str) -> int:
    """Grain keys held by more than one row, over every openai.* table."""
    from kscope_openai_pipeline.schemas.base import grain

    with reading(path) as conn:
        return sum(
            warehouse.duplicate_grain(conn, m.Config.name, grain(m))[0]
            for m in openai_models.MODELS
        )


# --------------------------------------------------------------------------- the world


STALE_SQL: tuple[str, ...] = (
    # a row per table that OpenAI still reports but yesterday's copy lacks
    *(f"DELETE FROM {t} WHERE rowid = (SELECT MIN(rowid) FROM {t})" for t in TABLES),
    # restated numbers
    "UPDATE openai.usage SET input_tokens = input_tokens + 7, num_model_requests = "
    "num_model_requests + 1 WHERE usage_type = 'completions'",
    "UPDATE openai.costs SET amount_usd = amount_usd + 0.01",
    "UPDATE openai.api_key_costs SET amount_usd = amount_usd - 0.02",
    "UPDATE openai.users SET name = name || ' (renamed since)'",
    "UPDATE openai.projects SET status = 'active', archived_at = NULL",
    # a row OpenAI no longer reports (restated away): the next run must delete it
    "INSERT INTO openai.usage SELECT * REPLACE ('restated-away' AS model) FROM openai.usage "
    "WHERE usage_type = 'embeddings' LIMIT 1",
)


@dataclass
class World:
    """The session's sandbox and reference warehouses (see the module docstring)."""

    sandbox: Sandbox
    root: Path
    baseline_path: Path
    stale_path: Path
    baseline: Snapshot
    stale: Snapshot

    def env(self, db_path: Path | str, **extra: str) -> dict[str, str]:
        return sandbox_env(self.sandbox, db_path, **extra)

    def fresh_stale(self, name: str) -> Path:
        """A private copy of the stale warehouse for one scenario (the copy is never
        opened elsewhere in the session, so it is closed and checkpointed)."""
        return copy_db(self.stale_path, self.root / "scenarios" / f"{name}.duckdb")


def build_world(sb: Sandbox, root: Path) -> World:
    """Run the fault-free reference crawl and derive the stale state from it."""
    baseline_path = root / "baseline.duckdb"
    with environment(sandbox_env(sb, baseline_path)):
        outcome = run_assets(INVENTORY_KEYS + DAILY_KEYS, pipeline_resources())
    assert outcome.success, outcome.failures
    release_files()
    stale_path = copy_db(baseline_path, root / "stale.duckdb")
    with reading(stale_path) as conn:
        for sql in STALE_SQL:
            conn.execute(sql)
        conn.execute("CHECKPOINT")
    release_files()
    baseline, stale = snapshot(baseline_path), snapshot(stale_path)
    for table in TABLES:
        assert baseline[table] != stale[table], f"stale state must differ in {table}"
    return World(sb, root, baseline_path, stale_path, baseline, stale)


def window_days(first: date = WINDOW_FIRST, last: date = WINDOW_LAST) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
