"""Loads of the Kscope inputs recorded in Dagster: a materialization of each loaded table,
with its `valid_rows` check evaluated on the stored rows.

Why runless events (`DagsterInstance.report_runless_asset_event`): the `kscope/*` tables
are external assets (other Kscope crawlers write them), so no run of this code location
can materialize them; a runless `AssetMaterialization` is how Dagster 1.13 records that
an external asset changed, and a runless `AssetCheckEvaluation` attaches the check's
outcome to that materialization. A load needs no run queue slot, leaves no extra run in
the run history, and still makes the UI show when each table was loaded, its row count
and whether its rows are valid, and lets the sightlines' automation see the update.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from duckdb import DuckDBPyConnection

from kscope_openai_pipeline.defs.kscope.assets import VALID_ROWS, check_description, valid_rows


@dataclass(frozen=True)
class RecordedLoad:
    """What was recorded for one loaded table."""

    asset_key: dg.AssetKey
    rows: int
    check_passed: bool


def record_input_loads(
    instance: dg.DagsterInstance,
    conn: DuckDBPyConnection,
    loaded: Mapping[str, int],
    source: str,
) -> list[RecordedLoad]:
    """Record each loaded table (`kscope.<name>` -> rows loaded) in `instance`.

    `conn` is the warehouse the rows went to (the check reads the stored table, every
    organization's rows, exactly as the check run from the UI would); `source` says where
    they came from (files, or the sandbox) in the materialization's metadata.
    """
    recorded = []
    for table, rows_loaded in loaded.items():
        name = table.split(".", 1)[1]
        key = dg.AssetKey(["kscope", name])
        passed, check_metadata = valid_rows(conn, name)
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=key,
                description=f"Loaded from {source}",
                metadata={
                    "dagster/row_count": dg.MetadataValue.int(int(check_metadata["rows"])),
                    "rows_loaded": dg.MetadataValue.int(rows_loaded),
                    "source": source,
                },
            )
        )
        latest = instance.fetch_materializations(key, limit=1).records[0]
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=key,
                check_name=VALID_ROWS,
                passed=passed,
                metadata=check_metadata,
                target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
                    storage_id=latest.storage_id,
                    run_id=latest.run_id,
                    timestamp=latest.timestamp,
                ),
                severity=dg.AssetCheckSeverity.ERROR,
                description=check_description(name),
                blocking=True,
            )
        )
        recorded.append(RecordedLoad(key, rows_loaded, passed))
    return recorded


def describe(recorded: list[RecordedLoad]) -> str:
    """One line for the commands that record loads."""
    passed = sum(r.check_passed for r in recorded)
    keys = ", ".join(r.asset_key.to_user_string() for r in recorded)
    return (
        f"Recorded in Dagster: {keys} materialized; "
        f"{VALID_ROWS} passed {passed} of {len(recorded)}"
    )
