r"""Optimistic online Newton step (exp-concave case) and plain ONS on the Euclidean ball.

The method is optimistic online mirror descent with the time-varying quadratic regulariser
:math:`\psi_t(x) = \tfrac12 x^\top U_t x` (Chen et al., 2023, exp-concave case; the exact form is
reconstructed, see spec ``omd.md`` §3):

.. math::

    U_t = \delta I + \frac{\beta}{2}\sum_{s<t}(g_s - M_s)(g_s - M_s)^\top,\qquad
    \beta = \tfrac12\min\Big\{\frac{1}{4GD}, \alpha\Big\},\quad D = 2R,

    x_t = \Pi^{U_t}\big(\hat x_t - U_t^{-1}M_t\big),\qquad
    \hat x_{t+1} = \Pi^{U_{t+1}}\big(\hat x_t - U_{t+1}^{-1}g_t\big),

with :math:`\Pi^{U}(y) = \arg\min_{\|x\|\le R}(x - y)^\top U (x - y)`, :math:`\hat x_1 = 0`,
:math:`M_1 = 0` and :math:`M_t = g_{t-1}` (optimistic) or :math:`M_t \equiv 0` (ONS).

Which matrix in the gradient step
---------------------------------
The spec writes :math:`\Pi^{U_t}(\hat x_t - U_t^{-1}g_t)` for the second step; this module uses
:math:`U_{t+1} = U_t + \tfrac{\beta}{2}(g_t - M_t)(g_t - M_t)^\top`, which is known once :math:`g_t`
is observed. Reasons:

1. With :math:`M \equiv 0` the iterates satisfy :math:`x_t = \hat x_t` and the update becomes
   :math:`x_{t+1} = \Pi^{A_t}(x_t - A_t^{-1}g_t)` with :math:`A_t = \delta I +
   \tfrac{\beta}{2}\sum_{s\le t} g_s g_s^\top`, i.e. the online Newton step of Hazan et al. (2007),
   whose matrix *includes* the current gradient. With :math:`U_t` instead, plain ONS would lag one
   gradient behind.
2. The optimistic-OMD lemma still holds for a regulariser that grows with t: writing
   :math:`B_t(x, y) = \tfrac12\|x - y\|^2_{U_t}`, the two first-order optimality conditions give

   .. math::

       \langle g_t, x_t - u\rangle \le B_{t+1}(u, \hat x_t) - B_{t+1}(u, \hat x_{t+1})
         + \tfrac12\|g_t - M_t\|^2_{U_t^{-1}} - B_t(x_t, \hat x_t),

   using :math:`B_t(\hat x_{t+1}, \hat x_t) \le B_{t+1}(\hat x_{t+1}, \hat x_t)` (as
   :math:`U_{t+1} \succeq U_t`). Summing, the regulariser growth contributes
   :math:`\sum_t \tfrac{\beta}{4}\langle g_t - M_t, u - \hat x_t\rangle^2`, a quadratic evaluated
   at the pre-step point :math:`\hat x_t` (:math:`= x_t` for ONS, where it is cancelled by
   exp-concavity, :math:`f_t(x_t) - f_t(u) \le \langle g_t, x_t - u\rangle - \tfrac{\beta}{2}\langle
   g_t, x_t - u\rangle^2`, with room to spare since the spec's increment is :math:`\beta/2`, not
   :math:`\beta`). With :math:`U_t` in the gradient step the same term is evaluated at
   :math:`\hat x_{t+1}` and does not match exp-concavity even for ONS.
3. The stability term :math:`\sum_t \|g_t - M_t\|^2_{U_t^{-1}}` is at most
   :math:`(1 + 2\beta G^2/\delta)\sum_t \|g_t - M_t\|^2_{U_{t+1}^{-1}} \le (1 + 2\beta G^2/\delta)
   \tfrac{2}{\beta}\ln\det(U_{T+1}/\delta)` (Sherman-Morrison, then the log-determinant lemma),
   which gives the :math:`O(d \log(\sigma^2_{1:T} + \Sigma^2_{1:T}))` shape of claim 9.

Projection
----------
:math:`\Pi^U(y) = y` when :math:`\|y\| \le R`. Otherwise the KKT conditions
:math:`U(x - y) + \nu x = 0`, :math:`\|x\| = R`, :math:`\nu \ge 0` give
:math:`x(\nu) = (U + \nu I)^{-1}Uy`. With :math:`U = Q\Lambda Q^\top` and
:math:`c = \Lambda Q^\top y`, :math:`\|x(\nu)\|^2 = \sum_i c_i^2/(\lambda_i + \nu)^2` is decreasing
in ν, exceeds :math:`R^2` at 0 and is at most :math:`R^2` at
:math:`\nu_{\max} = \lambda_{\max}\|y\|/R - \lambda_{\min}`. The root of
:math:`\phi(\nu) = 1/\|x(\nu)\| - 1/R`, an increasing concave function (the trust-region secular
equation), is found by Newton's method from :math:`\nu = 0`, safeguarded by bisection on the
bracket :math:`[0, \nu_{\max}]`, to a relative accuracy of 1e-13 in :math:`\|x\|`.

References
----------
S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang, "Optimistic Online Mirror Descent for Bridging
Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024, arXiv 2302.04552
(exp-concave case).
E. Hazan, A. Agarwal, S. Kale, "Logarithmic Regret Algorithms for Online Convex Optimization",
Machine Learning 69 (2007), Algorithm 2 (ONS) and Lemma 3.
C.-K. Chiang, T. Yang, C.-J. Lee, M. Mahdavi, C.-J. Lu, R. Jin, S. Zhu, "Online Optimization with
Gradual Variations", COLT 2012 (the exp-concave case).
J. J. Moré, D. C. Sorensen, "Computing a Trust Region Step", SIAM J. Sci. Stat. Comput. 4 (1983).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from solvers._checks import check_positive, check_vector
from solvers.omd.domains import Ball
from solvers.omd.first_order import OnlineMethod

__all__ = ["NewtonState", "mahalanobis_projection", "online_newton"]

_REL_TOL = 1e-13
_MAX_ITER = 200


class NewtonState(NamedTuple):
    """State of (optimistic) ONS at round t (1-based)."""

    t: int
    x: np.ndarray       # x_t, the point to play
    x_hat: np.ndarray   # x̂_t
    hint: np.ndarray    # M_t, used to form x_t
    eta: float          # NaN: the step is the matrix U_t^{-1}, not a scalar
    U: np.ndarray       # U_t = δI + (β/2) Σ_{s<t} (g_s − M_s)(g_s − M_s)ᵀ


def _eig(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, Q = np.linalg.eigh(U)
    if not np.all(np.isfinite(lam)) or lam[0] <= 0:
        raise ValueError(f"U must be symmetric positive definite, smallest eigenvalue {lam[0]:.3g}")
    return lam, Q


def _project_eig(y: np.ndarray, lam: np.ndarray, Q: np.ndarray, radius: float) -> np.ndarray:
    norm_y = float(np.linalg.norm(y))
    if norm_y <= radius:
        return y.copy()
    c = lam * (Q.T @ y)
    c2 = c * c
    lo, hi = 0.0, max(lam[-1] * norm_y / radius - lam[0], 0.0)
    nu = 0.0
    for _ in range(_MAX_ITER):
        w = 1.0 / (lam + nu)
        sq = float(c2 @ (w * w))
        norm_x = math.sqrt(sq)
        if abs(norm_x - radius) <= _REL_TOL * radius:
            break
        if norm_x > radius:
            lo = nu
        else:
            hi = nu
        # φ(ν) = 1/‖x‖ − 1/R, φ'(ν) = Σ c_i²/(λ_i+ν)³ / ‖x‖³
        slope = float(c2 @ (w * w * w)) / (sq * norm_x)
        step = (1.0 / norm_x - 1.0 / radius) / slope
        nu_new = nu - step
        if not lo < nu_new < hi:
            nu_new = 0.5 * (lo + hi)
        if nu_new == nu:
            break
        nu = nu_new
    x = Q @ (c / (lam + nu))
    norm_x = float(np.linalg.norm(x))
    if norm_x > radius:  # remove the last ~1e-13 of infeasibility
        x *= radius / norm_x
    return x


def mahalanobis_projection(y: np.ndarray, U: np.ndarray, radius: float) -> np.ndarray:
    r"""The U-norm projection :math:`\Pi^U(y) = \arg\min_{\|x\|_2\le R}(x - y)^\top U (x - y)`.

    Parameters
    ----------
    y
        Point to project, shape (d,).
    U
        Symmetric positive definite matrix, shape (d, d).
    radius
        Radius R > 0 of the centred ball.

    Returns
    -------
    numpy.ndarray
        The projection. If :math:`\|y\| \le R` it is y; otherwise :math:`x(\nu) = (U + \nu
        I)^{-1}Uy` with ν > 0 such that :math:`\|x(\nu)\| = R` (to 1e-13 relative; see the module
        docstring for the root finder).

    Raises
    ------
    ValueError
        If the shapes disagree, an entry is not finite, U is not symmetric positive definite, or
        ``radius`` is not > 0.
    """
    radius = check_positive("radius", radius)
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y must be a vector, got shape {y.shape}")
    y = check_vector("y", y, y.shape[0])
    U = np.asarray(U, dtype=float)
    if U.shape != (y.shape[0], y.shape[0]):
        raise ValueError(f"U must have shape ({y.shape[0]}, {y.shape[0]}), got {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError("U must be finite")
    if not np.allclose(U, U.T, rtol=1e-12, atol=1e-12 * float(np.max(np.abs(U)))):
        raise ValueError("U must be symmetric")
    lam, Q = _eig(U)
    return _project_eig(y, lam, Q, radius)


def online_newton(domain: Ball, *, alpha: float, G: float, delta: float = 1.0,
                  optimistic: bool = True) -> OnlineMethod:
    r"""Optimistic online Newton step (ONS when ``optimistic=False``) on a centred ball.

    Parameters
    ----------
    domain
        The ball :math:`B(R)` (centre 0), :math:`D = 2R`.
    alpha
        Exp-concavity :math:`\alpha > 0` of every :math:`f_t` on the ball.
    G
        Gradient bound :math:`\|\nabla f_t\| \le G` on the ball.
    delta
        Regularisation :math:`\delta > 0` of :math:`U_1 = \delta I`.
    optimistic
        Hint :math:`M_t = g_{t-1}` if true, :math:`M_t = 0` (plain ONS) otherwise.

    Returns
    -------
    OnlineMethod
        ``kernel="python"`` (run on the numpy loop); states are :class:`NewtonState`; ``eta``
        is NaN.

    Notes
    -----
    The update is written out in the module docstring, including why the gradient step uses
    :math:`U_{t+1}`; :math:`\beta = \tfrac12\min\{1/(4GD), \alpha\}`. Each round costs one symmetric
    eigendecomposition of :math:`U_{t+1}`, shared by both solves and both projections (fine for
    d up to a few hundred).

    The constants of :math:`U_t` are reconstructed (spec ``omd.md`` §3): the expected-regret bound
    :math:`O(d\log(\sigma^2_{1:T} + \Sigma^2_{1:T}))` of Chen et al. is claim 9. The asymptotic
    :math:`\log T` regime starts only once :math:`\tfrac{\beta}{2}\,t\,\mathbb{E}\|g - M\|^2/d`
    exceeds δ; before that the method behaves like gradient descent with step :math:`1/\delta`.

    References
    ----------
    Chen et al. (2023), arXiv 2302.04552; Hazan, Agarwal & Kale (2007), Algorithm 2.
    """
    if not isinstance(domain, Ball):
        raise TypeError(f"domain must be a Ball for online Newton, got {type(domain).__name__}")
    alpha = check_positive("alpha", alpha)
    G = check_positive("G", G)
    delta = check_positive("delta", delta)
    if not isinstance(optimistic, bool | np.bool_):
        raise TypeError(f"optimistic must be a bool, got {type(optimistic).__name__}")
    optimistic = bool(optimistic)
    radius, dim = float(domain.radius), domain.dim
    beta = 0.5 * min(1.0 / (4.0 * G * domain.diameter), alpha)

    def init(x1: np.ndarray | None = None) -> NewtonState:
        x_hat = domain.center if x1 is None else domain.check_point("x1", x1)
        z = np.zeros(dim)
        # M_1 = 0, so x_1 = Π^{U_1}(x̂_1) = x̂_1
        return NewtonState(1, x_hat.copy(), x_hat, z, math.nan, delta * np.eye(dim))

    def update(g: np.ndarray, state: NewtonState) -> NewtonState:
        g = check_vector("g", g, dim)
        v = g - state.hint
        U = state.U + (0.5 * beta) * np.outer(v, v)
        lam, Q = _eig(U)
        x_hat = _project_eig(state.x_hat - Q @ ((Q.T @ g) / lam), lam, Q, radius)
        if optimistic:
            m = g
            x = _project_eig(x_hat - Q @ ((Q.T @ m) / lam), lam, Q, radius)
        else:
            m = np.zeros(dim)
            x = x_hat.copy()
        return NewtonState(state.t + 1, x, x_hat, m, math.nan, U)

    name = "optimistic ONS" if optimistic else "ONS"
    return OnlineMethod(name, init, update, domain, "python",
                        (alpha, G, delta, beta, float(optimistic)), "newton")
