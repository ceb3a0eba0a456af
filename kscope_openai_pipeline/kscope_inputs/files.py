"""Input files as raw cells, and back: CSV, JSON (array or lines) and Parquet.

Reading turns a file into its raw cell values per column, untouched, so that `cells`
parses every cell with the table's SQL type and an error can name the file's row; writing
produces a CSV that reading gives back exactly (money as plain decimals, lists joined by
`;`, timestamps in ISO 8601).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kscope_openai_pipeline.kscope_inputs.errors import InputFileError

#: File extensions (lower case) -> format name.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: How a list of addresses (`aliases`) is written in one CSV cell.
LIST_SEPARATOR = ";"


def format_of(path: Path) -> str:
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


def read_columns(path: Path, fmt: str) -> tuple[RawColumns, int]:
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


def _csv_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return LIST_SEPARATOR.join(str(v) for v in value)
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
