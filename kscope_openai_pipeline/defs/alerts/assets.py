"""`sightlines/alerts`: the findings of the sightlines that need a person, kept in
sightlines.alerts, with one WARN check per kind while findings of it are open.

Why an asset downstream of the sightlines (in their group): it is computed in the same
run as the tables it reads (the daily refresh, `sightlines_job`, the sightlines'
automation), so a finding is never judged on tables of another day. It only decides and
merges findings; the messages go out from `alerts_notify_job`, started by a sensor, so a
slow or failing webhook never holds a pipeline run.

Numbers in the metadata are numbers (counts as ints, dollars as floats), so the UI plots
them across materializations; the table keeps exact DECIMALs inside `details`.
"""

import dagster as dg

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.alerts import detect, store
from kscope_openai_pipeline.alerts.kinds import KINDS, AlertRules
from kscope_openai_pipeline.defs.alerts.records import sync_operational, utc_now
from kscope_openai_pipeline.defs.metadata import column_schema, preview
from kscope_openai_pipeline.defs.policies import WRITER_POOL
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.schemas.alerts import Alerts
from kscope_openai_pipeline.sightlines import runner

ALERTS_KEY = dg.AssetKey(["sightlines", "alerts"])
#: The sightline tables the findings are decided from (the daily ledgers among them).
SIGHTLINE_KEYS = [
    dg.AssetKey(["sightlines", name])
    for name in (
        "gateway_bypass", "gateway_bypass_daily", "billing_reconciliation", "seat_allocation",
        "seat_governance", "seat_governance_daily",
    )
]  # fmt: skip

#: Recomputed with the sightlines: when they were updated by a run without the alerts
#: (the sightlines' automation requests both in one run), once nothing upstream is
#: missing or still running.
AFTER_SIGHTLINES = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after_sightlines")


#: Kinds that can be open, each with its check (events, failed runs, are never open).
CHECKED_KINDS = [kind for kind in KINDS.values() if kind.resolves]


def check_name(kind: str) -> str:
    return f"no_open_{kind}"


@dg.asset(
    key=ALERTS_KEY,
    group_name="sightlines",
    description=(
        "Findings that need a person (new bypass keys, bypass spend, reconciliation gaps, "
        "unattributed members, lost API access, stale data, failed runs), one row each "
        "for its whole life; what was announced, and when."
    ),
    deps=SIGHTLINE_KEYS,
    metadata={"dagster/column_schema": column_schema(Alerts), "dagster/table_name": store.TABLE},
    kinds={"duckdb", "sql"},
    pool=WRITER_POOL,
    automation_condition=AFTER_SIGHTLINES,
    check_specs=[
        dg.AssetCheckSpec(
            check_name(kind.name),
            asset=ALERTS_KEY,
            description=f"WARN while {kind.title.lower()} findings are open. {kind.meaning}",
        )
        for kind in CHECKED_KINDS
    ],
)
def alerts(context: dg.AssetExecutionContext, duckdb: WarehouseResource) -> dg.MaterializeResult:
    rules = AlertRules.from_settings()
    with duckdb.get_connection() as conn:
        store.ensure_alerts_table(conn)
        as_of = runner.default_as_of(conn)
        if as_of is None:
            raise dg.Failure(
                "no usage or costs in the warehouse yet: materialize openai/usage and "
                "openai/costs, then the sightlines",
                allow_retries=False,
            )
        findings, decided = detect.warehouse_findings(conn, rules, as_of)
        merged = store.merge(conn, findings, decided, as_of)
        organization = store.organization(conn, settings.organization_id())
        synced = sync_operational(conn, context.instance, rules, organization, utc_now())
        open_now = store.open_by_kind(conn)
        amounts = store.open_amounts(conn)
        open_preview = preview(conn, store.OPEN_PREVIEW_SQL, [store.RESOLVING_KINDS], limit=20)
    context.log.info(
        "alerts as of %s: %d new, %d resolved, %d open",
        as_of,
        merged.new + synced.new,
        merged.resolved + synced.resolved,
        sum(s.open for s in open_now.values()),
    )
    metadata: dict[str, object] = {
        "as_of": as_of.isoformat(),
        "open_findings": sum(s.open for s in open_now.values()),
        "new_findings": merged.new + synced.new,
        "resolved_findings": merged.resolved + synced.resolved,
        "open_bypass_spend_usd": dg.MetadataValue.float(float(amounts["bypass_spend_usd"])),
        "open_reconciliation_gap_usd": dg.MetadataValue.float(
            float(amounts["reconciliation_gap_usd"])
        ),
        "open": open_preview,
        "disabled_kinds": ", ".join(sorted(rules.disabled)) or "none",
    }
    for kind in CHECKED_KINDS:
        metadata[f"open_{kind.name}"] = open_now[kind.name].open if kind.name in open_now else 0
    checks = []
    for kind in CHECKED_KINDS:
        summary = open_now.get(kind.name, store.KindSummary(0, ()))
        disabled = kind.name in rules.disabled
        checks.append(
            dg.AssetCheckResult(
                asset_key=ALERTS_KEY,
                check_name=check_name(kind.name),
                passed=disabled or summary.open == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "open": summary.open,
                    "subjects": dg.MetadataValue.json(list(summary.subjects[:20])),
                    "disabled": disabled,
                },
            )
        )
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
