"""DAGSTER_HOME: created on demand, the project's instance config linked in, and no
`dagster.yaml` in the project folder for `dagster dev` to warn about."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG, PROJECT_ROOT, ensure_dagster_home


def test_a_new_home_links_the_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home()
    assert home == tmp_path / "home"
    assert (home / "dagster.yaml").readlink() == INSTANCE_CONFIG
    config = yaml.safe_load(INSTANCE_CONFIG.read_text())
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "run"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_a_stale_link_is_replaced_and_an_own_config_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale, own = tmp_path / "stale", tmp_path / "own"
    stale.mkdir()
    (stale / "dagster.yaml").symlink_to(tmp_path / "moved" / "dagster.yaml")
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(stale))
    assert (ensure_dagster_home() / "dagster.yaml").readlink() == INSTANCE_CONFIG
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    assert (ensure_dagster_home() / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_the_project_folder_holds_no_instance_config_for_dagster_dev_to_warn_about() -> None:
    """`dagster dev` started in a folder with a dagster.yaml that is not DAGSTER_HOME's
    warns that the file "will not be used", even when DAGSTER_HOME links to it."""
    assert not (PROJECT_ROOT / "dagster.yaml").exists()
    assert not (PROJECT_ROOT / "dagster.yml").exists()
