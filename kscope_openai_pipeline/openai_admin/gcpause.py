"""Pause Python's cyclic garbage collector while a large response is turned into records.

Why: a 180-day costs page of a large organization is ~160 MB of JSON, i.e. millions of
dicts, strings and Decimals created in one go. Every 700 new container objects the
collector runs, and its older generations re-scan everything allocated so far, so
decoding such a page took about twice as long with the collector on (2.2 s vs 1.0 s on the
benchmark machine). None of these objects form reference cycles, so nothing is lost by
collecting later; reference counting still frees memory immediately.

Thread-safe and re-entrant: the collector is switched back on when the last pauser leaves,
and only if it was on when the first one entered.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (see the module docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
