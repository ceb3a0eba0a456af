"""The guard that fails a test leaving a process behind (root conftest, `helpers/proc.py`)
finds what such a test would leave: a child in its own session, and an orphan reparented
to PID 1 that no longer descends from the test process."""

from __future__ import annotations

import os
import subprocess
import sys

from kscope_openai_pipeline_tests.helpers import proc

TOKEN = os.environ[proc.GUARD_VARIABLE]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_child_in_its_own_session_is_found_then_killed() -> None:
    before = set(proc.suite_processes(TOKEN))
    child = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        (left,) = proc.leftovers(TOKEN, before, grace=0.5)
        assert (left.pid, left.sid, left.command) == (child.pid, child.pid, " ".join(SLEEPER))
        proc.kill([left])
        assert child.wait(timeout=10) == -9
        assert proc.leftovers(TOKEN, before, grace=5) == []
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_an_orphan_is_found_by_its_environment_marker() -> None:
    before = set(proc.suite_processes(TOKEN))
    # the shell starts the sleeper in the background and exits: the sleeper is reparented
    launcher = subprocess.run(
        ["sh", "-c", f"{' '.join(SLEEPER[:2])} '{SLEEPER[2]}' >/dev/null 2>&1 & echo $!"],
        capture_output=True, text=True, check=True, start_new_session=True,
    )  # fmt: skip
    orphan_pid = int(launcher.stdout)
    assert proc.read(orphan_pid) is not None
    assert orphan_pid not in {p.pid for p in proc.descendants(os.getpid())}
    left = proc.leftovers(TOKEN, before, grace=0.5)
    assert [p.pid for p in left] == [orphan_pid]
    proc.kill(left)
    assert proc.leftovers(TOKEN, before, grace=10) == []
