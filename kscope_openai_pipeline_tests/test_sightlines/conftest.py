"""Fixtures of the sightline tests: the `small` sandbox org (seed 7) in a real DuckDB file.

Why a template file: filling the warehouse from the org takes about a second; the session
fills it once and every test works on its own copy (`shutil.copy`), so tests may mutate
their warehouse freely and still run fast.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org

SEED, SIZE = 7, "small"
#: The sandbox's last full day (its data ends 2026-11-26 00:00 UTC, exclusive).
AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def org() -> SyntheticOrg:
    return build_org(SEED, SIZE)


@pytest.fixture(scope="session")
def template_db(org: SyntheticOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse as ingestion would leave it for the small org (openai.* and kscope.*)."""
    path = tmp_path_factory.mktemp("template") / "small.duckdb"
    conn = duckdb.connect(str(path))
    sightlines.ensure_sightlines_schema(conn)
    fill_from_org(conn, org)
    conn.close()
    return path


@pytest.fixture
def conn(template_db: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the filled warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(template_db, path)
    connection = duckdb.connect(str(path))
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def rules(org: SyntheticOrg) -> gt.MatchRules:
    return gt.default_rules(org)


@pytest.fixture(scope="session")
def params(rules: gt.MatchRules) -> sightlines.SightlineParams:
    """The default rules, with the sandbox org's domain alias (corp.io -> corp.com)."""
    return sightlines.SightlineParams(as_of=AS_OF, domain_aliases=rules.domain_aliases)


@pytest.fixture(scope="session")
def computed_db(
    template_db: Path, params: sightlines.SightlineParams, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The template warehouse with all four sightlines computed (read-only use)."""
    path = tmp_path_factory.mktemp("computed") / "small.duckdb"
    shutil.copy(template_db, path)
    connection = duckdb.connect(str(path))
    sightlines.compute_all(connection, params)
    connection.close()
    return path


@pytest.fixture
def computed(computed_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the computed sightlines (do not write through it)."""
    connection = duckdb.connect(str(computed_db), read_only=True)
    yield connection
    connection.close()
