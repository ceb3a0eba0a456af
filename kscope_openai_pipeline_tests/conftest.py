"""Shared fixtures: a running sandbox serving the tiny synthetic organization.

Why function scope: each test gets its own server, request log and fault plan (faults
and logs would otherwise leak between tests); this is cheap because the org and its
indexes are built once per process and cached by (seed, size).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kscope_openai_pipeline.sandbox.server import Sandbox

SANDBOX_SEED = 7
SANDBOX_SIZE = "tiny"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox on a free loopback port serving `build_org(7, "tiny")`."""
    with Sandbox.start(seed=SANDBOX_SEED, size=SANDBOX_SIZE, host="127.0.0.1", port=0) as sb:
        yield sb
