"""Re-export a range of days as FOCUS (the daily refresh also runs the export)."""

import dagster as dg

from kscope_openai_pipeline.defs.partitions import daily_partitions

EXPORTS = dg.AssetSelection.groups("exports")

focus_export_job = dg.define_asset_job(
    "focus_export_job",
    selection=EXPORTS,
    partitions_def=daily_partitions,
    description="Re-export a range of days as FOCUS 1.2 (the rows and their months' files).",
)
