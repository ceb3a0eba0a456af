"""How the pipeline runs on its own: the daily refresh and the analyst copy's publishing."""

import dagster as dg

from kscope_openai_pipeline.defs.operations.publish import publish_analyst_copy
from kscope_openai_pipeline.defs.operations.refresh import daily_refresh, refresh_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[refresh_job], schedules=[daily_refresh], sensors=[publish_analyst_copy]
    )
