"""The shared TLS context: built once per process, verifying as httpx's default does."""

from __future__ import annotations

import ssl

from kscope_openai_pipeline.openai_admin import AdminClient
from kscope_openai_pipeline.openai_admin.tls import ssl_context


def test_one_verifying_context_for_every_client() -> None:
    ctx = ssl_context()
    assert ctx is ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0  # certifi's bundle is loaded
    clients = [AdminClient("sk-admin-test", base_url="https://api.example.com/v1") for _ in "ab"]
    try:
        pools = [c._http._transport._pool for c in clients]  # type: ignore[attr-defined]
        assert all(p._ssl_context is ctx for p in pools)
    finally:
        for c in clients:
            c.close()
