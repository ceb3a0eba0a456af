"""Which failures the asset retry policy may retry.

Dagster's RetryPolicy retries any exception. A wrong key, a missing scope, a bad
parameter, a response that fails validation or rows that fail pandera will fail again
the same way, so they become `dg.Failure(allow_retries=False)` with the actionable
message; only transient trouble (retries exhausted on 429/5xx, a locked file) is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from kscope_openai_pipeline.openai_admin import (
    AdminApiOrganizationError,
    AdminApiResponseError,
    AdminApiRetryExhausted,
    AdminApiStatusError,
)
from kscope_openai_pipeline.warehouse import WarehouseValidationError

PERMANENT = (
    AdminApiStatusError,
    AdminApiResponseError,
    AdminApiOrganizationError,  # the key is another organization's: no retry changes that
    WarehouseValidationError,
)


@contextmanager
def permanent_failures_are_final() -> Iterator[None]:
    try:
        yield
    except AdminApiRetryExhausted:
        raise
    except PERMANENT as err:
        raise dg.Failure(description=f"{type(err).__name__}: {err}", allow_retries=False) from err
