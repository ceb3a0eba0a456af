"""Jobs over the OpenAI assets alone: refresh the inventory, or fetch a range of days."""

import dagster as dg

from kscope_openai_pipeline.defs.partitions import daily_partitions

ACCESS = dg.AssetSelection.groups("openai_access")
INVENTORY = dg.AssetSelection.groups("openai_inventory")
DAILY = dg.AssetSelection.groups("openai_daily")

inventory_job = dg.define_asset_job(
    "openai_inventory_job",
    selection=INVENTORY,
    description="Refresh the OpenAI inventory (projects, keys, users, invites, accounts).",
)

daily_job = dg.define_asset_job(
    "openai_daily_job",
    selection=DAILY,
    partitions_def=daily_partitions,
    description="Usage and costs for a range of days (one run pages the whole range).",
)
