"""The Kscope inputs as external assets: other Kscope crawlers write these tables into the
same warehouse (or `kscope-openai load-inputs` imports them from files).

Dagster does not materialize them; it shows their schema and runs a check that validates
the stored rows with the same pandera model the loader uses, so a crawler that wrote a
bad row is caught before the sightlines read it. A load through `kscope-openai
load-inputs`, the demo or `kscope-openai ui` is recorded as a materialization of each
loaded table with this check evaluated (`loads.py`).
"""

import dagster as dg
import pandera.pandas as pa
from duckdb import DuckDBPyConnection

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.metadata import definition_metadata
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.schemas import kscope as schemas

_DESCRIPTIONS = {
    "dev_tokens": "Kscope Dev Tokens: which provider keys are registered with the gateway.",
    "gateway_costs": "What the Kscope gateway metered per day, provider key, project, model.",
    "engineers": "The Kscope Asset Registry of engineers (emails, aliases, status).",
}
#: The check every Kscope input has (and every recorded load evaluates).
VALID_ROWS = "valid_rows"
MODELS: dict[str, type[pa.DataFrameModel]] = {
    "dev_tokens": schemas.DevTokens,
    "gateway_costs": schemas.GatewayCosts,
    "engineers": schemas.Engineers,
}

kscope_inputs = [
    dg.AssetSpec(
        key=["kscope", name],
        description=_DESCRIPTIONS[name],
        group_name="kscope_inputs",
        metadata=definition_metadata(model),
        kinds={"duckdb"},
    )
    for name, model in MODELS.items()
]


def valid_rows(
    conn: DuckDBPyConnection, name: str
) -> tuple[bool, dict[str, int | str]]:
    """(passed, metadata) of the `valid_rows` check of `kscope/<name>` over the stored rows.

    Shared by the check definition and by the loads recorded in Dagster
    (`loads.record_input_loads`), so a load reports exactly what the check would.
    """
    model = MODELS[name]
    warehouse.ensure_schema(conn)
    frame = warehouse.read_table(conn, model.Config.name)
    try:
        warehouse.validate(model, frame, model.Config.name)
    except warehouse.WarehouseValidationError as err:
        return False, {"rows": len(frame), "problem": str(err)}
    return True, {"rows": len(frame)}


def check_description(name: str) -> str:
    return f"Every stored row of {MODELS[name].Config.name} passes its pandera model."


def _validity_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["kscope", name]),
        name=VALID_ROWS,
        description=check_description(name),
        blocking=True,
    )
    def _check(duckdb: WarehouseResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            passed, metadata = valid_rows(conn, name)
        return dg.AssetCheckResult(passed=passed, metadata=metadata)

    return _check


kscope_input_checks = [_validity_check(name) for name in MODELS]
