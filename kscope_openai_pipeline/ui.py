"""`kscope-openai ui`: the sandbox plus `dagster dev`, with the schedule, the sensors and
backfills working, and run history kept in DAGSTER_HOME.

Why its own process group, and why every termination signal stops it: `dagster dev`
spawns a webserver, a daemon, a code server and run workers. It runs in a new session so
that one `killpg` reaches all of them, which also means the signals a terminal, systemd,
`docker stop` or a test harness send to this command never reach them. So this command
catches SIGINT, SIGTERM and SIGHUP alike and stops the whole group (SIGTERM, then SIGKILL
after `STOP_GRACE_SECONDS`) and the sandbox before it exits; otherwise the webserver,
daemon and code server would outlive it, pointing at a sandbox that no longer exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.dagster_home import PROJECT_ROOT, ensure_dagster_home
from kscope_openai_pipeline.demo import (
    SIZES,
    load_sandbox_inputs,
    record_sandbox_inputs,
    register_writer_pool,
    sandbox_environment,
    sandbox_partitions_environment,
)
from kscope_openai_pipeline.sandbox.server import Sandbox

#: The signals that stop the UI: Ctrl-C, `kill`/systemd/`docker stop`, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How long `dagster dev` gets to stop its webserver, daemon and code server cleanly.
STOP_GRACE_SECONDS = 20.0


class Stopped(Exception):
    """Raised in the main thread by the first stop signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Shutdown:
    """The stop signals' handler: the first one unwinds the command (raises `Stopped`);
    any signal once the group is being stopped is ignored, so a second Ctrl-C or a
    supervisor's repeated SIGTERM cannot cut the cleanup short."""

    def __init__(self) -> None:
        self.stopping = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise Stopped(signum)


@contextlib.contextmanager
def _stop_signals_handled() -> Iterator[_Shutdown]:
    shutdown = _Shutdown()
    previous = {s: signal.signal(s, shutdown.handle) for s in STOP_SIGNALS}
    try:
        yield shutdown
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still exists
        return True
    return True


def stop_process_group(
    process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS
) -> None:
    """Stop `process` and every process of its group: SIGTERM to the group, wait until the
    group is empty or `grace` seconds passed, then SIGKILL what is left.

    The group, not the leader: `dagster dev` may exit before its webserver, daemon or code
    server do, and those would then live on as orphans.
    """
    pgid = process.pid  # started with start_new_session: it leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(pgid):
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    process.wait()


def dagster_dev_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "dev",
        "-w", str(PROJECT_ROOT / "workspace.yaml"),
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip


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
    """Start the sandbox and `dagster dev` (webserver + daemon) against it.

    Ctrl-C, SIGTERM and SIGHUP stop dagster dev's whole process group and the sandbox.
    """
    with _stop_signals_handled() as shutdown:
        try:
            code = _serve(seed, size, port, shutdown)
        except Stopped as stop:
            click.echo(f"Stopped by {stop}: dagster dev and the sandbox are down.")
            code = 0
    sys.exit(code)


def _serve(seed: int, size: str, port: int, shutdown: _Shutdown) -> int:
    """Run until dagster dev exits (its exit code) or a stop signal raises `Stopped`."""
    home = ensure_dagster_home()
    duckdb_path = Path(settings.duckdb_path())
    if not duckdb_path.is_absolute():  # dagster dev runs in the project folder
        duckdb_path = PROJECT_ROOT / duckdb_path
    with Sandbox.start(seed=seed, size=size, port=0) as sb:
        env = {
            **os.environ,
            **sandbox_environment(sb),
            **sandbox_partitions_environment(sb),
            "KSCOPE_DUCKDB_PATH": str(duckdb_path),
        }
        click.echo(f"Sandbox serving {sb.base_url} (SANDBOX MODE); DAGSTER_HOME={home}")
        loaded = load_sandbox_inputs(sb, seed, size, duckdb_path)
        click.echo("Loaded Kscope inputs: " + ", ".join(f"{t} {n:,}" for t, n in loaded.items()))
        click.echo(record_sandbox_inputs(seed, size, duckdb_path, loaded))
        register_writer_pool()
        click.echo(f"Dagster UI: http://127.0.0.1:{port}")
        process = subprocess.Popen(
            dagster_dev_command(port), env=env, cwd=PROJECT_ROOT, start_new_session=True
        )
        try:
            return process.wait()
        finally:
            shutdown.stopping = True
            stop_process_group(process)
