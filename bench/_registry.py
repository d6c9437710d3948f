"""The benchmark registry, in its own module so that ``bench/*.py`` modules register into the same dict that
``python -m bench`` runs (``bench.__main__`` imported by name would be a second copy of ``__main__``)."""

from __future__ import annotations

from collections.abc import Callable

Benchmark = Callable[[int], dict[str, float]]

BENCHMARKS: dict[str, Benchmark] = {}
DEFAULT_N: dict[str, int] = {}


def benchmark(name: str, *, default_n: int = 1000) -> Callable[[Benchmark], Benchmark]:
    """Register ``fn(n) -> figures`` as ``name``; ``default_n`` is its ``n`` when ``--n`` is not given."""

    def register(fn: Benchmark) -> Benchmark:
        BENCHMARKS[name] = fn
        DEFAULT_N[name] = default_n
        return fn

    return register
