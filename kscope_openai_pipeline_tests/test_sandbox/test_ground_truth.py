"""Ground truth on the tiny org (seed 7): exact values, and the rules on crafted variants.

The crafted variants replace one Kscope table of the (cached, shared) org with
`dataclasses.replace`, never mutating the original.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg, User
from kscope_openai_pipeline.sandbox.org import build_org

DAY = 86_400
LAST_DAY = date(2026, 11, 25)
D = Decimal


@pytest.fixture(scope="module")
def tiny() -> SyntheticOrg:
    return build_org(7, "tiny")


# --------------------------------------------------------------------------- day bounds


def test_day_bounds() -> None:
    assert gt.to_epoch(date(2026, 11, 26)) == 1795651200
    assert gt.to_epoch(1795651200 + 5) == 1795651205  # ints are used as is
    assert gt.to_date(1795651199) == date(2026, 11, 25)
    with pytest.raises(TypeError):
        gt.to_epoch(True)


# --------------------------------------------------------------------------- usage


def test_usage_totals_whole_range(tiny: SyntheticOrg) -> None:
    u = gt.usage_totals(tiny, "completions", tiny.start_day, tiny.end_day)
    assert u.total == {
        "input_tokens": 643559485,
        "output_tokens": 122233638,
        "input_cached_tokens": 51785206,
        "input_audio_tokens": 5618547,
        "output_audio_tokens": 1668998,
        "num_model_requests": 291129,
    }
    assert u.rows == 6023 and len(u.per_day) == 60
    for metric, value in u.total.items():
        assert sum(day[metric] for day in u.per_day.values()) == value


def test_usage_totals_one_day_and_one_hour(tiny: SyntheticOrg) -> None:
    day = gt.usage_totals(tiny, "completions", date(2026, 11, 2), date(2026, 11, 3))
    assert day.rows == 94
    assert day.total["num_model_requests"] == 5930
    assert day.total["input_tokens"] == 9443542
    assert list(day.per_day) == [date(2026, 11, 2)]
    nine = gt.to_epoch(date(2026, 11, 2)) + 9 * 3600
    hour = gt.usage_totals(tiny, "completions", nine, nine + 3600)
    assert hour.rows == 5
    assert hour.total["input_tokens"] == 1009799
    assert hour.total["output_tokens"] == 372683


def test_usage_totals_every_family(tiny: SyntheticOrg) -> None:
    totals = {f: gt.usage_totals(tiny, f, tiny.start_day, tiny.end_day).total for f in tiny.usage}
    assert totals["embeddings"] == {"input_tokens": 1356264, "num_model_requests": 1383}
    assert totals["moderations"] == {"input_tokens": 578505, "num_model_requests": 1571}
    assert totals["images"] == {"images": 1394, "num_model_requests": 564}
    assert totals["audio_speeches"] == {"characters": 284197, "num_model_requests": 411}
    assert totals["audio_transcriptions"] == {"seconds": 65193, "num_model_requests": 535}
    assert totals["vector_stores"] == {"usage_bytes": 5011874763}
    assert totals["code_interpreter_sessions"] == {"num_sessions": 70}
    assert totals["file_search_calls"] == {"num_requests": 7849}
    assert totals["web_search_calls"] == {"num_model_requests": 719, "num_requests": 1536}
    empty = gt.usage_totals(tiny, "images", tiny.end_day, tiny.end_day + DAY)
    assert empty.total == {"images": 0, "num_model_requests": 0} and empty.per_day == {}
    with pytest.raises(ValueError, match="unknown usage family"):
        gt.usage_totals(tiny, "chat", tiny.start_day, tiny.end_day)


# --------------------------------------------------------------------------- costs


def test_cost_totals(tiny: SyntheticOrg) -> None:
    c = gt.cost_totals(tiny, tiny.start_day, tiny.end_day)
    assert c.total == D("1165.816171069")
    assert (len(c.per_day), len(c.per_day_project), len(c.per_day_project_line_item)) == (
        60,
        207,
        2442,
    )
    assert sum(c.per_day.values()) == c.total
    assert sum(c.per_day_project.values()) == c.total
    assert sum(c.per_day_project_line_item.values()) == c.total
    assert all(v.as_tuple().exponent == -9 for v in c.per_day.values())
    one = gt.cost_totals(tiny, date(2026, 11, 2), date(2026, 11, 3)).per_day_project
    assert one == {
        (date(2026, 11, 2), None): D("4.931506850"),
        (date(2026, 11, 2), "proj_3k8cl6Ln9cnfA7tJa4l3DkMa"): D("1.909657600"),
        (date(2026, 11, 2), "proj_yWsGyLQ721xzMewc5a0jZpFD"): D("10.548015145"),
    }


def test_cost_totals_without_seats(tiny: SyntheticOrg) -> None:
    c = gt.cost_totals(tiny, tiny.start_day, tiny.end_day, include_subscriptions=False)
    assert c.total == D("869.925760069") == D("1165.816171069") - 60 * D("4.931506850")
    assert not any(line == "ChatGPT Team seats" for _, _, line in c.per_day_project_line_item)


def test_api_key_cost_totals(tiny: SyntheticOrg) -> None:
    per = gt.api_key_cost_totals(tiny, tiny.start_day, tiny.end_day)
    by_key: Counter[str | None] = Counter()
    for (_, kid), amount in per.items():
        by_key[kid] += amount
    assert dict(by_key) == {
        None: D("300.108468861"),
        "key_EqFsNuJ5a7NO3a6r": D("45.013956725"),  # deleted, still billed
        "key_K7Fgu6Z71uiu82wk": D("54.788242683"),
        "key_T5N7CcEFyGTgBJAV": D("52.497643125"),  # archived project
        "key_Esh4b1Yz9j0wyY4O": D("21.039057605"),
        "key_v42V3ebHebcxBIrE": D("276.459284353"),
        "key_XN1DycgYWuFZd2dl": D("403.270986250"),
        "key_5zO4WCo0U336uNNI": D("12.638531467"),
    }
    assert sum(by_key.values()) == D("1165.816171069")


def test_metered_totals(tiny: SyntheticOrg) -> None:
    m = gt.metered_totals(tiny, tiny.start_day, tiny.end_day)
    # the key registered halfway through (scenarios) is metered only from then on
    assert len(m) == 113
    assert sum(m.values()) == D("334.681118560") == sum(tiny.gateway_costs["cost_usd"])
    assert not any(d in (date(2026, 10, 9), date(2026, 10, 19)) for d, _ in m)
    assert gt.metered_totals(tiny, date(2026, 11, 2), date(2026, 11, 3)) == {
        (date(2026, 11, 2), "proj_3k8cl6Ln9cnfA7tJa4l3DkMa"): D("1.179952350"),
        (date(2026, 11, 2), "proj_yWsGyLQ721xzMewc5a0jZpFD"): D("6.576830000"),
    }


# --------------------------------------------------------------------------- reconciliation


def test_reconciliation(tiny: SyntheticOrg) -> None:
    r = gt.reconciliation(tiny, tiny.start_day, tiny.end_day)
    assert Counter(x.status for x in r.values()) == {
        "spend_outside_gateway": 134,
        "matched": 29,
        "gateway_data_missing": 6,
    }
    for row in r.values():
        assert row.gap == row.billed - row.metered
    nov2 = r[(date(2026, 11, 2), "proj_yWsGyLQ721xzMewc5a0jZpFD")]
    assert (nov2.billed, nov2.metered, nov2.gap) == (
        D("10.548015145"),
        D("6.576830000"),
        D("3.971185145"),
    )
    missing = {k: v for k, v in r.items() if k[0] == date(2026, 10, 9)}
    assert len(missing) == 3
    assert all(v.metered == 0 and v.status == "gateway_data_missing" for v in missing.values())
    # seats are not reconciled: no org-level row on a day without org-level traffic
    assert (date(2026, 11, 2), None) not in r


def test_reconciliation_tolerance_and_no_gateway(tiny: SyntheticOrg) -> None:
    loose = gt.reconciliation(
        tiny, tiny.start_day, tiny.end_day, tolerance_pct=D("1"), tolerance_usd=D("0")
    )
    assert Counter(x.status for x in loose.values()) == {
        "matched": 163,
        "gateway_data_missing": 6,
    }
    no_gateway = dataclasses.replace(tiny, gateway_costs=tiny.gateway_costs.iloc[0:0])
    r = gt.reconciliation(no_gateway, tiny.start_day, tiny.end_day)
    assert len(r) == 169 and {x.status for x in r.values()} == {"gateway_not_deployed"}


# --------------------------------------------------------------------------- gateway bypass


EXPECTED_BYPASS = {
    "key_K7Fgu6Z71uiu82wk": "registered_revoked",
    "key_v42V3ebHebcxBIrE": "bypass_active",
    "key_T5N7CcEFyGTgBJAV": "registered",
    "key_XN1DycgYWuFZd2dl": "registered",
    "key_Esh4b1Yz9j0wyY4O": "bypass_dormant",
    "key_5zO4WCo0U336uNNI": "registered",  # by redacted value only
    "key_Up4xgsEOSVCJFQP8": "bypass_dormant",  # never used
}


def test_bypass_keys_on_the_last_day(tiny: SyntheticOrg) -> None:
    assert gt.bypass_keys(tiny, LAST_DAY) == EXPECTED_BYPASS
    listed = {k.id for k in tiny.api_keys if k.kind == "project" and not k.deleted}
    assert set(EXPECTED_BYPASS) == listed  # no deleted key, no admin key


def test_bypass_window_moves_with_as_of(tiny: SyntheticOrg) -> None:
    # the stopped key was last used 2026-10-10: active in a 30-day window ending 2026-10-20
    earlier = gt.bypass_keys(tiny, date(2026, 10, 20))
    assert earlier == EXPECTED_BYPASS | {"key_Esh4b1Yz9j0wyY4O": "bypass_active"}
    assert gt.bypass_keys(tiny, date(2026, 10, 20), window_days=5) == EXPECTED_BYPASS
    # the window is inclusive of as_of_day and exactly window_days long
    last_use = 1791668040  # 2026-10-10 21:34 UTC
    assert gt.to_date(last_use) == date(2026, 10, 10)
    assert gt.bypass_keys(tiny, date(2026, 10, 10), 1)["key_Esh4b1Yz9j0wyY4O"] == "bypass_active"
    assert gt.bypass_keys(tiny, date(2026, 10, 11), 1)["key_Esh4b1Yz9j0wyY4O"] == "bypass_dormant"
    assert gt.bypass_keys(tiny, date(2026, 10, 11), 2)["key_Esh4b1Yz9j0wyY4O"] == "bypass_active"


def test_bypass_statuses_follow_the_plan() -> None:
    """On the small org, every status comes from how the key was planned."""
    small = build_org(7, "small")
    roles = small.extra["key_roles"]
    regs = small.extra["key_registration"]
    result = gt.bypass_keys(small, LAST_DAY)
    assert Counter(result.values()) == {
        "registered": 48,
        "bypass_dormant": 4,
        "registered_revoked": 3,
        "bypass_active": 3,
    }
    for kid, status in result.items():
        reg, role = regs[kid], roles[kid]
        if reg in ("active", "redacted", "reregistered", "late"):
            assert status == "registered"
        elif reg == "revoked":
            assert status == "registered_revoked"
        elif role == "steady":
            assert status == "bypass_active"
        else:
            assert status == "bypass_dormant"


def test_redacted_value_is_only_a_fallback(tiny: SyntheticOrg) -> None:
    tokens = tiny.dev_tokens
    # without its redacted-only token, the key is unregistered (and used: bypass_active)
    without = tokens[tokens["provider_key_id"].notna()]
    org = dataclasses.replace(tiny, dev_tokens=without)
    assert gt.bypass_keys(org, LAST_DAY)["key_5zO4WCo0U336uNNI"] == "bypass_active"
    # a token carrying the key id wins over a redacted-only token of the same key
    revoked = tokens[tokens["provider_key_id"] == "key_K7Fgu6Z71uiu82wk"].copy()
    decoy = revoked.assign(
        dev_token_id="dt_decoy", provider_key_id=None, status="active", revoked_at=pd.NaT
    )
    org = dataclasses.replace(tiny, dev_tokens=pd.concat([tokens, decoy], ignore_index=True))
    assert gt.key_token_matches(org)["key_K7Fgu6Z71uiu82wk"] == ["dt_000003"]
    assert gt.bypass_keys(org, LAST_DAY)["key_K7Fgu6Z71uiu82wk"] == "registered_revoked"


def test_key_window_totals(tiny: SyntheticOrg) -> None:
    totals = gt.key_window_totals(tiny, LAST_DAY)
    assert set(totals) == set(EXPECTED_BYPASS)
    assert totals["key_v42V3ebHebcxBIrE"] == gt.KeyWindowTotals(
        requests=117845, input_tokens=240885511, output_tokens=49137479, cost=D("137.819744808")
    )
    assert totals["key_XN1DycgYWuFZd2dl"].cost == D("218.283363750")
    for kid in ("key_T5N7CcEFyGTgBJAV", "key_Esh4b1Yz9j0wyY4O", "key_Up4xgsEOSVCJFQP8"):
        assert totals[kid] == gt.KeyWindowTotals()
    window_cost = sum(
        v
        for (d, kid), v in gt.api_key_cost_totals(
            tiny, date(2026, 10, 27), date(2026, 11, 26)
        ).items()
        if kid == "key_v42V3ebHebcxBIrE"
    )
    assert window_cost == D("137.819744808")


# --------------------------------------------------------------------------- seat governance


def test_unattributed_members(tiny: SyntheticOrg) -> None:
    assert gt.unattributed_members(tiny) == {
        "user-GYjuyu8DNjhnJXGFWzxwXpPY": "engineer_departed",
        "invite-1YGCinAVxc8CPUztZNX21M9w": "no_registry_match",  # a pending invite
    }


def test_attribution_rules(tiny: SyntheticOrg) -> None:
    got = {m: (a.rule, a.engineer_id, a.kind) for m, a in gt.attribution(tiny).items()}
    assert got == {
        "user-unociA7R1lgMMmTJPFI4wFth": ("domain_alias", "eng-00008", "user"),
        "user-01Sz4VqESNjfKfkMsFunDBSJ": ("plus_address", "eng-00006", "user"),
        "user-QkGbEvSrd6CQnMnFjIw2YlBh": ("alias", "eng-00007", "user"),
        "user-zKFgZWLjgnxtFghMV4Y0EeEs": ("case_insensitive", "eng-00002", "user"),
        "user-GYjuyu8DNjhnJXGFWzxwXpPY": (None, "eng-00003", "user"),
        "user-OzOuBuXeGxpe80XVP4jh2AUk": ("exact", "eng-00004", "user"),
        "invite-1YGCinAVxc8CPUztZNX21M9w": (None, None, "invite"),
    }


def test_rules_can_be_switched_off(tiny: SyntheticOrg) -> None:
    strict = gt.MatchRules(strip_plus_addresses=False, domain_aliases=())
    assert gt.unattributed_members(tiny, strict) == {
        "user-unociA7R1lgMMmTJPFI4wFth": "no_registry_match",  # ama.kowalski@corp.io
        "user-01Sz4VqESNjfKfkMsFunDBSJ": "no_registry_match",  # ali.evans+openai@corp.com
        "user-GYjuyu8DNjhnJXGFWzxwXpPY": "engineer_departed",
        "invite-1YGCinAVxc8CPUztZNX21M9w": "no_registry_match",
    }
    assert gt.default_rules(tiny) == gt.MatchRules(True, (("corp.io", "corp.com"),))


def _crafted(tiny: SyntheticOrg, emails: list[str], engineers: list[tuple]) -> SyntheticOrg:
    users = [User(f"user-{i}", e, f"U{i}", "reader", 0) for i, e in enumerate(emails)]
    frame = pd.DataFrame(engineers, columns=["engineer_id", "email", "aliases", "status"])
    frame = frame.assign(name="x", team="t")[
        ["engineer_id", "email", "aliases", "name", "team", "status"]
    ]
    return dataclasses.replace(tiny, users=users, invites=[], engineers=frame)


def test_active_engineer_wins_over_departed_at_any_rule(tiny: SyntheticOrg) -> None:
    org = _crafted(
        tiny,
        ["bo.li@corp.com", "  Cy.Ng+x@CORP.IO ", "dee@corp.com"],
        [
            ("eng-1", "bo.li@corp.com", None, "departed"),
            ("eng-2", "bob@corp.com", "bo.li+old@corp.io", "active"),  # via plus + domain
            ("eng-3", "cy.ng@corp.com", None, "active"),
            ("eng-4", "dee.d@corp.com", "DEE@corp.com;d2@corp.com", "departed"),
        ],
    )
    got = {
        m: (a.attributed, a.engineer_id, a.rule, a.reason) for m, a in gt.attribution(org).items()
    }
    assert got == {
        "user-0": (True, "eng-2", "domain_alias", None),
        "user-1": (True, "eng-3", "domain_alias", None),
        "user-2": (False, "eng-4", None, "engineer_departed"),
    }


def test_reconciliation_org_totals(tiny: SyntheticOrg) -> None:
    totals = gt.reconciliation_org_totals(tiny, tiny.start_day, tiny.end_day)
    assert len(totals) == 60
    assert Counter(x.status for x in totals.values()) == {
        "spend_outside_gateway": 58,
        "gateway_data_missing": 2,
    }
    nov2 = totals[date(2026, 11, 2)]
    assert (nov2.billed, nov2.metered, nov2.gap) == (
        D("12.457672745"),
        D("7.756782350"),
        D("4.700890395"),
    )
    assert sum(x.billed for x in totals.values()) == D("869.925760069")
    assert sum(x.metered for x in totals.values()) == D("334.681118560")


# --------------------------------------------------------------------------- seats


def test_subscription_totals_and_members(tiny: SyntheticOrg) -> None:
    seats = gt.subscription_totals(tiny, tiny.start_day, tiny.end_day)
    assert len(seats) == 60
    assert set(seats.values()) == {D("4.931506850")}
    assert {line for _, line in seats} == {"ChatGPT Team seats"}
    # one member joins on 2026-10-05 (the accepted invite): 5 members before, 6 from then on
    assert len(gt.members_on(tiny, date(2026, 10, 4))) == 5
    assert gt.members_on(tiny, date(2026, 10, 5)) == sorted(u.id for u in tiny.users)
