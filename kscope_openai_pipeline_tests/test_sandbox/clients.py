"""httpx clients for the sandbox tests.

Why a helper: `httpx.Client()` loads the CA bundle on every construction (~50 ms); the
tests talk plain HTTP over loopback, so one shared SSL context keeps the suite fast.
"""

from __future__ import annotations

import ssl

import httpx

_SSL = ssl.create_default_context()


def client(base_url: str, key: str | None = None, **headers: str) -> httpx.Client:
    """A client on `base_url`, with `Authorization: Bearer key` when a key is given."""
    all_headers = dict(headers)
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=base_url, headers=all_headers, timeout=10, verify=_SSL)
