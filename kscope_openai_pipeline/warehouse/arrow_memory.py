"""Give memory that Arrow has freed back to the system.

Why: pyarrow allocates through mimalloc, which keeps the pages of freed buffers mapped for
reuse by later Arrow buffers. A backfill's largest allocations are not Arrow's (a page's
body, up to ~200 MB, and its decoded values), so pages kept for Arrow sit unused next to
them. Releasing after each inserted batch lowered a 365-day backfill's peak by ~30 MiB and
what the process held after its costs step by ~100 MiB; with nothing to release it costs
next to nothing.
"""

from __future__ import annotations

import pyarrow as arrow


def release_arrow_memory() -> None:
    """Return the pages of Arrow's freed buffers to the operating system."""
    arrow.default_memory_pool().release_unused()
