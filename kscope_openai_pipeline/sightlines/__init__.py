"""The sightlines: SQL over the warehouse that joins OpenAI's view to Kscope's records.

No Dagster here. `params` holds what a run depends on, `runner` computes the tables in one
transaction (SQL in `sql/`), `summaries` (and `summaries_daily`) and `chart` describe them
for people, `checks` verifies them. The "now" tables judge every key and member by today's
inventory and tokens; the `_daily` tables judge each day by what was true that day. The
Dagster assets in `defs/sightlines/` call these.

    from kscope_openai_pipeline import sightlines
    results = sightlines.compute_all(conn, sightlines.SightlineParams(as_of=day))
"""

from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    DEFAULT_SUBSCRIPTION_PATTERNS,
    GATEWAY_BYPASS,
    GATEWAY_BYPASS_DAILY,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SEAT_GOVERNANCE_DAILY,
    SightlineError,
    SightlineParams,
    SightlineResult,
)
from kscope_openai_pipeline.sightlines.runner import (
    compute_all,
    daily_range,
    default_as_of,
    ensure_sightlines_schema,
    recon_range,
)

__all__ = [
    "BILLING_RECONCILIATION",
    "DEFAULT_SUBSCRIPTION_PATTERNS",
    "GATEWAY_BYPASS",
    "GATEWAY_BYPASS_DAILY",
    "SEAT_ALLOCATION",
    "SEAT_GOVERNANCE",
    "SEAT_GOVERNANCE_DAILY",
    "SightlineError",
    "SightlineParams",
    "SightlineResult",
    "compute_all",
    "daily_range",
    "default_as_of",
    "ensure_sightlines_schema",
    "recon_range",
]
