"""A finding as detection produces it, before it meets the table.

The alert id is a hash of kind and subject only, so the same key, project or member is the
same row on every run, after a backfill, a re-run or a restart: that is what makes "send
once" a property of the data rather than of a process's memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kscope_openai_pipeline.alerts.kinds import KINDS


def alert_id(kind: str, subject: str) -> str:
    """Stable id of a finding: 16 hex digits of SHA-256 over kind and subject."""
    return hashlib.sha256(f"{kind}\x1f{subject}".encode()).hexdigest()[:16]


def to_json(details: dict[str, Any]) -> str:
    """Details as a JSON document, days and times as ISO text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(details, default=plain, sort_keys=True)


def from_json(text: str) -> dict[str, Any]:
    """Details back, money as exact Decimal."""
    return json.loads(text, parse_float=Decimal)


@dataclass(frozen=True)
class Finding:
    """One finding: what (kind), about whom (subject), since when, and the details (a
    JSON document: as the SQL wrote it, or `to_json` of a dict)."""

    organization_id: str
    kind: str
    subject: str
    first_seen_date: dt.date
    details: str = "{}"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")

    @property
    def alert_id(self) -> str:
        return alert_id(self.kind, self.subject)

    @property
    def severity(self) -> str:
        return KINDS[self.kind].severity
