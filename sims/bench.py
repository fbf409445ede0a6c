"""Benchmarks: a candidate against its reference, timed in the same process (``boundlab bench``).

Each benchmark is a pair of zero-argument callables prepared by a factory. Both are called once to
warm up (numba compilation stays out of the timings), then timed over repeats; the report gives the
min and median of each and the speed-up = reference median / candidate median.

A benchmark may state the speed-up its issue requires (``target``); the report says whether it was met.
A factory whose reference cannot run here (an optional package missing) raises
:class:`BenchmarkUnavailable` with the reason, and the report lists it as skipped instead of failing.

A benchmark has a backend. A ``"numpy"`` benchmark (the default) compares CPU code; a ``"cupy"`` one
compares a GPU candidate with a CPU reference, both timed in the same run (``boundlab bench --backend
cupy``). GPU kernels run asynchronously, so every timing of a ``"cupy"`` benchmark starts and stops
after :func:`sims.backend.synchronize`: the clock stops when the GPU work is finished, not when it was
queued. Each row names the device the candidate ran on.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pandas as pd

from sims.backend import check_backend_name, current_backend, device_name, synchronize, unavailable_reason

__all__ = ["Benchmark", "BenchmarkUnavailable", "benchmarks", "cupy_or_skip", "register_benchmark", "run_benchmarks"]

Pair = tuple[Callable[[], object], Callable[[], object]]


class BenchmarkUnavailable(RuntimeError):
    """Raised by a factory when its benchmark cannot run on this machine; the message says why."""


def cupy_or_skip() -> ModuleType:
    """CuPy, for a GPU benchmark's factory; :class:`BenchmarkUnavailable` with the one-line reason without it."""
    from sims.backend import BackendUnavailable, array_module

    try:
        return array_module("cupy")
    except BackendUnavailable as err:
        raise BenchmarkUnavailable(str(err)) from None


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
    backend: str = "numpy"
    """Where the candidate runs: ``"numpy"`` (CPU) or ``"cupy"`` (GPU, with a CPU reference)."""


_BENCHMARKS: dict[tuple[str, str], Benchmark] = {}


def register_benchmark(topic: str, name: str, *, candidate: str, reference: str, repeats: int = 5,
                       target: float | None = None, warm_reference: bool = True,
                       backend: str = "numpy") -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    """Decorator registering a factory of (candidate, reference) callables.

    ``target`` is the required speed-up: e.g. 20 for "at least 20x faster", 1 for "at least as fast",
    0.5 for "within 2x of the reference". ``backend="cupy"`` marks a GPU benchmark: its factory runs only
    where CuPy has a GPU (``boundlab bench --backend cupy``) and returns a candidate working on CuPy arrays
    and a reference on numpy; a factory that cannot run here raises :class:`BenchmarkUnavailable`.
    """
    check_backend_name(backend)

    def wrap(factory: Callable[[], Pair]) -> Callable[[], Pair]:
        _BENCHMARKS[(topic, name)] = Benchmark(topic, name, candidate, reference, factory, repeats, target,
                                               warm_reference, backend)
        return factory

    return wrap


def benchmarks(topics: list[str] | None = None, backend: str | None = None) -> list[Benchmark]:
    """Registered benchmarks of the given topics (all when None) and of ``backend`` (default
    :func:`sims.backend.current_backend`, i.e. ``"numpy"`` unless inside ``use_backend``)."""
    import sims.benchmarks  # noqa: F401  (registers them)

    backend = current_backend() if backend is None else check_backend_name(backend)
    return [b for b in _BENCHMARKS.values() if (not topics or b.topic in topics) and b.backend == backend]


def _no_sync() -> None:
    return None


def _time(func: Callable[[], object], repeats: int, sync: Callable[[], None] = _no_sync) -> list[float]:
    """Wall times of ``repeats`` calls; ``sync`` runs before the clock starts and before it stops."""
    out = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        func()
        sync()
        out.append(time.perf_counter() - start)
    return out


def run_benchmarks(selected: list[Benchmark], *, repeats: int | None = None) -> pd.DataFrame:
    """Time every benchmark; one row each with min/median of candidate and reference, the ratio, the target.

    ``met`` is True/False where a target is stated, None otherwise; ``skipped`` holds the reason of a
    benchmark that could not run (its timings are NaN), a ``"cupy"`` one where CuPy or a GPU is missing
    included. ``backend`` and ``device`` say where the candidate ran (``"cpu"`` or the GPU's name).
    """
    rows = []
    for bench in selected:
        reason = unavailable_reason(bench.backend)
        base = {"topic": bench.topic, "benchmark": bench.name, "candidate": bench.candidate,
                "reference": bench.reference, "target": bench.target, "backend": bench.backend,
                "device": "unavailable" if reason else device_name(bench.backend)}
        try:
            if reason:
                raise BenchmarkUnavailable(reason)
            candidate, reference = bench.factory()
        except BenchmarkUnavailable as err:
            nan = float("nan")
            rows.append({**base, "candidate_min_s": nan, "candidate_median_s": nan, "reference_min_s": nan,
                         "reference_median_s": nan, "speedup": nan, "met": None, "skipped": str(err)})
            continue
        sync = _no_sync if bench.backend == "numpy" else functools.partial(synchronize, bench.backend)
        candidate()  # warm-up: compilation and caches stay out of the timings
        sync()
        if bench.warm_reference:
            reference()
        n = repeats or bench.repeats
        cand, ref = _time(candidate, n, sync), _time(reference, max(1, min(n, 3)), sync)
        speedup = statistics.median(ref) / statistics.median(cand)
        rows.append({
            **base,
            "candidate_min_s": min(cand), "candidate_median_s": statistics.median(cand),
            "reference_min_s": min(ref), "reference_median_s": statistics.median(ref),
            "speedup": speedup, "met": None if bench.target is None else bool(speedup >= bench.target),
            "skipped": None,
        })
    table = pd.DataFrame(rows)
    for column in ("met", "skipped"):  # pandas reads a None beside a string as NaN, which is truthy
        if column in table:
            table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table
