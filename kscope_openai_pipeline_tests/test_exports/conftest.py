"""A warehouse file per test with a few hand-placed cost lines and reconciliation rows.

Why by hand (not the sandbox): the mapping's edge cases (a credit, an unknown unit, a
non-ASCII project name, a line item without a quantity, metered spend on a day OpenAI
billed no API line) need rows chosen for them; the sandbox run in
`test_defs/test_exports/` covers the realistic whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import exports, warehouse

ORG = "org-focus"
NOV29, NOV30, DEC1 = date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)

#: (day, project_id, line_item, amount_usd, quantity, quantity_unit)
COSTS: list[tuple] = [
    (NOV30, "proj_a", "gpt-4o-2024-08-06, input", "3.086417500", 1_234_567.0, "tokens"),
    (NOV30, "proj_a", "gpt-4o-2024-08-06, output", "3.000000000", 300_000.0, "tokens"),
    (NOV30, "proj_a", "gpt-4o-2024-08-06, cached input", "0.000000000", 0.0, "tokens"),
    (NOV30, "proj_e", "text-embedding-3-small, input", "0.123456789", 6_172.84, "1000_tokens"),
    (NOV30, "proj_e", "Vector store storage", "0.100000000", 24.0, "gibibyte_hours"),
    (NOV30, "proj_e", "mystery, thing", "0.500000000", 5.0, "widget_units"),
    (NOV30, None, "ChatGPT Team seats", "29.589041100", 30.0, "seats"),
    (NOV30, None, "Promotional credit", "-10.000000000", None, None),
    (NOV30, None, "gpt-4o-mini-2024-07-18, input", "0.015000000", 100_000.0, "tokens"),
    (DEC1, "proj_a", "gpt-4o-2024-08-06, input", "1.250000000", 500_000.0, "tokens"),
    (DEC1, "proj_e", "tts-1, characters", "1.500000000", None, None),
    (DEC1, None, "ChatGPT Team seats", "29.589041100", 30.0, "seats"),
]
PROJECTS = [("proj_a", "Équipe données ✓"), ("proj_e", "embeddings")]
#: (day, project_id, billed, metered, bypass, status): project rows of the reconciliation
RECON: list[tuple] = [
    (NOV29, "proj_z", "0", "4.000000000", "0", "over_metered"),  # metered, nothing billed
    (NOV30, "proj_a", "6.086417500", "5.000000001", "1.000000000", "spend_outside_gateway"),
    (NOV30, "proj_e", "0.723456789", "0.000000007", "0", "matched"),
    (NOV30, None, "-9.985000000", "0", "0", "gateway_data_missing"),
]


def insert_costs(conn: duckdb.DuckDBPyConnection, rows: Sequence[tuple], org: str = ORG) -> None:
    conn.executemany(
        "INSERT INTO openai.costs VALUES (?, ?, ?, ?, CAST(? AS DECIMAL(18, 9)), 'usd', ?, ?)",
        [(org, *row) for row in rows],
    )


def insert_recon(conn: duckdb.DuckDBPyConnection, rows: Sequence[tuple], org: str = ORG) -> None:
    for day, project, billed, metered, bypass, status in rows:
        b, m = Decimal(billed), Decimal(metered)
        conn.execute(
            "INSERT INTO sightlines.billing_reconciliation VALUES "
            "(?, ?, 'project', ?, NULL, ?, ?, ?, NULL, ?, 0.01, ?)",
            [org, day, project, b, m, b - m, Decimal(bypass), status],
        )


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse holding COSTS, PROJECTS, the organization and RECON (no FOCUS rows yet)."""
    connection = warehouse.connect(tmp_path / "kscope.duckdb")
    exports.ensure_exports_schema(connection)
    connection.execute(
        "INSERT INTO openai.organization VALUES (?, 'Kscope Société', 'sandbox', NULL, TRUE, ?)",
        [ORG, datetime(2026, 12, 2)],
    )
    connection.executemany(
        "INSERT INTO openai.projects VALUES (?, ?, ?, 'active', ?, NULL)",
        [(ORG, p, name, datetime(2026, 1, 1)) for p, name in PROJECTS],
    )
    insert_costs(connection, COSTS)
    insert_recon(connection, RECON)
    yield connection
    warehouse.disconnect(connection)
