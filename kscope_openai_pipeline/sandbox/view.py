"""Read-side lookups and aggregation indexes over one SyntheticOrg, built once and shared.

Why: routes need "keys of project X", "is user U a member of project P" and the usage
indexes on every request; computing them per request would make large orgs slow, and
computing them per server would make every test's sandbox start slow. A view is built
once per org (cached by (seed, size) in server.py) and is read-only afterwards; the lazy
per-family indexes are created under a lock on first use.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from .bucket_index import BucketIndex
from .families import COSTS_DIMS, FAMILIES
from .model import ApiKey, AuditEvent, Project, ProjectUser, ServiceAccount, SyntheticOrg, User

_NANO = Decimal(10) ** 9


class OrgView:
    """Everything the routes read, derived from `org` (never mutated)."""

    def __init__(self, org: SyntheticOrg) -> None:
        self.org = org
        self.projects: list[Project] = list(org.projects)
        self.projects_by_id: dict[str, Project] = {p.id: p for p in org.projects}
        self.users: list[User] = list(org.users)
        self.users_by_id: dict[str, User] = {u.id: u for u in org.users}
        self.service_accounts_by_id: dict[str, ServiceAccount] = {
            s.id: s for s in org.service_accounts
        }
        self.service_accounts_by_project: dict[str, list[ServiceAccount]] = defaultdict(list)
        for sa in org.service_accounts:
            self.service_accounts_by_project[sa.project_id].append(sa)
        self.project_users: dict[str, list[ProjectUser]] = defaultdict(list)
        self.membership: dict[tuple[str, str], ProjectUser] = {}
        for pu in org.project_users:
            self.project_users[pu.project_id].append(pu)
            self.membership[(pu.project_id, pu.user_id)] = pu
        self.project_keys: dict[str, list[ApiKey]] = defaultdict(list)
        listed = [k for k in org.api_keys if not k.deleted]
        for key in listed:
            if key.kind == "project" and key.project_id is not None:
                self.project_keys[key.project_id].append(key)
        self.admin_keys: list[ApiKey] = sorted(
            (k for k in listed if k.kind == "admin"), key=lambda k: (k.created_at, k.id)
        )
        self.audit_events: list[AuditEvent] = sorted(
            org.audit_events, key=lambda e: (e.effective_at, e.id), reverse=True
        )
        # newest first, so -effective_at ascends: bisect finds any effective_at window
        self._audit_neg_times = [-e.effective_at for e in self.audit_events]
        self.audit_position: dict[str, int] = {e.id: i for i, e in enumerate(self.audit_events)}
        #: every user the log may name as an actor, former members included
        self.actors_by_id: dict[str, User] = {
            u.id: u for u in [*org.users, *getattr(org, "former_users", [])]
        }
        self._lock = threading.Lock()
        self._usage: dict[str, tuple[BucketIndex, tuple[str, ...]]] = {}
        self._costs: BucketIndex | None = None
        self._warming: threading.Thread | None = None
        self.line_item_units: dict[str, str | None] = {}

    def audit_slice(
        self, gt: int | None, gte: int | None, lt: int | None, lte: int | None
    ) -> tuple[int, int]:
        """[first, stop) positions in `audit_events` (newest first) inside the bounds."""
        times = self._audit_neg_times
        first, stop = 0, len(times)
        if lt is not None:
            first = max(first, bisect.bisect_right(times, -lt))
        if lte is not None:
            first = max(first, bisect.bisect_left(times, -lte))
        if gte is not None:
            stop = min(stop, bisect.bisect_right(times, -gte))
        if gt is not None:
            stop = min(stop, bisect.bisect_left(times, -gt))
        return first, max(first, stop)

    # -- usage / costs indexes --------------------------------------------------------

    def usage_index(self, family: str) -> tuple[BucketIndex, tuple[str, ...]]:
        """The family's index and the metric fields its results carry."""
        with self._lock:
            cached = self._usage.get(family)
            if cached is None:
                spec = FAMILIES[family]
                frame = self.org.usage.get(family)
                if frame is None:
                    frame = pd.DataFrame({"ts": np.zeros(0, dtype=np.int64)})
                emitted = tuple(
                    m for m in spec.metrics if m in spec.required or m in frame.columns
                )
                cached = (BucketIndex(frame, spec.dims, emitted), emitted)
                self._usage[family] = cached
            return cached

    def costs_index(self) -> BucketIndex:
        """Costs with the amount as integer nano-dollars (exact sums) and float quantity."""
        with self._lock:
            if self._costs is None:
                costs = self.org.costs
                frame = pd.DataFrame(
                    {
                        "ts": costs["ts"].to_numpy(dtype=np.int64),
                        "project_id": costs["project_id"].to_numpy(dtype=object),
                        "line_item": costs["line_item"].to_numpy(dtype=object),
                        "api_key_id": costs["api_key_id"].to_numpy(dtype=object),
                        "amount_nanos": _amount_nanos(costs),
                        "quantity": pd.to_numeric(
                            costs["quantity"], errors="coerce"
                        ).to_numpy(dtype=np.float64)
                        if "quantity" in costs.columns
                        else np.full(len(costs), np.nan),
                    }
                )
                if "quantity_unit" in costs.columns:
                    pairs = costs[["line_item", "quantity_unit"]].drop_duplicates()
                    for item, unit in pairs.itertuples(index=False):
                        if item is not None and self.line_item_units.get(item) is None:
                            self.line_item_units[item] = unit if isinstance(unit, str) else None
                self._costs = BucketIndex(frame, COSTS_DIMS, ("amount_nanos", "quantity"))
            return self._costs

    def warm(self) -> None:
        """Build every index and daily roll-up now, so that first requests are fast."""
        for family in FAMILIES:
            index, _ = self.usage_index(family)
            index.rollup(86400)
        self.costs_index().rollup(86400)
        for family in FAMILIES:  # hourly last: daily pages are the common case
            self.usage_index(family)[0].rollup(3600)

    def warm_in_background(self) -> None:
        """Start `warm()` once per view on a daemon thread; requests wait only for what
        they need (each index is built under a lock)."""
        with self._lock:
            if self._warming is not None:
                return
            self._warming = threading.Thread(target=self.warm, name="sandbox-warm", daemon=True)
        self._warming.start()


def _amount_nanos(costs: pd.DataFrame) -> np.ndarray:
    """The costs' amounts in nano-dollars: the generator's integer column when it has one
    (large orgs have millions of rows), else converted from the Decimal `amount`."""
    if "amount_nanos" in costs.columns:
        return costs["amount_nanos"].to_numpy(dtype=np.int64)
    return np.array([_to_nanos(a) for a in costs["amount"]], dtype=np.int64)


def _to_nanos(amount: object) -> int:
    """Dollars (Decimal, str or number) to integer nano-dollars, half-up like the warehouse."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return int((value * _NANO).to_integral_value(rounding=ROUND_HALF_UP))
