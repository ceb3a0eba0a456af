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
Dates are ISO `YYYY-MM-DD`; timestamps ISO 8601 (an offset or `Z` is converted to naive
UTC) or integer Unix seconds. `organization_id` may be omitted from the files: it is then
taken from `organization_id=` / `--organization-id`, else from the warehouse's only
organization in `openai.organization`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.schemas import kscope as kscope_models
from kscope_openai_pipeline.schemas.base import column_names, sql_type, table_name

#: The inputs the loader accepts: argument name -> pandera model of the target table.
INPUT_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "dev_tokens": kscope_models.DevTokens,
    "gateway_costs": kscope_models.GatewayCosts,
    "engineers": kscope_models.Engineers,
}

#: File extensions (lower case) -> format name.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: How many cell errors one message lists (the count says how many there were).
MAX_ERRORS = 5
_ALIAS_SEPARATOR = ";"
_NANO = Decimal("0.000000001")


class InputFileError(ValueError):
    """A Kscope input file the loader refuses; the message names file, row(s) and column.

    `row` is the 1-based data record (for CSV the file line is row + 1, the header being
    line 1); None when the problem is the file as a whole (extension, emptiness, header).
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.row = row
        self.column = column
        super().__init__(f"{self.path.name}: {message}")


@dataclass(frozen=True)
class _CellError:
    row: int
    column: str
    message: str


def _where(fmt: str, row: int | None, column: str | None) -> str:
    parts = []
    if row is not None:
        parts.append(f"row {row} (line {row + 1})" if fmt == "csv" else f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- reading files


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(
            path,
            f"unknown file extension {path.suffix or '(none)'!r}: "
            f"use one of {', '.join(sorted(FORMATS))}",
        )
    return fmt


#: A file's raw cells: column name -> values, row i of the file at index i - 1.
RawColumns = dict[str, list[Any]]


def _read_columns(path: Path, fmt: str) -> tuple[RawColumns, int]:
    """(raw cell values per column, in file order; number of rows)."""
    if not path.is_file():
        raise InputFileError(path, f"no such file: {path}")
    if path.stat().st_size == 0 or (fmt != "parquet" and not path.read_bytes().strip()):
        raise InputFileError(path, "the file is empty (no header, no rows)")
    if fmt == "csv":
        return _read_csv(path)
    if fmt in ("json", "jsonl"):
        return _read_json(path, fmt)
    return _read_parquet(path)


def _read_csv(path: Path) -> tuple[RawColumns, int]:
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=True
        )
    except pd.errors.EmptyDataError as err:
        raise InputFileError(path, "the file is empty (no header, no rows)") from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputFileError(path, f"not a readable CSV file: {err}") from err
    columns = {str(c).strip(): frame[c].tolist() for c in frame.columns}
    return columns, len(frame)


def _read_json(path: Path, fmt: str) -> tuple[RawColumns, int]:
    text = path.read_text(encoding="utf-8")
    try:
        if fmt == "jsonl":
            data: Any = []
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        data.append(json.loads(line, parse_float=Decimal))
                    except json.JSONDecodeError as err:
                        raise InputFileError(path, f"line {number} is not JSON: {err}") from err
        else:
            data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as err:
        raise InputFileError(path, f"not a JSON file: {err}") from err
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise InputFileError(path, "expected a JSON array of objects (one object per row)")
    names: list[str] = []
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InputFileError(
                path, f"row {number}: expected a JSON object, got {type(record).__name__}",
                row=number,
            )
        names.extend(key for key in record if key not in names)
    return {name: [record.get(name) for record in data] for name in names}, len(data)


def _read_parquet(path: Path) -> tuple[RawColumns, int]:
    import pyarrow as pa_arrow
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa_arrow.ArrowException, OSError) as err:
        raise InputFileError(path, f"not a readable Parquet file: {err}") from err
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    return columns, table.num_rows


# --------------------------------------------------------------------------- cell parsing


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip()
    if value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _parse_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"expected text, got {value!r}")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    raise ValueError(f"expected a whole number, got {value!r}")


def _parse_money(value: Any) -> Decimal:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected an amount in dollars, got {value!r}")
    try:
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int | np.integer):
            amount = Decimal(int(value))
        elif isinstance(value, float):  # Parquet DOUBLE: its shortest repr is what was meant
            amount = Decimal(repr(value))
        elif isinstance(value, str):
            amount = Decimal(value.strip().replace("$", ""))
        else:
            raise ValueError
    except (InvalidOperation, ValueError) as err:
        raise ValueError(f"expected an amount in dollars, got {value!r}") from err
    if not amount.is_finite():
        raise ValueError(f"expected a finite amount in dollars, got {value!r}")
    if amount != amount.quantize(_NANO, rounding="ROUND_DOWN"):
        raise ValueError(f"more than 9 decimal places: {value!r}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -9:  # e.g. 1.50000000000: same value, 9 places
        amount = amount.quantize(_NANO)
    return amount


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime | pd.Timestamp):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise ValueError(f"expected a date (YYYY-MM-DD), got the timestamp {value!r}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}")


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, pd.Timestamp):
        return _naive_utc(value.to_pydatetime())
    if isinstance(value, dt.datetime):
        return _naive_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return dt.datetime.fromtimestamp(int(text), dt.UTC).replace(tzinfo=None)
        try:
            return _naive_utc(dt.datetime.fromisoformat(text))
        except ValueError:
            pass
    raise ValueError(
        f"expected a timestamp (ISO 8601 like 2026-11-25T13:45:00Z, or Unix seconds), "
        f"got {value!r}"
    )


def _parse_text_list(value: Any) -> list[str]:
    if _is_null(value):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise ValueError(f"expected a list of addresses, got {value!r}")
    if isinstance(value, str):
        return [part.strip() for part in value.split(_ALIAS_SEPARATOR) if part.strip()]
    raise ValueError(f"expected a list of addresses, got {value!r}")


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "VARCHAR": _parse_text,
    "BIGINT": _parse_int,
    "DECIMAL(18,9)": _parse_money,
    "DATE": _parse_date,
    "TIMESTAMP": _parse_timestamp,
    "VARCHAR[]": _parse_text_list,
}


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


# --------------------------------------------------------------------------- one file


def read_input(
    path: str | Path,
    kind: str,
    *,
    organization_id: str | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Parse and validate one input file for table `kind` (a key of INPUT_MODELS).

    Returns the validated frame (index = 1-based file row) ready for the table. Raises
    `InputFileError` naming the file, row and column on the first kind of problem found
    (up to MAX_ERRORS cells listed). A file without an `organization_id` column needs
    `organization_id`; a file with one must agree with it when both are given.
    """
    if kind not in INPUT_MODELS:
        raise ValueError(f"unknown input {kind!r}; choose one of {', '.join(INPUT_MODELS)}")
    path = Path(path)
    model = INPUT_MODELS[kind]
    fmt = _format_of(path)
    raw_columns, n_rows = _read_columns(path, fmt)
    columns = list(raw_columns)
    expected = column_names(model)
    missing = [c for c in expected if c not in columns and c != "organization_id"]
    unexpected = [c for c in columns if c not in expected]
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
    if not n_rows and not allow_empty:
        raise InputFileError(
            path, f"the file has no rows (pass allow_empty / --allow-empty to clear "
            f"{table_name(model)})"
        )
    has_org_column = "organization_id" in columns
    if not has_org_column and organization_id is None:
        raise InputFileError(
            path, "no organization_id column: pass organization_id / --organization-id",
            column="organization_id",
        )
    schema = model.to_schema().columns
    errors: list[_CellError] = []
    values: dict[str, list[Any]] = {}
    rows = list(range(1, n_rows + 1))
    for name in expected:  # column by column: one type lookup per column, not per cell
        kind_sql = sql_type(model, name)
        parser = _PARSERS[kind_sql]
        required = not schema[name].nullable
        if name == "organization_id" and not has_org_column:
            raws: list[Any] = [organization_id] * n_rows
        else:
            raws = raw_columns[name]
        column: list[Any] = []
        for row, raw in zip(rows, raws, strict=True):
            if name == "organization_id" and _is_null(raw):
                raw = organization_id
            parsed: Any = None
            if kind_sql == "VARCHAR[]":
                parsed = _parse_or_record(parser, raw, row, name, errors)
            elif _is_null(raw):
                if required:
                    errors.append(_CellError(row, name, "is empty (a value is required)"))
            else:
                parsed = _parse_or_record(parser, raw, row, name, errors)
            column.append(parsed)
        if name == "organization_id" and organization_id is not None:
            errors.extend(
                _CellError(row, name, f"is {value!r}, not the organization being loaded "
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


def _parse_or_record(
    parser: Callable[[Any], Any], raw: Any, row: int, column: str, errors: list[_CellError]
) -> Any:
    try:
        return parser(raw)
    except ValueError as err:
        errors.append(_CellError(row, column, str(err)))
        return None


def _cell_errors(path: Path, fmt: str, errors: list[_CellError]) -> InputFileError:
    shown = "; ".join(
        f"{_where(fmt, e.row, e.column)}: {e.message}" for e in errors[:MAX_ERRORS]
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
        where = _where(fmt, rows[0], None) if len(rows) == 1 else ""
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


# --------------------------------------------------------------------------- loading


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
) -> dict[str, int]:
    """Validate every file, then replace each given table in ONE transaction.

    `files` maps input kinds (`dev_tokens`, `gateway_costs`, `engineers`) to paths; tables
    not given are left alone. Only the loaded organization's rows are replaced (other
    organizations in the same warehouse are kept). Returns {table name: rows written}.
    Raises `InputFileError` before touching any table if any file is bad.
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
        frames[kind] = read_input(path, kind, organization_id=org, allow_empty=allow_empty)
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


# --------------------------------------------------------------------------- writing files


def _csv_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return _ALIAS_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a kscope.* frame as a CSV the loader reads back exactly (see module doc)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    for column in out.columns:
        out[column] = [_csv_cell(v) for v in out[column]]
    out.to_csv(path, index=False)
    return path


def write_sandbox_inputs(seed: int, size: str, out_dir: str | Path) -> dict[str, Path]:
    """Write the sandbox organization's Kscope inputs as CSV files, as a user would export them.

    The demo then loads them through `load_inputs`, the same path a user takes. Returns
    {input kind: path}; file names are `<kind>.csv`.
    """
    from kscope_openai_pipeline.sandbox.org import build_org

    org = build_org(seed, size)
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for kind in INPUT_MODELS:
        frame: pd.DataFrame = getattr(org, kind).copy()
        if "organization_id" not in frame.columns:
            frame.insert(0, "organization_id", org.organization_id)
        columns = column_names(INPUT_MODELS[kind])
        paths[kind] = write_csv(frame[columns], out / f"{kind}.csv")
    return paths
