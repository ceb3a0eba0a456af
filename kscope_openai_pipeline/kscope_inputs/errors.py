"""The loader's one error: a refused input file, naming the file, the row and the column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
class CellError:
    row: int
    column: str
    message: str


def location(fmt: str, row: int | None, column: str | None) -> str:
    parts = []
    if row is not None:
        parts.append(f"row {row} (line {row + 1})" if fmt == "csv" else f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    return ", ".join(parts)
