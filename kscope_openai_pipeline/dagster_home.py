"""A persistent DAGSTER_HOME for the project.

`dagster dev` without DAGSTER_HOME keeps run history in a temp dir that vanishes on exit.
We default it to `<project>/.dagster_home` and link the project's instance config,
`instance/dagster.yaml`, there, so the run queue, the DuckDB writer pool and run history
survive restarts.

Why the config is not in the project folder itself: `dagster dev` started there warns that
a `dagster.yaml` in the current folder "will not be used" unless DAGSTER_HOME is that
folder, which is misleading when DAGSTER_HOME holds a link to the very same file.
"""

from __future__ import annotations

import os
from pathlib import Path

from kscope_openai_pipeline import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The instance config every DAGSTER_HOME of the project links to.
INSTANCE_CONFIG = PROJECT_ROOT / "instance" / "dagster.yaml"


def ensure_dagster_home(project_root: Path = PROJECT_ROOT) -> Path:
    """Set DAGSTER_HOME if unset, create it and link the instance config into it; return it.

    A `dagster.yaml` already in DAGSTER_HOME is kept (yours to tune), except a link whose
    target no longer exists (a moved project), which is replaced.
    """
    home = settings.dagster_home(project_root)
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    source = project_root / INSTANCE_CONFIG.relative_to(PROJECT_ROOT)
    if config.is_symlink() and not config.exists():
        config.unlink()
    if not config.exists() and source.exists():
        config.symlink_to(source)
    return home
