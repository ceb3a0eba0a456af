"""The pipeline's commands in child processes, as a user would run them from a shell.

Why a clean environment: the test process may carry OPENAI_*/KSCOPE_*/DAGSTER_* settings
(from the developer's shell or another fixture); each child gets only what the test sets.

Long-running commands (`dagster dev`, `kscope-openai ui`) are started and stopped the way a
shell with job control (`set -m`) would.

Why a new session: `dagster dev` spawns a webserver, a daemon, a code server and run
workers; only killing the whole process group stops them all, and a backgrounded
`dagster dev` outside its own group ignores SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG, PROJECT_ROOT, ensure_dagster_home
from kscope_openai_pipeline.demo import sandbox_environment
from kscope_openai_pipeline.sandbox.server import Sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def process_group(
    command: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """Run `command` in its own session, output to `log`; SIGTERM then SIGKILL the group."""
    with log.open("w") as out:
        process = subprocess.Popen(
            list(command), env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # code server, daemon, run workers
            os.killpg(process.pid, signal.SIGKILL)


def dagster_dev(env: dict[str, str], port: int, log: Path):
    """`dagster dev` (webserver + daemon) on `port` for the project's workspace."""
    return process_group(
        [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
         "-h", "127.0.0.1", "-p", str(port)],
        env,
        log,
    )  # fmt: skip


BIN = Path(sys.executable).parent
_OWN_PREFIXES = ("OPENAI_", "KSCOPE_", "DAGSTER_")


def clean_environment(**settings: str) -> dict[str, str]:
    """os.environ without the pipeline's own settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(settings)
    return env


def project_home(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME under `tmp` with the project's instance config linked in, as
    `make demo`/`make ui` prepare `.dagster_home` (run queue, DuckDB writer pool)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    home = ensure_dagster_home()
    assert (home / "dagster.yaml").resolve() == INSTANCE_CONFIG.resolve()
    return home


def child_environment(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, sb: Sandbox | None = None, **extra: str
) -> dict[str, str]:
    """A child with its warehouse and DAGSTER_HOME under `tmp`, pointed at `sb` if given."""
    return clean_environment(
        **(sandbox_environment(sb) if sb is not None else {}),
        DAGSTER_HOME=str(project_home(tmp, monkeypatch)),
        KSCOPE_DUCKDB_PATH=str(tmp / "data" / "kscope.duckdb"),
        **extra,
    )


CWD = PROJECT_ROOT


#: What a user sees first in the UI: the code location loaded, schedules and sensors.
WORKSPACE = """
{
  workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
      }
    }
  }
}
"""
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def wait_for(what: str, probe: Callable[[], Any], timeout: float, process: subprocess.Popen):
    """Poll `probe` until it returns something truthy; fail early if dagster dev died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dagster dev exited ({process.returncode}) before {what}"
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
