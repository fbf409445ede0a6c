"""Benchmarks: a candidate against its reference, timed in the same process (``boundlab bench``).

Each benchmark is a pair of zero-argument callables prepared by a factory. Both are called once to
warm up (numba compilation stays out of the timings), then timed over repeats; the report gives the
min and median of each and the speed-up = reference median / candidate median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["Benchmark", "benchmarks", "register_benchmark", "run_benchmarks"]

Pair = tuple[Callable[[], object], Callable[[], object]]


@dataclass(frozen=True)
class Benchmark:
    """A named comparison: ``factory()`` returns (candidate, reference)."""

    topic: str
    name: str
    candidate: str
    reference: str
    factory: Callable[[], Pair]
    repeats: int = 5


_BENCHMARKS: dict[tuple[str, str], Benchmark] = {}


def register_benchmark(topic: str, name: str, *, candidate: str, reference: str,
                       repeats: int = 5) -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    """Decorator registering a factory of (candidate, reference) callables."""

    def wrap(factory: Callable[[], Pair]) -> Callable[[], Pair]:
        _BENCHMARKS[(topic, name)] = Benchmark(topic, name, candidate, reference, factory, repeats)
        return factory

    return wrap


def benchmarks(topics: list[str] | None = None) -> list[Benchmark]:
    """Registered benchmarks of the given topics (all when None)."""
    import sims.benchmarks  # noqa: F401  (registers them)

    return [b for b in _BENCHMARKS.values() if not topics or b.topic in topics]


def _time(func: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def run_benchmarks(selected: list[Benchmark], *, repeats: int | None = None) -> pd.DataFrame:
    """Time every benchmark; one row each with min/median of candidate and reference and the ratio."""
    rows = []
    for bench in selected:
        candidate, reference = bench.factory()
        candidate()
        reference()  # warm-up: compilation and caches stay out of the timings
        n = repeats or bench.repeats
        cand, ref = _time(candidate, n), _time(reference, max(1, min(n, 3)))
        rows.append({
            "topic": bench.topic, "benchmark": bench.name,
            "candidate": bench.candidate, "reference": bench.reference,
            "candidate_min_s": min(cand), "candidate_median_s": statistics.median(cand),
            "reference_min_s": min(ref), "reference_median_s": statistics.median(ref),
            "speedup": statistics.median(ref) / statistics.median(cand),
        })
    return pd.DataFrame(rows)
