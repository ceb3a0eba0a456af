"""Search files for secrets: the admin key (raw, by its distinctive core, base64-encoded)
and the alerts' webhook URL (raw, its token path, base64-encoded), also inside SQLite
files cell by cell (Dagster stores some blobs zlib-compressed).

Why a module: the secrets test scans a DAGSTER_HOME it filled at DEBUG logging, and the
concurrency test scans the one its daemon-launched runs filled; both must look the same
thorough way, and the search itself is tested against planted keys.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from .harness import SENTINEL_KEY

#: Forms of the key that count as a leak.
NEEDLES: tuple[bytes, ...] = tuple({
    SENTINEL_KEY.encode(),
    SENTINEL_KEY.removeprefix("sk-admin-").encode(),  # the distinctive core, partial leaks
    base64.b64encode(SENTINEL_KEY.encode()),
    base64.b64encode(f"Bearer {SENTINEL_KEY}".encode()),
    base64.urlsafe_b64encode(SENTINEL_KEY.encode()),
})


def url_needles(url: str) -> tuple[bytes, ...]:
    """Forms of a webhook URL that count as a leak: the URL, its path (the token is the
    credential, wherever it is written), the token alone, base64 of the URL."""
    path = urlsplit(url).path
    return tuple({url.encode(), path.encode(), path.rsplit("/", 1)[-1].encode(),
                  base64.b64encode(url.encode()), base64.urlsafe_b64encode(url.encode())})


def sqlite_cells(path: Path) -> list[bytes]:
    """Every text/blob cell of every table, zlib blobs also inflated."""
    cells: list[bytes] = []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE "
                                             "type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str):
                        cells.append(value.encode())
                    elif isinstance(value, bytes):
                        cells.append(value)
                        with contextlib.suppress(zlib.error):
                            cells.append(zlib.decompress(value))
    finally:
        conn.close()
    return cells


def scan(
    paths: list[Path], needles: tuple[bytes, ...] = NEEDLES
) -> tuple[int, int, list[str]]:
    """(files, bytes, leaking files) over the given files and directories."""
    files = n_bytes = 0
    leaks: list[str] = []
    for root in paths:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*")
                                                         if p.is_file()):
            data = path.read_bytes()
            files += 1
            n_bytes += len(data)
            blobs = [data]
            if data.startswith(b"SQLite format 3"):
                blobs += sqlite_cells(path)
            forms = [n for n in needles if any(n in blob for blob in blobs)]
            if forms:
                leaks.append(f"{path}: {len(forms)} form(s) of a secret")
    return files, n_bytes, leaks
