"""Long-running commands in tests (`dagster dev`, `kscope-openai ui`), started and stopped
the way a shell with job control (`set -m`) would.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kscope_openai_pipeline.dagster_home import PROJECT_ROOT


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
