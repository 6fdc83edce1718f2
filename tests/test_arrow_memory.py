"""The stages that hold whole tables allocate Arrow memory from the system allocator, and leave
the rest of the process on the pool it had (etl/arrow_memory.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from etl import arrow_memory, pipeline


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
