"""The Kscope inputs as external assets: other Kscope crawlers write these tables into the
same warehouse (or `kscope-openai load-inputs` imports them from files).

Dagster does not materialize them; it shows their schema and runs a check that validates
the stored rows with the same pandera model the loader uses, so a crawler that wrote a
bad row is caught before the sightlines read it.
"""

import dagster as dg
import pandera.pandas as pa

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.metadata import definition_metadata
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.schemas import kscope as schemas

_DESCRIPTIONS = {
    "dev_tokens": "Kscope Dev Tokens: which provider keys are registered with the gateway.",
    "gateway_costs": "What the Kscope gateway metered per day, provider key, project, model.",
    "engineers": "The Kscope Asset Registry of engineers (emails, aliases, status).",
}
_MODELS: dict[str, type[pa.DataFrameModel]] = {
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
    for name, model in _MODELS.items()
]


def _validity_check(name: str, model: type[pa.DataFrameModel]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["kscope", name]),
        name="valid_rows",
        description=f"Every stored row of {model.Config.name} passes its pandera model.",
        blocking=True,
    )
    def _check(duckdb: WarehouseResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            warehouse.ensure_schema(conn)
            frame = warehouse.read_table(conn, model.Config.name)
        try:
            warehouse.validate(model, frame, model.Config.name)
        except warehouse.WarehouseValidationError as err:
            return dg.AssetCheckResult(
                passed=False, metadata={"rows": len(frame), "problem": str(err)}
            )
        return dg.AssetCheckResult(passed=True, metadata={"rows": len(frame)})

    return _check


kscope_input_checks = [_validity_check(name, model) for name, model in _MODELS.items()]
