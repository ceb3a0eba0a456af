"""Client for the OpenAI Admin API: pagination, retries, typed errors, normalized records.

Knows HTTP and the API, not Dagster or DuckDB. Import from here.
"""

from .client import API_KEY_COSTS_FIRST_DAY, DEFAULT_BASE_URL, AdminClient
from .errors import (
    AUDIT_LOGGING_HOW_TO,
    AdminApiAuditLogDisabled,
    AdminApiAuthError,
    AdminApiBadRequest,
    AdminApiError,
    AdminApiNotFound,
    AdminApiPermissionError,
    AdminApiResponseError,
    AdminApiRetryExhausted,
    AdminApiStatusError,
)
from .records import (
    COST_RECORD_KEYS,
    USAGE_FAMILIES,
    USAGE_GROUP_BY,
    USAGE_METRICS,
    USAGE_RECORD_KEYS,
)
from .retry import RetryPolicy
from .secret import Secret
from .stats import EndpointStats, RequestStats

__all__ = [
    "API_KEY_COSTS_FIRST_DAY",
    "AUDIT_LOGGING_HOW_TO",
    "COST_RECORD_KEYS",
    "DEFAULT_BASE_URL",
    "USAGE_FAMILIES",
    "USAGE_GROUP_BY",
    "USAGE_METRICS",
    "USAGE_RECORD_KEYS",
    "AdminApiAuditLogDisabled",
    "AdminApiAuthError",
    "AdminApiBadRequest",
    "AdminApiError",
    "AdminApiNotFound",
    "AdminApiPermissionError",
    "AdminApiResponseError",
    "AdminApiRetryExhausted",
    "AdminApiStatusError",
    "AdminClient",
    "EndpointStats",
    "RequestStats",
    "RetryPolicy",
    "Secret",
]
