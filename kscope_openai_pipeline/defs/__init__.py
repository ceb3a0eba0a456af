"""Dagster only: one folder per source (`openai/`, `kscope/`, `sightlines/`), the jobs that
span them (`operations/`), the resources (`resources/`) and the shared policies. Each
folder's `definitions.py` builds its own `dg.Definitions`; `kscope_openai_pipeline.definitions`
loads them all. The domain code these assets call lives outside `defs/`.
"""
