"""pandera models of the `kscope.*` tables: inputs written by other Kscope crawlers.

Same standards as the OpenAI tables (types, non-null keys, non-negative metrics, unique
grain); columns in the order of `warehouse/sql/kscope_*.sql`.
"""

from __future__ import annotations

import pandas as pd
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import (
    WarehouseModel,
    count,
    day,
    money,
    text,
    text_list,
    timestamp,
)
from kscope_openai_pipeline.schemas.dtypes import Day, Varchar

_ORG = "The OpenAI organization ('org-...') this row belongs to."


class DevTokens(WarehouseModel):
    """kscope.dev_tokens: Kscope Dev Tokens, each registering one provider key with the gateway."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    dev_token_id: Series[Varchar] = text("Kscope Dev Token id.", nullable=False)
    provider: Series[Varchar] = text(
        "LLM provider of the registered key; 'openai'.", nullable=False
    )
    provider_key_id: Series[Varchar] = text(
        "OpenAI key id ('key_...') the token registers, when the registry knows it."
    )
    provider_key_redacted: Series[Varchar] = text(
        "OpenAI redacted key value (e.g. 'sk-proj-****Zx9Q'); used to match when the id is missing."
    )
    owner_email: Series[Varchar] = text("E-mail of the engineer who registered the token.")
    status: Series[Varchar] = text(
        "'active' or 'revoked'.", nullable=False, isin=["active", "revoked"]
    )
    created_at: Series[pd.Timestamp] = timestamp(
        "When the token was created (UTC).", nullable=False
    )
    revoked_at: Series[pd.Timestamp] = timestamp(
        "When the token was revoked (UTC); NULL unless revoked."
    )

    class Config:
        name = "kscope.dev_tokens"
        metadata = {"grain": ["dev_token_id"], "partition": None}


class GatewayCosts(WarehouseModel):
    """kscope.gateway_costs: what the Kscope gateway metered per day, key, project and model."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    usage_date: Series[Day] = day("UTC day of the metered traffic.")
    provider_key_id: Series[Varchar] = text(
        "OpenAI key id ('key_...') the traffic used.", nullable=False
    )
    project_id: Series[Varchar] = text("OpenAI project id of the traffic.")
    model: Series[Varchar] = text("Model name.")
    requests: Series[int] = count("Requests the gateway forwarded.")
    input_tokens: Series[int] = count("Input tokens metered.")
    output_tokens: Series[int] = count("Output tokens metered.")
    cached_tokens: Series[int] = count("Cached input tokens metered.")
    cost_usd: Series[object] = money("Cost as priced by the gateway, in US dollars (exact).", ge=0)

    class Config:
        name = "kscope.gateway_costs"
        metadata = {
            "grain": ["usage_date", "provider_key_id", "project_id", "model"],
            "partition": "usage_date",
        }


class Engineers(WarehouseModel):
    """kscope.engineers: the Kscope Asset Registry's engineers."""

    organization_id: Series[Varchar] = text(_ORG, nullable=False)
    engineer_id: Series[Varchar] = text("Asset Registry engineer id.", nullable=False)
    email: Series[Varchar] = text("Primary e-mail address.", nullable=False)
    aliases: Series[object] = text_list(
        "Other e-mail addresses of the same engineer (empty list when none)."
    )
    name: Series[Varchar] = text("Display name.")
    team: Series[Varchar] = text("Team the engineer belongs to.")
    status: Series[Varchar] = text(
        "'active' or 'departed'.", nullable=False, isin=["active", "departed"]
    )
    departed_on: Series[Day] = day(
        "First UTC day the engineer no longer works here; NULL when still here or unknown. "
        "Members are attributed to the engineer only on days before it.",
        nullable=True,
    )

    class Config:
        name = "kscope.engineers"
        metadata = {"grain": ["engineer_id"], "partition": None}


#: Every kscope.* model, in DDL file order.
MODELS: tuple[type[WarehouseModel], ...] = (DevTokens, GatewayCosts, Engineers)
