"""The sandbox's authentication: which key may read what, answered in OpenAI's words."""

from __future__ import annotations

from .api_errors import ApiError, missing_scope

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
    "field (with blank username) if you're accessing the API from your browser and are "
    "prompted for a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)


def redact(key: str) -> str:
    """How OpenAI echoes a rejected key: a short prefix, asterisks, the last four."""
    if len(key) < 12:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def authorize(
    header: str | None,
    admin_key: str,
    expired: frozenset[str],
    scope: str,
    denied: frozenset[str] = frozenset(),
) -> None:
    """Raise the API's own 401/403 unless `header` carries the admin key with `scope`:
    a missing key, an expired one, a project key (`sk-proj-`), a denied scope or a wrong
    key each get OpenAI's wording, the key redacted as OpenAI redacts it."""
    if not header or not header.startswith("Bearer ") or not header[7:].strip():
        raise ApiError(401, _NO_KEY, param=None, code=None)
    key = header[7:].strip()
    if key == admin_key and key not in expired:
        if scope in denied:
            raise missing_scope(scope)
        return
    if key in expired:
        raise ApiError(
            401,
            f"The admin API key provided has expired: {redact(key)}. Create a new admin key "
            "at https://platform.openai.com/settings/organization/admin-keys.",
            param=None,
            code="invalid_api_key",
        )
    if key.startswith("sk-proj-"):
        raise missing_scope(scope)
    raise ApiError(
        401,
        f"Incorrect API key provided: {redact(key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        param=None,
        code="invalid_api_key",
    )
