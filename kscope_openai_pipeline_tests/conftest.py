"""Shared fixtures (a running sandbox serving the tiny synthetic organization) and the
guard that fails a test leaving a process behind.

Why function scope for the sandbox: each test gets its own server, request log and fault
plan (faults and logs would otherwise leak between tests); this is cheap because the org
and its indexes are built once per process and cached by (seed, size).

Why the guard: a test that starts `dagster dev` (or a command that starts it) and stops
only its direct child leaves the webserver, daemon and code server running, reparented to
PID 1, long after the suite ended. Every process the session starts inherits a marker in
its environment (`helpers/proc.py`); after each test, any marked or descendant process
that was not there before the test and is still alive after a grace period fails that
test, naming its command, and is killed. The session's end checks once more, after the
wider fixtures are gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers import proc

SANDBOX_SEED = 7
SANDBOX_SIZE = "tiny"
#: How long a process that is ending (a killed group, a finished `subprocess.run`) may
#: take to go before it counts as left behind; generous for a loaded machine.
GRACE_SECONDS = 15.0

_TOKEN = pytest.StashKey[str]()
_SCRATCH = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    token = uuid.uuid4().hex
    config.stash[_TOKEN] = token
    os.environ[proc.GUARD_VARIABLE] = token  # inherited by every child from here on
    # `make test` exports the project's DAGSTER_HOME and warehouse path for the demo; a test
    # that forgets its own must not write run history or tables into the user's.
    scratch = Path(tempfile.mkdtemp(prefix="kscope-tests-"))
    config.stash[_SCRATCH] = scratch
    os.environ["DAGSTER_HOME"] = str(scratch / "dagster_home")
    os.environ["KSCOPE_DUCKDB_PATH"] = str(scratch / "kscope.duckdb")


@pytest.fixture(autouse=True)
def _no_process_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    token = request.config.stash[_TOKEN]
    before = set(proc.suite_processes(token))
    yield
    left = proc.leftovers(token, before, GRACE_SECONDS)
    if left:
        proc.kill(left)
        pytest.fail(
            f"{len(left)} process(es) started by this test outlived it (now killed):\n"
            + "\n".join(f"  {p}" for p in left),
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    scratch = session.config.stash.get(_SCRATCH, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    token = session.config.stash.get(_TOKEN, None)
    if token is None or _is_xdist_controller(session.config):
        return  # with pytest-xdist each worker guards its own tests
    left = proc.leftovers(token, set(), GRACE_SECONDS)
    if left:
        proc.kill(left)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"process guard: {len(left)} process(es) outlived the test session "
                "(now killed):\n" + "\n".join(f"  {p}" for p in left),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _is_xdist_controller(config: pytest.Config) -> bool:
    """The process that hands tests to pytest-xdist workers (its children are the workers)."""
    return not hasattr(config, "workerinput") and bool(config.getoption("numprocesses", None))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox on a free loopback port serving `build_org(7, "tiny")`."""
    with Sandbox.start(seed=SANDBOX_SEED, size=SANDBOX_SIZE, host="127.0.0.1", port=0) as sb:
        yield sb
