"""Import the Kscope inputs (dev tokens, gateway costs, engineers) from files into kscope.*.

Why: in production other Kscope crawlers write `kscope.dev_tokens`, `kscope.gateway_costs`
and `kscope.engineers` into the warehouse; standalone users (and the demo) need a way to
put the same data there from a CSV, Parquet or JSON export. The loader is a gate, not a
converter: every file is parsed cell by cell with the table's SQL types, then validated by
the table's pandera model (types, non-null keys, non-negative costs, unique grain), and
only when EVERY given file is clean are the tables replaced, all in one transaction. A bad
file therefore never costs the rows already stored, and the error names the file, the row
and the column, e.g.

    gateway_costs.csv, row 3 (line 4), column cost_usd: values < 0: [Decimal('-1.5')]

File formats (chosen by extension):
- `.csv`: a header line with the table's column names; an empty cell is NULL; `aliases`
  is a `;`-separated list of addresses.
- `.json`: an array of objects (or `{"data": [...]}`); `.jsonl`/`.ndjson`: one object a line.
  Money may be a JSON number or a string (parsed exactly, never through float).
- `.parquet`/`.pq`: columns with the table's names; any Arrow type that converts losslessly.
Optional columns (`OPTIONAL_COLUMNS`, e.g. the engineers' `departed_on`) may be left out.
Dates are ISO `YYYY-MM-DD`; timestamps ISO 8601 (an offset or `Z` is converted to naive
UTC) or integer Unix seconds. `organization_id` may be omitted from the files: it is then
taken from `organization_id=` / `--organization-id`, else from the warehouse's only
organization in `openai.organization`.

Exports are rarely cut to measure: a gateway export carries a `provider` column, a registry
export a column nobody asked for. Columns the table does not have are ignored with a
warning naming them (`strict` refuses them, for pipelines that must notice any change in
a feed), and when a file has a `provider` column only the OpenAI rows are loaded (any
case, surrounding spaces ignored): the others are skipped and counted, because these
tables describe OpenAI keys and spend, and another provider's rows would be mistaken for
OpenAI's by every sightline. Errors keep naming the file's own rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.kscope_inputs.cells import PARSERS, is_null
from kscope_openai_pipeline.kscope_inputs.errors import CellError, InputFileError, location
from kscope_openai_pipeline.kscope_inputs.files import format_of, read_columns
from kscope_openai_pipeline.schemas import kscope as kscope_models
from kscope_openai_pipeline.schemas.base import column_names, sql_type, table_name

#: The inputs the loader accepts: argument name -> pandera model of the target table.
INPUT_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "dev_tokens": kscope_models.DevTokens,
    "gateway_costs": kscope_models.GatewayCosts,
    "engineers": kscope_models.Engineers,
}

#: Columns a file may leave out (they are NULL then): added to a table after files in the
#: old shape were already being exported, which must keep loading.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"engineers": frozenset({"departed_on"})}

#: How many cell errors one message lists (the count says how many there were).
MAX_ERRORS = 5

#: The column that says which LLM provider a row is about, and the provider kept.
PROVIDER_COLUMN = "provider"
OPENAI_PROVIDER = "openai"

log = logging.getLogger(__name__)


def _column_frame(
    model: type[pa.DataFrameModel], values: dict[str, list[Any]], rows: list[int]
) -> pd.DataFrame:
    """The canonical pandas frame (see schemas.base) of parsed values, indexed by file row."""
    index = pd.Index(rows, name="row")
    data: dict[str, pd.Series] = {}
    for name in column_names(model):
        kind = sql_type(model, name)
        column = values[name]
        if kind == "TIMESTAMP":
            stamps = pd.to_datetime(pd.Series(column, dtype=object)).astype("datetime64[ns]")
            data[name] = stamps.set_axis(index)
        elif kind == "BIGINT":
            data[name] = pd.Series(column, index=index, dtype="int64")
        else:
            data[name] = pd.Series(column, index=index, dtype=object)
    return pd.DataFrame(data, index=index)


def read_input(
    path: str | Path,
    kind: str,
    *,
    organization_id: str | None = None,
    allow_empty: bool = False,
    strict: bool = False,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Parse and validate one input file for table `kind` (a key of INPUT_MODELS).

    Returns the validated frame (index = 1-based file row) ready for the table. Raises
    `InputFileError` naming the file, row and column on the first kind of problem found
    (up to MAX_ERRORS cells listed). A file without an `organization_id` column needs
    `organization_id`; a file with one must agree with it when both are given.

    Columns the table lacks are ignored with a warning (`strict`: refused); with a
    `provider` column only OpenAI rows are read and the others counted in a warning.
    Warnings are appended to `notes` when given (the caller shows them), else logged.
    """
    if kind not in INPUT_MODELS:
        raise ValueError(f"unknown input {kind!r}; choose one of {', '.join(INPUT_MODELS)}")
    path = Path(path)
    model = INPUT_MODELS[kind]
    fmt = format_of(path)
    raw_columns, n_rows = read_columns(path, fmt)
    columns = list(raw_columns)
    expected = column_names(model)
    optional = OPTIONAL_COLUMNS.get(kind, frozenset())
    missing = [
        c for c in expected if c not in columns and c != "organization_id" and c not in optional
    ]
    unexpected = [c for c in columns if c not in expected]
    if unexpected and not strict and not missing:
        _warn(
            notes,
            f"{path.name}: ignored column(s) {', '.join(unexpected)}, which "
            f"{table_name(model)} does not have (--strict refuses them)",
        )
        unexpected = []
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected column(s) {', '.join(unexpected)}")
        where = "header (line 1): " if fmt == "csv" else ""
        raise InputFileError(
            path,
            f"{where}{'; '.join(problems)} (expected the columns of {table_name(model)}: "
            f"{', '.join(expected)})",
            column=(missing or unexpected)[0],
        )
    rows = list(range(1, n_rows + 1))
    skipped: Counter[str] = Counter()
    if PROVIDER_COLUMN in columns:
        rows, skipped = _openai_rows(raw_columns[PROVIDER_COLUMN])
        if skipped:
            _warn(notes, _skipped_note(path, len(rows), n_rows, skipped))
    if not rows and not allow_empty:
        others = f" ({sum(skipped.values())} of other providers skipped)" if skipped else ""
        raise InputFileError(
            path, f"the file has no {'OpenAI ' if skipped else ''}rows{others} (pass "
            f"allow_empty / --allow-empty to clear {table_name(model)})"
        )
    has_org_column = "organization_id" in columns
    if not has_org_column and organization_id is None:
        raise InputFileError(
            path, "no organization_id column: pass organization_id / --organization-id",
            column="organization_id",
        )
    schema = model.to_schema().columns
    errors: list[CellError] = []
    values: dict[str, list[Any]] = {}
    for name in expected:  # column by column: one type lookup per column, not per cell
        kind_sql = sql_type(model, name)
        parser = PARSERS[kind_sql]
        required = not schema[name].nullable
        if name == "organization_id" and not has_org_column:
            raws: list[Any] = [organization_id] * len(rows)
        elif name not in columns:  # an optional column the file leaves out
            raws = [None] * len(rows)
        else:
            raws = [raw_columns[name][row - 1] for row in rows]
        column: list[Any] = []
        for row, raw in zip(rows, raws, strict=True):
            if name == "organization_id" and is_null(raw):
                raw = organization_id
            parsed: Any = None
            if kind_sql == "VARCHAR[]":
                parsed = _parse_or_record(parser, raw, row, name, errors)
            elif is_null(raw):
                if required:
                    errors.append(CellError(row, name, "is empty (a value is required)"))
            else:
                parsed = _parse_or_record(parser, raw, row, name, errors)
            column.append(parsed)
        if name == "organization_id" and organization_id is not None:
            errors.extend(
                CellError(row, name, f"is {value!r}, not the organization being loaded "
                           f"({organization_id!r})")
                for row, value in zip(rows, column, strict=True)
                if value is not None and value != organization_id
            )
        values[name] = column
    order = {name: i for i, name in enumerate(expected)}
    errors.sort(key=lambda e: (e.row, order[e.column]))
    if errors:
        raise _cell_errors(path, fmt, errors)
    frame = _column_frame(model, values, rows)
    try:
        return warehouse.validate(model, frame, table_name(model))
    except warehouse.WarehouseValidationError as err:
        raise _validation_error(path, fmt, err) from err


def _warn(notes: list[str] | None, message: str) -> None:
    if notes is None:
        log.warning(message)
    else:
        notes.append(message)


def _openai_rows(providers: list[Any]) -> tuple[list[int], Counter[str]]:
    """The file rows (1-based) whose provider is OpenAI, and the others counted by value."""
    kept: list[int] = []
    others: Counter[str] = Counter()
    for row, raw in enumerate(providers, start=1):
        value = "" if is_null(raw) else str(raw).strip()
        if value.lower() == OPENAI_PROVIDER:
            kept.append(row)
        else:
            others[value or "(empty)"] += 1
    return kept, others


def _skipped_note(path: Path, kept: int, total: int, skipped: Counter[str]) -> str:
    by_provider = ", ".join(f"{name} {n:,}" for name, n in sorted(skipped.items()))
    return (
        f"{path.name}: kept the {kept:,} OpenAI row(s) of {total:,}; skipped "
        f"{sum(skipped.values()):,} row(s) of other providers ({by_provider})"
    )


def _parse_or_record(
    parser: Callable[[Any], Any], raw: Any, row: int, column: str, errors: list[CellError]
) -> Any:
    try:
        return parser(raw)
    except ValueError as err:
        errors.append(CellError(row, column, str(err)))
        return None


def _cell_errors(path: Path, fmt: str, errors: list[CellError]) -> InputFileError:
    shown = "; ".join(
        f"{location(fmt, e.row, e.column)}: {e.message}" for e in errors[:MAX_ERRORS]
    )
    more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
    first = errors[0]
    return InputFileError(path, shown + more, row=first.row, column=first.column)


def _validation_error(
    path: Path, fmt: str, err: warehouse.WarehouseValidationError
) -> InputFileError:
    """Re-word pandera's problems (whose row labels ARE file rows) as file/row/column."""
    parts = []
    for problem in err.problems:
        rows = [int(r) for r in problem.rows if isinstance(r, int | np.integer)]
        where = location(fmt, rows[0], None) if len(rows) == 1 else ""
        if len(rows) > 1:
            label = "rows"
            if fmt == "csv":
                shown = ", ".join(f"{r} (line {r + 1})" for r in rows[:MAX_ERRORS])
            else:
                shown = ", ".join(str(r) for r in rows[:MAX_ERRORS])
            where = f"{label} {shown}"
        text = problem.describe()
        parts.append(f"{where}, {text}" if where else text)
    first = err.problems[0] if err.problems else None
    first_rows = [int(r) for r in (first.rows if first else []) if isinstance(r, int | np.integer)]
    return InputFileError(
        path,
        "; ".join(parts),
        row=first_rows[0] if first_rows else None,
        column=first.column if first else None,
    )


def resolve_organization_id(
    conn: duckdb.DuckDBPyConnection, organization_id: str | None
) -> str | None:
    """The organization to load for: the given one, else the warehouse's only one, else None."""
    if organization_id:
        return organization_id
    rows = conn.execute("SELECT DISTINCT organization_id FROM openai.organization").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def load_inputs(
    conn: duckdb.DuckDBPyConnection,
    files: Mapping[str, str | Path],
    *,
    organization_id: str | None = None,
    allow_empty: bool = False,
    strict: bool = False,
    notes: list[str] | None = None,
) -> dict[str, int]:
    """Validate every file, then replace each given table in ONE transaction.

    `files` maps input kinds (`dev_tokens`, `gateway_costs`, `engineers`) to paths; tables
    not given are left alone. Only the loaded organization's rows are replaced (other
    organizations in the same warehouse are kept). Returns {table name: rows written}.
    Raises `InputFileError` before touching any table if any file is bad. `strict` and
    `notes` as in `read_input`.
    """
    unknown = [k for k in files if k not in INPUT_MODELS]
    if unknown:
        raise ValueError(f"unknown input(s) {unknown}; choose from {', '.join(INPUT_MODELS)}")
    if not files:
        raise ValueError("nothing to load: give at least one input file")
    warehouse.ensure_schema(conn)
    org = resolve_organization_id(conn, organization_id)
    frames: dict[str, pd.DataFrame] = {}
    for kind, path in files.items():
        frames[kind] = read_input(
            path, kind, organization_id=org, allow_empty=allow_empty, strict=strict, notes=notes
        )
    orgs = {o for f in frames.values() for o in f["organization_id"].unique().tolist()}
    if org is None and len(orgs) > 1:
        raise ValueError(
            f"the files hold several organizations {sorted(orgs)}: load one at a time with "
            f"--organization-id"
        )
    org = org or (orgs.pop() if orgs else None)
    if org is None:
        raise ValueError("no rows and no organization: pass --organization-id")
    written: dict[str, int] = {}
    with warehouse.transaction(conn):
        for kind, frame in frames.items():
            table = table_name(INPUT_MODELS[kind])
            conn.execute(f"DELETE FROM {warehouse.checked_table(table)} WHERE organization_id = ?",
                         [org])
            written[table] = warehouse.insert_frame(conn, table, frame.reset_index(drop=True))
    return written
