"""Running the pipeline's commands in child processes, as a user would from a shell.

Why a clean environment: the test process may carry OPENAI_*/KSCOPE_*/DAGSTER_* settings
(from the developer's shell or another fixture); each child gets only what the test sets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kscope_openai_pipeline.dagster_home import PROJECT_ROOT, ensure_dagster_home
from kscope_openai_pipeline.demo import sandbox_environment
from kscope_openai_pipeline.sandbox.server import Sandbox

BIN = Path(sys.executable).parent
_OWN_PREFIXES = ("OPENAI_", "KSCOPE_", "DAGSTER_")


def clean_environment(**settings: str) -> dict[str, str]:
    """os.environ without the pipeline's own settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(settings)
    return env


def project_home(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME under `tmp` with the project's dagster.yaml linked in, as
    `make demo`/`make ui` prepare `.dagster_home` (run queue, DuckDB writer pool)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    home = ensure_dagster_home()
    assert (home / "dagster.yaml").resolve() == (PROJECT_ROOT / "dagster.yaml").resolve()
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
