"""Kscope's own records (dev tokens, gateway costs, engineers) as external assets."""

import dagster as dg

from kscope_openai_pipeline.defs.kscope.assets import kscope_input_checks, kscope_inputs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=kscope_inputs, asset_checks=kscope_input_checks)
