"""The one `dg.Definitions` of kscope-openai-pipeline: merges the defs below, nothing else."""

from __future__ import annotations

import dagster as dg

from kscope_openai_pipeline.defs import operations
from kscope_openai_pipeline.defs.kscope.assets import kscope_input_checks, kscope_inputs
from kscope_openai_pipeline.defs.openai.daily import daily_assets
from kscope_openai_pipeline.defs.openai.inventory import inventory_assets, organization
from kscope_openai_pipeline.defs.resources import build_resources
from kscope_openai_pipeline.defs.sightlines.assets import sightlines

defs = dg.Definitions(
    assets=[*inventory_assets, organization, *daily_assets, *kscope_inputs, sightlines],
    asset_checks=kscope_input_checks,
    jobs=[
        operations.inventory_job,
        operations.daily_job,
        operations.sightlines_job,
        operations.refresh_job,
    ],
    schedules=[operations.daily_refresh],
    sensors=[operations.publish_analyst_copy],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
