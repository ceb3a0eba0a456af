"""The synthetic organization's timeline scenarios: what changes in the middle of the range.

Why: "what was true on day D" is only worth testing if things change during the range. On
top of what the generator already plans (tokens revoked mid-range, keys deleted, projects
archived), these scenarios are placed deterministically, with no draw from the other
parts' random streams (so every other generated value stays as it was):

- a key registered late: used from the first day, its Dev Token created halfway through
  (bypass before, registered after);
- a member who leaves: joins early in the range, is removed before its middle (a
  `user.deleted` event; listed nowhere afterwards), and matches an active engineer;
- engineers who depart: the first departed engineer who matches a member left at 60 %
  of the range (`departed_on`); other departed members' engineers have no recorded day,
  departed engineers who are not members left before the range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from .model import User

DAY = 86_400
#: Where in the range the scenarios happen (fractions of the range's days).
LATE_REGISTRATION_AT = 0.5
FORMER_MEMBER_JOINS_AT = 0.15
FORMER_MEMBER_LEAVES_AT = 0.4
ENGINEER_DEPARTS_AT = 0.6


class Person(Protocol):
    first: str
    last: str

    @property
    def name(self) -> str: ...


def _day(seconds: int) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()


def plan_late_registration(
    roles: np.ndarray, reg: np.ndarray, created_day: np.ndarray, end: np.ndarray, n_days: int
) -> int | None:
    """Relabel one key `late` (in place) and return its index, or None if none fits.

    The key: the first steady key registered `active`, created in the range's first days
    and used to its end, so it has traffic on both sides of the registration.
    """
    halfway = round(LATE_REGISTRATION_AT * n_days)
    for i in range(len(reg)):
        if (
            roles[i] == "steady"
            and reg[i] == "active"
            and created_day[i] < halfway - 3
            and end[i] == n_days
        ):
            reg[i] = "late"
            return i
    return None


def late_registration_time(start_day: int, n_days: int, key_index: int) -> int:
    """When the late key's Dev Token is created: halfway through the range, mid-morning."""
    day = round(LATE_REGISTRATION_AT * n_days)
    return start_day + day * DAY + 9 * 3600 + 600 * (key_index % 6)


def former_member(
    rng: np.random.Generator,
    candidates: Sequence[Person],
    engineers: pd.DataFrame,
    corp_domain: str,
    start_day: int,
    n_days: int,
    taken_ids: set[str],
    new_id: str,
) -> User | None:
    """The member who leaves: an Asset Registry engineer who was not an OpenAI member.

    An active engineer is preferred (the member is then attributed while a member); the
    address is the engineer's primary one. `new_id` must be unused.
    """
    if not candidates or new_id in taken_ids:
        return None
    active = set(engineers.loc[engineers["status"] == "active", "email"])
    person = next(
        (p for p in candidates if f"{p.first}.{p.last}@{corp_domain}" in active), candidates[0]
    )
    joined = start_day + round(FORMER_MEMBER_JOINS_AT * n_days) * DAY
    left = start_day + round(FORMER_MEMBER_LEAVES_AT * n_days) * DAY
    return User(
        id=new_id,
        email=f"{person.first}.{person.last}@{corp_domain}",
        name=person.name,
        role="reader",
        added_at=joined + int(rng.integers(8 * 3600, 12 * 3600)),
        deleted_at=left + int(rng.integers(13 * 3600, 17 * 3600)),
    )


def with_departures(
    engineers: pd.DataFrame, member_addresses: set[str], start_day: int, n_days: int
) -> tuple[pd.DataFrame, str | None]:
    """`engineers` with a `departed_on` column, and the id of the engineer who departs
    inside the range (None if no departed engineer matches a member).

    Departed engineers matching a member (by primary address): the first by id left at
    ENGINEER_DEPARTS_AT of the range, the others on no recorded day (NULL). Departed
    engineers who are not members left before the range (a week apart). Active engineers
    have none.
    """
    frame = engineers.copy()
    departed_on: list[dt.date | None] = [None] * len(frame)
    first_day = _day(start_day)
    inside = _day(start_day + round(ENGINEER_DEPARTS_AT * n_days) * DAY)
    departing: str | None = None
    order = sorted(range(len(frame)), key=lambda j: frame["engineer_id"].iloc[j])
    outsiders = 0
    for j in order:
        if frame["status"].iloc[j] != "departed":
            continue
        if frame["email"].iloc[j] in member_addresses:
            if departing is None:
                departing = str(frame["engineer_id"].iloc[j])
                departed_on[j] = inside
        else:
            outsiders += 1
            departed_on[j] = first_day - dt.timedelta(days=7 * outsiders)
    frame["departed_on"] = pd.Series(departed_on, index=frame.index, dtype=object)
    return frame, departing
