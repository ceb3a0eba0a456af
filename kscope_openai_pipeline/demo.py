"""`kscope-openai demo` and `kscope-openai sandbox-inputs`: the pipeline end to end on
the sandbox.

demo: start the sandbox, load its Kscope inputs through the loader (as a user would) and
record the load in Dagster, run the daily refresh job over the last N days as ONE real
Dagster run recorded in DAGSTER_HOME (the FOCUS files included), publish the analyst copy,
and print what landed. Progress is one line per finished step; Dagster's per-page INFO
lines (about a hundred for 90 days) are kept for `--verbose`, so they do not bury the
summary.
sandbox-inputs: the sandbox organization's Kscope records as the CSV files a user would
export, for `load-inputs`. This module and `ui` are where the product meets the sandbox.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click
import pandas as pd

from kscope_openai_pipeline import settings, warehouse
from kscope_openai_pipeline.dagster_home import ensure_dagster_home
from kscope_openai_pipeline.kscope_inputs.files import write_csv
from kscope_openai_pipeline.kscope_inputs.loader import INPUT_MODELS, load_inputs
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline.schemas.base import column_names
from kscope_openai_pipeline.sightlines.params import DEFAULT_SUBSCRIPTION_PATTERNS
from kscope_openai_pipeline.sightlines.summaries import seat_spend_per_day

SIZES = ("tiny", "small", "medium", "large")


def sandbox_environment(sb: Sandbox) -> dict[str, str]:
    """The settings that point the pipeline at a running sandbox."""
    return {
        "OPENAI_ADMIN_KEY": sb.admin_key,
        "OPENAI_BASE_URL": sb.base_url,
        "OPENAI_ORGANIZATION_ID": sb.org.organization_id,
        "OPENAI_ORGANIZATION_NAME": sb.org.organization_name,
        "KSCOPE_SANDBOX": "1",
        # The synthetic org's people also use a second mail domain, as real companies do.
        "KSCOPE_DOMAIN_ALIASES": ",".join(
            f"{alias}={canonical}"
            for alias, canonical in sorted(sb.org.extra.get("domain_aliases", {}).items())
        ),
    }


def first_sandbox_day(sb: Sandbox) -> date:
    """The sandbox organization's first day with data."""
    return datetime.fromtimestamp(sb.org.start_day, tz=UTC).date()


def last_sandbox_day(sb: Sandbox) -> date:
    return datetime.fromtimestamp(sb.org.end_day, tz=UTC).date() - timedelta(days=1)


def sandbox_partitions_environment(sb: Sandbox) -> dict[str, str]:
    """The daily partitions start on the sandbox organization's first day, so the UI does
    not list hundreds of days before it as missing (the demo and `ui` set this)."""
    return {"KSCOPE_FIRST_DAY": first_sandbox_day(sb).isoformat()}


def write_sandbox_inputs(seed: int, size: str, out_dir: str | Path) -> dict[str, Path]:
    """Write the sandbox organization's Kscope inputs as CSV files, as a user would export them.

    Returns {input kind: path}; file names are `<kind>.csv`.
    """
    org = build_org(seed, size)
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for kind, model in INPUT_MODELS.items():
        frame: pd.DataFrame = getattr(org, kind).copy()
        if "organization_id" not in frame.columns:
            frame.insert(0, "organization_id", org.organization_id)
        paths[kind] = write_csv(frame[column_names(model)], out / f"{kind}.csv")
    return paths


def load_sandbox_inputs(sb: Sandbox, seed: int, size: str, duckdb_path: Path) -> dict[str, int]:
    """Write the sandbox's Kscope inputs as CSV and load them with the loader, as a user
    would load their own exports; returns rows per table."""
    with tempfile.TemporaryDirectory() as inputs_dir:
        files = write_sandbox_inputs(seed, size, inputs_dir)
        duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        conn = warehouse.connect(duckdb_path)
        try:
            return load_inputs(conn, files, organization_id=sb.org.organization_id)
        finally:
            warehouse.disconnect(conn)


def record_sandbox_inputs(seed: int, size: str, duckdb_path: Path, loaded: dict[str, int]) -> str:
    """Record a load of the sandbox's inputs in DAGSTER_HOME's instance (one materialization
    per table, its `valid_rows` check evaluated); returns the line to print."""
    import dagster as dg

    from kscope_openai_pipeline.defs.kscope.loads import describe, record_input_loads

    conn = warehouse.connect(duckdb_path)
    try:
        with dg.DagsterInstance.get() as instance:
            recorded = record_input_loads(
                instance, conn, loaded, f"the sandbox's Kscope inputs (seed {seed}, {size})"
            )
    finally:
        warehouse.disconnect(conn)
    return describe(recorded)


def register_writer_pool() -> int | None:
    """Show the DuckDB writer pool's limit in DAGSTER_HOME's Deployment > Concurrency."""
    import dagster as dg

    from kscope_openai_pipeline.defs.policies import register_writer_pool as register

    with dg.DagsterInstance.get() as instance:
        return register(instance)


def _progress_logger(echo):
    """A Dagster logger printing one short line per finished step (what --verbose hides)."""
    import logging

    import dagster as dg

    class StepLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is None or event.event_type_value != "STEP_SUCCESS":
                return
            seconds = event.event_specific_data.duration_ms / 1000
            echo(f"  {event.step_key.replace('__', '/'):<28} done in {seconds:5.1f} s")

    @dg.logger(description="One line per finished step.")
    def progress(_init_context) -> logging.Logger:
        logger = logging.Logger("kscope_demo_progress", level=logging.DEBUG)
        logger.addHandler(StepLines())
        return logger

    return progress


def run_demo(seed: int, size: str, days: int, echo=click.echo, verbose: bool = False) -> dict:
    """Everything `make demo` does; returns the summary it printed (tests read it)."""
    import dagster as dg

    dagster_home = ensure_dagster_home()
    duckdb_path = Path(settings.duckdb_path())
    started = time.monotonic()
    with Sandbox.start(seed=seed, size=size, port=0) as sb:
        os.environ.update(sandbox_environment(sb))
        os.environ.update(sandbox_partitions_environment(sb))
        echo(f"Sandbox ({size}, seed {seed}) serving {sb.base_url} -- SANDBOX MODE")
        from kscope_openai_pipeline.definitions import defs  # reads the settings just set

        last = last_sandbox_day(sb)
        first = max(last - timedelta(days=days - 1), first_sandbox_day(sb))
        days = (last - first).days + 1
        loaded = load_sandbox_inputs(sb, seed, size, duckdb_path)
        echo("Loaded Kscope inputs: " + ", ".join(f"{t} {n:,} rows" for t, n in loaded.items()))
        echo(record_sandbox_inputs(seed, size, duckdb_path, loaded))
        register_writer_pool()
        echo(f"Running daily_refresh_job for {first} .. {last} ({days} days) as one Dagster run")
        job = defs.resolve_job_def("daily_refresh_job")
        if verbose:  # every table and API page, as the run's log in the UI shows them
            loggers = {"console": {"config": {"log_level": "INFO"}}}
        else:  # one line per step; Dagster's console only for warnings and errors
            job = job.with_logger_defs({**job.loggers, "progress": _progress_logger(echo)})
            loggers = {"console": {"config": {"log_level": "WARNING"}}, "progress": {}}
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            run_config={"loggers": loggers},
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
                "kscope/origin": "demo",
            },
            raise_on_error=True,
        )
        requests = len(sb.requests)
    analyst = settings.analyst_copy_path()
    published = warehouse.publish(
        duckdb_path, analyst, storage_version=settings.analyst_storage_version()
    )
    summary = {**_summary(analyst, last), "headlines": _headlines(result), "first": first}
    echo(
        f"\nRun {result.run_id} succeeded: {requests} API requests, "
        f"{time.monotonic() - started:.1f} s. Run history: {dagster_home}"
    )
    echo(f"Warehouse: {duckdb_path}   Analyst copy (read-only): {analyst}")
    echo("\nRows per table:")
    for table, rows in summary["rows"].items():
        echo(f"  {table:<36} {rows:>10,}")
    echo(
        "\nBilled spend per day (last 7 days, USD). The chart and the reconciliation leave "
        "out seat line items:"
    )
    echo(f"  {'day':<10}  {'all items':>12}  {'seats':>10}  {'without seats':>14}")
    for day, everything, seats in summary["spend"]:
        echo(f"  {day}  {money(everything):>12}  {money(seats):>10}  "
             f"{money(everything - seats):>14}")  # fmt: skip
    echo("\nSightlines:")
    for line in summary["headlines"]:
        echo(f"  - {line}")
    echo(f"\nChart: {settings.reconciliation_chart_path()}")
    focus = sorted(Path(settings.focus_export_dir()).glob("focus_costs_*.parquet"))
    echo(f"FOCUS 1.2 files: {settings.focus_export_dir()} ({len(focus)} billing months)")
    echo(
        f"Analyst copy published: {published.path} "
        f"({published.bytes / 1e6:.1f} MB, {published.seconds:.2f} s)"
    )
    return summary


def money(amount: Decimal | None) -> str:
    """'1,234.57' (half-up to the cent); zero is '0.00', never '0E-9'."""
    value = (amount or Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value + 0:,.2f}"  # + 0 turns -0.00 into 0.00


#: The sightlines whose headlines the demo prints, in order.
HEADLINE_ASSETS = ("gateway_bypass", "billing_reconciliation", "seat_governance")


def _headlines(result) -> list[str]:
    """The headlines the run's sightlines asset recorded (not recomputed here, so the demo
    prints exactly what the pipeline produced, with the pipeline's settings)."""
    recorded = {
        event.asset_key.path[-1]: event.materialization.metadata["headline"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[0] == "sightlines" and "headline" in event.materialization.metadata
    }
    return [recorded[name] for name in HEADLINE_ASSETS]


def _summary(analyst_path: str, last: date) -> dict:
    """Rows per table and the last week's billed spend, read from the analyst copy."""
    conn = warehouse.open_analyst(analyst_path)
    try:
        tables = conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('openai', 'kscope', 'sightlines', 'exports') ORDER BY 1"
        ).fetchall()
        rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchall()[0][0] for (t,) in tables}
        since = last - timedelta(days=6)
        totals = conn.execute(
            "SELECT cost_date, SUM(amount_usd) FROM openai.costs "
            "WHERE cost_date BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
            [since, last],
        ).fetchall()
        seats = seat_spend_per_day(conn, since, last, DEFAULT_SUBSCRIPTION_PATTERNS)
        spend = [(day, total, seats.get(day, Decimal(0))) for day, total in totals]
    finally:
        conn.close()
    return {"rows": rows, "spend": spend, "last": last}


@click.command("demo")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--size",
    default="small",
    show_default=True,
    type=click.Choice(SIZES),
)
@click.option("--days", default=90, show_default=True, help="Days to backfill.")
@click.option("--verbose", is_flag=True,
              help="Dagster's INFO log: every table and API page, instead of one line a step.")
def demo_command(seed: int, size: str, days: int, verbose: bool) -> None:
    """Run the whole pipeline on the sandbox and print what landed in DuckDB."""
    run_demo(seed, size, days, verbose=verbose)


@click.command("sandbox-inputs")
@click.option("--seed", default=7, show_default=True, help="Sandbox organization seed.")
@click.option("--size", default="small", show_default=True, type=click.Choice(SIZES))
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for dev_tokens.csv, gateway_costs.csv and engineers.csv.")
def sandbox_inputs_command(seed: int, size: str, out_dir: Path) -> None:
    """Write the sandbox organization's Kscope inputs as CSV files for `load-inputs`."""
    paths = write_sandbox_inputs(seed, size, out_dir)
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")
