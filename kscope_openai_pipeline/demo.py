"""`kscope-openai demo` and `kscope-openai ui`: the pipeline end to end on the sandbox.

demo: start the sandbox, load its Kscope inputs through the loader (as a user would),
run the daily refresh job over the last N days as ONE real Dagster run recorded in
DAGSTER_HOME, publish the analyst copy, and print what landed.
ui: the sandbox plus `dagster dev`, with the schedule, sensor and backfills working.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from kscope_openai_pipeline.dagster_home import PROJECT_ROOT, ensure_dagster_home
from kscope_openai_pipeline.sandbox.server import Sandbox


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


def last_sandbox_day(sb: Sandbox) -> date:
    return datetime.fromtimestamp(sb.org.end_day, tz=UTC).date() - timedelta(days=1)


def load_sandbox_inputs(sb: Sandbox, seed: int, size: str, duckdb_path: Path) -> dict[str, int]:
    """Write the sandbox's Kscope inputs as CSV and load them with the loader, as a user
    would load their own exports; returns rows per table."""
    from kscope_openai_pipeline.defs.kscope.loader import load_inputs, write_sandbox_inputs
    from kscope_openai_pipeline.defs.resources import WarehouseResource

    with tempfile.TemporaryDirectory() as inputs_dir:
        files = write_sandbox_inputs(seed, size, inputs_dir)
        with WarehouseResource(database=str(duckdb_path)).get_connection() as conn:
            return load_inputs(conn, files, organization_id=sb.org.organization_id)


def run_demo(seed: int, size: str, days: int, echo=click.echo) -> dict:
    """Everything `make demo` does; returns the summary it printed (tests read it)."""
    import dagster as dg

    ensure_dagster_home()
    duckdb_path = Path(os.environ.setdefault("KSCOPE_DUCKDB_PATH", "data/kscope.duckdb"))
    started = time.monotonic()
    with Sandbox.start(seed=seed, size=size, port=0) as sb:
        os.environ.update(sandbox_environment(sb))
        echo(f"Sandbox ({size}, seed {seed}) serving {sb.base_url} -- SANDBOX MODE")
        from kscope_openai_pipeline import warehouse
        from kscope_openai_pipeline.definitions import defs
        from kscope_openai_pipeline.defs import settings

        last = last_sandbox_day(sb)
        first = last - timedelta(days=days - 1)
        loaded = load_sandbox_inputs(sb, seed, size, duckdb_path)
        echo("Loaded Kscope inputs: " + ", ".join(f"{t} {n:,} rows" for t, n in loaded.items()))
        echo(f"Running daily_refresh_job for {first} .. {last} ({days} days) as one Dagster run")
        job = defs.resolve_job_def("daily_refresh_job")
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            # progress (one line per API page and per table) without Dagster's DEBUG events
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
                "kscope/origin": "demo",
            },
            raise_on_error=True,
        )
        requests = len(sb.requests)
    analyst = settings.analyst_copy_path()
    published = warehouse.publish(duckdb_path, analyst)
    summary = {**_summary(analyst, last), "headlines": _headlines(result), "first": first}
    echo(
        f"\nRun {result.run_id} succeeded: {requests} API requests, "
        f"{time.monotonic() - started:.1f} s. Run history: {os.environ['DAGSTER_HOME']}"
    )
    echo(f"Warehouse: {duckdb_path}   Analyst copy (read-only): {analyst}")
    echo("\nRows per table:")
    for table, rows in summary["rows"].items():
        echo(f"  {table:<36} {rows:>10,}")
    echo("\nBilled spend per day, all line items (last 7 days, USD):")
    for day, usd in summary["spend"]:
        echo(f"  {day}  {usd:>12,.2f}")
    echo("\nSightlines:")
    for line in summary["headlines"]:
        echo(f"  - {line}")
    echo(f"\nChart: {settings.reconciliation_chart_path()}")
    echo(
        f"Analyst copy published: {published.path} "
        f"({published.bytes / 1e6:.1f} MB, {published.seconds:.2f} s)"
    )
    return summary


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
    from kscope_openai_pipeline import warehouse

    conn = warehouse.open_analyst(analyst_path)
    try:
        tables = conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('openai', 'kscope', 'sightlines') ORDER BY 1"
        ).fetchall()
        rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchall()[0][0] for (t,) in tables}
        spend = conn.execute(
            "SELECT cost_date, SUM(amount_usd) FROM openai.costs "
            "WHERE cost_date > ? GROUP BY 1 ORDER BY 1",
            [last - timedelta(days=7)],
        ).fetchall()
    finally:
        conn.close()
    return {"rows": rows, "spend": spend, "last": last}


@click.command("demo")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--size",
    default="small",
    show_default=True,
    type=click.Choice(["tiny", "small", "medium", "large"]),
)
@click.option("--days", default=90, show_default=True, help="Days to backfill.")
def demo_command(seed: int, size: str, days: int) -> None:
    """Run the whole pipeline on the sandbox and print what landed in DuckDB."""
    run_demo(seed, size, days)


@click.command("ui")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--size",
    default="small",
    show_default=True,
    type=click.Choice(["tiny", "small", "medium", "large"]),
)
@click.option("--port", default=3000, show_default=True, help="Dagster webserver port.")
def ui_command(seed: int, size: str, port: int) -> None:
    """Start the sandbox and `dagster dev` (webserver + daemon) against it."""
    ensure_dagster_home()
    os.environ.setdefault("KSCOPE_DUCKDB_PATH", str(PROJECT_ROOT / "data" / "kscope.duckdb"))
    with Sandbox.start(seed=seed, size=size, port=0) as sb:
        env = {**os.environ, **sandbox_environment(sb)}
        click.echo(
            f"Sandbox serving {sb.base_url} (SANDBOX MODE); DAGSTER_HOME={env['DAGSTER_HOME']}"
        )
        loaded = load_sandbox_inputs(sb, seed, size, Path(env["KSCOPE_DUCKDB_PATH"]))
        click.echo("Loaded Kscope inputs: " + ", ".join(f"{t} {n:,}" for t, n in loaded.items()))
        click.echo(f"Dagster UI: http://127.0.0.1:{port}")
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ]
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
        try:
            process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
