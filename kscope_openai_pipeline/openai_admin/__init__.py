"""Client for the OpenAI Admin API: pagination, retries, typed errors, typed decoding.

Knows HTTP and the API, not Dagster or DuckDB. Import from here.
"""

from .bucket_reads import API_KEY_COSTS_FIRST_DAY
from .buckets import ColumnPage, Repeated
from .client import DEFAULT_BASE_URL, AdminClient
from .errors import (
    AUDIT_LOGGING_HOW_TO,
    AdminApiAuditLogDisabled,
    AdminApiAuthError,
    AdminApiBadRequest,
    AdminApiError,
    AdminApiNotFound,
    AdminApiOrganizationError,
    AdminApiPermissionError,
    AdminApiResponseError,
    AdminApiRetryExhausted,
    AdminApiStatusError,
)
from .organization import OrganizationEvidence, resolve_organization
from .retry import RetryPolicy
from .secret import Secret
from .stats import EndpointStats, RequestStats
from .usage import (
    COST_RECORD_KEYS,
    USAGE_FAMILIES,
    USAGE_GROUP_BY,
    USAGE_METRICS,
    USAGE_RECORD_KEYS,
)

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
    "AdminApiOrganizationError",
    "AdminApiPermissionError",
    "AdminApiResponseError",
    "AdminApiRetryExhausted",
    "AdminApiStatusError",
    "AdminClient",
    "ColumnPage",
    "EndpointStats",
    "OrganizationEvidence",
    "Repeated",
    "RequestStats",
    "RetryPolicy",
    "Secret",
    "resolve_organization",
]
