"""Fast bucketed aggregation over one family's event table (usage minutes or cost days).

Why: a usage page is "sum the metrics of every event in each bucket, per group_by tuple",
and on the large org a 31-day page with the full group_by covers millions of minute
events. The index sorts events by `ts` once, replaces every dimension by an integer code
(-1 = null) and keeps lazily built roll-ups per bucket width (one row per width-aligned
period and full dimension tuple). A query then reads only: the roll-up rows of the
aligned middle of the range, plus raw rows for a partial first bucket (a `start_time`
that is not on a boundary) and a partial last one, found by binary search on `ts`.
Grouping runs in pandas over integer columns.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: events are per minute: a roll-up at this width or finer would not shrink anything
_RAW_WIDTH = 60


@dataclass(frozen=True)
class _Table:
    """Rows sorted by `ts`; `codes` is (n, dims) int32, `values` one array per metric."""

    ts: np.ndarray
    codes: np.ndarray
    values: tuple[np.ndarray, ...]

    def slice(self, start: int, end: int) -> _Table:
        lo, hi = np.searchsorted(self.ts, [start, end], side="left")
        return _Table(self.ts[lo:hi], self.codes[lo:hi], tuple(v[lo:hi] for v in self.values))


@dataclass(frozen=True)
class Aggregate:
    """Grouped sums, sorted by bucket: row i is bucket `bucket[i]`, dimension codes
    `codes[name][i]` (grouped dimensions only; -1 = null), metric sums `values[name][i]`."""

    bucket: np.ndarray
    codes: dict[str, np.ndarray]
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.bucket)


class BucketIndex:
    """Sorted, dictionary-encoded events of one family, with per-width roll-ups."""

    def __init__(
        self, frame: pd.DataFrame, dims: Sequence[str], metrics: Sequence[str]
    ) -> None:
        self.dims = tuple(dims)
        self.metrics = tuple(metrics)
        order = np.argsort(frame["ts"].to_numpy(dtype=np.int64), kind="stable")
        ts = frame["ts"].to_numpy(dtype=np.int64)[order]
        n = len(ts)
        codes = np.full((n, len(self.dims)), -1, dtype=np.int32)
        self._vocab: dict[str, np.ndarray] = {}
        self._vocab_json: dict[str, np.ndarray] = {}
        self._lookup: dict[str, dict[Any, int]] = {}
        for j, dim in enumerate(self.dims):
            if dim in frame.columns:
                col_codes, uniques = pd.factorize(frame[dim].to_numpy()[order], sort=True)
                codes[:, j] = col_codes
                values = [_plain(u) for u in uniques]
            else:
                values = []
            # index -1 (null) lands on the trailing None / "null"
            self._vocab[dim] = np.array([*values, None], dtype=object)
            self._vocab_json[dim] = np.array(
                [json.dumps(v, ensure_ascii=False) for v in [*values, None]], dtype=object
            )
            self._lookup[dim] = {v: i for i, v in enumerate(values)}
        columns = []
        for metric in self.metrics:
            if metric in frame.columns:
                col = frame[metric].to_numpy()[order]
                if col.dtype.kind in "iub":
                    col = col.astype(np.int64)
                elif col.dtype.kind != "f":
                    col = pd.to_numeric(pd.Series(col), errors="coerce").to_numpy(np.float64)
            else:
                col = np.zeros(n, dtype=np.int64)
            columns.append(col)
        self._base = _Table(ts, codes, tuple(columns))
        self._rollups: dict[int, _Table] = {}
        self._lock = threading.Lock()

    # -- vocabulary -----------------------------------------------------------------

    def vocab(self, dim: str) -> np.ndarray:
        """Values by code, with None last so that code -1 decodes to None."""
        return self._vocab[dim]

    def vocab_json(self, dim: str) -> np.ndarray:
        """JSON texts by code (`"proj_a"`, `true`, ...), "null" last for code -1."""
        return self._vocab_json[dim]

    def codes_for(self, dim: str, values: Sequence[Any]) -> np.ndarray:
        """Codes of the given filter values; values the family never saw match nothing."""
        table = self._lookup[dim]
        return np.array([table[v] for v in values if v in table], dtype=np.int32)

    # -- roll-ups ---------------------------------------------------------------------

    def rollup(self, width: int) -> _Table:
        """Sums per (width-aligned period, full dimension tuple), built once per width."""
        with self._lock:
            table = self._rollups.get(width)
            if table is None:
                table = _group(self._base, self._base.ts // width * width, range(len(self.dims)))
                self._rollups[width] = table
            return table

    # -- queries ----------------------------------------------------------------------

    def aggregate(
        self,
        start: int,
        end: int,
        width: int,
        group_by: Sequence[str],
        filters: Mapping[str, Sequence[Any]],
    ) -> Aggregate:
        """Sum events with start <= ts < end into buckets of `width` seconds.

        Bucket boundaries are multiples of `width` (UTC-aligned); the first bucket starts
        at `start` itself when `start` is not on a boundary. Groups are the `group_by`
        dimensions; rows whose metrics are all zero are dropped.
        """
        table = self._window(start, end, width)
        mask = np.ones(len(table.ts), dtype=bool)
        for dim, wanted in filters.items():
            j = self.dims.index(dim)
            mask &= np.isin(table.codes[:, j], self.codes_for(dim, wanted))
        if not mask.all():
            table = _Table(table.ts[mask], table.codes[mask], tuple(v[mask] for v in table.values))
        bucket = np.maximum(table.ts // width * width, start)
        cols = sorted({self.dims.index(d) for d in group_by})  # row order never depends on
        # the order group_by was sent in
        grouped = _group(table, bucket, cols)
        nonzero = np.zeros(len(grouped.ts), dtype=bool)
        for v in grouped.values:
            nonzero |= np.nan_to_num(v) != 0
        grouped = _Table(
            grouped.ts[nonzero], grouped.codes[nonzero], tuple(v[nonzero] for v in grouped.values)
        )
        codes = {d: grouped.codes[:, self.dims.index(d)] for d in group_by}
        return Aggregate(
            grouped.ts, codes, {m: grouped.values[i] for i, m in enumerate(self.metrics)}
        )

    def _window(self, start: int, end: int, width: int) -> _Table:
        """Rows in [start, end): roll-up rows for whole periods, raw rows for the edges."""
        first = -(-start // width) * width
        last = end // width * width
        if first >= last or width <= _RAW_WIDTH:
            return self._base.slice(start, end)
        parts = []
        if start < first:
            parts.append(self._base.slice(start, first))
        parts.append(self.rollup(width).slice(first, last))
        if last < end:
            parts.append(self._base.slice(last, end))
        if len(parts) == 1:
            return parts[0]
        return _Table(
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.codes for p in parts]),
            tuple(np.concatenate(cols) for cols in zip(*(p.values for p in parts), strict=True)),
        )


def _group(table: _Table, key: np.ndarray, cols: Sequence[int]) -> _Table:
    """Sum `table.values` per (key, codes[:, cols]); output sorted, codes of dropped dims -1."""
    n_dims = table.codes.shape[1]
    if len(key) == 0:
        return _Table(
            np.zeros(0, dtype=np.int64),
            np.zeros((0, n_dims), dtype=np.int32),
            tuple(v[:0] for v in table.values),
        )
    data: dict[str, np.ndarray] = {"_k": key}
    names = ["_k"]
    for c in cols:
        data[f"_d{c}"] = table.codes[:, c]
        names.append(f"_d{c}")
    for i, v in enumerate(table.values):
        data[f"_v{i}"] = v
    frame = pd.DataFrame(data, copy=False)
    summed = frame.groupby(names, sort=True).sum(min_count=1).reset_index()
    out_codes = np.full((len(summed), n_dims), -1, dtype=np.int32)
    for c in cols:
        out_codes[:, c] = summed[f"_d{c}"].to_numpy(dtype=np.int32)
    values = []
    for i, v in enumerate(table.values):
        col = summed[f"_v{i}"].to_numpy()
        values.append(col.astype(np.int64) if v.dtype.kind == "i" else col.astype(np.float64))
    return _Table(summed["_k"].to_numpy(dtype=np.int64), out_codes, tuple(values))


def _plain(value: Any) -> Any:
    """numpy scalars to Python (JSON-ready) values."""
    return value.item() if isinstance(value, np.generic) else value
