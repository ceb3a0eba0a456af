"""Small measuring helpers shared by the benchmark modules: RSS, child processes, machine.

Why children: peak RSS (`ru_maxrss`) is a per-process high-water mark that never goes
down, so every memory figure comes from a fresh process that does one thing and prints
its figures as the last line of stdout (JSON). Wall times are measured inside the child
around the measured call, so interpreter start-up and imports are reported separately.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """User + system CPU seconds this process has used so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> float:
    """The 1-minute load average: above the core count, figures include waiting for CPU."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def current_rss_mb() -> float:
    """This process's resident set size now, in MiB (from /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def emit(figures: Mapping[str, Any]) -> None:
    """Child side: print the figures as the last stdout line, for `run_child`."""
    print(json.dumps(figures, default=str), flush=True)


def run_child(
    module: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    """Run `python -m module args...` in a fresh process and return its emitted figures.

    The child's stderr (Dagster's logs) goes to a file in `log_dir` (default: a temp dir)
    rather than the terminal, so the table stays readable; a failing child raises with
    its stderr tail.
    """
    import tempfile

    log_dir = log_dir or Path(tempfile.gettempdir()) / "kscope-bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    label = "-".join(Path(a).name for a in args[:3])
    log_path = log_dir / f"{module.rsplit('.', 1)[-1]}-{label}.log"
    began = time.perf_counter()
    load_before = load_average()
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=timeout,
        )
    if proc.returncode != 0:
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{tail}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    figures = json.loads(lines[-1])
    figures["process_seconds"] = round(time.perf_counter() - began, 1)
    figures["load_average"] = [load_before, load_average()]
    return figures


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, memory, CPU model, Python, versions."""
    from importlib.metadata import version

    memory_gb = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    packages = ("dagster", "dagster-duckdb", "duckdb", "pandas", "pandera", "pyarrow", "httpx")
    return {
        "nproc": os.cpu_count(),
        "sched_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": memory_gb,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in packages},
    }
