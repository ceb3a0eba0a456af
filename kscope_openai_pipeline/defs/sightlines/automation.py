"""The sightlines follow their upstream: declarative automation instead of waiting for the
next scheduled run.

Why: a backfill of the daily assets from the UI (or a load of the Kscope inputs, or a
re-run of the inventory) changes what the sightlines join, and until they are recomputed
the tables and the UI disagree. The condition requests the sightlines once after their
inputs were updated by a run that did not compute them too:

- `any_deps_updated().since_last_handled()`: an input was updated since the sightlines
  were last requested or computed. Dagster ignores an input updated by a run that also
  computed the sightlines, so the daily refresh (inventory, days and sightlines in one
  run) triggers nothing more.
- some usage or costs are stored: the sightlines need at least one day of either (loading
  the Kscope inputs into an empty warehouse would only start a run bound to fail).
- no input in progress, and the sightlines not in progress: a backfill still writing its
  days, or a run already requested, is waited for (one run, not one per finished step).

The requested run contains only the sightlines, so it queues in the DuckDB writer pool
like any other run. `sightlines_automation` evaluates the condition every 30 s in the
daemon (`dagster dev` runs one); it is on by default.
"""

import dagster as dg

from kscope_openai_pipeline.defs.sightlines.jobs import SIGHTLINES

#: The inputs that must hold some data before the sightlines can be computed.
_USAGE_OR_COSTS = dg.AssetSelection.assets(["openai", "usage"], ["openai", "costs"])

AFTER_UPSTREAM_UPDATES = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & dg.AutomationCondition.any_deps_match(~dg.AutomationCondition.missing())
    .allow(_USAGE_OR_COSTS)
    .with_label("some_usage_or_costs_stored")
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after_upstream_updates")

sightlines_automation = dg.AutomationConditionSensorDefinition(
    "sightlines_automation",
    target=SIGHTLINES,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Recomputes the sightlines once after a run (a backfill, the inventory, a load of "
        "the Kscope inputs) updated their inputs without them."
    ),
)
