"""Alerts: the findings that need a person, kept in sightlines.alerts, and their messages.

No Dagster here. `kinds` names the kinds, severities and thresholds; `detect` asks the
warehouse (SQL in `sql/`) and `operational` decides from the orchestrator's records;
`store` merges findings into the table; `outbox` picks the due messages and marks each
once the webhook acknowledged it; `slack` writes them; `webhook` posts them. The Dagster
asset, jobs and sensors in `defs/alerts/` call these.
"""
