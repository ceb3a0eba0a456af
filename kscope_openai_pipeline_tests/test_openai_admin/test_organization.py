"""Which organization the key reads: the rules, and the client refusing another one."""

from __future__ import annotations

import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiOrganizationError,
    AdminClient,
    OrganizationEvidence,
    resolve_organization,
)
from kscope_openai_pipeline.openai_admin.organization import NOT_SET
from kscope_openai_pipeline.sandbox.server import Sandbox

TODAYS_MESSAGE = (
    "OPENAI_ORGANIZATION_ID is not set: every row is stamped with the organization id and no "
    "Admin API endpoint returns it. Copy it (org-...) from the OpenAI dashboard's "
    "organization settings and set OPENAI_ORGANIZATION_ID."
)


def test_the_setting_alone_is_used() -> None:
    assert resolve_organization("org-a", OrganizationEvidence()) == "org-a"


def test_the_header_alone_names_it() -> None:
    assert resolve_organization(None, OrganizationEvidence.of(header=["org-h"])) == "org-h"


def test_cost_rows_alone_name_it() -> None:
    evidence = OrganizationEvidence.of(cost_rows=["org-c", "org-c"])
    assert resolve_organization(None, evidence) == "org-c"


def test_setting_and_api_agreeing_is_the_setting() -> None:
    evidence = OrganizationEvidence.of(header=["org-a"], cost_rows=["org-a"])
    assert resolve_organization("org-a", evidence) == "org-a"
    assert evidence.describe() == "org-a (the openai-organization header, cost rows)"


def test_nothing_anywhere_is_todays_message() -> None:
    with pytest.raises(AdminApiOrganizationError) as err:
        resolve_organization(None, OrganizationEvidence())
    assert str(err.value) == NOT_SET == TODAYS_MESSAGE
    assert (err.value.configured, err.value.reported) == (None, {})


@pytest.mark.parametrize(
    ("evidence", "where"),
    [
        (OrganizationEvidence.of(header=["org-b"]), "the openai-organization header"),
        (OrganizationEvidence.of(cost_rows=["org-b"]), "cost rows"),
        (OrganizationEvidence.of(header=["org-b"], cost_rows=["org-b"]),
         "the openai-organization header, cost rows"),
        (OrganizationEvidence.of(header=["org-a"], cost_rows=["org-b"]), "cost rows"),
    ],
)  # fmt: skip
def test_setting_and_api_disagreeing_names_both(evidence: OrganizationEvidence, where: str) -> None:
    with pytest.raises(AdminApiOrganizationError) as err:
        resolve_organization("org-a", evidence)
    assert str(err.value) == (
        f"OPENAI_ORGANIZATION_ID is org-a but the Admin API says org-b ({where}): the admin key "
        "belongs to another organization. Use an admin key of org-a, or set "
        "OPENAI_ORGANIZATION_ID to the key's organization (or unset it: the API's answer is "
        "then used)."
    )
    assert err.value.configured == "org-a"


def test_two_organizations_from_the_api_need_the_setting() -> None:
    evidence = OrganizationEvidence.of(header=["org-h"], cost_rows=["org-c"])
    with pytest.raises(AdminApiOrganizationError) as err:
        resolve_organization(None, evidence)
    assert str(err.value) == (
        "the Admin API names more than one organization (org-c (cost rows), org-h (the "
        "openai-organization header)): set OPENAI_ORGANIZATION_ID to the one this admin key "
        "should crawl."
    )


def test_the_client_refuses_a_response_of_another_organization(sandbox: Sandbox) -> None:
    org = sandbox.org.organization_id
    with AdminClient(sandbox.admin_key, sandbox.base_url, organization_id="org-other") as client:
        with pytest.raises(AdminApiOrganizationError) as err:
            client.list_users()
        assert client.observed_organization == org
    assert str(err.value).startswith(
        f"OPENAI_ORGANIZATION_ID is org-other but the Admin API says {org} (the "
        "openai-organization header)"
    )
    assert err.value.endpoint == "/organization/users"
    assert len(sandbox.requests) == 1  # refused at the first response: no page followed


def test_the_client_with_the_right_organization_reads_as_before(sandbox: Sandbox) -> None:
    org = sandbox.org.organization_id
    with AdminClient(sandbox.admin_key, sandbox.base_url, organization_id=org) as client:
        users = client.list_users()
    assert len(users) == len(sandbox.org.users)
