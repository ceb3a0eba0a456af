"""The one code location of kscope-openai-pipeline: every folder under `defs/` merged.

Each folder (`openai/`, `kscope/`, `sightlines/`, `operations/`, `resources/`) builds its
own definitions in its `definitions.py`; `dg.load_defs` finds them, so a new folder joins
the code location without an edit here. Only what applies to all of them is added here:
the in-process executor (one DuckDB writer per run, no subprocess per step).
"""

import dagster as dg

from kscope_openai_pipeline import defs as defs_folder

defs = dg.Definitions.merge(
    dg.load_defs(defs_root=defs_folder),
    dg.Definitions(executor=dg.in_process_executor),
)
