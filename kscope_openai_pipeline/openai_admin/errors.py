"""One exception family for the Admin API client, with messages a user can act on.

Every error names the endpoint (the path template, e.g.
`/organization/projects/{project_id}/users`) so a failed asset run says where it broke.
None of them ever contains the admin key: API messages are scrubbed before they are
stored (see `Secret.scrub`).
"""

from __future__ import annotations

import re
from typing import Any

_MAX_VALUE_REPR = 200

#: The audit log endpoint, whose "switched off" answer is not an error of the caller's.
AUDIT_LOGS_ENDPOINT = "/organization/audit_logs"
#: How the API says audit logging is off (message or code), as opposed to a missing scope.
_AUDIT_OFF = re.compile(
    r"audit[ _-]?log\w*\W+(?:\w+\W+){0,4}?(?:(?:not|never)\W+(?:been\W+)?"
    r"(?:enabled|activated|turned on|switched on)|disabled|(?:turned|switched) off)\b"
    r"|(?:requires|needs|enable)\W+audit[ _-]?log"
    r"|audit[ _-]?log\w*[ _-](?:disabled|off|not[ _-]enabled)",
    re.IGNORECASE,
)
#: Where an owner switches it on (OpenAI dashboard); said once, in the error and the log.
AUDIT_LOGGING_HOW_TO = (
    "an organization owner can switch audit logging on in the OpenAI dashboard: Organization "
    "settings > Data controls > Data retention > Audit logging (once on, it cannot be "
    "switched off again); events are recorded from that moment on"
)


class AdminApiError(Exception):
    """Base class: something went wrong talking to the OpenAI Admin API."""

    def __init__(self, message: str, *, endpoint: str, status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class AdminApiStatusError(AdminApiError):
    """The API answered with an HTTP error status that has no more specific class."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status: int | None,
        api_message: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.api_message = api_message
        self.param = param
        self.code = code


class AdminApiAuthError(AdminApiStatusError):
    """401: the key is wrong, revoked or missing."""


class AdminApiPermissionError(AdminApiStatusError):
    """403: the key is not an admin key, or lacks a scope the endpoint needs."""


class AdminApiBadRequest(AdminApiStatusError):
    """400: a parameter was rejected (or the resource refuses the call, e.g. archived)."""


class AdminApiNotFound(AdminApiStatusError):
    """404: the path or the object does not exist."""


class AdminApiAuditLogDisabled(AdminApiStatusError):
    """The organization has audit logging switched off, so there is no audit log to read.

    Not a failure of the pipeline: the audit log asset writes nothing, says how to switch
    it on and warns; everything else runs as usual.
    """


def is_audit_logging_off(
    endpoint: str, status: int, api_message: str | None, code: str | None
) -> bool:
    """Whether an error answer of the audit log endpoint means "audit logging is off".

    OpenAI documents no status for it; the message (or code) is what identifies it, so a
    403 for a missing scope (`api.audit_logs.read`) is still a permission error.
    """
    if endpoint != AUDIT_LOGS_ENDPOINT or status not in (400, 403, 404):
        return False
    return any(_AUDIT_OFF.search(text) for text in (api_message, code) if text)


class AdminApiRetryExhausted(AdminApiError):
    """Transient failures (429, 5xx, timeouts, dropped connections) outlasted the retries."""

    def __init__(
        self, message: str, *, endpoint: str, attempts: int, last_status: int | str | None
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            status=last_status if isinstance(last_status, int) else None,
        )
        self.attempts = attempts
        self.last_status = last_status


class AdminApiOrganizationError(AdminApiError):
    """Which organization the key reads is unknown, or not the one configured.

    `configured` is the organization the pipeline was told (None: not set); `reported`
    maps each id the API gave to where it said so (the response header, cost rows)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        configured: str | None,
        reported: dict[str, list[str]],
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.configured = configured
        self.reported = reported


class AdminApiResponseError(AdminApiError):
    """A 2xx response whose body breaks the contract: not JSON, missing or wrong-typed
    field, negative metric, bucket outside the asked window, duplicates, bad cursor."""

    def __init__(self, *, endpoint: str, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = value if isinstance(value, str) else repr(value)
        if len(shown) > _MAX_VALUE_REPR:
            shown = shown[:_MAX_VALUE_REPR] + "..."
        super().__init__(
            f"{endpoint}: invalid response: field {field!r} {reason} (got {shown})",
            endpoint=endpoint,
        )


def status_error(
    *,
    endpoint: str,
    status: int,
    api_message: str | None,
    param: str | None,
    code: str | None,
) -> AdminApiStatusError:
    """Build the typed, actionable error for a non-retryable HTTP status."""
    said = f" The API said: {api_message}" if api_message else ""
    kwargs: dict[str, Any] = {
        "endpoint": endpoint,
        "status": status,
        "api_message": api_message,
        "param": param,
        "code": code,
    }
    if is_audit_logging_off(endpoint, status, api_message, code):
        return AdminApiAuditLogDisabled(
            f"{endpoint}: the organization has audit logging switched off (HTTP {status}), so "
            f"there is no audit log to read: {AUDIT_LOGGING_HOW_TO}.{said}",
            **kwargs,
        )
    if status == 401:
        return AdminApiAuthError(
            f"{endpoint}: the admin key was rejected (401): check OPENAI_ADMIN_KEY is a "
            f"current admin key (sk-admin-...), not revoked or expired.{said}",
            **kwargs,
        )
    if status == 403:
        return AdminApiPermissionError(
            f"{endpoint}: permission denied (403): the key is not an admin key or lacks a "
            "scope this endpoint needs (e.g. api.usage.read). Create an admin key with the "
            f"Admin role in the organization settings (API keys > Admin keys).{said}",
            **kwargs,
        )
    if status == 400:
        which = f"parameter {param!r}" if param else "a request parameter"
        return AdminApiBadRequest(
            f"{endpoint}: bad request (400): the API rejected {which}"
            f"{f' (code {code})' if code else ''}.{said}",
            **kwargs,
        )
    if status == 404:
        return AdminApiNotFound(
            f"{endpoint}: not found (404): the path or object does not exist; check the "
            f"base URL ends with /v1 and the id is current.{said}",
            **kwargs,
        )
    return AdminApiStatusError(f"{endpoint}: HTTP {status}.{said}", **kwargs)
