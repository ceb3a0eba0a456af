"""Fixtures of the reliability suite and its end-of-run summary.

Why a collector: the issue asks the suite to end with one line per category (faults
injected / survived, rows lost, leaks found). Each test adds what it proved to a
session-wide `Tally`; `pytest_terminal_summary` prints it after the usual report, for the
categories that ran (so `pytest -m reliability` and `make test` both show it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kscope_openai_pipeline.sandbox.server import Sandbox

from .harness import SEED, SENTINEL_KEY, SIZE, World, build_world

#: Category -> the counters its line shows, in order (a missing counter prints as 0).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "faults": ("injected", "survived", "failed_cleanly", "runs", "rows_lost", "rows_extra"),
    "crash": ("kills", "rows_lost_after_kill", "recovered", "rows_lost_after_recovery"),
    "concurrency": ("runs_queued", "runs_succeeded", "lock_errors", "duplicate_keys",
                    "analyst_queries", "analyst_errors", "analyst_slowest_ms",
                    "publishes_while_open"),
    "bad_input": ("cases", "normalized", "rejected", "through_assets", "tables_changed"),
    "idempotency": ("sequences", "runs", "tables_compared", "differences"),
    "secrets": ("runs", "files_scanned", "bytes_scanned", "leaks_found"),
    "auth": ("cases", "clear_messages", "retried"),
}


@dataclass
class Tally:
    """Session-wide counters per category, filled by the tests."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, category: str, **counters: int) -> None:
        if category not in CATEGORIES:
            raise KeyError(f"unknown reliability category {category!r}")
        bucket = self.counts.setdefault(category, {})
        for name, value in counters.items():
            bucket[name] = bucket.get(name, 0) + int(value)

    def lines(self) -> list[str]:
        out = []
        for category, names in CATEGORIES.items():
            if category not in self.counts:
                continue
            got = self.counts[category]
            shown = list(names) + [n for n in got if n not in names]
            out.append(
                f"{category:<12} " + ", ".join(f"{n.replace('_', ' ')} {got.get(n, 0)}"
                                                for n in shown)
            )
        return out


TALLY_KEY = pytest.StashKey[Tally]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TALLY_KEY] = Tally()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    tally = config.stash.get(TALLY_KEY, None)
    if tally is None or not tally.counts:
        return
    terminalreporter.section("reliability summary")
    for line in tally.lines():
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def tally(pytestconfig: pytest.Config) -> Tally:
    return pytestconfig.stash[TALLY_KEY]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The session's sandbox (admin key = the sentinel) and reference warehouses."""
    root = tmp_path_factory.mktemp("reliability")
    with Sandbox.start(seed=SEED, size=SIZE, admin_key=SENTINEL_KEY) as sb:
        yield build_world(sb, root)


@pytest.fixture
def sandbox(world: World) -> Iterator[Sandbox]:
    """The session sandbox with no faults and an empty request log, before and after."""
    sb = world.sandbox
    sb.clear_faults()
    sb.clear_requests()
    yield sb
    sb.clear_faults()
    sb.clear_requests()


@pytest.fixture
def scenario_db(world: World, request: pytest.FixtureRequest) -> Path:
    """A private copy of the stale warehouse, named after the test."""
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    return world.fresh_stale(name)
