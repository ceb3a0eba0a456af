"""The FOCUS export: openai.costs as FOCUS 1.2 rows, files FinOps tools load.

No Dagster here. `focus` builds exports.focus_costs one window of days at a time (SQL in
`sql/`, gated by the pandera model and the FOCUS rules the validator skips), `files`
writes one Parquet file per billing month (or a CSV) atomically, `cli` is
`kscope-openai export-focus`. The asset in `defs/exports/` calls these.

    from kscope_openai_pipeline import exports
    result = exports.replace_window(conn, start, end)
    exports.write_month_files(conn, result.months, settings.focus_export_dir())
"""

from kscope_openai_pipeline.exports.files import (
    MonthFile,
    file_format,
    month_file,
    months_with_rows,
    parse_month,
    write_month,
    write_month_files,
)
from kscope_openai_pipeline.exports.focus import (
    DDL_FILE,
    TABLE,
    FocusExportError,
    MonthCheck,
    WindowResult,
    compare_with_costs,
    ensure_exports_schema,
    months_touched,
    reconciliation_differences,
    replace_window,
    rule_violations,
)

__all__ = [
    "DDL_FILE",
    "TABLE",
    "FocusExportError",
    "MonthCheck",
    "MonthFile",
    "WindowResult",
    "compare_with_costs",
    "ensure_exports_schema",
    "file_format",
    "month_file",
    "months_touched",
    "months_with_rows",
    "parse_month",
    "reconciliation_differences",
    "replace_window",
    "rule_violations",
    "write_month",
    "write_month_files",
]
