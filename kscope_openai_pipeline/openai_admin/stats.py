"""What the client did, counted so assets and benchmarks can report it.

Counters are per endpoint (path template) and in total. One instance is shared by all
threads of a client, hence the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EndpointStats:
    """Counters for one endpoint template."""

    requests: int = 0  # HTTP attempts sent, retries included
    retries: int = 0  # attempts after the first one for the same logical request
    bytes: int = 0  # response body bytes received
    seconds: float = 0.0  # time spent in HTTP attempts (by the client's clock)
    pages: int = 0  # logical pages successfully read
    records: int = 0  # normalized records returned
    errors: int = 0  # logical requests that ended in an exception

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
            "pages": self.pages,
            "records": self.records,
            "errors": self.errors,
        }


@dataclass
class RequestStats:
    """Totals and per-endpoint counters; `skipped` lists per-project calls not made or
    refused (e.g. archived projects on the users/service-accounts listings)."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _ep(self, endpoint: str) -> EndpointStats:
        ep = self.endpoints.get(endpoint)
        if ep is None:
            ep = self.endpoints[endpoint] = EndpointStats()
        return ep

    def record_attempt(self, endpoint: str, *, nbytes: int, seconds: float, retry: bool) -> None:
        with self._lock:
            ep = self._ep(endpoint)
            ep.requests += 1
            ep.bytes += nbytes
            ep.seconds += seconds
            if retry:
                ep.retries += 1

    def record_page(self, endpoint: str, records: int) -> None:
        with self._lock:
            ep = self._ep(endpoint)
            ep.pages += 1
            ep.records += records

    def record_error(self, endpoint: str) -> None:
        with self._lock:
            self._ep(endpoint).errors += 1

    def record_skip(self, endpoint: str, project_id: str, reason: str) -> None:
        with self._lock:
            self.skipped.append({"endpoint": endpoint, "project_id": project_id, "reason": reason})

    def _total(self, attr: str) -> Any:
        with self._lock:
            return sum(getattr(ep, attr) for ep in self.endpoints.values())

    @property
    def requests(self) -> int:
        return self._total("requests")

    @property
    def retries(self) -> int:
        return self._total("retries")

    @property
    def bytes(self) -> int:
        return self._total("bytes")

    @property
    def seconds(self) -> float:
        return self._total("seconds")

    @property
    def pages(self) -> int:
        return self._total("pages")

    @property
    def records(self) -> int:
        return self._total("records")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (for Dagster metadata and benchmark output)."""
        with self._lock:
            per = {name: ep.as_dict() for name, ep in sorted(self.endpoints.items())}
            skipped = list(self.skipped)
        totals = {k: sum(v[k] for v in per.values()) for k in EndpointStats().as_dict()}
        totals["seconds"] = round(totals["seconds"], 6)
        return {**totals, "skipped": skipped, "endpoints": per}
