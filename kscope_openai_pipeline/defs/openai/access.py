"""`openai/access_check`: the permission preflight, first in the daily job.

Why an asset upstream of every OpenAI asset: a key that lost a scope should fail the
scheduled run at once, with the table of what is missing and what to do, instead of deep
inside the run on the first page that needs the scope (after the inventory was rewritten).
Every API-reading asset depends on it, so in any run that includes it, it runs first and a
failure skips them all. It costs one request per permission (seven) and nothing else: the
organization the probes heard is kept for the rest of the run, so no asset asks again.

Every check, passed or failed, is also recorded as an observation of the asset with each
permission's answer (`probes`): the alerts compare checks over time (an endpoint that
answered ok and now answers 401/403 is `access_lost`), and a failed check has no
materialization to carry them.
"""

import dagster as dg

from kscope_openai_pipeline.defs.metadata import markdown_table
from kscope_openai_pipeline.defs.policies import API_RETRY, SINGLE_RUN
from kscope_openai_pipeline.defs.resources.openai_admin import OpenAIAdminResource
from kscope_openai_pipeline.openai_admin.access import PERMISSIONS

ACCESS_CHECK_KEY = dg.AssetKey(["openai", "access_check"])
ACCESS_GROUP = "openai_access"


@dg.asset(
    key=ACCESS_CHECK_KEY,
    group_name=ACCESS_GROUP,
    description=(
        "Preflight of the admin key: one cheap request per permission the crawl needs "
        f"({', '.join(p.name for p in PERMISSIONS if p.required)}; the audit log optional). "
        "Fails the run with the table of results and what to do when a required one is "
        "not ok, before any table is touched; also establishes the organization."
    ),
    retry_policy=API_RETRY,
    backfill_policy=SINGLE_RUN,
    kinds={"openai"},
)
def access_check(
    context: dg.AssetExecutionContext, openai_admin: OpenAIAdminResource
) -> dg.MaterializeResult:
    report = openai_admin.check_access(context)
    context.log_event(
        dg.AssetObservation(
            asset_key=ACCESS_CHECK_KEY,
            metadata={
                "probes": dg.MetadataValue.json(
                    {
                        p.permission.label: {
                            "endpoint": p.endpoint,
                            "result": p.result,
                            "status": p.status,
                            "ok": p.ok,
                        }
                        for p in report.probes
                    }
                )
            },
        )
    )
    table = report.table()
    rows = [(p.permission.label, p.endpoint, p.result, p.advice) for p in report.probes]
    metadata = {
        "permissions": dg.MetadataValue.md(
            markdown_table(["permission", "endpoint probed", "result", "what to do"], rows)
        ),
        "requests": sum(p.status is not None for p in report.probes),
    }
    if not report.ok:
        # a key problem stays a key problem; only an unreachable or failing API may pass
        raise dg.Failure(
            description=f"{report.summary()}\n\n{table}",
            metadata=metadata,
            allow_retries=report.transient,
        )
    context.log.info("%s\n%s", report.summary(), table)
    organization = openai_admin.adopt_access_report(report)
    context.log.info(
        "organization %s (%s)",
        organization,
        "OPENAI_ORGANIZATION_ID" if openai_admin.configured_organization
        else f"as the API says: {report.evidence.describe()}",
    )
    return dg.MaterializeResult(
        metadata={**metadata, "organization_id": organization, "source": openai_admin.source}
    )
