"""Faults on demand: what can go wrong between a crawler and api.openai.com, reproducibly.

Why: the client's retries, the pipeline's error handling and the reliability suite need
429s (with and without `Retry-After`), 5xx, slow and dropped responses and malformed
200s, on the request they choose (`times` = the next N matching requests) or at a seeded
random rate that replays identically for the same request sequence.

A `Fault` matches by an fnmatch pattern on the path after `/v1` (e.g.
`/organization/usage/*`). "Before" faults (429, 5xx, slow, drop) fire when a request
arrives; "after" faults (truncated, wrong_type) fire only on a response that would have
been a 200, since they corrupt a good body.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "429_no_retry_after",
    "500",
    "502",
    "503",
    "slow",
    "drop",
    "truncated",
    "wrong_type",
)
AFTER_KINDS = frozenset({"truncated", "wrong_type"})


@dataclass
class Fault:
    """One injected fault.

    - `kind`: one of FAULT_KINDS.
    - `path`: fnmatch pattern on the path after `/v1` ("*" = every endpoint).
    - `times`: how many matching requests it hits; default 1 in counted mode, unlimited
      in random mode.
    - `rate` + `seed`: random mode; each matching request is hit with probability `rate`
      drawn from `random.Random(seed)`, so the same request sequence gets the same faults.
    - `retry_after`: the 429's `Retry-After` value, seconds ("2") or an HTTP date.
    - `retry_after_ms`: optional `retry-after-ms` header (the SDK honours it first).
    - `delay`: seconds a "slow" fault waits before the normal response.
    """

    kind: str
    path: str = "*"
    times: int | None = None
    rate: float | None = None
    seed: int = 0
    retry_after: str | None = "1"
    retry_after_ms: int | None = None
    delay: float = 1.0
    _remaining: int | None = field(default=None, init=False, repr=False, compare=False)
    _rng: random.Random | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")
        if self.times is not None and self.times < 0:
            raise ValueError(f"fault times must be >= 0, got {self.times}")
        self.retry_after = None if self.retry_after is None else str(self.retry_after)
        self._remaining = self.times if self.times is not None else (
            1 if self.rate is None else None
        )
        self._rng = random.Random(self.seed) if self.rate is not None else None

    @property
    def after(self) -> bool:
        """True for faults that corrupt a finished 200 response."""
        return self.kind in AFTER_KINDS

    def _fires(self, path: str) -> bool:
        """Decide (and account) whether this fault hits a request to `path`."""
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        if self._remaining is not None and self._remaining <= 0:
            return False
        if self._rng is not None and self._rng.random() >= (self.rate or 0.0):
            return False
        if self._remaining is not None:
            self._remaining -= 1
        return True

    @property
    def remaining(self) -> int | None:
        """Hits left (None = unlimited random mode)."""
        return self._remaining


class FaultPlan:
    """The ordered, thread-safe set of active faults of one sandbox."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults or [])

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.remaining is None or f.remaining > 0]

    def take(self, path: str, *, after: bool) -> Fault | None:
        """The first fault (in injection order) that fires for this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.after == after and fault._fires(path):
                    return fault
        return None


def parse_fault_spec(spec: str) -> Fault:
    """Parse the CLI form `kind:path[:times][:key=value...]` into a Fault.

    Examples: `429:/organization/usage/*:2`, `drop:*`,
    `503:/organization/costs:rate=0.2:seed=1`, `slow:*:3:delay=2.5`,
    `429:*:1:retry_after=5:retry_after_ms=1500`. A Retry-After HTTP date contains colons,
    so dates are only available from Python (`Fault(retry_after=...)`).
    """
    parts = spec.split(":")
    if not parts or not parts[0]:
        raise ValueError(f"empty fault spec {spec!r}")
    kwargs: dict[str, Any] = {"kind": parts[0]}
    if len(parts) > 1 and parts[1]:
        kwargs["path"] = parts[1]
    casts: dict[str, Any] = {
        "times": int,
        "rate": float,
        "seed": int,
        "retry_after": str,
        "retry_after_ms": int,
        "delay": float,
        "path": str,
    }
    for part in parts[2:]:
        if not part:
            continue
        if "=" not in part:
            if not part.isdigit():
                raise ValueError(f"fault spec {spec!r}: {part!r} is neither times nor key=value")
            kwargs["times"] = int(part)
            continue
        key, _, value = part.partition("=")
        if key not in casts:
            raise ValueError(f"fault spec {spec!r}: unknown option {key!r}")
        kwargs[key] = casts[key](value)
    return Fault(**kwargs)
