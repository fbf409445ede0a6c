"""Benchmarks of batch routing (``boundlab bench --topic alf_lb``).

T = 65536 tokens, E = 64 experts, K = 6, float32 scores: the numba kernel of
:func:`solvers.alf_lb.route` against (i) the usual ``np.argpartition`` top-K with a ``np.bincount``
of the loads (it must be ≥ 5x faster) and (ii) one copy of the score matrix, the floor of any pass
over the scores (it must be within 4x, i.e. speed-up ≥ 0.25).
"""

from __future__ import annotations

import numpy as np

from sims.bench import Pair, register_benchmark
from solvers.alf_lb import route

T, E, K = 65536, 64, 6


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((T, E)).astype(np.float32), 0.1 * rng.standard_normal(E)


def argpartition_route(scores: np.ndarray, bias: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference: top-k by ``np.argpartition`` on s + b, loads by ``np.bincount``."""
    experts = np.argpartition(-(scores + bias.astype(scores.dtype)), k - 1, axis=1)[:, :k]
    return experts, np.bincount(experts.ravel(), minlength=scores.shape[1])


@register_benchmark("alf_lb", "route_T65536_E64_K6_vs_argpartition", candidate="numba routing kernel",
                    reference="np.argpartition top-K + np.bincount", target=5)
def _route_vs_argpartition() -> Pair:
    scores, bias = _batch()
    return (lambda: route(scores, K, bias), lambda: argpartition_route(scores, bias, K))


@register_benchmark("alf_lb", "route_T65536_E64_K6_vs_copy", candidate="numba routing kernel",
                    reference="one copy of the score matrix (speed-up ≥ 0.25 means within 4x)", target=0.25)
def _route_vs_copy() -> Pair:
    scores, bias = _batch()
    return (lambda: route(scores, K, bias), scores.copy)
