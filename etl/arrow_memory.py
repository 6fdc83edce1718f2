"""Memory for the stages that hold a whole national table: the system allocator, returning what
they free.

pyarrow's default pool (mimalloc) keeps the pages a read frees for its own later use, but what a
stage allocates next is mostly pandas' and numpy's (glibc malloc), which cannot use them: at
national scale ~0.3 GB of freed Arrow memory stayed resident through validation's GX checks and
the statistics (docs/benchmarks.md). On the system allocator both draw on one heap, and
``release_unused`` (``malloc_trim``) hands what a read freed back before the checks run.

glibc also raises its mmap threshold each time a large block is freed (up to 32 MB), so the
many column-sized temporaries of GX's checks and the statistics then come from the heap and
stay resident after use. Fixing the threshold at glibc's own starting value (128 KiB) keeps
every such block in its own mapping, returned when freed. National peaks in `make bench`:
validation 1979 → 1538 MB (system pool), → ~1290 MB (fixed threshold); statistics 1512 → 1377
→ ~1310 MB; same bytes. A loop of batches that allocate the same temporaries each time runs in
``heap_for_batches``: mapped anew, every batch would fault its pages in again.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc <malloc.h>)
MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, which it otherwise raises as blocks are freed
_fixed = [False]  # whether fixed_mmap_threshold has fixed it in this process


@cache
def _libc():
    """The C library's ``mallopt`` and ``malloc_trim``, or None where it has them not (macOS, musl)."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


@cache
def fixed_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for the rest of the process (once); False where the C library
    has no ``mallopt`` (macOS, musl keep their own behaviour)."""
    libc = _libc()
    _fixed[0] = libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _fixed[0]


HEAP_THRESHOLD = 32 * 1024 * 1024
"""The mmap threshold inside ``heap_for_batches``: glibc's largest."""


@contextmanager
def heap_for_batches() -> Iterator[None]:
    """Inside, blocks up to ``HEAP_THRESHOLD`` come from the heap; after, what is free there goes
    back to the system (``malloc_trim``) and the threshold is fixed again.

    For a loop whose every batch allocates the same temporaries: from the heap, each batch reuses
    the pages of the one before; mapped anew (the fixed threshold), every batch faults its pages
    in again (the gender analysis' bootstrap and leave-one-out nationally: 1.9 → 0.75 M page
    faults, 10.3 → 7.9 s). Only where the threshold is fixed (``system_pool``); elsewhere
    glibc's own growing threshold does the same."""
    if not _fixed[0]:
        yield
        return
    libc = _libc()
    libc.mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.malloc_trim(0)


@contextmanager
def system_pool() -> Iterator[None]:
    """Allocate Arrow memory with the system allocator inside the block (a decorator too); the
    pool before it is restored after. The mmap threshold stays fixed: it is glibc's starting
    value, without the growth that keeps freed temporaries resident."""
    fixed_mmap_threshold()
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
