"""The Admin API's error envelope, raised by route code and rendered by the server.

Why one exception type: every rule the sandbox enforces (limits, required parameters,
cursors, auth) must answer with exactly the body OpenAI sends,
`{"error": {"message", "type", "param", "code"}}`, so route code raises `ApiError` and
the HTTP layer turns it into a response in one place. The helpers below hold the
message texts, so that tests and routes share a single wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

INVALID_REQUEST = "invalid_request_error"


@dataclass
class ApiError(Exception):
    """An HTTP error with the OpenAI error envelope as its body."""

    status: int
    message: str
    type: str = INVALID_REQUEST
    param: str | None = None
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The JSON body: all four keys always present, `param`/`code` may be null."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid_type(param: str) -> ApiError:
    """A parameter that is not of its declared type (e.g. `start_time=abc`)."""
    return ApiError(400, f"Invalid type for '{param}'.", param=param, code="invalid_type")


def missing_param(param: str) -> ApiError:
    """A required parameter is absent; the live API answers with `param: null` here."""
    return ApiError(
        400, f"Missing required parameter: '{param}'.", param=None, code=INVALID_REQUEST
    )


def invalid_value(param: str, value: str, allowed: Iterable[str]) -> ApiError:
    """A parameter outside its enum; the message lists what is supported."""
    choices = ", ".join(f"'{a}'" for a in allowed)
    return ApiError(
        400,
        f"Invalid value for '{param}': '{value}'. Supported values are: {choices}.",
        param=param,
        code="invalid_value",
    )


def limit_error(value: int, low: int, high: int) -> ApiError:
    """Out-of-range `limit`: rejected, never clamped (the live costs API does the same)."""
    if value > high:
        text = f"Invalid limit provided: {value}. Limit must be less than or equal to {high}."
    else:
        text = f"Invalid limit provided: {value}. Limit must be greater than or equal to {low}."
    return ApiError(400, text, param=None, code=INVALID_REQUEST)


def invalid_url(method: str, path: str) -> ApiError:
    """Unknown path or method: OpenAI's own wording for a 404 on an unrouted URL."""
    return ApiError(404, f"Invalid URL ({method} {path})", param=None, code=None)


def not_found(kind: str, object_id: str, param: str) -> ApiError:
    """A routed path whose id names nothing (unknown or deleted object)."""
    return ApiError(
        404, f"No {kind} found with id '{object_id}'.", param=param, code="not_found"
    )


def missing_scope(scope: str) -> ApiError:
    """The 403 of a key without `scope`: what a project key gets on an admin endpoint."""
    return ApiError(
        403,
        "You have insufficient permissions for this operation. Missing scopes: "
        f"{scope}. Check that you have the correct role in your organization (Reader, "
        "Writer, Owner) and project (Member, Owner), and if you're using a restricted "
        "API key, that it has the necessary scopes.",
        param=None,
        code=None,
    )


#: What the audit-log endpoint answers while the organization has audit logging off.
AUDIT_LOGGING_OFF = (
    "Audit logging is not enabled for this organization. An organization owner can enable "
    "it in the organization settings (Data controls > Data retention)."
)
