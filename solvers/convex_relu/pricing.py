r"""Pricing of activation patterns for the squared-loss program C(𝒟) (spec §3.2 Pricing, §6 KKT, CR12).

Let e = y − ŷ be the residual at an optimum of C(𝒟) (squared loss, so −∇ℓ = e). Adding a pattern D lowers
the optimum iff the dual constraint of its v- or w-slot is violated:

    p(D, e) = max{ eᵀDXv : v ∈ K_D, ‖v‖₂ ≤ 1 } > β   or   p(D, −e) > β,   K_D = {v : (2D − I)Xv ≥ 0}.

**Closed form through a projection.** With g = XᵀDe, p(D, e) = max_{v ∈ K, ‖v‖ ≤ 1} gᵀv = ‖Π_K(g)‖ for the
closed convex cone K = K_D. Proof (Moreau): g = Π_K(g) + Π_{K°}(g) with the two parts orthogonal, and for
v ∈ K, Π_{K°}(g)ᵀv ≤ 0, so gᵀv ≤ Π_K(g)ᵀv ≤ ‖Π_K(g)‖‖v‖, with equality at v = Π_K(g)/‖Π_K(g)‖ (any v when
Π_K(g) = 0). The polar cone of K = {v : Av ≥ 0} (A = (2D − I)X) is K° = {−Aᵀλ : λ ≥ 0}, so
Π_{K°}(g) = −Aᵀλ* with λ* = argmin_{λ≥0} ‖Aᵀλ + g‖, a non-negative least-squares problem in n unknowns and
d equations, and p(D, e) = ‖g − Π_{K°}(g)‖ = ‖Aᵀλ* + g‖ is exactly the NNLS residual norm. Lawson–Hanson
(``scipy.optimize.nnls``) solves it by an active set, finitely and to machine precision; the SOCP in cvxpy
(``method="cvxpy"``) is kept as a cross-check.

**KKT** (:func:`kkt_pricing_gap`). At an optimum of C(𝒟), p(D_i, e) ≤ β and p(D_i, −e) ≤ β for every
included pattern, with equality at every nonzero v_i (resp. w_i): stationarity gives
XᵀD_ie = βv_i/‖v_i‖ − Aᵀλ with λ ⟂ Av_i, so eᵀD_iXv_i = β‖v_i‖.

References
----------
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (§3, sampled convex programs; the scenario bound).
M. Pilanci, T. Ergen, ICML 2020, arXiv:2002.10553 (the dual of C(𝒟)).
C. Lawson, R. Hanson, "Solving Least Squares Problems", 1974, ch. 23 (NNLS).
J.-J. Moreau, "Décomposition orthogonale d'un espace hilbertien selon deux cônes mutuellement polaires",
C. R. Acad. Sci. 1962.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive, check_rng
from solvers._xp import to_numpy
from solvers.convex_relu._validate import check_beta, check_data, check_patterns, check_weights
from solvers.convex_relu.network import convex_predict, group_norms
from solvers.convex_relu.patterns import Patterns

__all__ = ["KKTGap", "PriceResult", "ViolationRate", "kkt_pricing_gap", "price", "pricing_value", "violation_rate"]

Method = Literal["nnls", "cvxpy"]


def _value_nnls(X: np.ndarray, e: np.ndarray, mask: np.ndarray) -> float:
    from scipy.optimize import nnls

    g = X.T @ (mask * e)
    A = (2.0 * mask - 1.0)[:, None] * X
    _, rnorm = nnls(A.T, -g, maxiter=50 * max(X.shape))
    return float(rnorm)


def _value_cvxpy(X: np.ndarray, e: np.ndarray, mask: np.ndarray) -> float:
    import cvxpy as cp

    v = cp.Variable(X.shape[1])
    prob = cp.Problem(cp.Maximize((X.T @ (mask * e)) @ v),
                      [cp.multiply(2.0 * mask - 1.0, X @ v) >= 0, cp.norm(v, 2) <= 1])
    prob.solve(solver="CLARABEL")
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"pricing_value: the SOCP ended with status {prob.status}")
    return max(0.0, float(prob.value))


def _check_method(method: Any) -> Method:
    if method not in ("nnls", "cvxpy"):
        raise ValueError(f"method must be 'nnls' or 'cvxpy', got {method!r}")
    return method


def pricing_value(X: Any, e: Any, mask: Any, *, method: Method = "nnls") -> float:
    r"""p(D, e) = max{eᵀDXv : (2D − I)Xv ≥ 0, ‖v‖₂ ≤ 1} = ‖Π_{K_D}(XᵀDe)‖ (module docstring).

    Parameters
    ----------
    X
        (n, d) data with the bias column.
    e
        (n,) residual y − ŷ (or its negative for the w-slot).
    mask
        (n,) diagonal of D in {0, 1}.
    method
        ``"nnls"`` (the projection, exact) or ``"cvxpy"`` (the SOCP, to solver precision).
    """
    X, e = check_data(X, e)
    method = _check_method(method)
    X, e = np.asarray(to_numpy(X)), np.asarray(to_numpy(e))
    mask = np.asarray(to_numpy(mask), dtype=float)
    if mask.shape != (X.shape[0],) or not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"mask must be a 0/1 vector of length n = {X.shape[0]}, got shape {mask.shape}")
    return (_value_nnls if method == "nnls" else _value_cvxpy)(X, e, mask)


def _prices(X: np.ndarray, e: np.ndarray, masks: np.ndarray, method: Method) -> tuple[np.ndarray, np.ndarray]:
    fn = _value_nnls if method == "nnls" else _value_cvxpy
    plus = np.array([fn(X, e, masks[:, i]) for i in range(masks.shape[1])])  # one small projection per pattern
    minus = np.array([fn(X, -e, masks[:, i]) for i in range(masks.shape[1])])
    return plus, minus


@dataclass(frozen=True, eq=False)
class PriceResult:
    """Prices of candidate patterns: ``plus`` = p(D, e) (v-slot), ``minus`` = p(D, −e) (w-slot), ``values`` their
    maximum, ``violated`` = values > β(1 + rtol), the residual ``e`` and ``beta``."""

    values: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    violated: np.ndarray
    e: np.ndarray
    beta: float

    @property
    def n_violated(self) -> int:
        """Number of candidate patterns that would lower the optimum."""
        return int(self.violated.sum())


def _setup(X: Any, y: Any, patterns_opt: Any, V: Any, W: Any, beta: Any) -> tuple:
    X, y = check_data(X, y, "squared")
    n, d = X.shape
    patterns_opt = check_patterns(patterns_opt, n, d)
    V = check_weights("V", V, patterns_opt.P, d)
    W = check_weights("W", W, patterns_opt.P, d)
    beta = check_beta(beta)
    X, y, V, W = (np.asarray(to_numpy(a)) for a in (X, y, V, W))
    e = y - convex_predict(X, np.asarray(to_numpy(patterns_opt.masks)), V, W)
    return X, e, V, W, beta


def price(X: Any, y: Any, patterns_opt: Patterns, V: Any, W: Any, beta: float, candidate_patterns: Patterns, *,
          rtol: float = 1e-6, method: Method = "nnls") -> PriceResult:
    r"""Price every candidate pattern at the solution (V, W) of C(𝒟) (squared loss).

    e = y − Σ_i D_iX(v_i − w_i) over ``patterns_opt``; candidate D is *violated* when
    max(p(D, e), p(D, −e)) > β(1 + ``rtol``) — adding it would lower f*(𝒟) (at an exact optimum; ``rtol``
    absorbs the solver's precision).
    """
    X, e, _, _, beta = _setup(X, y, patterns_opt, V, W, beta)
    candidate_patterns = check_patterns(candidate_patterns, X.shape[0])
    rtol = check_positive("rtol", rtol, allow_zero=True)
    method = _check_method(method)
    plus, minus = _prices(X, e, np.asarray(to_numpy(candidate_patterns.masks), dtype=float), method)
    values = np.maximum(plus, minus)
    return PriceResult(values=values, plus=plus, minus=minus, violated=values > beta * (1.0 + rtol), e=e, beta=beta)


@dataclass(frozen=True, eq=False)
class ViolationRate:
    """The fraction ``rate`` of ``n_samples`` fresh patterns D(h), h ~ N(0, I_d), that violate pricing, with the
    count ``n_violated`` and each draw's price ``values`` (duplicates and the all-zero pattern, whose price is
    0, are kept: the rate estimates a probability over draws)."""

    rate: float
    n_violated: int
    n_samples: int
    values: np.ndarray


def violation_rate(X: Any, y: Any, patterns_opt: Patterns, V: Any, W: Any, beta: float, n_samples: int,
                   rng: np.random.Generator | int, *, rtol: float = 1e-6, method: Method = "nnls") -> ViolationRate:
    r"""Monte-Carlo estimate of ψ = P_h[pattern D(h) violates pricing at the solution of C(𝒟)] (spec §3.2, CR12).

    Draws ``n_samples`` generators h ~ N(0, I_d) from ``rng`` and prices each D(h) = diag(1[Xh ≥ 0]) with
    :func:`price`. The scenario bound of §3.2 says this is ≤ ψ with probability ≥ 1 − ξ once
    P_s ≥ (2/ψ)(ζ − 1 + ln(1/ξ)).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    rng = check_rng(rng)
    X, e, _, _, beta = _setup(X, y, patterns_opt, V, W, beta)
    rtol = check_positive("rtol", rtol, allow_zero=True)
    method = _check_method(method)
    H = rng.standard_normal((X.shape[1], n_samples))
    plus, minus = _prices(X, e, (X @ H >= 0.0).astype(float), method)
    values = np.maximum(plus, minus)
    k = int(np.sum(values > beta * (1.0 + rtol)))
    return ViolationRate(rate=k / n_samples, n_violated=k, n_samples=n_samples, values=values)


@dataclass(frozen=True, eq=False)
class KKTGap:
    """Pricing at the included patterns: ``excess`` = max_i max(p(D_i, e), p(D_i, −e)) − β (≤ 0 at an optimum),
    ``active_deviation`` = max |p − β| over the nonzero slots (0 at an optimum; 0 when none is active), the
    per-pattern ``plus``/``minus`` prices and the ``active_v``/``active_w`` masks used."""

    excess: float
    active_deviation: float
    plus: np.ndarray
    minus: np.ndarray
    active_v: np.ndarray
    active_w: np.ndarray


def kkt_pricing_gap(X: Any, y: Any, patterns: Patterns, V: Any, W: Any, beta: float, *, active_tol: float = 1e-6,
                    method: Method = "nnls") -> KKTGap:
    r"""The KKT conditions of C(𝒟) (squared loss) read through pricing (module docstring, spec §6).

    A slot counts as active when its group norm exceeds ``active_tol``·(largest group norm) (spec §7).
    """
    X, e, V, W, beta = _setup(X, y, patterns, V, W, beta)
    active_tol = check_positive("active_tol", active_tol, allow_zero=True)
    method = _check_method(method)
    plus, minus = _prices(X, e, np.asarray(to_numpy(patterns.masks), dtype=float), method)
    nv, nw = group_norms(V), group_norms(W)
    top = max(float(nv.max()), float(nw.max()))
    av, aw = (nv > 0) & (nv > active_tol * top), (nw > 0) & (nw > active_tol * top)
    dev = np.concatenate([np.abs(plus[av] - beta), np.abs(minus[aw] - beta)])
    return KKTGap(excess=float(np.maximum(plus, minus).max() - beta), active_deviation=float(dev.max()) if dev.size
                  else 0.0, plus=plus, minus=minus, active_v=av, active_w=aw)
