r"""First-order online methods as ``init``/``update`` pairs: OGD, optimistic OMD, OFTRL, OFTL, Hedge.

Each constructor returns an :class:`OnlineMethod` whose ``init(x1)`` gives the state of round 1 (its
``x`` is the first point to play) and whose ``update(g, state)`` consumes the gradient observed at
``state.x`` and returns the state of the next round. States are NamedTuples of arrays and floats.

Optimistic OMD (Chen et al., 2023, Alg. 1) with hint :math:`M_t` and mirror map :math:`\psi`:

.. math::

    x_t = \arg\min_X \eta_t\langle M_t, x\rangle + B_\psi(x, \hat x_t), \qquad
    \hat x_{t+1} = \arg\min_X \eta_t\langle g_t, x\rangle + B_\psi(x, \hat x_t),

with :math:`M_t = g_{t-1}` (``optimistic=True``, :math:`M_1 = 0`) or :math:`M_t = 0` (plain OGD). On the
ball both steps are projections: :math:`x_t = \Pi(\hat x_t - \eta_t M_t)`.

References
----------
S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang, "Optimistic Online Mirror Descent for Bridging
Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024, arXiv 2302.04552.
S. Sachs, H. Hadiji, T. van Erven, C. Guzmán, "Between Stochastic and Adversarial Online Convex
Optimization: Improved Regret Bounds via Smoothness", NeurIPS 2022, arXiv 2202.07554.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from solvers._checks import check_positive, check_vector
from solvers.omd.domains import Ball, Simplex
from solvers.omd.steps import StepRule

__all__ = [
    "EuclidState",
    "FTRLState",
    "HedgeState",
    "OnlineMethod",
    "entropic_omd",
    "oftl",
    "oftrl",
    "ogd",
    "optimistic_hedge",
    "optimistic_omd",
]


class OnlineMethod(NamedTuple):
    """An online method as a pair of pure functions, plus what the fused kernels need to run it.

    ``kernel`` names the numba kernel (``"python"``: none, the ``init``/``update`` loop runs it);
    ``family`` names the vectorised array-namespace implementation of :mod:`solvers.omd.batched`
    (``"euclid"``, ``"oftrl"``, ``"oftl"``, ``"hedge"``, ``"entropic"``, ``"newton"``, ``"sword"``;
    empty for a user-defined method, which then has no batched or CuPy path); ``consts`` holds what
    that implementation needs beyond ``params`` (Sword++: the gradient bound G).
    """

    name: str
    init: Callable[..., Any]
    update: Callable[..., Any]
    domain: Ball | Simplex
    kernel: str
    params: tuple[float, ...]
    family: str = ""
    consts: tuple[float, ...] = ()


class EuclidState(NamedTuple):
    """State of (optimistic) OMD on the ball at round t (1-based)."""

    t: int
    x: np.ndarray       # x_t, the point to play
    x_hat: np.ndarray   # x̂_t
    hint: np.ndarray    # M_t, used to form x_t
    eta: float          # η_t
    v: float            # V_{t-1} = Σ_{s<t} ‖g_s − M_s‖²


class FTRLState(NamedTuple):
    """State of OFTRL / OFTL at round t (1-based)."""

    t: int
    x: np.ndarray       # x_t
    grad_sum: np.ndarray  # Σ_{s<t} g_s
    hint: np.ndarray    # M_t
    eta: float          # η_t (OFTRL) or μ(t−1) (OFTL)
    acc: float          # OFTRL: Σ_{s<t} η_s‖g_s − M_s‖²; OFTL: unused
    x_sum: np.ndarray   # OFTL: Σ_{s<t} x_s; OFTRL: unused


class HedgeState(NamedTuple):
    """State of entropic OMD / optimistic Hedge on the simplex at round t."""

    t: int
    x: np.ndarray       # x_t
    grad_sum: np.ndarray  # Σ_{s<t} g_s
    hint: np.ndarray    # M_t
    eta: float          # η_t
    v: float            # Σ_{s<t} ‖g_s − M_s‖²_∞


def _check_grad(g: np.ndarray, dim: int) -> np.ndarray:
    return check_vector("g", g, dim)


def optimistic_omd(domain: Ball, step: StepRule, *, optimistic: bool = True) -> OnlineMethod:
    r"""Euclidean optimistic OMD on a ball (OGD when ``optimistic=False``).

    Parameters
    ----------
    domain
        The ball :math:`B(R)`.
    step
        A rule from :mod:`solvers.omd.steps`; :math:`\eta_t` may use only t and :math:`V_{t-1}`.
    optimistic
        Hint :math:`M_t = g_{t-1}` if true, :math:`M_t = 0` otherwise.

    Notes
    -----
    ``update(g, state, hint=None)`` accepts an explicit next hint :math:`M_{t+1}` (e.g. the oracle
    hint :math:`g_{t+1}` in tests of claim 1); by default the rule above applies.
    """
    if not isinstance(domain, Ball):
        raise TypeError(f"domain must be a Ball for Euclidean OMD, got {type(domain).__name__}")
    if not isinstance(step, StepRule):
        raise TypeError(f"step must be a StepRule, got {type(step).__name__}")

    def init(x1: np.ndarray | None = None, hint: np.ndarray | None = None) -> EuclidState:
        x_hat = domain.center if x1 is None else domain.check_point("x1", x1)
        m = np.zeros(domain.dim) if hint is None else check_vector("hint", hint, domain.dim)
        eta = step(1, 0.0)
        return EuclidState(1, domain.project(x_hat - eta * m), x_hat, m, eta, 0.0)

    def update(g: np.ndarray, state: EuclidState, hint: np.ndarray | None = None) -> EuclidState:
        g = _check_grad(g, domain.dim)
        x_hat = domain.project(state.x_hat - state.eta * g)
        diff = g - state.hint
        v = state.v + float(diff @ diff)
        if hint is not None:
            m = check_vector("hint", hint, domain.dim)
        else:
            m = g if optimistic else np.zeros(domain.dim)
        t = state.t + 1
        eta = step(t, v)
        return EuclidState(t, domain.project(x_hat - eta * m), x_hat, m, eta, v)

    name = "optimistic OMD" if optimistic else "OGD"
    params = (float(step.code), step.p0, step.p1, step.p2, float(optimistic))
    return OnlineMethod(name, init, update, domain, "euclid", params, "euclid")


def ogd(domain: Ball, step: StepRule) -> OnlineMethod:
    r"""Online gradient descent :math:`x_{t+1} = \Pi(x_t - \eta_t g_t)` (optimistic OMD with M ≡ 0)."""
    return optimistic_omd(domain, step, optimistic=False)


def oftrl(domain: Ball, nu: float) -> OnlineMethod:
    r"""Optimistic FTRL of Sachs et al. (2022) with the adaptive regulariser :math:`\|x\|^2/\eta_t`.

    .. math::

        x_t = \arg\min_{\|x\|\le R} \Big\langle \sum_{s<t} g_s + M_t, x\Big\rangle + \frac{\|x\|^2}{\eta_t}
            = \Pi\big(-\tfrac{\eta_t}{2}(\textstyle\sum_{s<t} g_s + M_t)\big),
        \qquad \eta_t = \frac{D^2}{\nu + \sum_{s<t}\eta_s\|g_s - M_s\|^2},

    with :math:`M_t = g_{t-1}`. The bounds of Sachs et al. (Thm 5, eq. 11) hold for every ν > 0.
    """
    if not isinstance(domain, Ball):
        raise TypeError(f"domain must be a Ball for OFTRL, got {type(domain).__name__}")
    nu = check_positive("nu", nu)
    d2 = domain.diameter**2

    def init(x1: np.ndarray | None = None) -> FTRLState:
        if x1 is not None and np.any(domain.check_point("x1", x1) != 0):
            raise ValueError("x1 must be the centre of the ball for OFTRL (its first iterate)")
        z = np.zeros(domain.dim)
        return FTRLState(1, z, z, z, d2 / nu, 0.0, z)

    def update(g: np.ndarray, state: FTRLState) -> FTRLState:
        g = _check_grad(g, domain.dim)
        diff = g - state.hint
        acc = state.acc + state.eta * float(diff @ diff)
        grad_sum = state.grad_sum + g
        eta = d2 / (nu + acc)
        x = domain.project(-0.5 * eta * (grad_sum + g))
        return FTRLState(state.t + 1, x, grad_sum, g, eta, acc, state.x_sum)

    return OnlineMethod("OFTRL", init, update, domain, "oftrl", (nu,), "oftrl")


def oftl(domain: Ball, mu: float) -> OnlineMethod:
    r"""Optimistic FTL on strongly convex surrogates (Sachs et al., 2022, Thm 7).

    With :math:`\ell_s(x) = \langle g_s, x - x_s\rangle + \tfrac{\mu}{2}\|x - x_s\|^2` and
    :math:`M_t = g_{t-1}`, the minimiser over the ball of :math:`\sum_{s<t}\ell_s + \langle M_t,
    x\rangle` is the projection of the unconstrained one, because the objective is isotropic:

    .. math:: x_t = \Pi\Big(\bar x_{<t} - \frac{\sum_{s<t} g_s + M_t}{\mu (t-1)}\Big),\quad t\ge2,

    and :math:`x_1` is the centre.
    """
    if not isinstance(domain, Ball):
        raise TypeError(f"domain must be a Ball for OFTL, got {type(domain).__name__}")
    mu = check_positive("mu", mu)

    def init(x1: np.ndarray | None = None) -> FTRLState:
        x = domain.center if x1 is None else domain.check_point("x1", x1)
        z = np.zeros(domain.dim)
        return FTRLState(1, x, z, z, 0.0, 0.0, z)

    def update(g: np.ndarray, state: FTRLState) -> FTRLState:
        g = _check_grad(g, domain.dim)
        grad_sum = state.grad_sum + g
        x_sum = state.x_sum + state.x
        t = state.t + 1
        weight = mu * (t - 1)
        x = domain.project(x_sum / (t - 1) - (grad_sum + g) / weight)
        return FTRLState(t, x, grad_sum, g, weight, 0.0, x_sum)

    return OnlineMethod("OFTL", init, update, domain, "oftl", (mu,), "oftl")


def _softmin(z: np.ndarray) -> np.ndarray:
    w = np.exp(-(z - z.min()))  # shift by the minimum so the largest exponent is 0
    return w / w.sum()


def optimistic_hedge(domain: Simplex, *, delta: float = 1.0, eta: float | None = None,
                     optimistic: bool = True) -> OnlineMethod:
    r"""Optimistic Hedge in FTRL form on the simplex (entropic optimistic OMD).

    .. math::

        x_t \propto \exp\big(-\eta_t(\textstyle\sum_{s<t} g_s + M_t)\big),\qquad
        \eta_t = \sqrt{\frac{\ln d}{\delta + \sum_{s<t}\|g_s - M_s\|_\infty^2}}
        \ \text{(reconstructed, see spec omd.md §3)},

    or a constant ``eta``. The FTRL form is used because the KL "diameter" is unbounded, which
    breaks the mirror-descent telescoping when :math:`\eta_t` varies.
    """
    if not isinstance(domain, Simplex):
        raise TypeError(f"domain must be a Simplex for Hedge, got {type(domain).__name__}")
    delta = check_positive("delta", delta)
    fixed = None if eta is None else check_positive("eta", eta)

    def step(v: float) -> float:
        return fixed if fixed is not None else float(np.sqrt(domain.log_dim / (delta + v)))

    def init(x1: np.ndarray | None = None) -> HedgeState:
        if x1 is not None:
            domain.check_point("x1", x1)
            if not np.allclose(x1, domain.center):
                raise ValueError("x1 must be the uniform distribution for FTRL-form Hedge")
        z = np.zeros(domain.dim)
        return HedgeState(1, domain.center, z, z, step(0.0), 0.0)

    def update(g: np.ndarray, state: HedgeState) -> HedgeState:
        g = _check_grad(g, domain.dim)
        v = state.v + float(np.max(np.abs(g - state.hint)) ** 2)
        grad_sum = state.grad_sum + g
        m = g if optimistic else np.zeros(domain.dim)
        eta_next = step(v)
        x = _softmin(eta_next * (grad_sum + m))
        return HedgeState(state.t + 1, x, grad_sum, m, eta_next, v)

    params = (delta, -1.0 if fixed is None else fixed, float(optimistic))
    name = "optimistic Hedge" if optimistic else "Hedge"
    return OnlineMethod(name, init, update, domain, "hedge", params, "hedge")


def entropic_omd(domain: Simplex, eta: float) -> OnlineMethod:
    r"""Entropic mirror descent :math:`x_{t+1} \propto x_t \odot \exp(-\eta g_t)` with a constant step.

    With a constant step it coincides with Hedge in FTRL form (``optimistic_hedge(..., eta=eta,
    optimistic=False)``), an identity checked in the tests.
    """
    if not isinstance(domain, Simplex):
        raise TypeError(f"domain must be a Simplex, got {type(domain).__name__}")
    eta = check_positive("eta", eta)

    def init(x1: np.ndarray | None = None) -> HedgeState:
        x = domain.center if x1 is None else domain.check_point("x1", x1)
        z = np.zeros(domain.dim)
        return HedgeState(1, x, z, z, eta, 0.0)

    def update(g: np.ndarray, state: HedgeState) -> HedgeState:
        g = _check_grad(g, domain.dim)
        with np.errstate(divide="ignore"):  # a weight that underflowed to 0 stays 0
            x = _softmin(eta * g - np.log(state.x))
        return HedgeState(state.t + 1, x, state.grad_sum + g, state.hint, eta, state.v)

    return OnlineMethod("entropic OMD", init, update, domain, "python", (eta,), "entropic")
