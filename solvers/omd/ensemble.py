r"""A Sword++-style ensemble for dynamic regret: optimistic OGD experts under an optimistic Hedge.

The comparator sequence :math:`u_1, \dots, u_T` of dynamic regret is unknown, and so is the best
constant step of optimistic OGD, which depends on the path length :math:`P_T = \sum_t \|u_t -
u_{t-1}\|`. Sword++ (Zhao et al., 2021) runs N optimistic OGD learners with steps on a geometric
grid and combines them with an optimistic Hedge meta-learner; it queries one gradient per round, at
the played point, and feeds the same linearised loss to every learner.

Base learners (vectorised, arrays of shape (N, d)), for :math:`i = 0, \dots, N-1`:

.. math::

    x_{t,i} = \Pi(\hat x_{t,i} - \eta_i M_t),\qquad \hat x_{t+1,i} = \Pi(\hat x_{t,i} - \eta_i g_t),
    \qquad M_t = g_{t-1},\ M_1 = 0,\ \hat x_{1,i} = x_1,

where :math:`g_t = \nabla f_t(x_t)` is the gradient at the *played* point and Π the projection on
the ball.

Step grid: :math:`\eta_i = \eta_{\min} 2^i` with :math:`\eta_{\min} = D/(G\sqrt T)` (the OGD
step of a static comparator over T rounds) and, by default, :math:`N = 1 + \lceil \log_2 \sqrt
T\rceil`, so the largest step :math:`\eta_{N-1} \in [D/G, 2D/G)`. Optimistic OGD with a constant
step η has dynamic regret :math:`O((D^2 + DP_T)/\eta + \eta(G^2 + V_T))` against a path of length
:math:`P_T` with gradient variation :math:`V_T`, tuned at :math:`\eta^* \approx \sqrt{(D^2 +
2DP_T)/(2G^2 + 2V_T)}` (Zhao et al., after Lemma 1). Whenever
:math:`\eta^* \in [\eta_{\min}, D/G]` the grid holds a step within a factor 2 of it; outside, the
nearest end of the grid is the best learner.

Meta-learner: optimistic Hedge in FTRL form over the learners, on the linearised losses and
optimism

.. math::

    \ell_{t,i} = \langle g_t, x_{t,i}\rangle,\qquad m_{t,i} = \langle M_t, x_{t,i}\rangle,\qquad
    p_{t,i} \propto \exp\Big(-\varepsilon_t\Big(\sum_{s<t}\ell_{s,i} + m_{t,i}\Big)\Big),

played point :math:`x_t = \sum_i p_{t,i} x_{t,i}` (in the ball by convexity), and the
self-confident step

.. math::

    \varepsilon_t = \sqrt{\frac{\ln N}{(GD)^2 + \sum_{s<t}\|\ell_s - m_s\|_\infty^2}}.

Since :math:`|\ell_{t,i} - m_{t,i}| = |\langle g_t - M_t, x_{t,i}\rangle| \le R\|g_t - M_t\|
\le GD`, the floor :math:`(GD)^2` is the squared range of one round, so
:math:`\varepsilon_t \|\ell_t - m_t\|_\infty \le \sqrt{\ln N}`. The FTRL form is used because
:math:`\varepsilon_t` varies (as for :func:`solvers.omd.first_order.optimistic_hedge`), and its
regret against every fixed learner is
:math:`O(\sqrt{\ln N\,((GD)^2 + \sum_t \|\ell_t - m_t\|_\infty^2)})`, a gradient-variation bound.

Differences from Sword++ (documented, deliberate): Sword++ adds the switching cost
:math:`\lambda\|x_{t,i} - x_{t-1,i}\|^2` (λ = 2L, L the smoothness) to both :math:`\ell_{t,i}` and
:math:`m_{t,i}` and caps :math:`\varepsilon_t \le 1/(8D^2L)`, which lets the negative stability
terms of the base learners cancel the meta-learner's switching and gives its
:math:`O(\sqrt{(1 + P_T + V_T)(1 + P_T)})` bound (claim 10) with :math:`V_T` the gradient variation.
This API takes no smoothness constant, so neither term is used; the bound of claim 10 is then not
proved for this ensemble and the tests check its behaviour empirically. There is no correction term
and the prior over learners is uniform.

References
----------
P. Zhao, Y.-J. Zhang, L. Zhang, Z.-H. Zhou, "Adaptivity and Non-stationarity: Problem-dependent
Dynamic Regret for Online Convex Optimization", arXiv 2112.14368 (JMLR 2024), Sword++.
L. Zhang, S. Lu, Z.-H. Zhou, "Adaptive Online Learning in Dynamic Environments", NeurIPS 2018
(Ader, the geometric step grid).
A. Rakhlin, K. Sridharan, "Online Learning with Predictable Sequences", COLT 2013 (optimistic
Hedge).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from solvers._checks import check_horizon, check_positive, check_vector
from solvers.omd.domains import Ball
from solvers.omd.first_order import OnlineMethod

__all__ = ["SwordState", "step_grid", "sword_pp"]


class SwordState(NamedTuple):
    """State of the ensemble at round t (1-based); N learners in dimension d."""

    t: int
    x: np.ndarray           # x_t = Σ_i p_{t,i} x_{t,i}, the point to play, shape (d,)
    hint: np.ndarray        # M_t = g_{t-1}, shape (d,)
    eta: float              # ε_t, the meta-learner's step
    weights: np.ndarray     # p_t on the simplex, shape (N,)
    base_x: np.ndarray      # x_{t,i}, shape (N, d)
    base_x_hat: np.ndarray  # x̂_{t,i}, shape (N, d)
    cum_loss: np.ndarray    # Σ_{s<t} ℓ_{s,i}, shape (N,)
    v: float                # Σ_{s<t} ‖ℓ_s − m_s‖²_∞


def step_grid(D: float, G: float, T: int, n_learners: int | None = None) -> np.ndarray:
    r"""The base learners' steps :math:`\eta_i = \frac{D}{G\sqrt T}2^i`, i = 0..N-1.

    Parameters
    ----------
    D, G
        Diameter of the domain and gradient bound (both > 0).
    T
        Horizon (>= 1).
    n_learners
        N; default :math:`1 + \lceil \log_2\sqrt T\rceil`, the smallest N with
        :math:`\eta_{N-1} \ge D/G`.

    Returns
    -------
    numpy.ndarray
        The N steps, increasing.
    """
    D = check_positive("D", D)
    G = check_positive("G", G)
    T = check_horizon(T)
    if n_learners is None:
        n = 1 + math.ceil(0.5 * math.log2(T))
    else:
        if isinstance(n_learners, bool) or not isinstance(n_learners, int | np.integer):
            raise TypeError(f"n_learners must be an integer, got {type(n_learners).__name__}")
        if n_learners < 1:
            raise ValueError(f"n_learners must be >= 1, got {n_learners}")
        n = int(n_learners)
    return D / (G * math.sqrt(T)) * 2.0 ** np.arange(n)


def _softmin(z: np.ndarray) -> np.ndarray:
    w = np.exp(-(z - z.min()))  # shift by the minimum so the largest exponent is 0
    return w / w.sum()


def sword_pp(domain: Ball, *, G: float, T: int, n_learners: int | None = None) -> OnlineMethod:
    r"""Sword++-style ensemble of optimistic OGD learners for dynamic regret on a centred ball.

    Parameters
    ----------
    domain
        The ball :math:`B(R)`, :math:`D = 2R`.
    G
        Gradient bound :math:`\|\nabla f_t\| \le G` on the ball.
    T
        Horizon, used only by the step grid (:func:`step_grid`).
    n_learners
        Number N of base learners (default :math:`1 + \lceil\log_2\sqrt T\rceil`).

    Returns
    -------
    OnlineMethod
        ``kernel="python"``; states are :class:`SwordState` (no ``x_hat``: the base learners' x̂
        are in ``base_x_hat``); ``eta`` is the meta step :math:`\varepsilon_t`; ``params`` holds
        the step grid.

    Notes
    -----
    The update is written out in the module docstring. One round costs O(Nd) numpy work with no
    Python loop over the learners. With N = 1 the method is optimistic OGD with the constant step
    :math:`D/(G\sqrt T)`.

    References
    ----------
    Zhao, Zhang, Zhang & Zhou (2021), arXiv 2112.14368 (Sword++).
    """
    if not isinstance(domain, Ball):
        raise TypeError(f"domain must be a Ball for the ensemble, got {type(domain).__name__}")
    G = check_positive("G", G)
    T = check_horizon(T)
    etas = step_grid(domain.diameter, G, T, n_learners)
    n, dim = etas.shape[0], domain.dim
    log_n = math.log(n)
    floor = (G * domain.diameter) ** 2
    steps = etas[:, None]

    def meta_step(v: float) -> float:
        return math.sqrt(log_n / (floor + v))

    def init(x1: np.ndarray | None = None) -> SwordState:
        start = domain.center if x1 is None else domain.check_point("x1", x1)
        base = np.tile(start, (n, 1))
        p = np.full(n, 1.0 / n)
        return SwordState(1, start.copy(), np.zeros(dim), meta_step(0.0), p, base, base.copy(),
                          np.zeros(n), 0.0)

    def update(g: np.ndarray, state: SwordState) -> SwordState:
        g = check_vector("g", g, dim)
        base_x = state.base_x
        # ℓ_t − m_t = ⟨g_t − M_t, x_{t,i}⟩
        v = state.v + float(np.max(np.abs(base_x @ (g - state.hint)))) ** 2
        cum_loss = state.cum_loss + base_x @ g
        base_x_hat = domain.project(state.base_x_hat - steps * g)
        base_x_next = domain.project(base_x_hat - steps * g)  # M_{t+1} = g_t
        eps = meta_step(v)
        p = _softmin(eps * (cum_loss + base_x_next @ g))
        x = domain.project(p @ base_x_next)
        return SwordState(state.t + 1, x, g, eps, p, base_x_next, base_x_hat, cum_loss, v)

    return OnlineMethod("Sword++", init, update, domain, "python", tuple(float(e) for e in etas), "sword",
                        (G,))
