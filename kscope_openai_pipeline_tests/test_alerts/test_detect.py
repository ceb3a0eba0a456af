"""The warehouse kinds' SQL against the ground truth, on the `small` sandbox org filled
straight into DuckDB and its sightlines computed (no HTTP, no Dagster: fast, and every
key, project and member of a bigger org)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.alerts import detect
from kscope_openai_pipeline.alerts.findings import from_json
from kscope_openai_pipeline.alerts.kinds import AlertRules
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org
from kscope_openai_pipeline_tests.test_defs.test_alerts import oracle

AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def org() -> SyntheticOrg:
    return build_org(7, "small")


def _computed(org: SyntheticOrg, path: Path, **fill: bool) -> Path:
    conn = duckdb.connect(str(path))
    sightlines.ensure_sightlines_schema(conn)
    fill_from_org(conn, org, **fill)
    aliases = gt.default_rules(org).domain_aliases
    sightlines.compute_all(conn, sightlines.SightlineParams(as_of=AS_OF, domain_aliases=aliases))
    conn.close()
    return path


@pytest.fixture(scope="module")
def template(org: SyntheticOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _computed(org, tmp_path_factory.mktemp("detect") / "small.duckdb")


@pytest.fixture
def conn(template: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copy(template, tmp_path / "w.duckdb")
    connection = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    yield connection
    connection.close()


def found(conn, rules: AlertRules) -> dict[str, dict[str, tuple[dt.date, dict]]]:
    findings, decided = detect.warehouse_findings(conn, rules, AS_OF)
    out: dict[str, dict[str, tuple[dt.date, dict]]] = {k.name: {} for k in decided}
    for f in findings:
        out[f.kind][f.subject] = (f.first_seen_date, from_json(f.details))
    return out


def test_every_warehouse_kind_equals_the_ground_truth(conn, org: SyntheticOrg) -> None:
    result = found(conn, AlertRules(bypass_spend_usd=Decimal(20)))
    firsts = {kind: {s: first for s, (first, _) in rows.items()} for kind, rows in result.items()}
    assert firsts == {
        "new_bypass_key": oracle.new_bypass_keys(org, AS_OF),
        "bypass_spend": {
            k: oracle.first_spend_day(org, AS_OF, k)
            for k in oracle.bypass_spend(org, AS_OF, Decimal(20))
        },
        "reconciliation_gap": oracle.reconciliation_gaps(org, AS_OF),
        "unattributed_member": oracle.unattributed_members(org, AS_OF),
    }
    # the scenarios are in it: revoked tokens make bypass keys; a late registration does not
    revoked = set(org.extra["scenarios"]["revoked_keys"]) & set(firsts["new_bypass_key"])
    assert len(revoked) == 3 and org.extra["scenarios"]["late_registered_key"] not in firsts[
        "new_bypass_key"
    ]  # fmt: skip
    assert (len(firsts["new_bypass_key"]), len(firsts["bypass_spend"]),
            len(firsts["reconciliation_gap"]), len(firsts["unattributed_member"])) == (8, 1, 2, 7)


def test_the_details_carry_exact_money_and_the_rules(conn, org: SyntheticOrg) -> None:
    result = found(conn, AlertRules(bypass_spend_usd=Decimal(20)))
    ((key, (_, spend)),) = result["bypass_spend"].items()
    assert spend["spend_usd"] == oracle.bypass_spend(org, AS_OF, Decimal(20))[key]
    assert (spend["window_days"], spend["threshold_usd"], spend["as_of"]) == (7, 20, "2026-11-25")
    for key, (first, details) in result["new_bypass_key"].items():
        ledger = oracle.ledger(org, AS_OF)[key]
        assert details["spend_usd"] == sum(
            (r.cost_usd for d, r in ledger.items() if d >= first), Decimal(0)
        ), key
        assert details["first_bypass_day"] == first.isoformat()
        assert details["token_status"] in {"unregistered", "registered_revoked"}
    gaps = gt.reconciliation(org, org.start_day, AS_OF + dt.timedelta(days=1))
    for project, (_, details) in result["reconciliation_gap"].items():
        row = gaps[(AS_OF, project)]
        assert (details["gap_usd"], details["billed_usd"], details["metered_usd"]) == (
            row.gap, row.billed, row.metered
        )  # fmt: skip
        assert details["days"] >= 2 and details["tolerance_usd"] == 1


def test_thresholds_and_switches_are_the_settings(conn, org: SyntheticOrg) -> None:
    assert found(conn, AlertRules())["bypass_spend"] == {}  # nobody over $50 in 7 days
    wide = found(conn, AlertRules(bypass_window_days=30))["bypass_spend"]
    assert set(wide) == set(oracle.bypass_spend(org, AS_OF, Decimal(50), window_days=30))
    assert wide
    strict = found(conn, AlertRules(gap_days=5, gap_tolerance_usd=Decimal(0)))
    assert set(strict["reconciliation_gap"]) == set(
        oracle.reconciliation_gaps(org, AS_OF, Decimal(0), days=5)
    )
    off = found(conn, AlertRules(disabled=frozenset({"bypass_spend", "unattributed_member"})))
    assert set(off) == {"new_bypass_key", "reconciliation_gap"}
    with pytest.raises(ValueError, match="unknown alert kinds"):
        AlertRules(disabled=frozenset({"bypass"}))


def test_no_gap_findings_while_the_gateway_is_not_deployed(
    org: SyntheticOrg, tmp_path: Path
) -> None:
    path = _computed(org, tmp_path / "nogw.duckdb", with_gateway=False)
    conn = duckdb.connect(str(path), read_only=True)
    try:
        assert found(conn, AlertRules(gap_tolerance_usd=Decimal(0)))["reconciliation_gap"] == {}
    finally:
        conn.close()
