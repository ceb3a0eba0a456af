"""The sightlines: gateway bypass, billing reconciliation, seat allocation and governance,
and the automation that recomputes them after their inputs change."""

import dagster as dg

from kscope_openai_pipeline.defs.sightlines.assets import sightlines
from kscope_openai_pipeline.defs.sightlines.automation import sightlines_automation
from kscope_openai_pipeline.defs.sightlines.jobs import sightlines_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[sightlines], jobs=[sightlines_job], sensors=[sightlines_automation]
    )
