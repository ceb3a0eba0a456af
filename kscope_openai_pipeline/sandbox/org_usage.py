"""Usage events and the cost line items priced from them, for the synthetic organization.

Why separate from `org.py`: this is the only part that handles millions of rows, so it
works on integer codes with numpy (no Python loop per row) and only turns codes into id
strings and Decimals at the very end. `org.py` decides who exists (projects, keys, users);
this module decides what they did and what it cost.

Shapes produced (see `model.SyntheticOrg`): one DataFrame per usage family, one row per
usage event at minute resolution (`ts`), and one costs DataFrame with one row per
(day, project_id, line_item, api_key_id).

One unit, though long: the usage events and the costs priced from them share integer
codes and one vectorized pipeline; split, the codes would have to cross module lines as
loose arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import prices
from .model import FAMILY_DIMENSIONS, FAMILY_METRICS

DAY = 86_400

# Relative traffic per UTC hour: a working-day hump with a quiet night.
_HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2], dtype=float
)
HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()

SERVICE_TIERS: tuple[str, ...] = ("default", "flex", "priority")
WEEKEND_FACTOR = 0.35


@dataclass
class Universe:
    """Who exists and how busy they are: the input of usage generation (integer codes).

    Keys here are the project keys only (admin keys never call models), deleted ones
    included. Day indexes count from `start_day`; `key_end`/`project_end` are exclusive.
    """

    start_day: int
    n_days: int
    events_per_key_day: float
    project_ids: list[str]
    project_start: np.ndarray  # first day index the project exists (0 if before the range)
    project_end: np.ndarray  # day index of archival, n_days if active
    key_ids: list[str]
    key_project: np.ndarray
    key_user: np.ndarray  # user index, -1 for service-account keys
    key_created_at: np.ndarray  # int64 Unix seconds
    key_start: np.ndarray  # first day index with traffic
    key_end: np.ndarray  # exclusive; == key_start for never-used keys
    key_rate: np.ndarray  # mean completion events per weekday
    key_families: dict[str, np.ndarray]  # family -> bool mask of keys that use it
    user_ids: list[str]
    org_level_user: int  # user index of the org-level (no project, no key) traffic
    completion_models: list[str]
    embedding_models: list[str]
    moderation_models: list[str]
    image_models: list[str]
    speech_models: list[str]
    transcription_models: list[str]
    vector_store_projects: dict[int, list[str]]  # project index -> its vector store ids
    code_interpreter_projects: np.ndarray  # project indexes with code interpreter sessions
    seats: tuple[tuple[str, int], ...]


@dataclass
class UsageResult:
    """The generator's output: the frames plus code-level arrays the Kscope side reuses."""

    usage: dict[str, pd.DataFrame]
    costs: pd.DataFrame
    key_last_used: np.ndarray  # per key: max usage ts, -1 when never used
    # per (day, key, model) metered-by-gateway facts, integer codes
    gateway: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_names: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def day_factors(rng: np.random.Generator, start_day: int, n_days: int) -> np.ndarray:
    """Per-day traffic multiplier: weekends lower, a gentle growth trend, a little noise."""
    epoch_days = start_day // DAY + np.arange(n_days)
    weekday = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; Monday == 0
    weekly = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    trend = 0.85 + 0.3 * np.arange(n_days) / max(n_days - 1, 1)
    return weekly * trend * rng.lognormal(0.0, 0.12, n_days)


def _events(
    rng: np.random.Generator,
    rate: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    factor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson event counts per (entity, day) inside each entity's active days.

    Returns (entity index, day index) per event, ordered by entity then day.
    """
    n_days = factor.size
    days = np.arange(n_days)
    active = (days[None, :] >= start[:, None]) & (days[None, :] < end[:, None])
    counts = rng.poisson(rate[:, None] * factor[None, :] * active)
    flat = counts.ravel()
    cells = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    return cells // n_days, cells % n_days


def _timestamps(
    rng: np.random.Generator, day: np.ndarray, start_day: int, not_before: np.ndarray | None
) -> np.ndarray:
    """Minute-aligned Unix seconds inside each event's day, shaped by the hour profile.

    `not_before` (per event, Unix seconds) pushes events on a key's creation day after
    the creation minute, so no key is used before it exists.
    """
    n = day.size
    minute = rng.choice(24, size=n, p=HOUR_P) * 60 + rng.integers(0, 60, size=n)
    day_start = start_day + day * DAY
    if not_before is not None:
        lo = np.clip(-((day_start - not_before) // 60), 0, 1439)  # ceil to the minute
        minute = np.where(minute < lo, lo + minute % (1440 - lo), minute)
    return day_start + minute * 60


def _group(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort-based grouping: (order, group start offsets, representative row per group)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    if sorted_codes.size == 0:
        return order, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    return order, starts, order[starts]


def _sum(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Exact int64 sums of `values` per group of `_group`."""
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.add.reduceat(values[order], starts)


def _lookup(names: list[str], codes: np.ndarray) -> np.ndarray:
    """Object array of names for codes, None where the code is -1."""
    table = np.array([*names, None], dtype=object)
    return table[np.where(codes < 0, len(names), codes)]


class _Lines:
    """Line-item names <-> integer codes, in first-seen order."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.units: list[str | None] = []
        self._code: dict[str, int] = {}

    def code(self, name: str, unit: str | None) -> int:
        if name not in self._code:
            self._code[name] = len(self.names)
            self.names.append(name)
            self.units.append(unit)
        return self._code[name]


@dataclass
class _CostPart:
    """Cost rows of one source, integer-coded; `model` is set when a gateway meters it."""

    day: np.ndarray
    project: np.ndarray
    key: np.ndarray
    line: np.ndarray
    quantity: np.ndarray  # float64
    nanos: np.ndarray  # int64
    model: np.ndarray  # global model code when gateway-metered, else -1


# --------------------------------------------------------------------------- generator


class _Generator:
    """Holds the universe, the rng, the model registry, and accumulates outputs."""

    def __init__(self, u: Universe, rng: np.random.Generator) -> None:
        self.u = u
        self.rng = rng
        self.n_keys = len(u.key_ids)
        self.factor = day_factors(rng, u.start_day, u.n_days)
        self.models: list[str] = [
            *u.completion_models,
            *u.embedding_models,
            *u.moderation_models,
            *u.image_models,
            *u.speech_models,
            *u.transcription_models,
        ]
        self.model_code = {m: i for i, m in enumerate(self.models)}
        self.lines = _Lines()
        self.parts: list[_CostPart] = []
        self.gw_parts: list[dict[str, np.ndarray]] = []
        self.gateway = pd.DataFrame()
        self.last_used = np.full(self.n_keys, -1, dtype=np.int64)
        self.usage: dict[str, pd.DataFrame] = {}
        # per-key behaviour (drawn once, reused by every family)
        rng = self.rng
        n_cm = len(u.completion_models)
        popularity = 1.0 / np.arange(1, n_cm + 1) ** 0.9
        popularity /= popularity.sum()
        self.key_primary = rng.choice(n_cm, size=self.n_keys, p=popularity)
        self.key_secondary = rng.choice(n_cm, size=self.n_keys, p=popularity)
        is_sa = u.key_user < 0
        self.key_batch_p = np.where(is_sa, rng.uniform(0.05, 0.4, self.n_keys), 0.03)
        self.key_cache = rng.uniform(0.0, 0.7, self.n_keys)
        self.key_requests = rng.lognormal(np.log(5.0), 0.6, self.n_keys)
        self.is_audio = np.array(
            [prices.COMPLETION_MODELS[m].audio_input is not None for m in u.completion_models]
        )

    # ----------------------------------------------------------------- common pieces

    def _key_events(self, family: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
        mask = self.u.key_families[family]
        idx = np.flatnonzero(mask)
        k, day = _events(
            self.rng,
            self.u.key_rate[idx] * scale,
            self.u.key_start[idx],
            self.u.key_end[idx],
            self.factor,
        )
        return idx[k], day

    def _dims(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(project code, user code) of each event's key; -1 for org-level (k == -1)."""
        proj = np.where(k >= 0, self.u.key_project[np.maximum(k, 0)], -1)
        user = np.where(k >= 0, self.u.key_user[np.maximum(k, 0)], self.u.org_level_user)
        return proj, user

    def _touch(self, k: np.ndarray, ts: np.ndarray) -> None:
        """Record each key's latest use (for `last_used_at`)."""
        ok = k >= 0
        np.maximum.at(self.last_used, k[ok], ts[ok])

    def _frame(self, family: str, ts: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        order = np.argsort(ts, kind="stable")
        data: dict[str, np.ndarray] = {"ts": ts[order].astype(np.int64)}
        for name in (*FAMILY_DIMENSIONS[family], *FAMILY_METRICS[family]):
            data[name] = cols[name][order]
        self.usage[family] = pd.DataFrame(data)

    def _group_codes(self, *fields: tuple[np.ndarray, int]) -> np.ndarray:
        """Mixed-radix int64 code of (value, cardinality) fields; values may be -1."""
        code = np.zeros(fields[0][0].size, dtype=np.int64)
        for values, card in fields:
            code = code * (card + 1) + (values.astype(np.int64) + 1)
        return code

    def _add_part(
        self,
        day: np.ndarray,
        project: np.ndarray,
        key: np.ndarray,
        line: np.ndarray,
        quantity: np.ndarray,
        nanos: np.ndarray,
        model: np.ndarray,
    ) -> None:
        keep = quantity > 0
        self.parts.append(
            _CostPart(
                day[keep].astype(np.int64),
                project[keep].astype(np.int64),
                key[keep].astype(np.int64),
                line[keep].astype(np.int64),
                quantity[keep].astype(np.float64),
                nanos[keep].astype(np.int64),
                model[keep].astype(np.int64),
            )
        )

    # ----------------------------------------------------------------- families

    def completions(self) -> None:
        u, rng = self.u, self.rng
        k, day = self._key_events("completions", 1.0)
        # org-level traffic: no project, no key (legacy user keys / pre-project usage)
        org_rate = max(0.5, 0.03 * self.u.events_per_key_day * self.n_keys / 10)
        ok_, oday = _events(
            rng, np.array([org_rate]), np.array([0]), np.array([u.n_days]), self.factor
        )
        n_org = ok_.size
        k = np.concatenate([k, np.full(n_org, -1, dtype=np.int64)])
        day = np.concatenate([day, oday])
        n = k.size
        kk = np.maximum(k, 0)
        n_cm = len(u.completion_models)
        org_model = rng.integers(0, n_cm, n)
        model = np.where(
            k < 0,
            org_model,
            np.where(rng.random(n) < 0.8, self.key_primary[kk], self.key_secondary[kk]),
        )
        audio = self.is_audio[model]
        batch = (rng.random(n) < np.where(k < 0, 0.0, self.key_batch_p[kk])) & ~audio
        tier = rng.choice(len(SERVICE_TIERS), size=n, p=[0.86, 0.08, 0.06])
        tier = np.where(batch, 0, tier)
        req = 1 + rng.poisson(np.where(k < 0, 2.0, self.key_requests[kk]))
        req = np.where(batch, req * rng.integers(10, 60, n), req)
        inp = (req * rng.lognormal(np.log(1800.0), 0.7, n)).astype(np.int64) + req
        cache_ratio = np.where(k < 0, 0.1, self.key_cache[kk])
        cached = (inp * cache_ratio * rng.random(n)).astype(np.int64)
        aud_in = np.where(audio, ((inp - cached) * rng.uniform(0.2, 0.8, n)).astype(np.int64), 0)
        out = (req * rng.lognormal(np.log(350.0), 0.6, n)).astype(np.int64) + req
        aud_out = np.where(audio, (out * rng.uniform(0.3, 0.9, n)).astype(np.int64), 0)
        not_before = np.where(k < 0, 0, u.key_created_at[kk])
        ts = _timestamps(rng, day, u.start_day, not_before)
        self._touch(k, ts)
        proj, user = self._dims(k)
        self._frame(
            "completions",
            ts,
            {
                "project_id": _lookup(u.project_ids, proj),
                "user_id": _lookup(u.user_ids, user),
                "api_key_id": _lookup(u.key_ids, k),
                "model": _lookup(u.completion_models, model),
                "batch": batch,
                "service_tier": np.array(SERVICE_TIERS, dtype=object)[tier],
                "input_tokens": inp,
                "output_tokens": out,
                "input_cached_tokens": cached,
                "input_audio_tokens": aud_in,
                "output_audio_tokens": aud_out,
                "num_model_requests": req,
            },
        )
        del ts, user, tier, not_before, cache_ratio, org_model, kk, audio  # peak memory (large)
        # ---- costs: one group per (day, project, key, model, batch)
        P, K = len(u.project_ids), self.n_keys
        codes = self._group_codes(
            (day, u.n_days), (proj, P), (k, K), (model, n_cm), (batch.astype(np.int64), 2)
        )
        order, starts, rep = _group(codes)
        g = {
            "day": day[rep],
            "proj": proj[rep],
            "key": k[rep],
            "model": model[rep],
            "batch": batch[rep],
        }
        s_inp, s_cached, s_ain = (_sum(a, order, starts) for a in (inp, cached, aud_in))
        s_out, s_aout, s_req = (_sum(a, order, starts) for a in (out, aud_out, req))
        del codes, order, starts, rep, inp, cached, aud_in, out, aud_out, req, day, proj, k, model
        components = {
            "input": s_inp - s_cached - s_ain,
            "cached input": s_cached,
            "output": s_out - s_aout,
            "audio input": s_ain,
            "audio output": s_aout,
        }
        gm = np.array([self.model_code[m] for m in u.completion_models])[g["model"]]
        for comp, qty in components.items():
            for is_batch in (False, True):
                if is_batch and comp.startswith("audio"):
                    continue
                line = np.full(n_cm, -1, dtype=np.int64)
                unit_pico = np.zeros(n_cm, dtype=np.int64)
                for i, name in enumerate(u.completion_models):
                    tp = prices.COMPLETION_MODELS[name]
                    price = {
                        "input": tp.input,
                        "cached input": tp.cached_input,
                        "output": tp.output,
                        "audio input": tp.audio_input,
                        "audio output": tp.audio_output,
                    }[comp]
                    if price is None or (is_batch and not tp.batch):
                        continue
                    label = f"{name}, batch {comp}" if is_batch else f"{name}, {comp}"
                    line[i] = self.lines.code(label, "tokens")
                    unit_pico[i] = (
                        prices.batch_pico(price) if is_batch else prices.token_pico(price)
                    )
                sel = (g["batch"] == is_batch) & (line[g["model"]] >= 0)
                q = np.where(sel, qty, 0)
                self._add_part(
                    g["day"],
                    g["proj"],
                    g["key"],
                    line[g["model"]],
                    q,
                    prices.amount_nanos(q, unit_pico[g["model"]]),
                    gm,
                )
        self._gateway(g["day"], g["key"], gm, s_req, s_inp, s_out, s_cached)

    def _gateway(
        self,
        day: np.ndarray,
        key: np.ndarray,
        model: np.ndarray,
        requests: np.ndarray,
        inp: np.ndarray | None = None,
        out: np.ndarray | None = None,
        cached: np.ndarray | None = None,
    ) -> None:
        zero = np.zeros(day.size, dtype=np.int64)
        ok = key >= 0
        self.gw_parts.append(
            {
                "day": day[ok],
                "key": key[ok],
                "model": model[ok],
                "requests": requests[ok],
                "input_tokens": (zero if inp is None else inp)[ok],
                "output_tokens": (zero if out is None else out)[ok],
                "cached_tokens": (zero if cached is None else cached)[ok],
            }
        )

    def _simple_family(
        self,
        family: str,
        scale: float,
        models: list[str],
        metric: str,
        per_request: tuple[float, float],
    ) -> tuple[np.ndarray, ...]:
        """Key traffic with one model column and one size metric (+ num_model_requests)."""
        u, rng = self.u, self.rng
        k, day = self._key_events(family, scale)
        n = k.size
        model = rng.integers(0, len(models), n)
        req = 1 + rng.poisson(1.5, n)
        amount = (req * rng.lognormal(np.log(per_request[0]), per_request[1], n)).astype(
            np.int64
        ) + req
        ts = _timestamps(rng, day, u.start_day, u.key_created_at[k])
        self._touch(k, ts)
        proj, user = self._dims(k)
        self._frame(
            family,
            ts,
            {
                "project_id": _lookup(u.project_ids, proj),
                "user_id": _lookup(u.user_ids, user),
                "api_key_id": _lookup(u.key_ids, k),
                "model": _lookup(models, model),
                metric: amount,
                "num_model_requests": req,
            },
        )
        return k, day, proj, model, req, amount

    def _price_simple(
        self,
        k: np.ndarray,
        day: np.ndarray,
        proj: np.ndarray,
        model: np.ndarray,
        req: np.ndarray,
        amount: np.ndarray,
        models: list[str],
        unit_pico: list[int],
        line_suffix: str,
        unit: str,
        with_tokens: bool = False,
    ) -> None:
        u = self.u
        codes = self._group_codes(
            (day, u.n_days), (proj, len(u.project_ids)), (k, self.n_keys), (model, len(models))
        )
        order, starts, rep = _group(codes)
        qty = _sum(amount, order, starts)
        s_req = _sum(req, order, starts)
        m = model[rep]
        gm = np.array([self.model_code[x] for x in models])[m]
        line = np.array([self.lines.code(f"{x}, {line_suffix}", unit) for x in models])[m]
        pico_arr = np.array(unit_pico, dtype=np.int64)[m]
        self._add_part(
            day[rep], proj[rep], k[rep], line, qty, prices.amount_nanos(qty, pico_arr), gm
        )
        self._gateway(day[rep], k[rep], gm, s_req, qty if with_tokens else None)

    def embeddings(self) -> None:
        models = self.u.embedding_models
        k, day, proj, model, req, amount = self._simple_family(
            "embeddings", 0.4, models, "input_tokens", (700.0, 0.8)
        )
        pico_ = [prices.token_pico(prices.EMBEDDING_MODELS[m]) for m in models]
        self._price_simple(
            k, day, proj, model, req, amount, models, pico_, "input", "tokens", with_tokens=True
        )

    def moderations(self) -> None:
        # moderations are free: usage rows only, no cost rows
        self._simple_family(
            "moderations", 0.3, self.u.moderation_models, "input_tokens", (300.0, 0.6)
        )

    def audio_speeches(self) -> None:
        models = self.u.speech_models
        k, day, proj, model, req, amount = self._simple_family(
            "audio_speeches", 0.15, models, "characters", (600.0, 0.7)
        )
        pico_ = [prices.token_pico(prices.SPEECH_MODELS[m]) for m in models]
        self._price_simple(
            k, day, proj, model, req, amount, models, pico_, "characters", "characters"
        )

    def audio_transcriptions(self) -> None:
        models = self.u.transcription_models
        k, day, proj, model, req, amount = self._simple_family(
            "audio_transcriptions", 0.15, models, "seconds", (90.0, 0.8)
        )
        pico_ = [prices.pico(prices.TRANSCRIPTION_MODELS[m]) for m in models]
        self._price_simple(
            k, day, proj, model, req, amount, models, pico_, "audio seconds", "duration_seconds"
        )

    def images(self) -> None:
        u, rng = self.u, self.rng
        models = u.image_models
        k, day = self._key_events("images", 0.12)
        n = k.size
        model = rng.integers(0, len(models), n)
        size = rng.choice(len(prices.IMAGE_SIZES), size=n, p=[0.05, 0.1, 0.6, 0.1, 0.15])
        source = rng.choice(len(prices.IMAGE_SOURCES), size=n, p=[0.8, 0.15, 0.05])
        req = 1 + rng.poisson(0.8, n)
        images = req * rng.integers(1, 5, n)
        ts = _timestamps(rng, day, u.start_day, u.key_created_at[k])
        self._touch(k, ts)
        proj, user = self._dims(k)
        self._frame(
            "images",
            ts,
            {
                "project_id": _lookup(u.project_ids, proj),
                "user_id": _lookup(u.user_ids, user),
                "api_key_id": _lookup(u.key_ids, k),
                "model": _lookup(models, model),
                "size": np.array(prices.IMAGE_SIZES, dtype=object)[size],
                "source": np.array(prices.IMAGE_SOURCES, dtype=object)[source],
                "images": images,
                "num_model_requests": req,
            },
        )
        n_sizes = len(prices.IMAGE_SIZES)
        codes = self._group_codes(
            (day, u.n_days),
            (proj, len(u.project_ids)),
            (k, self.n_keys),
            (model, len(models)),
            (size, n_sizes),
        )
        order, starts, rep = _group(codes)
        qty = _sum(images, order, starts)
        s_req = _sum(req, order, starts)
        combo = model[rep] * n_sizes + size[rep]
        line_t, pico_t = [], []
        for m in models:
            for sz in prices.IMAGE_SIZES:
                line_t.append(self.lines.code(f"{m}, images {sz}", "images"))
                pico_t.append(prices.pico(prices.IMAGE_MODELS[m][sz]))
        gm = np.array([self.model_code[m] for m in models])[model[rep]]
        self._add_part(
            day[rep],
            proj[rep],
            k[rep],
            np.array(line_t)[combo],
            qty,
            prices.amount_nanos(qty, np.array(pico_t, dtype=np.int64)[combo]),
            gm,
        )
        self._gateway(day[rep], k[rep], gm, s_req)

    def vector_stores(self) -> None:
        """One storage snapshot row per (project, day) at UTC midnight, growing over time."""
        u, rng = self.u, self.rng
        projs = np.array(sorted(u.vector_store_projects), dtype=np.int64)
        n_days = u.n_days
        base = rng.lognormal(np.log(5e7), 1.0, projs.size)  # bytes at range start
        growth = rng.uniform(0.0, 0.02, projs.size)  # per day
        d = np.arange(n_days)
        active = (d[None, :] >= u.project_start[projs][:, None]) & (
            d[None, :] < u.project_end[projs][:, None]
        )
        grid = base[:, None] * (1 + growth[:, None] * d[None, :])
        grid *= rng.uniform(0.97, 1.03, grid.shape)
        pi, di = np.nonzero(active)
        proj = projs[pi]
        usage_bytes = grid[pi, di].astype(np.int64)
        ts = u.start_day + di.astype(np.int64) * DAY
        self._frame(
            "vector_stores",
            ts,
            {"project_id": _lookup(u.project_ids, proj), "usage_bytes": usage_bytes},
        )
        line = self.lines.code(prices.VECTOR_STORE_LINE_ITEM, "gibibyte_hours")
        n = proj.size
        self._add_part(
            di.astype(np.int64),
            proj,
            np.full(n, -1),
            np.full(n, line),
            usage_bytes.astype(np.float64) * 24 / 2**30,
            prices.vector_store_nanos(usage_bytes),
            np.full(n, -1),
        )

    def code_interpreter_sessions(self) -> None:
        u, rng = self.u, self.rng
        projs = u.code_interpreter_projects
        rate = rng.lognormal(np.log(1.0), 0.5, projs.size)
        pi, day = _events(rng, rate, u.project_start[projs], u.project_end[projs], self.factor)
        proj = projs[pi]
        n = proj.size
        sessions = rng.integers(1, 5, n)
        ts = _timestamps(rng, day, u.start_day, None)
        self._frame(
            "code_interpreter_sessions",
            ts,
            {"project_id": _lookup(u.project_ids, proj), "num_sessions": sessions},
        )
        codes = self._group_codes((day, u.n_days), (proj, len(u.project_ids)))
        order, starts, rep = _group(codes)
        qty = _sum(sessions, order, starts)
        line = self.lines.code(prices.CODE_INTERPRETER_LINE_ITEM, "sessions")
        m = rep.size
        self._add_part(
            day[rep],
            proj[rep],
            np.full(m, -1),
            np.full(m, line),
            qty,
            prices.amount_nanos(qty, prices.pico(prices.CODE_INTERPRETER_SESSION)),
            np.full(m, -1),
        )

    def file_search_calls(self) -> None:
        u, rng = self.u, self.rng
        k, day = self._key_events("file_search_calls", 0.25)
        n = k.size
        proj, user = self._dims(k)
        # each event searches one of its project's vector stores
        stores: list[str] = []
        offsets = np.zeros(len(u.project_ids) + 1, dtype=np.int64)
        counts = np.zeros(len(u.project_ids), dtype=np.int64)
        for p in sorted(u.vector_store_projects):
            counts[p] = len(u.vector_store_projects[p])
        offsets[1:] = np.cumsum(counts)
        for p in sorted(u.vector_store_projects):
            stores.extend(u.vector_store_projects[p])
        cnt = counts[proj]
        pick = offsets[proj] + (rng.random(n) * np.maximum(cnt, 1)).astype(np.int64)
        vs = np.where(cnt > 0, pick, -1)
        calls = rng.integers(1, 20, n)
        ts = _timestamps(rng, day, u.start_day, u.key_created_at[k])
        self._touch(k, ts)
        self._frame(
            "file_search_calls",
            ts,
            {
                "project_id": _lookup(u.project_ids, proj),
                "user_id": _lookup(u.user_ids, user),
                "api_key_id": _lookup(u.key_ids, k),
                "vector_store_id": _lookup(stores, vs),
                "num_requests": calls,
            },
        )
        codes = self._group_codes((day, u.n_days), (proj, len(u.project_ids)), (k, self.n_keys))
        order, starts, rep = _group(codes)
        qty = _sum(calls, order, starts)
        line = self.lines.code(prices.FILE_SEARCH_LINE_ITEM, "calls")
        m = rep.size
        self._add_part(
            day[rep],
            proj[rep],
            k[rep],
            np.full(m, line),
            qty,
            prices.amount_nanos(qty, prices.pico(prices.FILE_SEARCH_CALL)),
            np.full(m, -1),
        )

    def web_search_calls(self) -> None:
        u, rng = self.u, self.rng
        k, day = self._key_events("web_search_calls", 0.2)
        n = k.size
        model = self.key_primary[k]
        level = rng.choice(len(prices.CONTEXT_LEVELS), size=n, p=[0.3, 0.5, 0.2])
        req = 1 + rng.poisson(1.0, n)
        calls = req * rng.integers(1, 4, n)
        ts = _timestamps(rng, day, u.start_day, u.key_created_at[k])
        self._touch(k, ts)
        proj, user = self._dims(k)
        self._frame(
            "web_search_calls",
            ts,
            {
                "project_id": _lookup(u.project_ids, proj),
                "user_id": _lookup(u.user_ids, user),
                "api_key_id": _lookup(u.key_ids, k),
                "model": _lookup(u.completion_models, model),
                "context_level": np.array(prices.CONTEXT_LEVELS, dtype=object)[level],
                "num_model_requests": req,
                "num_requests": calls,
            },
        )
        models = u.completion_models
        codes = self._group_codes(
            (day, u.n_days), (proj, len(u.project_ids)), (k, self.n_keys), (model, len(models))
        )
        order, starts, rep = _group(codes)
        qty = _sum(calls, order, starts)
        s_req = _sum(req, order, starts)
        m = model[rep]
        line = np.array([self.lines.code(f"{x}, web search tool calls", "calls") for x in models])[
            m
        ]
        gm = np.array([self.model_code[x] for x in models])[m]
        self._add_part(
            day[rep],
            proj[rep],
            k[rep],
            line,
            qty,
            prices.amount_nanos(qty, prices.pico(prices.WEB_SEARCH_CALL)),
            gm,
        )
        self._gateway(day[rep], k[rep], gm, s_req)

    def seats(self) -> None:
        """Subscription seats: a fixed amount every day, no project, no key."""
        days = np.arange(self.u.n_days, dtype=np.int64)
        n = days.size
        for name, count in self.u.seats:
            line = self.lines.code(name, "seats")
            nanos = int(prices.SEAT_LINE_ITEMS[name] * count * 10**9)
            self._add_part(
                days,
                np.full(n, -1),
                np.full(n, -1),
                np.full(n, line),
                np.full(n, float(count)),
                np.full(n, nanos, dtype=np.int64),
                np.full(n, -1),
            )

    # ----------------------------------------------------------------- assembly

    def costs_frame(self) -> pd.DataFrame:
        """All cost parts as one frame sorted by (day, project, line item, key).

        Also computes `self.gateway` from the integer arrays first, then drops the parts,
        so the large org never holds codes, Decimals and frames all at once.
        """
        u = self.u
        cat = {
            f: np.concatenate([getattr(p, f) for p in self.parts])
            for f in _CostPart.__dataclass_fields__
        }
        self.parts = []
        if np.any(cat["nanos"] >= 100_000 * 10**9):
            raise ValueError("a synthetic cost row reached $100,000; lower the usage scale")
        self.gateway = self._gateway_groups(cat)
        order = np.lexsort((cat["key"], cat["line"], cat["project"], cat["day"]))
        cat = {f: a[order] for f, a in cat.items()}
        del order
        line_names = np.array(self.lines.names, dtype=object)
        units = np.array(self.lines.units, dtype=object)
        amount = np.empty(cat["nanos"].size, dtype=object)
        amount[:] = [prices.nanos_to_decimal(x) for x in cat["nanos"].tolist()]
        return pd.DataFrame(
            {
                "ts": u.start_day + cat["day"] * DAY,
                "project_id": _lookup(u.project_ids, cat["project"]),
                "line_item": line_names[cat["line"]],
                "api_key_id": _lookup(u.key_ids, cat["key"]),
                "amount": amount,
                "quantity": cat["quantity"],
                "quantity_unit": units[cat["line"]],
                "amount_nanos": cat["nanos"],
                "model": _lookup(self.models, cat["model"]),
            }
        )

    def _gateway_groups(self, cat: dict[str, np.ndarray]) -> pd.DataFrame:
        """Per (day, key, model): metered requests/tokens (usage) and billed nanos (costs)."""
        u = self.u
        radix = ((u.n_days,), (self.n_keys,), (len(self.models),))

        def codes(day: np.ndarray, key: np.ndarray, model: np.ndarray) -> np.ndarray:
            return self._group_codes((day, radix[0][0]), (key, radix[1][0]), (model, radix[2][0]))

        sel = (cat["key"] >= 0) & (cat["model"] >= 0)
        c_codes = codes(cat["day"][sel], cat["key"][sel], cat["model"][sel])
        order, starts, rep = _group(c_codes)
        billed_codes = c_codes[rep]
        billed = _sum(cat["nanos"][sel], order, starts)
        gw = {f: np.concatenate([p[f] for p in self.gw_parts]) for f in self.gw_parts[0]}
        self.gw_parts = []
        g_codes = codes(gw["day"], gw["key"], gw["model"])
        order, starts, rep = _group(g_codes)
        pos = np.searchsorted(billed_codes, g_codes[rep])
        pos_ok = np.minimum(pos, max(billed_codes.size - 1, 0))
        found = (pos < billed_codes.size) & (billed_codes[pos_ok] == g_codes[rep])
        out = {"day": gw["day"][rep], "key": gw["key"][rep], "model": gw["model"][rep]}
        for f in ("requests", "input_tokens", "output_tokens", "cached_tokens"):
            out[f] = _sum(gw[f].astype(np.int64), order, starts)
        out["nanos"] = np.where(found, billed[pos_ok] if billed.size else 0, 0)
        return pd.DataFrame(out)


def generate(u: Universe, rng: np.random.Generator) -> UsageResult:
    """Every family's events, then costs priced from them, then gateway facts."""
    g = _Generator(u, rng)
    g.completions()
    g.embeddings()
    g.moderations()
    g.images()
    g.audio_speeches()
    g.audio_transcriptions()
    g.vector_stores()
    g.code_interpreter_sessions()
    g.file_search_calls()
    g.web_search_calls()
    g.seats()
    costs = g.costs_frame()
    return UsageResult(
        usage={f: g.usage[f] for f in FAMILY_DIMENSIONS},
        costs=costs,
        key_last_used=g.last_used,
        gateway=g.gateway,
        model_names=g.models,
    )
