"""The machine's processes as /proc shows them (Linux), without a new dependency.

Why: tests that start `dagster dev` or `kscope-openai ui` must prove that nothing they
started survives them, and the suite-wide guard (root conftest) must name any process a
test left behind, even one that was reparented to PID 1 after its parent died.

A process is identified by (pid, start time): a pid can be reused after a process ends.
A process is "of this suite" when its environment carries the suite's marker
(`GUARD_VARIABLE=<token>`, set by the root conftest before any test starts a child), or
when it descends from the test process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
#: The environment variable marking every process the test session starts. Not prefixed
#: OPENAI_/KSCOPE_/DAGSTER_, so `clean_environment` passes it on to children.
GUARD_VARIABLE = "PYTEST_KSCOPE_PROCESS_GUARD"


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    pgid: int
    sid: int
    start: int  # clock ticks after boot: with pid, the process's identity
    state: str
    name: str  # the kernel's short name; `command` reads the full command line

    @property
    def command(self) -> str:
        try:
            raw = (PROC / str(self.pid) / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            raw = b""
        return raw.replace(b"\0", b" ").decode(errors="replace").strip() or self.name

    @property
    def identity(self) -> tuple[int, int]:
        return self.pid, self.start

    @property
    def ended(self) -> bool:
        """A zombie has exited; only its parent's wait is missing."""
        return self.state in {"Z", "X"}

    def __str__(self) -> str:
        return f"pid {self.pid} (ppid {self.ppid}, session {self.sid}): {self.command}"


def read(pid: int) -> Process | None:
    """The process `pid`, or None if it is gone (or not readable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name is in parentheses and may itself contain spaces or parentheses
    fields = stat[stat.rindex(")") + 2 :].split()
    return Process(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        start=int(fields[19]),
        state=fields[0],
        name=stat[stat.index("(") + 1 : stat.rindex(")")],
    )


def processes() -> dict[int, Process]:
    """Every process readable now, by pid."""
    table = {}
    for name in os.listdir(PROC):
        if name.isdigit():
            process = read(int(name))
            if process is not None:
                table[process.pid] = process
    return table


def descendants(pid: int, table: dict[int, Process] | None = None) -> list[Process]:
    """The children of `pid`, their children, and so on (not `pid` itself)."""
    table = processes() if table is None else table
    children: dict[int, list[Process]] = {}
    for process in table.values():
        children.setdefault(process.ppid, []).append(process)
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child.pid)
    return found


def carries(pid: int, variable: str, value: str) -> bool:
    """Whether process `pid` was started with `variable=value` in its environment."""
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return f"{variable}={value}".encode() in environ.split(b"\0")


def alive(process: Process) -> bool:
    """Whether `process` (the same one, not a reused pid) still runs."""
    now = read(process.pid)
    return now is not None and now.start == process.start and not now.ended


def suite_processes(token: str) -> dict[tuple[int, int], Process]:
    """The running processes of this test session (marked, or descending from it).

    Only processes started after this one can carry the marker, so only their
    environments are read (the scan stays in the milliseconds on a busy machine).
    """
    table = processes()
    me = table.get(os.getpid()) or read(os.getpid())
    assert me is not None
    found = {p.identity: p for p in descendants(me.pid, table) if not p.ended}
    for process in table.values():
        if (
            process.start >= me.start
            and process.pid != me.pid
            and not process.ended
            and process.identity not in found
            and carries(process.pid, GUARD_VARIABLE, token)
        ):
            found[process.identity] = process
    return found


def leftovers(token: str, before: set[tuple[int, int]], grace: float) -> list[Process]:
    """The session's processes not in `before` still alive after up to `grace` seconds
    (a process that is ending, e.g. a group just killed, gets that long to go)."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for key, p in suite_processes(token).items() if key not in before]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def kill(found: list[Process]) -> None:
    """SIGKILL each process that is still the one found (never a reused pid)."""
    for process in found:
        if alive(process):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
