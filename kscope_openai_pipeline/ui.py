"""`kscope-openai ui`: the sandbox plus `dagster dev`, with the schedule, the sensors and
backfills working, and run history kept in DAGSTER_HOME.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.dagster_home import PROJECT_ROOT, ensure_dagster_home
from kscope_openai_pipeline.demo import SIZES, load_sandbox_inputs, sandbox_environment
from kscope_openai_pipeline.sandbox.server import Sandbox


@click.command("ui")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--size",
    default="small",
    show_default=True,
    type=click.Choice(SIZES),
)
@click.option("--port", default=3000, show_default=True, help="Dagster webserver port.")
def ui_command(seed: int, size: str, port: int) -> None:
    """Start the sandbox and `dagster dev` (webserver + daemon) against it."""
    ensure_dagster_home()
    duckdb_path = Path(settings.duckdb_path())
    if not duckdb_path.is_absolute():  # dagster dev runs in the project folder
        duckdb_path = PROJECT_ROOT / duckdb_path
    with Sandbox.start(seed=seed, size=size, port=0) as sb:
        env = {**os.environ, **sandbox_environment(sb), "KSCOPE_DUCKDB_PATH": str(duckdb_path)}
        click.echo(
            f"Sandbox serving {sb.base_url} (SANDBOX MODE); DAGSTER_HOME={env['DAGSTER_HOME']}"
        )
        loaded = load_sandbox_inputs(sb, seed, size, duckdb_path)
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
