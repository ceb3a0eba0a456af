"""One TLS context for every httpx client of the process.

Why: httpx builds a new SSL context for each `httpx.Client` (it loads certifi's CA bundle:
~40 ms, and several hundred on a busy machine), and the pipeline opens a client per asset
step; a daily run paid that about ten times. This is the context httpx itself builds by
default (`httpx.create_ssl_context()`: certifi's bundle, or `SSL_CERT_FILE` /
`SSL_CERT_DIR` when set), built once on first use and then only read by the clients.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, shared (verification is unchanged)."""
    return httpx.create_ssl_context()
