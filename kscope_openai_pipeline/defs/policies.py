"""How the assets run, shared by every folder: the DuckDB writer pool, the API retry
policy and the single-run backfill policy.

Why in one place: an asset that writes DuckDB outside the pool can hit the file lock of
another run, and an asset that pages the API without the retry policy fails a whole
backfill on one bad hour; each asset names these policies instead of restating them.
"""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")

#: Every asset that writes DuckDB is in this pool; dagster.yaml limits it to one run.
WRITER_POOL = "duckdb_writer"

#: A run that still failed after the client's own per-request retries is re-run twice,
#: 30 s and 60 s later (rate limits and outages pass; wrong keys fail without retry).
API_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)

#: One run covers a whole partition range. `dagster asset materialize --partition-range`
#: refuses a selection unless EVERY selected asset has a single-run backfill policy,
#: unpartitioned ones included, so the inventory declares it too.
SINGLE_RUN = dg.BackfillPolicy.single_run()
