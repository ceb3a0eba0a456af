"""Fixtures of the sandbox server tests: the handmade org served over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.handmade_org import ADMIN_KEY, build_handmade_org

from .clients import client


@pytest.fixture(scope="session")
def handmade_org() -> SyntheticOrg:
    """The one hand-built org, built once: the server caches its indexes per org object."""
    return build_handmade_org()


@pytest.fixture
def hsb(handmade_org: SyntheticOrg) -> Iterator[Sandbox]:
    """A sandbox serving the handmade org (exact numbers, see helpers/handmade_org.py)."""
    with Sandbox.start(org=handmade_org) as sb:
        yield sb


@pytest.fixture
def api(hsb: Sandbox) -> Iterator[httpx.Client]:
    """An httpx client on the handmade sandbox, authenticated with its admin key."""
    with client(hsb.base_url, ADMIN_KEY) as http:
        yield http
