"""What OpenAI says: the inventory and daily usage and costs, their checks and jobs."""

import dagster as dg

from kscope_openai_pipeline.defs.openai.access import access_check
from kscope_openai_pipeline.defs.openai.daily import daily_assets
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets, organization
from kscope_openai_pipeline.defs.openai.jobs import daily_job, inventory_job


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[access_check, *inventory_assets, organization, *daily_assets],
        jobs=[inventory_job, daily_job],
    )
