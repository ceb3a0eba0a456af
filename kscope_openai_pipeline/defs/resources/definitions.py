"""The resources every folder's assets use, read from the settings at load time.

Only the key is an EnvVar (a secret resolved at run time); the rest are plain values so
the UI shows them.
"""

import dagster as dg

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.defs.resources.openai_admin import OpenAIAdminResource
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources by key, from the settings as they are now."""
    return {
        "openai_admin": OpenAIAdminResource(
            api_key=dg.EnvVar(settings.ADMIN_KEY_ENV),
            base_url=settings.openai_base_url(),
            organization_id=settings.organization_id() or "",
            organization_name=settings.organization_name(),
            sandbox=settings.sandbox_mode(),
        ),
        "duckdb": WarehouseResource(database=settings.duckdb_path()),
    }


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
