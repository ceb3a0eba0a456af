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


def register_writer_pool(instance: dg.DagsterInstance) -> int | None:
    """Give WRITER_POOL its limit in `instance` now; return the limit (None: no limits).

    Why: Dagster stores a pool's limit from `concurrency.pools.default_limit` only when a
    queued run first uses the pool, so until then Deployment > Concurrency says "No pool
    limits have been configured" although dagster.yaml does configure one. This applies
    the same rule Dagster's run queue applies (a pool without a stored limit, or one still
    on an outdated default, gets the default), so a limit set by hand is never touched.
    """
    storage = instance.event_log_storage
    default = instance.global_op_concurrency_default_limit
    if not storage.supports_global_concurrency_limits:
        return None
    stored = {pool.name: pool for pool in storage.get_pool_limits()}
    current = stored.get(WRITER_POOL)
    if default and (current is None or (current.from_default and current.limit != default)):
        storage.initialize_concurrency_limit_to_default(WRITER_POOL)
        return default
    return current.limit if current is not None else None
