"""Recompute the sightlines on demand (the daily refresh also runs them)."""

import dagster as dg

SIGHTLINES = dg.AssetSelection.groups("sightlines")

sightlines_job = dg.define_asset_job(
    "sightlines_job",
    selection=SIGHTLINES,
    description="Recompute the gateway-bypass, reconciliation and seat sightlines.",
)
