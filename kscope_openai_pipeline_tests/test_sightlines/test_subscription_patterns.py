"""The default subscription (seat) patterns must catch seat lines and nothing else.

Regression: the former default `ChatGPT%` also matched, through case-insensitive ILIKE,
the API spend of the `chatgpt-4o-latest` model; it was dropped from reconciliation and
split across members as if it were seats (34.5M allocation rows on the large org).
"""

import duckdb

from kscope_openai_pipeline.sightlines import DEFAULT_SUBSCRIPTION_PATTERNS


def test_default_patterns_match_seat_lines_only() -> None:
    lines = [
        "ChatGPT Team seats",
        "ChatGPT Enterprise seats",
        "chatgpt-4o-latest, input",
        "chatgpt-4o-latest, output",
        "gpt-4o-2024-08-06, cached input",
        "Vector store storage",
    ]
    conn = duckdb.connect()
    matched = conn.execute(
        """
        SELECT line
        FROM UNNEST(CAST(? AS VARCHAR[])) AS l(line)
        SEMI JOIN UNNEST(CAST(? AS VARCHAR[])) AS p(pattern)
            ON line ILIKE pattern
        ORDER BY line
        """,
        [lines, list(DEFAULT_SUBSCRIPTION_PATTERNS)],
    ).fetchall()
    assert matched == [("ChatGPT Enterprise seats",), ("ChatGPT Team seats",)]
