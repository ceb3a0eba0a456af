"""Which organization the admin key reads: the setting, or what the API itself says.

Why: every row is stamped with the organization id, and no endpoint returns it. But the
API does tell it in passing: responses may carry an `openai-organization` header, and
cost rows have been seen carrying `organization_id`. An admin key belongs to exactly one
organization, so those are facts about the key, and the setting becomes a check instead
of a requirement:

- setting only: the setting;
- setting and API agree: the setting; they disagree: an error naming both (the key is
  another organization's, and its rows must not be stamped with the wrong id);
- no setting: the one organization the API names (the header, else cost rows);
- nothing anywhere: the error that asks for the setting, as before the API was asked.

Pure rules over collected evidence; the requests that collect it are in `access.py`, and
`AdminClient(organization_id=...)` checks the header of every response it receives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import AdminApiOrganizationError

HEADER = "openai-organization"
#: Where each kind of evidence comes from, as error messages name it.
FROM_HEADER = "the openai-organization header"
FROM_COST_ROWS = "cost rows"

#: The message when neither the setting nor the API names the organization.
NOT_SET = (
    "OPENAI_ORGANIZATION_ID is not set: every row is stamped with the organization id and "
    "no Admin API endpoint returns it. Copy it (org-...) from the OpenAI dashboard's "
    "organization settings and set OPENAI_ORGANIZATION_ID."
)


@dataclass(frozen=True)
class OrganizationEvidence:
    """What responses said about the organization: the header's value(s) and the
    `organization_id` values of cost rows."""

    header: frozenset[str] = field(default_factory=frozenset)
    cost_rows: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls, header: Iterable[str | None] = (), cost_rows: Iterable[str | None] = ()
    ) -> OrganizationEvidence:
        return cls(frozenset(h for h in header if h), frozenset(c for c in cost_rows if c))

    def __or__(self, other: OrganizationEvidence) -> OrganizationEvidence:
        return OrganizationEvidence(self.header | other.header, self.cost_rows | other.cost_rows)

    def reported(self) -> dict[str, list[str]]:
        """Each id the API gave -> where it said so, ids sorted."""
        sources = ((FROM_HEADER, self.header), (FROM_COST_ROWS, self.cost_rows))
        return {
            org: [where for where, ids in sources if org in ids]
            for org in sorted(self.header | self.cost_rows)
        }

    def describe(self) -> str:
        """`org-a (the openai-organization header, cost rows)`, or `nothing`."""
        reported = self.reported()
        if not reported:
            return "nothing"
        return ", ".join(f"{org} ({', '.join(where)})" for org, where in reported.items())


def resolve_organization(
    configured: str | None, evidence: OrganizationEvidence, *, endpoint: str = "(organization)"
) -> str:
    """The organization to stamp rows with, by the rules in the module docstring.

    Raises AdminApiOrganizationError when nothing names it, or when the setting and the
    API (or two answers of the API) disagree; the message names every id involved.
    """
    reported = evidence.reported()
    if configured:
        others = {org: where for org, where in reported.items() if org != configured}
        if others:
            said = ", ".join(f"{org} ({', '.join(where)})" for org, where in others.items())
            raise AdminApiOrganizationError(
                f"OPENAI_ORGANIZATION_ID is {configured} but the Admin API says {said}: the "
                f"admin key belongs to another organization. Use an admin key of {configured}, "
                f"or set OPENAI_ORGANIZATION_ID to the key's organization (or unset it: the "
                "API's answer is then used).",
                endpoint=endpoint,
                configured=configured,
                reported=reported,
            )
        return configured
    if len(reported) == 1:
        return next(iter(reported))
    if reported:
        raise AdminApiOrganizationError(
            f"the Admin API names more than one organization ({evidence.describe()}): set "
            "OPENAI_ORGANIZATION_ID to the one this admin key should crawl.",
            endpoint=endpoint,
            configured=None,
            reported=reported,
        )
    raise AdminApiOrganizationError(NOT_SET, endpoint=endpoint, configured=None, reported={})
