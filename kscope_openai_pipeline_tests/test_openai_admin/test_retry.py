"""Retry policy: which statuses retry, how server delays are read, backoff shape."""

from __future__ import annotations

import random

import pytest

from kscope_openai_pipeline.openai_admin.retry import (
    RetryPolicy,
    is_retryable_status,
    server_delay,
)

NOW = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def now() -> float:
    return NOW


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (422, False),
    ],
)
def test_retryable_statuses(status, retry):
    assert is_retryable_status(status) is retry


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"Retry-After": "Thu, 01 Jan 2026 00:00:07 GMT"}, 7.0),  # HTTP date
        ({"Retry-After": "Thu, 01 Jan 2026 00:00:00 GMT"}, None),  # not in the future
        ({"Retry-After": "0"}, None),
        ({"Retry-After": "-2"}, None),
        ({"Retry-After": "121"}, None),  # above the SDK's 120 s ceiling -> backoff
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_server_delay(headers, expected):
    assert server_delay(headers, now) == expected


def test_backoff_is_full_jitter_capped():
    class Ceiling(random.Random):
        def uniform(self, a: float, b: float) -> float:
            assert a == 0.0
            return b

    policy = RetryPolicy(rng=Ceiling())
    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    seeded = RetryPolicy(rng=random.Random(1))
    draws = [seeded.backoff(n) for n in range(1, 200)]
    assert all(0.0 <= d <= 8.0 for d in draws)
    assert min(draws) < 0.5 and max(draws) > 6.0  # really spread over [0, ceiling]


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline_seconds=0)
