"""What the sightlines asset shows in the UI besides its tables: described checks and
money as numbers."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from kscope_openai_pipeline.defs.sightlines import assets


def test_every_sightline_check_is_described() -> None:
    descriptions = {spec.name: spec.description for spec in assets.sightlines.check_specs}
    assert descriptions == {
        "one_row_per_key": "Every listed project key appears exactly once: none duplicated, "
        "missing or unexpected.",
        "gap_exact": "gap_usd = billed_usd - metered_usd exactly on every row, and each "
        "day's organization row sums its project rows.",
        "allocation_sums_exact": "Each subscription (seat) line item of openai.costs equals "
        "the sum of its allocation to the nano-dollar, and none is missing.",
        "one_row_per_member": "Every user and pending invite appears exactly once: none "
        "duplicated, missing or unexpected.",
        "one_row_per_key_day": "Every (day, key) with usage appears exactly once in the "
        "daily ledger: a missing key-day would hide bypass spend from the reconciliation.",
        "one_row_per_member_day": "Every member of every day appears exactly once, and no "
        "seat cost goes to someone who was not a member that day.",
    }


def test_money_becomes_a_number_and_zero_is_zero() -> None:
    assert assets._metadata_value(Decimal("0E-9")) == dg.MetadataValue.float(0.0)
    assert assets._metadata_value(Decimal("174.406104200")) == dg.MetadataValue.float(
        174.4061042
    )
    top = [{"api_key_id": "key_1", "cost_usd": Decimal("0E-9"), "status": "bypass_active"}]
    assert assets._metadata_value(top) == dg.MetadataValue.json(
        [{"api_key_id": "key_1", "cost_usd": 0.0, "status": "bypass_active"}]
    )
    assert assets._metadata_value({"matched": 3}) == dg.MetadataValue.json({"matched": 3})
    assert assets._metadata_value(7) == 7
