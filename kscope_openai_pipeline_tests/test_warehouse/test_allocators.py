"""`allocators.return_freed_memory`: after it, a large block freed is a mapping given back.

glibc is process-wide state, so each case runs in its own interpreter. The probe frees an
8 MiB block (glibc's dynamic threshold then rises to 8 MiB), then allocates 1 MiB and
reports whether that block was mapped on its own (`mallinfo2().hblkhd`, the bytes in
mapped blocks, grew by it) or taken from the heap (where freeing it returns nothing).
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pyarrow
import pytest

from kscope_openai_pipeline.warehouse import allocators

PROBE = """
import ctypes, sys

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    from kscope_openai_pipeline.warehouse.allocators import return_freed_memory
    return_freed_memory()
libc.free(libc.malloc(8 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(1 << 20)
print(libc.mallinfo2().hblkhd - before)
libc.free(block)
"""

_LIBC, _VERSION = platform.libc_ver()
glibc_only = pytest.mark.skipif(
    _LIBC != "glibc" or tuple(map(int, _VERSION.split(".")[:2])) < (2, 33),
    reason="glibc >= 2.33 only (mallinfo2); other C libraries have no dynamic threshold",
)


def _mapped_bytes_of_a_1mib_block(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@glibc_only
def test_by_default_glibc_takes_a_1mib_block_from_the_heap_after_a_larger_one_was_freed():
    assert _mapped_bytes_of_a_1mib_block("default") == 0


@glibc_only
def test_after_return_freed_memory_a_1mib_block_is_mapped_on_its_own():
    # 1 MiB plus glibc's chunk header, rounded up to whole pages
    assert _mapped_bytes_of_a_1mib_block("fixed") == (1 << 20) + 4096


def test_return_freed_memory_makes_arrow_use_the_c_library():
    pyarrow.set_memory_pool(pyarrow.mimalloc_memory_pool())
    allocators.return_freed_memory()
    assert pyarrow.default_memory_pool().backend_name == "system"
