"""`build_org(seed, size)`: the deterministic synthetic OpenAI organization the sandbox serves.

Why: the pipeline, its tests, the demo and the benchmarks need an organization that looks
like a real one (archived projects, deleted keys still billed, service accounts, org-level
traffic, seats, unregistered keys, messy emails) and that never changes: the same
(seed, size) always yields identical records, on any machine, whatever today's date is.
The time axis is therefore fixed: the data ends at `END_DAY` (2026-11-26 00:00 UTC,
exclusive) and starts `SIZES[size].days` days earlier.

Everything random comes from numpy Generators seeded with (seed, size, part), so adding a
new part never shifts the others. No wall clock, no `hash()`, no set iteration order.

The organization is cached (`functools.lru_cache`): callers share one object and must not
mutate it.

One unit, though long: the organization's people, projects, keys and their timeline are
drawn from one seeded sequence, and splitting the draws across modules would make the
order of draws (and so every generated value) depend on import structure.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from . import org_audit, org_kscope, org_timeline, org_usage, prices
from .model import (
    ApiKey,
    AuditEvent,
    Invite,
    Project,
    ProjectUser,
    ServiceAccount,
    SyntheticOrg,
    User,
)

DAY = 86_400
#: Exclusive end of the synthetic data: 2026-11-26 00:00 UTC (the last full day is 2026-11-25).
END_DAY: int = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp())
#: The organization's domain and the alias domain some members sign up with.
CORP_DOMAIN = "corp.com"
CORP_DOMAIN_ALIAS = "corp.io"

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class SizeSpec:
    """How big an organization of a given size is (counts are exact, not approximate).

    `models` counts completion models (the first N of `prices.COMPLETION_MODELS`); the
    other families draw from small fixed catalogs (`aux_models` of each). `seats` are the
    subscription line items and their seat counts. `events_per_key_day` is the mean number
    of completion usage rows (minute events) per active key on a weekday.
    """

    projects: int
    project_keys: int
    admin_keys: int
    users: int
    invites: int
    models: int
    days: int
    events_per_key_day: float
    aux_models: int
    seats: tuple[tuple[str, int], ...]


#: The sizes `build_org` accepts. Row counts (seed 7): see the module's tests / README.
SIZES: dict[str, SizeSpec] = {
    # tests: every feature present at least once, exact counts asserted
    "tiny": SizeSpec(3, 8, 1, 6, 3, 4, 60, 30.0, 1, (("ChatGPT Team seats", 5),)),
    # sightline tests, demo
    "small": SizeSpec(12, 60, 2, 40, 8, 8, 120, 12.0, 2, (("ChatGPT Team seats", 30),)),
    "medium": SizeSpec(
        60,
        600,
        3,
        300,
        25,
        20,
        200,
        5.0,
        3,
        (("ChatGPT Team seats", 150), ("ChatGPT Enterprise seats", 50)),
    ),
    # benchmarks: ~2M completion rows
    "large": SizeSpec(
        300,
        3000,
        5,
        1500,
        100,
        40,
        400,
        2.5,
        3,
        (("ChatGPT Team seats", 600), ("ChatGPT Enterprise seats", 300)),
    ),
}
_SIZE_CODE = {"tiny": 1, "small": 2, "medium": 3, "large": 4}

# the rng streams: one per part, so parts are independent of each other
_PART_PROJECTS, _PART_USERS, _PART_KEYS, _PART_USAGE, _PART_INVITES = 1, 2, 3, 4, 5
_PART_KSCOPE, _PART_IDS = 6, 7
_PART_TIMELINE = 8  # the former member, and the audit log's noise (org_timeline, org_audit)

FIRST_NAMES = [
    "ann",
    "alan",
    "maria",
    "james",
    "li",
    "wei",
    "priya",
    "rahul",
    "sofia",
    "lucas",
    "emma",
    "noah",
    "olivia",
    "liam",
    "ava",
    "mason",
    "mia",
    "ethan",
    "zoe",
    "leo",
    "nina",
    "omar",
    "sara",
    "yuki",
    "kenji",
    "fatima",
    "ali",
    "chen",
    "jun",
    "elena",
    "ivan",
    "anna",
    "pavel",
    "lena",
    "marco",
    "giulia",
    "pierre",
    "claire",
    "hans",
    "greta",
    "sven",
    "ingrid",
    "raj",
    "anita",
    "tom",
    "kate",
    "sam",
    "jo",
    "max",
    "eva",
    "diego",
    "lucia",
    "pedro",
    "ines",
    "kofi",
    "ama",
    "tariq",
    "layla",
    "dan",
    "ruth",
]
LAST_NAMES = [
    "smith",
    "jones",
    "garcia",
    "chen",
    "wang",
    "patel",
    "kumar",
    "silva",
    "rossi",
    "muller",
    "schmidt",
    "dubois",
    "martin",
    "novak",
    "kowalski",
    "ivanova",
    "sato",
    "tanaka",
    "kim",
    "park",
    "nguyen",
    "tran",
    "lopez",
    "gonzalez",
    "perez",
    "brown",
    "taylor",
    "wilson",
    "davies",
    "evans",
    "thomas",
    "roberts",
    "walker",
    "white",
    "hall",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "carter",
    "phillips",
    "turner",
    "parker",
    "collins",
    "edwards",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
]
PROJECT_WORDS = [
    "search",
    "support-bot",
    "checkout",
    "analytics",
    "ml-platform",
    "data-eng",
    "growth",
    "ads-ranking",
    "fraud",
    "docs-assistant",
    "code-review",
    "onboarding",
    "billing",
    "recsys",
    "translation",
    "voice",
    "summaries",
    "sales-copilot",
    "security",
    "hr-helpdesk",
    "legal-review",
    "etl",
    "forecasting",
]
TEAMS = ("platform", "search", "ml", "data", "support", "growth", "security", "infra")


# --------------------------------------------------------------------------- utilities


def _rng(seed: int, size: str, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, _SIZE_CODE[size], part])


def random_ids(rng: np.random.Generator, prefix: str, n: int, length: int = 24) -> list[str]:
    """`n` distinct ids `prefix + length` base62 characters, deterministic for the rng."""
    out: list[str] = []
    seen: set[str] = set()
    letters = np.array(list(ALPHABET), dtype="<U1")
    while len(out) < n:
        raw = rng.integers(0, len(ALPHABET), size=(n - len(out), length))
        # rows of one-character strings viewed as one string each: no Python loop per id
        for text in letters[raw].view(f"<U{length}").ravel().tolist():
            value = prefix + text
            if value not in seen:
                seen.add(value)
                out.append(value)
    return out


def _quota(n: int, fraction: float, floor: int = 1) -> int:
    return max(floor, round(n * fraction))


# --------------------------------------------------------------------------- people


@dataclass
class _Person:
    first: str
    last: str

    @property
    def name(self) -> str:
        return f"{self.first.capitalize()} {self.last.capitalize()}"

    @property
    def canonical(self) -> str:
        return f"{self.first}.{self.last}@{CORP_DOMAIN}"


def _people(rng: np.random.Generator, n: int) -> list[_Person]:
    """`n` people with distinct (first, last) names."""
    pairs = len(FIRST_NAMES) * len(LAST_NAMES)
    if n > pairs:
        raise ValueError(f"at most {pairs} distinct people")
    picks = rng.choice(pairs, size=n, replace=False)
    return [
        _Person(FIRST_NAMES[p // len(LAST_NAMES)], LAST_NAMES[p % len(LAST_NAMES)]) for p in picks
    ]


# --------------------------------------------------------------------------- the build


@functools.lru_cache(maxsize=8)
def build_org(seed: int, size: str) -> SyntheticOrg:
    """The synthetic organization for (seed, size); identical for identical arguments.

    `size` is a key of `SIZES`. The result is cached and shared: do not mutate it.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return _Builder(seed, size).build()


class _Builder:
    """Builds one organization step by step; each step reads what the earlier ones made."""

    def __init__(self, seed: int, size: str) -> None:
        self.seed = seed
        self.size = size
        self.spec = SIZES[size]
        self.n_days = self.spec.days
        self.end_day = END_DAY
        self.start_day = END_DAY - self.n_days * DAY

    def day_start(self, day_index: int) -> int:
        return self.start_day + day_index * DAY

    # ----------------------------------------------------------------- projects

    def projects(self) -> None:
        spec, rng = self.spec, _rng(self.seed, self.size, _PART_PROJECTS)
        n = spec.projects
        ids = random_ids(rng, "proj_", n)
        n_archived = _quota(n, 0.05)
        n_late = 0 if n < 10 else round(n * 0.1)
        others = rng.permutation(np.arange(1, n))
        archived = set(others[:n_archived].tolist())
        late = set(others[n_archived : n_archived + n_late].tolist())
        words = list(PROJECT_WORDS)
        self.project_records: list[Project] = []
        self.project_start = np.zeros(n, dtype=np.int64)
        self.project_end = np.full(n, self.n_days, dtype=np.int64)
        self.project_created_day = np.zeros(n, dtype=np.int64)  # may be negative
        self.default_project = 0
        for i in range(n):
            if i == 0:
                name = "Default project"
                created_day = -700
            else:
                base = words[(i - 1) % len(words)]
                name = base if i <= len(words) else f"{base}-{(i - 1) // len(words) + 1}"
                created_day = (
                    int(rng.integers(round(0.1 * self.n_days), round(0.6 * self.n_days)))
                    if i in late
                    else -int(rng.integers(20, 500))
                )
            created_at = self.day_start(created_day) + int(rng.integers(3600, 20 * 3600))
            archived_at = None
            if i in archived:
                a_day = int(rng.integers(round(0.45 * self.n_days), round(0.7 * self.n_days)))
                archived_at = self.day_start(a_day) + int(rng.integers(3600, 20 * 3600))
                self.project_end[i] = a_day
            self.project_created_day[i] = created_day
            self.project_start[i] = max(created_day + 1, 0)
            self.project_records.append(
                Project(
                    id=ids[i],
                    name=name,
                    created_at=created_at,
                    archived_at=archived_at,
                    status="archived" if archived_at is not None else "active",
                )
            )
        self.archived_projects = sorted(archived)

    # ----------------------------------------------------------------- users and invites

    def users_and_people(self) -> None:
        """Users, pending/expired/accepted invites, and the people behind every email."""
        spec, rng = self.spec, _rng(self.seed, self.size, _PART_USERS)
        n_users, n_inv = spec.users, spec.invites
        n_pending = max(1, round(n_inv * 0.4))
        n_accepted = max(1, round(n_inv * 0.3))
        n_expired = n_inv - n_pending - n_accepted
        if n_expired < 1:
            raise ValueError("need at least 3 invites (pending, accepted, expired)")
        n_extra_engineers = max(2, round(n_users * 0.3))
        people = _people(rng, n_users + n_pending + n_expired + n_extra_engineers)
        self.user_people = people[:n_users]
        self.pending_people = people[n_users : n_users + n_pending]
        expired_people = people[n_users + n_pending : n_users + n_pending + n_expired]
        self.extra_people = people[n_users + n_pending + n_expired :]
        user_ids = random_ids(rng, "user-", n_users)
        # roles: the first user founded the org; ~12% owners
        n_owners = _quota(n_users, 0.12)
        roles = ["owner"] * n_owners + ["reader"] * (n_users - n_owners)
        # added: most before the range, some during it (the accepted invites among them)
        added_day = np.empty(n_users, dtype=np.int64)
        added_day[0] = -720
        n_late = max(n_accepted, round(n_users * 0.2))
        late = set(rng.choice(np.arange(1, n_users), size=n_late, replace=False).tolist())
        for i in range(1, n_users):
            added_day[i] = (
                int(rng.integers(2, self.n_days - 5)) if i in late else -int(rng.integers(1, 600))
            )
        self.user_added_at = np.array(
            [self.day_start(int(d)) + int(rng.integers(3600, 20 * 3600)) for d in added_day]
        )
        self.user_added_at[0] = self.day_start(-720)
        # member emails are assigned with the registry (org_kscope); placeholders for now
        self.user_ids = user_ids
        self.user_roles = roles
        self.owner_users = [i for i in range(n_users) if roles[i] == "owner"]
        # invites
        inv_ids = random_ids(rng, "invite-", n_inv)
        # (invite id, status, the invited person, the user it became if accepted)
        self.invite_plan: list[tuple[str, str, _Person, int]] = []
        accepted_users = sorted(late, key=lambda i: (added_day[i], i))[:n_accepted]
        plan = [
            *(("pending", p, -1) for p in self.pending_people),
            *(("accepted", self.user_people[u], u) for u in accepted_users),
            *(("expired", p, -1) for p in expired_people),
        ]
        for inv_id, (status, person, user) in zip(inv_ids, plan, strict=True):
            self.invite_plan.append((inv_id, status, person, user))
        self._invite_rng = rng

    def invites(self, emails: dict[int, str], pending_emails: list[str]) -> list[Invite]:
        rng = self._invite_rng
        out: list[Invite] = []
        pending_iter = iter(pending_emails)
        for inv_id, status, person, ui in self.invite_plan:
            role = "reader" if rng.random() < 0.85 else "owner"
            proj = self.project_records[int(rng.integers(0, len(self.project_records)))]
            projects = () if proj.status == "archived" else ((proj.id, "member"),)
            if status == "pending":
                created = END_DAY - int(rng.integers(3600, 6 * DAY))
                out.append(
                    Invite(
                        inv_id,
                        next(pending_iter),
                        role,
                        "pending",
                        created,
                        created + 7 * DAY,
                        None,
                        projects,
                    )
                )
            elif status == "accepted":
                accepted = int(self.user_added_at[ui])
                created = accepted - int(rng.integers(600, 3 * DAY))
                out.append(
                    Invite(
                        inv_id,
                        emails[ui],
                        self.user_roles[ui],
                        "accepted",
                        created,
                        created + 7 * DAY,
                        accepted,
                        projects,
                    )
                )
            else:
                created = self.day_start(int(rng.integers(0, self.n_days - 20)))
                created += int(rng.integers(3600, 20 * 3600))
                domain = "gmail.com" if rng.random() < 0.5 else CORP_DOMAIN
                email = f"{person.first}.{person.last}@{domain}"
                out.append(
                    Invite(
                        inv_id, email, role, "expired", created, created + 7 * DAY, None, projects
                    )
                )
        out.sort(key=lambda i: (i.created_at, i.id))
        return out

    # ----------------------------------------------------------------- keys

    def keys(self) -> None:
        """Plan every project key: its traffic role, project, owner, life and registration.

        Traffic roles: `steady` (used from creation to the end, or to its project's
        archival), `stopped` (used early, idle for the last ~half of the range), `deleted`
        (used, then deleted: listed nowhere, still in usage and costs), `never` (created
        partway, never used). Registration (Kscope dev tokens): `active`, `revoked`
        (token revoked, key still used), `reregistered` (revoked then a new active token),
        `redacted` (active token that carries only the redacted value), `none`.
        """
        spec, rng = self.spec, _rng(self.seed, self.size, _PART_KEYS)
        K, n_days = spec.project_keys, self.n_days
        n_del, n_never, n_stop = _quota(K, 0.04), _quota(K, 0.06), _quota(K, 0.06)
        roles = np.array(
            ["deleted"] * n_del
            + ["never"] * n_never
            + ["stopped"] * n_stop
            + ["steady"] * (K - n_del - n_never - n_stop),
            dtype=object,
        )
        roles = roles[rng.permutation(K)]
        # the first steady key is created at exactly start_day: the earliest key creation
        first_steady = int(np.flatnonzero(roles == "steady")[0])
        created_day = np.zeros(K, dtype=np.int64)
        for i in range(K):
            r = roles[i]
            if i == first_steady or r in ("stopped", "deleted"):
                created_day[i] = 0
            elif r == "never":
                created_day[i] = int(rng.integers(1, n_days - 3))
            else:
                created_day[i] = 0 if rng.random() < 0.6 else int(rng.integers(1, n_days - 8))
        start = created_day.copy()
        end = np.full(K, n_days, dtype=np.int64)
        deleted_at = np.full(K, -1, dtype=np.int64)
        for i in range(K):
            if roles[i] == "stopped":
                end[i] = int(rng.integers(max(3, round(0.2 * n_days)), round(0.45 * n_days)))
            elif roles[i] == "deleted":
                end[i] = int(rng.integers(round(0.5 * n_days), round(0.8 * n_days)))
                deleted_at[i] = self.day_start(int(end[i])) + int(rng.integers(600, 20 * 3600))
            elif roles[i] == "never":
                start[i] = end[i] = created_day[i]
        # projects: the archived ones and the Default project first get a steady key
        n_proj = len(self.project_records)
        project = np.full(K, -1, dtype=np.int64)
        steady_initial = [i for i in range(K) if roles[i] == "steady" and created_day[i] == 0]
        forced = [*self.archived_projects, self.default_project]
        for p, i in zip(forced, rng.permutation(steady_initial).tolist(), strict=False):
            project[i] = p
        popularity = rng.pareto(1.2, n_proj) + 0.2
        for i in range(K):
            if project[i] >= 0:
                continue
            ok = (self.project_created_day < created_day[i]) & (
                self.project_end > created_day[i] + 2
            )
            cand = np.flatnonzero(ok)
            w = popularity[cand] / popularity[cand].sum()
            project[i] = int(rng.choice(cand, p=w))
        # a key's traffic ends with its project's archival
        end = np.minimum(end, self.project_end[project])
        start = np.minimum(start, end)
        # owners: ~25% service accounts (each owns one key), the rest users added before
        n_sa = _quota(K, 0.25)
        sa_keys = set(rng.choice(K, size=n_sa, replace=False).tolist())
        user_pop = rng.pareto(1.5, len(self.user_ids)) + 0.3
        created_at = np.array(
            [self.day_start(int(d)) + int(rng.integers(300, 20 * 3600)) for d in created_day],
            dtype=np.int64,
        )
        created_at[first_steady] = self.start_day
        owner_user = np.full(K, -1, dtype=np.int64)
        for i in range(K):
            if i in sa_keys:
                continue
            cand = np.flatnonzero(self.user_added_at < created_at[i])
            w = user_pop[cand] / user_pop[cand].sum()
            owner_user[i] = int(rng.choice(cand, p=w))
        # rates: heavy-tailed, with floors for keys whose role must show in the data
        rate = rng.lognormal(np.log(spec.events_per_key_day) - 0.5, 1.0, K)
        rate = np.where(roles == "never", 0.0, np.maximum(rate, 0.3))
        # registration
        reg = np.array(["active"] * K, dtype=object)
        steady_to_end = [
            i
            for i in rng.permutation(K).tolist()
            if roles[i] == "steady" and end[i] == n_days and created_day[i] < n_days - 30
        ]
        n_unreg_active = _quota(K, 0.05)
        n_revoked = _quota(K, 0.05)
        n_rereg = _quota(K, 0.02, floor=0)
        n_redacted = _quota(K, 0.04)
        pos = 0
        for label, count in (
            ("none", n_unreg_active),
            ("revoked", n_revoked),
            ("reregistered", n_rereg),
            ("redacted", n_redacted),
        ):
            for i in steady_to_end[pos : pos + count]:
                reg[i] = label
                rate[i] = max(rate[i], 2.0)
            pos += count
        for r in ("stopped", "never"):
            idx = [i for i in rng.permutation(K).tolist() if roles[i] == r]
            n_none = max(1, round(len(idx) * 0.5))
            for i in idx[:n_none]:
                reg[i] = "none"
        for i in range(K):
            if roles[i] in ("deleted", "stopped"):
                rate[i] = max(rate[i], 2.0)
        # one key is registered halfway through the range (no draw: other values unchanged)
        self.late_key = org_timeline.plan_late_registration(roles, reg, created_day, end, n_days)
        # families each key uses besides completions (at least one recent user of each)
        fam_p = {
            "embeddings": 0.3,
            "moderations": 0.15,
            "images": 0.1,
            "audio_speeches": 0.08,
            "audio_transcriptions": 0.08,
            "file_search_calls": 0.15,
            "web_search_calls": 0.1,
        }
        families = {"completions": np.ones(K, dtype=bool)}
        to_end = [i for i in steady_initial if end[i] == n_days] or steady_initial
        for j, (fam, p) in enumerate(fam_p.items()):
            mask = rng.random(K) < p
            mask[to_end[j % len(to_end)]] = True
            families[fam] = mask
        self.key_roles, self.key_reg = roles, reg
        self.key_created_day, self.key_created_at = created_day, created_at
        self.key_start, self.key_end, self.key_deleted_at = start, end, deleted_at
        self.key_project, self.key_owner_user, self.key_rate = project, owner_user, rate
        self.key_families = families
        self.sa_keys = sorted(sa_keys)
        ids_rng = _rng(self.seed, self.size, _PART_IDS)
        all_key_ids = random_ids(ids_rng, "key_", K + spec.admin_keys, 16)
        self.key_ids, self.admin_key_ids = all_key_ids[:K], all_key_ids[K:]
        self.sa_ids = random_ids(ids_rng, "svc_acct_", len(self.sa_keys), 16)
        # distinct 4-character suffixes: redacted values are unique, so matching by them works
        suffixes = rng.choice(len(ALPHABET) ** 4, size=K + spec.admin_keys, replace=False)
        self.redacted_suffix = [
            "".join(ALPHABET[(int(s) // len(ALPHABET) ** e) % len(ALPHABET)] for e in range(4))
            for s in suffixes
        ]
        self.key_redacted = [
            f"{'sk-svcacct-' if i in sa_keys else 'sk-proj-'}****{self.redacted_suffix[i]}"
            for i in range(K)
        ]
        self._keys_rng = rng

    # ----------------------------------------------------------------- usage universe

    def universe(self) -> org_usage.Universe:
        spec, rng = self.spec, _rng(self.seed, self.size, _PART_USAGE)
        cm = list(prices.COMPLETION_MODELS)[: spec.models]
        aux = spec.aux_models
        n_proj = len(self.project_records)
        # projects with vector stores: those whose keys do file search, plus a few more
        fs_projects = set(self.key_project[self.key_families["file_search_calls"]].tolist())
        extra = rng.random(n_proj) < 0.1
        vs_projects = sorted(fs_projects | set(np.flatnonzero(extra).tolist()))
        vs_ids = random_ids(rng, "vs_", sum(1 + (p % 3) for p in vs_projects))
        stores: dict[int, list[str]] = {}
        pos = 0
        for p in vs_projects:
            stores[p] = vs_ids[pos : pos + 1 + (p % 3)]
            pos += 1 + (p % 3)
        ci = np.flatnonzero(rng.random(n_proj) < 0.25)
        if ci.size == 0:
            ci = np.array([self.default_project])
        return org_usage.Universe(
            start_day=self.start_day,
            n_days=self.n_days,
            events_per_key_day=spec.events_per_key_day,
            project_ids=[p.id for p in self.project_records],
            project_start=self.project_start,
            project_end=self.project_end,
            key_ids=self.key_ids,
            key_project=self.key_project,
            key_user=self.key_owner_user,
            key_created_at=self.key_created_at,
            key_start=self.key_start,
            key_end=self.key_end,
            key_rate=self.key_rate,
            key_families=self.key_families,
            user_ids=self.user_ids,
            org_level_user=self.owner_users[0],
            completion_models=cm,
            embedding_models=list(prices.EMBEDDING_MODELS)[:aux],
            moderation_models=list(prices.MODERATION_MODELS)[: min(aux, 2)],
            image_models=list(prices.IMAGE_MODELS)[: min(aux, 2)],
            speech_models=list(prices.SPEECH_MODELS)[: min(aux, 2)],
            transcription_models=list(prices.TRANSCRIPTION_MODELS)[: min(aux, 2)],
            vector_store_projects=stores,
            code_interpreter_projects=ci,
            seats=self.spec.seats,
        )

    # ----------------------------------------------------------------- records

    def key_records(
        self, emails: dict[int, str], last_used: np.ndarray
    ) -> tuple[list[ApiKey], list[ServiceAccount]]:
        rng = self._keys_rng
        keys: list[ApiKey] = []
        sas: list[ServiceAccount] = []
        sa_of = dict(zip(self.sa_keys, self.sa_ids, strict=True))
        for i, kid in enumerate(self.key_ids):
            p = self.project_records[int(self.key_project[i])]
            if i in sa_of:
                owner_type, owner_id = "service_account", sa_of[i]
                name = f"{p.name}-svc-{i}"
                sas.append(
                    ServiceAccount(sa_of[i], p.id, name, "member", int(self.key_created_at[i]))
                )
            else:
                owner_type, owner_id = "user", self.user_ids[int(self.key_owner_user[i])]
                name = f"{self.user_people[int(self.key_owner_user[i])].first}-{p.name}-{i}"
            lu = int(last_used[i])
            deleted = self.key_roles[i] == "deleted"
            keys.append(
                ApiKey(
                    id=kid,
                    kind="project",
                    project_id=p.id,
                    name=name,
                    redacted_value=self.key_redacted[i],
                    created_at=int(self.key_created_at[i]),
                    last_used_at=lu if lu >= 0 else None,
                    owner_type=owner_type,
                    owner_id=owner_id,
                    deleted=deleted,
                    deleted_at=int(self.key_deleted_at[i]) if deleted else None,
                )
            )
        # admin keys: owned by owners, created after the earliest project key
        for j, aid in enumerate(self.admin_key_ids):
            owner = self.owner_users[j % len(self.owner_users)]
            created = self.day_start(2 + int(rng.integers(0, self.n_days // 2)))
            created += int(rng.integers(600, 20 * 3600))
            keys.append(
                ApiKey(
                    id=aid,
                    kind="admin",
                    project_id=None,
                    name=["billing-crawler", "kscope-openai", "scim-sync", "ops", "audit"][j % 5],
                    redacted_value=f"sk-admin-****{self.redacted_suffix[len(self.key_ids) + j]}",
                    created_at=created,
                    last_used_at=END_DAY - 3600 * (j + 1),
                    owner_type="user",
                    owner_id=self.user_ids[owner],
                    expires_at=None if j % 2 == 0 else END_DAY + 180 * DAY,
                )
            )
        return keys, sas

    def project_users(self) -> list[ProjectUser]:
        """Key owners are members of their key's project; plus some random memberships."""
        rng = _rng(self.seed, self.size, _PART_USERS + 100)
        pairs: dict[tuple[int, int], int] = {}
        for i in range(len(self.key_ids)):
            u = int(self.key_owner_user[i])
            if u >= 0:
                p = int(self.key_project[i])
                # both are strictly before the key's creation, so t <= key created_at
                t = int(max(self.user_added_at[u], self.project_records[p].created_at)) + 1
                pairs[(p, u)] = min(pairs.get((p, u), t), t)
        for u in range(len(self.user_ids)):
            for p in rng.choice(len(self.project_records), size=int(rng.integers(0, 3))):
                p = int(p)
                t = int(max(self.user_added_at[u], self.project_records[p].created_at)) + 3600
                pairs.setdefault((p, u), t)
        out = [
            ProjectUser(
                self.project_records[p].id,
                self.user_ids[u],
                "owner" if self.user_roles[u] == "owner" else "member",
                t,
            )
            for (p, u), t in sorted(pairs.items())
        ]
        return out

    def audit_events(
        self, keys: list[ApiKey], users: list[User], invites: list[Invite],
        service_accounts: list[ServiceAccount],
    ) -> list[AuditEvent]:
        inputs = org_audit.AuditInputs(
            start_day=self.start_day,
            end_day=self.end_day,
            founder_id=self.user_ids[0],
            projects=self.project_records,
            users=users,
            keys=keys,
            invites=invites,
            service_accounts=service_accounts,
        )
        return org_audit.build_audit_log(
            inputs,
            _rng(self.seed, self.size, _PART_TIMELINE + 100),
            _rng(self.seed, self.size, _PART_IDS + 100),
            random_ids,
        )

    # ----------------------------------------------------------------- all together

    def build(self) -> SyntheticOrg:
        self.projects()
        self.users_and_people()
        self.keys()
        result = org_usage.generate(self.universe(), _rng(self.seed, self.size, _PART_USAGE + 100))
        kscope = org_kscope.build_kscope(
            org_kscope.KscopeInputs(
                rng=_rng(self.seed, self.size, _PART_KSCOPE),
                start_day=self.start_day,
                n_days=self.n_days,
                user_people=self.user_people,
                pending_people=self.pending_people,
                extra_people=self.extra_people,
                corp_domain=CORP_DOMAIN,
                alias_domain=CORP_DOMAIN_ALIAS,
                key_ids=self.key_ids,
                key_roles=self.key_roles,
                key_reg=self.key_reg,
                key_created_at=self.key_created_at,
                key_deleted_at=self.key_deleted_at,
                key_project_ids=[self.project_records[int(p)].id for p in self.key_project],
                key_owner_user=self.key_owner_user,
                key_redacted=self.key_redacted,
                user_ids=self.user_ids,
                pending_invite_ids=[i for i, st, _, _ in self.invite_plan if st == "pending"],
                gateway=result.gateway,
                model_names=result.model_names,
            )
        )
        emails = kscope.user_emails
        users = [
            User(
                id=self.user_ids[i],
                email=emails[i],
                name=self.user_people[i].name,
                role=self.user_roles[i],
                added_at=int(self.user_added_at[i]),
            )
            for i in range(len(self.user_ids))
        ]
        users.sort(key=lambda u: (u.added_at, u.id))
        api_keys, sas = self.key_records(emails, result.key_last_used)
        invites = self.invites(emails, kscope.pending_emails)
        api_keys_sorted = sorted(api_keys, key=lambda k: (k.created_at, k.id))
        earliest = min(k.created_at for k in api_keys)
        timeline_rng = _rng(self.seed, self.size, _PART_TIMELINE)
        leaver = org_timeline.former_member(
            timeline_rng,
            self.extra_people,
            kscope.engineers,
            CORP_DOMAIN,
            self.start_day,
            self.n_days,
            set(self.user_ids),
            random_ids(timeline_rng, "user-", 1)[0],
        )
        former = [leaver] if leaver is not None else []
        member_people = [*self.user_people, *self.pending_people]
        engineers, departing = org_timeline.with_departures(
            kscope.engineers,
            {f"{p.first}.{p.last}@{CORP_DOMAIN}" for p in member_people},
            self.start_day,
            self.n_days,
        )
        service_accounts = sorted(sas, key=lambda s: (s.created_at, s.id))
        extra: dict[str, object] = {
            "size_spec": asdict(self.spec),
            "earliest_key_created_at": earliest,
            "domain_aliases": {CORP_DOMAIN_ALIAS: CORP_DOMAIN},
            "key_roles": dict(zip(self.key_ids, self.key_roles.tolist(), strict=True)),
            "key_registration": dict(zip(self.key_ids, self.key_reg.tolist(), strict=True)),
            "member_categories": kscope.member_categories,
            "gateway_missing_days": kscope.missing_days,
            "gateway_drift_bp": kscope.drift_bp,
            "scenarios": {
                "late_registered_key": (
                    None if self.late_key is None else self.key_ids[self.late_key]
                ),
                "revoked_keys": [k for k, r in zip(self.key_ids, self.key_reg, strict=True)
                                 if r in ("revoked", "reregistered")],
                "deleted_keys": [k.id for k in api_keys_sorted if k.deleted],
                "former_member": None if leaver is None else leaver.id,
                "departing_engineer": departing,
            },
        }
        return SyntheticOrg(
            seed=self.seed,
            size=self.size,
            organization_id=f"org-sandbox{self.seed}",
            organization_name=f"Sandbox Org {self.seed} ({self.size})",
            start_day=self.start_day,
            end_day=self.end_day,
            projects=sorted(self.project_records, key=lambda p: (p.created_at, p.id)),
            users=users,
            service_accounts=service_accounts,
            project_users=self.project_users(),
            api_keys=api_keys_sorted,
            invites=invites,
            audit_events=self.audit_events(
                api_keys_sorted, [*users, *former], invites, service_accounts
            ),
            usage=result.usage,
            costs=result.costs,
            dev_tokens=kscope.dev_tokens,
            gateway_costs=kscope.gateway_costs,
            engineers=engineers,
            extra=extra,
            former_users=former,
        )
