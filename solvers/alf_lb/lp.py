r"""The token-to-expert assignment LP, its dual function and subgradient.

Assignment LP (P), capacity C per expert:

    max Σ_ji s_ji x_ji   s.t.  Σ_i x_ji = K (every token j),  Σ_j x_ji = C (every expert i),  0 ≤ x ≤ 1.

Its constraint matrix is the incidence matrix of a bipartite graph, hence totally unimodular: a vertex
optimum (HiGHS dual simplex returns one) is 0/1 and OPT_LP = OPT_IP. When E·C = K·n the capacity rows
are equalities; when E·C > K·n they are Σ_j x_ji ≤ C, and the prices are then ≥ 0.

With prices p on the capacity rows and the token rows and boxes minimised out, the dual function is

    D(p) = Σ_j topKsum(s_j − p) + C·Σ_i p_i,

convex and piecewise linear, D(p + c·1) = D(p) when E·C = K·n, D(p) ≥ OPT (weak duality) with equality
at the LP's capacity duals p*. Biased top-K with b = −p is a best response x(p), so

    g(p) = C·1 − load(x(p)) ∈ ∂D(p).

``scipy.optimize.linprog`` minimises −s·x; its marginals are sensitivities of that minimum to the
right-hand sides, so the capacity marginals are −p* = b*, the bias that routes at the optimum.

References
----------
X.Y. Han, Y. Zhong, arXiv 2512.03915 (the primal-dual reading of ALF-LB); A. Schrijver, *Theory of
Linear and Integer Programming*, §19 (total unimodularity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from solvers._xp import to_numpy
from solvers.alf_lb._validate import check_capacity, check_K, check_scores
from solvers.alf_lb.routing import route

__all__ = ["AssignmentLP", "dual_subgradient", "dual_value", "solve_assignment_lp"]


@dataclass(frozen=True)
class AssignmentLP:
    """The solution of the assignment LP.

    Attributes
    ----------
    x
        (n, E) int8 optimal assignment (0/1; ``integrality_gap`` is the largest distance of the raw
        simplex solution from {0, 1}).
    value
        OPT = Σ s_ji x_ji.
    prices
        p* (E,), the capacity duals (shadow prices of one more unit of capacity).
    capacity
        C.
    integrality_gap
        max_ji min(x_ji, 1 − x_ji) of the solver's solution before rounding.
    """

    x: np.ndarray
    value: float
    prices: np.ndarray
    capacity: int
    integrality_gap: float

    @property
    def bias(self) -> np.ndarray:
        """b* = −p*."""
        return -self.prices


def _constraints(n: int, E: int) -> tuple[sp.csr_array, sp.csr_array]:
    """Token rows (n × nE) and capacity rows (E × nE) for x flattened row-major (x[j, i] at j·E + i)."""
    cols = np.arange(n * E)
    tokens = sp.csr_array((np.ones(n * E), (cols // E, cols)), shape=(n, n * E))
    experts = sp.csr_array((np.ones(n * E), (cols % E, cols)), shape=(E, n * E))
    return tokens, experts


def solve_assignment_lp(scores, K: int, capacity: int | None = None) -> AssignmentLP:
    """Solve the assignment LP exactly with HiGHS dual simplex (``method="highs-ds"``).

    Parameters
    ----------
    scores
        (n, E) finite scores (numpy; CuPy input is copied to the host).
    K
        Experts per token, 1 ≤ K ≤ E.
    capacity
        C; None means K·n/E, which must be an integer. E·C ≥ K·n and C ≤ n are required.

    Returns
    -------
    AssignmentLP
        The 0/1 optimum, OPT, the capacity prices p* and the integrality gap of the raw solution.
    """
    scores = np.asarray(to_numpy(check_scores(scores)), dtype=float)
    n, E = scores.shape
    K = check_K(K, E)
    C = check_capacity(capacity, n, K, E)
    tokens, experts = _constraints(n, E)
    tight = E * C == K * n
    if tight:
        res = linprog(-scores.ravel(), A_eq=sp.vstack([tokens, experts]).tocsr(),
                      b_eq=np.concatenate([np.full(n, K), np.full(E, C)]), bounds=(0, 1), method="highs-ds")
    else:
        res = linprog(-scores.ravel(), A_ub=experts, b_ub=np.full(E, C), A_eq=tokens, b_eq=np.full(n, K),
                      bounds=(0, 1), method="highs-ds")
    if res.status != 0:
        raise RuntimeError(f"linprog failed on the assignment LP: {res.message}")
    raw = res.x.reshape(n, E)
    marginals = res.eqlin.marginals[n:] if tight else res.ineqlin.marginals
    x = np.rint(raw).astype(np.int8)
    return AssignmentLP(x, float(np.sum(scores * x)), -np.asarray(marginals, dtype=float), C,
                        float(np.max(np.minimum(raw, 1.0 - raw))))


def dual_value(scores, K: int, prices, capacity: int | None = None) -> float:
    r"""D(p) = Σ_j topKsum(s_j − p) + C·Σ_i p_i (the topK sum is taken at the best response x(p))."""
    scores = np.asarray(to_numpy(check_scores(scores)), dtype=float)
    n, E = scores.shape
    C = check_capacity(capacity, n, check_K(K, E), E)
    prices = _check_prices(prices, E)
    r = route(scores.astype(float), K, -prices)
    return float((r.scores.sum() - prices[r.experts].sum()) + C * prices.sum())


def dual_subgradient(scores, K: int, prices, capacity: int | None = None) -> np.ndarray:
    r"""g(p) = C·1 − load(x(p)) ∈ ∂D(p), with x(p) the biased top-K at b = −p."""
    scores = np.asarray(to_numpy(check_scores(scores)), dtype=float)
    n, E = scores.shape
    C = check_capacity(capacity, n, check_K(K, E), E)
    prices = _check_prices(prices, E)
    return C - route(scores.astype(float), K, -prices).loads.astype(float)


def _check_prices(prices, E: int) -> np.ndarray:
    prices = np.asarray(prices, dtype=float)
    if prices.shape != (E,) or not np.all(np.isfinite(prices)):
        raise ValueError(f"prices must be a finite vector of shape ({E},), got shape {prices.shape}")
    return prices
