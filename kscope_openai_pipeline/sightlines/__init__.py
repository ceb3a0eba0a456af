"""The sightlines: SQL over the warehouse that joins OpenAI's view to Kscope's records.

No Dagster here. `params` holds what a run depends on, `runner` computes the tables in one
transaction (SQL in `sql/`), `summaries` and `chart` describe them for people, `checks`
verifies them. The Dagster assets in `defs/sightlines/` call these.

    from kscope_openai_pipeline import sightlines
    results = sightlines.compute_all(conn, sightlines.SightlineParams(as_of=day))
"""

from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    DEFAULT_SUBSCRIPTION_PATTERNS,
    GATEWAY_BYPASS,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SightlineError,
    SightlineParams,
    SightlineResult,
)
from kscope_openai_pipeline.sightlines.runner import (
    compute_all,
    default_as_of,
    ensure_sightlines_schema,
    recon_range,
)

__all__ = [
    "BILLING_RECONCILIATION",
    "DEFAULT_SUBSCRIPTION_PATTERNS",
    "GATEWAY_BYPASS",
    "SEAT_ALLOCATION",
    "SEAT_GOVERNANCE",
    "SightlineError",
    "SightlineParams",
    "SightlineResult",
    "compute_all",
    "default_as_of",
    "ensure_sightlines_schema",
    "recon_range",
]
