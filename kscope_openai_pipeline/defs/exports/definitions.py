"""The exports: the FOCUS 1.2 export of the costs and its backfill job."""

import dagster as dg

from kscope_openai_pipeline.defs.exports.assets import focus_costs
from kscope_openai_pipeline.defs.exports.jobs import focus_export_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[focus_costs], jobs=[focus_export_job])
