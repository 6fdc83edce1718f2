"""The stages that hold whole tables allocate Arrow memory from the system allocator, and leave
the rest of the process on the pool it had (etl/arrow_memory.py)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from etl import arrow_memory, pipeline

REPO = Path(__file__).resolve().parent.parent


def test_the_block_uses_the_system_pool_and_restores_the_one_before():
    before = pa.default_memory_pool()
    assert before.backend_name != "system"  # pyarrow's default: mimalloc or jemalloc
    with arrow_memory.system_pool():
        assert pa.default_memory_pool().backend_name == "system"
        assert pa.array(["x"] * 1000).to_pandas().size == 1000
    assert pa.default_memory_pool().backend_name == before.backend_name


def test_the_pool_is_restored_when_the_block_fails():
    before = pa.default_memory_pool().backend_name
    with pytest.raises(ValueError, match="stop"), arrow_memory.system_pool():
        raise ValueError("stop")
    assert pa.default_memory_pool().backend_name == before


@pytest.mark.parametrize("step", [pipeline.validate_step, pipeline.statistics_step])
def test_validation_and_statistics_run_on_the_system_pool(step, monkeypatch):
    """The steps themselves are wrapped: the first thing they call already sees the system pool."""
    seen = []

    def first_call(plan):
        seen.append(pa.default_memory_pool().backend_name)
        raise RuntimeError("stopped after the first call")

    monkeypatch.setattr(pipeline.RunPlan, "of", staticmethod(first_call))
    with pytest.raises(RuntimeError, match="stopped"):
        step({})
    assert seen == ["system"]


_MMAP_PROBE = """
import ctypes, sys
from etl import arrow_memory

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Mallinfo2
libc.free(libc.malloc(16 << 20))  # freeing a 16 MB mapping: glibc raises its threshold to 16 MB
if sys.argv[1] == "fixed":
    print(arrow_memory.fixed_mmap_threshold())


def mapped_mb() -> int:  # MB of a new 8 MB block in its own mapping (0: from the heap)
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(8 << 20)
    return (libc.mallinfo2().hblkhd - before) >> 20


if sys.argv[1] == "batches":
    print(arrow_memory.fixed_mmap_threshold())
    with arrow_memory.heap_for_batches():
        print(mapped_mb())
print(mapped_mb())
"""


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="needs glibc ≥ 2.33 (mallinfo2)")
def test_a_block_freed_later_is_its_own_mapping_after_the_threshold_is_fixed():
    """After a 16 MB block is freed, glibc would serve an 8 MB one from the heap (kept resident
    when freed); with the threshold fixed it is mapped on its own (returned when freed)."""

    def probe(mode: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", _MMAP_PROBE, mode], cwd=REPO, capture_output=True, text=True, check=True
        )
        return out.stdout.split()

    assert probe("glibc") == ["0"]
    assert probe("fixed") == ["True", "8"]


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="needs glibc ≥ 2.33 (mallinfo2)")
def test_a_batch_loop_takes_its_blocks_from_the_heap_and_the_threshold_is_fixed_again_after():
    """Inside heap_for_batches an 8 MB block comes from the heap (a batch reuses the pages of the
    one before); after it, one is mapped on its own again."""
    out = subprocess.run(
        [sys.executable, "-c", _MMAP_PROBE, "batches"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "0", "8"]
