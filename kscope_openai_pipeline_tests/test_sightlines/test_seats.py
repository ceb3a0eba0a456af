"""sightlines.seat_allocation and sightlines.seat_governance (small org, seed 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import duckdb
import pandas as pd

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.prices import is_subscription
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.warehouse import history, read_table, validate

from .oracles import seat_members, seat_split

ZERO = Decimal("0E-9")


def _allocation(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return read_table(conn, "sightlines.seat_allocation", ["cost_date", "line_item", "user_id"])


def _governance(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return read_table(conn, "sightlines.seat_governance", ["member_id"])


# --------------------------------------------------------------------------- allocation


def test_allocation_sums_to_every_seat_line_item_exactly(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _allocation(computed)
    lines = gt.cost_totals(org, org.start_day, org.end_day).per_day_project_line_item
    seats = {k: v for k, v in lines.items() if is_subscription(k[2])}
    sums: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for r in table.itertuples():
        sums[(r.cost_date, r.project_id, r.line_item)] += r.allocated_usd
        assert r.line_item_usd == seats[(r.cost_date, r.project_id, r.line_item)]
    assert dict(sums) == seats
    assert len(seats) == 120
    validate(models.SeatAllocation, table)


def test_each_day_splits_evenly_across_that_days_members(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _allocation(computed)
    lines = gt.cost_totals(org, org.start_day, org.end_day).per_day_project_line_item
    expected_rows = 0
    for (day, _, line), amount in lines.items():
        if not is_subscription(line):
            continue
        members = seat_members(org, day)
        expected = seat_split(amount, members)
        expected_rows += len(members)
        rows = table[(table["cost_date"] == day) & (table["line_item"] == line)]
        assert dict(zip(rows["user_id"], rows["allocated_usd"], strict=True)) == expected
        assert set(rows["members"]) == {len(members)}
    assert len(table) == expected_rows == 4354
    assert table["user_id"].notna().all()


def test_the_rounding_residue_goes_to_the_earliest_members(
    tmp_path, params: sightlines.SightlineParams
) -> None:
    """$1 for 3 members: 0.333333334 to the first-added, 0.333333333 to the two others;
    a day before anyone joined keeps its line whole on a NULL member."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    sightlines.ensure_sightlines_schema(conn)
    conn.execute(
        """
        INSERT INTO openai.users VALUES
            ('org-t', 'user-b', 'b@x.io', 'B', 'reader', TIMESTAMP '2026-01-01 09:00:00'),
            ('org-t', 'user-a', 'a@x.io', 'A', 'reader', TIMESTAMP '2026-01-01 09:00:00'),
            ('org-t', 'user-c', 'c@x.io', 'C', 'owner', TIMESTAMP '2025-12-31 23:59:59');
        INSERT INTO openai.costs VALUES
            ('org-t', DATE '2026-01-01', NULL, 'ChatGPT Team seats', 1.000000000, 'usd', 3, NULL),
            ('org-t', DATE '2026-01-01', 'proj_1', 'gpt-4o, input', 5.000000000, 'usd', NULL, NULL),
            ('org-t', DATE '2025-12-30', NULL, 'Team SEAT licences', 2.500000000, 'usd', 1, NULL),
            ('org-t', DATE '2026-01-02', NULL, 'ChatGPT Team seats', -0.000000002, 'usd', 3, NULL);
        """
    )
    # members come from the history: one crawl just after they all joined
    history.merge_snapshot(conn, "openai.users", "org-t", dt.datetime(2026, 1, 1, 0, 30))
    day_two = dataclasses.replace(params, as_of=dt.date(2026, 1, 2))
    sightlines.compute_all(conn, day_two, [sightlines.SEAT_ALLOCATION])
    rows = conn.execute(
        "SELECT cost_date, line_item, user_id, members, allocated_usd "
        "FROM sightlines.seat_allocation ORDER BY cost_date, user_id NULLS FIRST"
    ).fetchall()
    assert rows == [
        (dt.date(2025, 12, 30), "Team SEAT licences", None, 0, Decimal("2.500000000")),
        (dt.date(2026, 1, 1), "ChatGPT Team seats", "user-a", 3, Decimal("0.333333333")),
        (dt.date(2026, 1, 1), "ChatGPT Team seats", "user-b", 3, Decimal("0.333333333")),
        (dt.date(2026, 1, 1), "ChatGPT Team seats", "user-c", 3, Decimal("0.333333334")),
        (dt.date(2026, 1, 2), "ChatGPT Team seats", "user-a", 3, Decimal("-0.000000001")),
        (dt.date(2026, 1, 2), "ChatGPT Team seats", "user-b", 3, Decimal("0E-9")),
        (dt.date(2026, 1, 2), "ChatGPT Team seats", "user-c", 3, Decimal("-0.000000001")),
    ]
    conn.close()


def test_subscription_patterns_are_configurable(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams, org: SyntheticOrg
) -> None:
    only_vector = dataclasses.replace(params, subscription_patterns=("vector store%",))
    sightlines.compute_all(conn, only_vector, [sightlines.SEAT_ALLOCATION])
    table = _allocation(conn)
    assert set(table["line_item"]) == {"Vector store storage"}
    lines = gt.cost_totals(org, org.start_day, org.end_day).per_day_project_line_item
    expected = sum((v for k, v in lines.items() if k[2] == "Vector store storage"), ZERO)
    assert sum(table["allocated_usd"], ZERO) == expected


# --------------------------------------------------------------------------- governance


def test_unattributed_members_and_reasons_equal_the_ground_truth(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg, rules: gt.MatchRules
) -> None:
    table = _governance(computed)
    got = {r.member_id: r.reason for r in table.itertuples() if not r.attributed}
    expected = gt.unattributed_members(org, rules)
    assert got == expected
    assert Counter(expected.values()) == {"no_registry_match": 5, "engineer_departed": 2}
    validate(models.SeatGovernance, table)


def test_every_member_once_with_the_ground_truth_engineer_and_rule(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg, rules: gt.MatchRules
) -> None:
    table = _governance(computed).set_index("member_id")
    expected = gt.attribution(org, rules)
    assert set(table.index) == set(expected) and len(table) == len(expected) == 43
    for member_id, a in expected.items():
        row = table.loc[member_id]
        assert (row["member_type"], row["email"], bool(row["attributed"])) == (
            a.kind,
            a.email,
            a.attributed,
        )
        assert row["engineer_id"] == a.engineer_id
        if a.attributed:
            assert row["match_rule"] == a.rule and row["reason"] is None
        else:
            assert row["reason"] == a.reason
    rules_used = Counter(table.loc[table["attributed"], "match_rule"])
    assert rules_used == {
        "exact": 21,
        "case_insensitive": 4,
        "plus_address": 5,
        "domain_alias": 4,
        "alias": 2,
    }


def test_without_plus_stripping_or_domain_aliases_fewer_members_match(
    conn: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    strict = dataclasses.replace(params, strip_plus_addresses=False, domain_aliases=())
    sightlines.compute_all(conn, strict, [sightlines.SEAT_ALLOCATION])
    sightlines.compute_all(conn, strict, [sightlines.SEAT_GOVERNANCE])
    table = _governance(conn)
    expected = gt.unattributed_members(org, gt.MatchRules(False, ()))
    assert {r.member_id: r.reason for r in table.itertuples() if not r.attributed} == expected
    assert len(expected) == 7 + 5 + 4


def test_keys_and_seat_cost_per_member(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    table = _governance(computed).set_index("member_id")
    listed = gt.listed_keys(org)
    allocation = _allocation(computed)
    window = allocation[allocation["cost_date"] >= params.window_start]
    seat_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for user_id, amount in zip(window["user_id"], window["allocated_usd"], strict=True):
        seat_cost[user_id] += amount
    for user in org.users:
        owned = [k for k in listed if k.owner_type == "user" and k.owner_id == user.id]
        row = table.loc[user.id]
        assert row["keys_owned"] == len(owned)
        last = max((k.last_used_at for k in owned if k.last_used_at), default=None)
        used = row["last_key_used_at"]
        assert (None if pd.isna(used) else used.timestamp()) == last
        assert row["allocated_seat_usd"] == seat_cost[user.id]
    invites = table[table["member_type"] == "invite"]
    assert len(invites) == 3
    assert (invites["keys_owned"] == 0).all() and (invites["allocated_seat_usd"] == 0).all()
    # the unattributed members' seats over the window, from the oracle split
    lines = gt.cost_totals(org, params.window_start, org.end_day).per_day_project_line_item
    unattributed = set(table.index[~table["attributed"]])
    expected = ZERO
    for (day, _, line), amount in lines.items():
        if is_subscription(line):
            split = seat_split(amount, seat_members(org, day))
            expected += sum((v for m, v in split.items() if m in unattributed), ZERO)
    assert sum(table.loc[list(unattributed), "allocated_seat_usd"], ZERO) == expected
    assert expected == Decimal("156.802950459")
