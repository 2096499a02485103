"""Every benchmark still imports: they are run by hand, not by the suite, so a renamed
helper they use would otherwise break them unseen."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted(
    p.stem
    for p in (Path(__file__).parent.parent / "benchmarks").glob("*.py")
    if p.stem != "__init__"
)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_imports(name: str) -> None:
    importlib.import_module(f"benchmarks.{name}")
