"""A persistent DAGSTER_HOME for the project.

`dagster dev` without DAGSTER_HOME keeps run history in a temp dir that vanishes on exit.
We default it to `<project>/.dagster_home` and link the project's `dagster.yaml` there,
so the run queue, the DuckDB writer pool and run history survive restarts.
"""

from __future__ import annotations

import os
from pathlib import Path

from kscope_openai_pipeline import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def ensure_dagster_home(project_root: Path = PROJECT_ROOT) -> Path:
    """Set DAGSTER_HOME if unset, create it and link dagster.yaml into it; return it."""
    home = settings.dagster_home(project_root)
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    source = project_root / "dagster.yaml"
    if not config.exists() and source.exists():
        config.symlink_to(source)
    return home
