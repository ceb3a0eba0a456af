"""Fixtures: a sandbox serving the hand-built org, and clients on fake time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kscope_openai_pipeline.openai_admin import AdminClient
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.handmade_org import build_handmade_org

from .scripted_server import FakeTime, MaxJitter


@pytest.fixture(scope="session")
def handmade_org() -> SyntheticOrg:
    """The one hand-built org (helpers/handmade_org.py), built once per session."""
    return build_handmade_org()


@pytest.fixture
def sandbox(handmade_org) -> Iterator[Sandbox]:
    """A fresh server (clean request log, no faults) over the shared hand-built org."""
    with Sandbox.start(org=handmade_org) as sb:
        yield sb


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time) -> Iterator[Callable[..., AdminClient]]:
    """Build clients for a sandbox on fake time with jitter pinned to its ceiling."""
    made: list[AdminClient] = []

    def factory(sb: Sandbox, **kw) -> AdminClient:
        kw.setdefault("sleep", fake_time.sleep)
        kw.setdefault("clock", fake_time.clock)
        kw.setdefault("rng", MaxJitter())
        kw.setdefault("timeout", 10.0)
        c = AdminClient(kw.pop("api_key", sb.admin_key), base_url=sb.base_url, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
