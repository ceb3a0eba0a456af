"""The sightlines: gateway bypass, billing reconciliation, seat allocation and governance."""

import dagster as dg

from kscope_openai_pipeline.defs.sightlines.assets import sightlines
from kscope_openai_pipeline.defs.sightlines.jobs import sightlines_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[sightlines], jobs=[sightlines_job])
