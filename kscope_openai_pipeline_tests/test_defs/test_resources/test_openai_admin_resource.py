"""The Admin API resource: the key only from the environment, failing early and clearly."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from kscope_openai_pipeline.defs.openai.inventory import inventory_assets
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.openai_admin.organization import NOT_SET
from kscope_openai_pipeline.sandbox.server import Sandbox


def test_a_missing_admin_key_fails_the_run_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.delenv("KSCOPE_SANDBOX", raising=False)
    monkeypatch.setenv("KSCOPE_DUCKDB_PATH", str(tmp_path / "kscope.duckdb"))
    with pytest.raises(dg.DagsterInvalidConfigError, match='"OPENAI_ADMIN_KEY" which is not set'):
        dg.materialize(
            inventory_assets[:1],
            resources=build_resources(),
            instance=dg.DagsterInstance.ephemeral(),
        )
    assert not (tmp_path / "kscope.duckdb").exists()


def test_a_run_without_the_organization_id_fails_saying_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing names the organization (no setting, no header, no cost row): today's message,
    after the one small costs request that asked."""
    with Sandbox.start(seed=7, size="tiny", organization_header=False,
                       organization_in_costs=False) as sandbox:  # fmt: skip
        monkeypatch.setenv("OPENAI_ADMIN_KEY", sandbox.admin_key)
        monkeypatch.setenv("OPENAI_BASE_URL", sandbox.base_url)
        monkeypatch.delenv("OPENAI_ORGANIZATION_ID", raising=False)
        monkeypatch.setenv("KSCOPE_DUCKDB_PATH", str(tmp_path / "kscope.duckdb"))
        result = dg.materialize(
            inventory_assets[:1],
            resources=build_resources(),
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
        served = [r.path for r in sandbox.requests]
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.error.message.strip().endswith(NOT_SET)
    assert NOT_SET.startswith("OPENAI_ORGANIZATION_ID is not set")
    assert served == ["/organization/costs"]
    assert not (tmp_path / "kscope.duckdb").exists()  # resolved before the warehouse opens
