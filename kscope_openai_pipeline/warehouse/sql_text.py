"""SQL kept in `.sql` files beside the code that runs it: read one, bind its parameters.

Why files: a reviewer reads each rule as SQL, with its comments, and a test can run the
same text. Why binding only the parameters used: DuckDB refuses a named parameter the
statement does not use, and the callers pass one set of values to many statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def read_sql(folder: Path, name: str) -> str:
    """The text of `<folder>/<name>.sql`, without a trailing semicolon."""
    return (folder / f"{name}.sql").read_text().strip().rstrip(";")


def bind_parameters(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The `$name` parameters `sql` uses (outside `--` comments), with their values.

    Raises ValueError naming any parameter `values` lacks.
    """
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    used = set(_PARAMETER.findall(code))
    missing = used - set(values)
    if missing:
        raise ValueError(f"no value for SQL parameter(s) {sorted(missing)}")
    return {name: values[name] for name in used}
