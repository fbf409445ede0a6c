"""Benchmarks: a candidate against its reference, timed in the same process (``boundlab bench``).

Each benchmark is a pair of zero-argument callables prepared by a factory. Both are called once to
warm up (numba compilation stays out of the timings), then timed over repeats; the report gives the
min and median of each and the speed-up = reference median / candidate median.

A benchmark may state the speed-up its issue requires (``target``); the report says whether it was met.
A factory whose reference cannot run here (an optional package missing) raises
:class:`BenchmarkUnavailable` with the reason, and the report lists it as skipped instead of failing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["Benchmark", "BenchmarkUnavailable", "benchmarks", "register_benchmark", "run_benchmarks"]

Pair = tuple[Callable[[], object], Callable[[], object]]


class BenchmarkUnavailable(RuntimeError):
    """Raised by a factory when its benchmark cannot run on this machine; the message says why."""


@dataclass(frozen=True)
class Benchmark:
    """A named comparison: ``factory()`` returns (candidate, reference)."""

    topic: str
    name: str
    candidate: str
    reference: str
    factory: Callable[[], Pair]
    repeats: int = 5
    target: float | None = None
    """The speed-up (reference / candidate) the benchmark must reach; None when it only reports."""
    warm_reference: bool = True
    """Call the reference once before timing it; False for a slow reference with nothing to compile."""


_BENCHMARKS: dict[tuple[str, str], Benchmark] = {}


def register_benchmark(topic: str, name: str, *, candidate: str, reference: str, repeats: int = 5,
                       target: float | None = None,
                       warm_reference: bool = True) -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    """Decorator registering a factory of (candidate, reference) callables.

    ``target`` is the required speed-up: e.g. 20 for "at least 20x faster", 1 for "at least as fast",
    0.5 for "within 2x of the reference".
    """

    def wrap(factory: Callable[[], Pair]) -> Callable[[], Pair]:
        _BENCHMARKS[(topic, name)] = Benchmark(topic, name, candidate, reference, factory, repeats, target,
                                               warm_reference)
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
    """Time every benchmark; one row each with min/median of candidate and reference, the ratio, the target.

    ``met`` is True/False where a target is stated, None otherwise; ``skipped`` holds the reason of a
    benchmark that could not run (its timings are NaN).
    """
    rows = []
    for bench in selected:
        base = {"topic": bench.topic, "benchmark": bench.name, "candidate": bench.candidate,
                "reference": bench.reference, "target": bench.target}
        try:
            candidate, reference = bench.factory()
        except BenchmarkUnavailable as err:
            nan = float("nan")
            rows.append({**base, "candidate_min_s": nan, "candidate_median_s": nan, "reference_min_s": nan,
                         "reference_median_s": nan, "speedup": nan, "met": None, "skipped": str(err)})
            continue
        candidate()  # warm-up: compilation and caches stay out of the timings
        if bench.warm_reference:
            reference()
        n = repeats or bench.repeats
        cand, ref = _time(candidate, n), _time(reference, max(1, min(n, 3)))
        speedup = statistics.median(ref) / statistics.median(cand)
        rows.append({
            **base,
            "candidate_min_s": min(cand), "candidate_median_s": statistics.median(cand),
            "reference_min_s": min(ref), "reference_median_s": statistics.median(ref),
            "speedup": speedup, "met": None if bench.target is None else bool(speedup >= bench.target),
            "skipped": None,
        })
    return pd.DataFrame(rows)
