r"""Step-size rules of the OMD family, each a function of the round t and the past variation only.

Every rule uses only information available before x_t is played (the round t and
:math:`V_{t-1} = \sum_{s<t} \|g_s - M_s\|^2`) and is non-increasing in t, as the analysis of
optimistic OMD requires (``theory.omd``, claims 1-2).

======================  ===========================================  ===============================
rule                    :math:`\eta_t`                                 source
======================  ===========================================  ===============================
``constant(eta)``       :math:`\eta`                                   --
``ogd_sqrt(D, G)``      :math:`D/(G\sqrt t)`                           Zinkevich (2003)
``ogd_inv_t(lam)``      :math:`1/(\lambda t)`                          Hazan et al. (2007)
``convex_adaptive``     :math:`D/\sqrt{\delta + 4G^2 + V_{t-1}}`        Chen et al. (2023), as restated
                                                                       by Wang et al. (2025)
``strongly_convex``     :math:`2/(\lambda t)`                          reconstructed, ``theory.omd``
======================  ===========================================  ===============================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba

from solvers._checks import check_positive

__all__ = [
    "StepRule",
    "constant",
    "convex_adaptive",
    "ogd_inv_t",
    "ogd_sqrt",
    "step_size",
    "strongly_convex",
]

_CODES = {"constant": 0, "ogd_sqrt": 1, "ogd_inv_t": 2, "convex_adaptive": 3, "strongly_convex": 4}


@dataclass(frozen=True)
class StepRule:
    """A step-size schedule: a name and up to three parameters (see the module table)."""

    kind: str
    p0: float
    p1: float = 0.0
    p2: float = 0.0

    @property
    def code(self) -> int:
        """Integer code for the numba kernels."""
        return _CODES[self.kind]

    def __call__(self, t: int, v_prev: float = 0.0) -> float:
        """:math:`\\eta_t` for round ``t`` (1-based) after past variation ``v_prev``."""
        return step_formula(self.code, self.p0, self.p1, self.p2, t, v_prev)


def step_formula(code: int, p0: float, p1: float, p2: float, t: int, v_prev: float) -> float:
    """The step size of rule ``code`` at round ``t``; shared by the numpy and numba paths."""
    if code == 0:
        return p0
    if code == 1:
        return p0 / (p1 * math.sqrt(t))
    if code == 2:
        return 1.0 / (p0 * t)
    if code == 3:
        return p0 / math.sqrt(p2 + 4.0 * p1 * p1 + v_prev)
    return 2.0 / (p0 * t)


step_formula_jit = numba.njit(cache=True)(step_formula)


def step_size(rule: StepRule, t: int, v_prev: float = 0.0) -> float:
    """:math:`\\eta_t` of ``rule`` at round ``t`` (1-based) given :math:`V_{t-1}`."""
    return rule(t, v_prev)


def constant(eta: float) -> StepRule:
    """Constant step :math:`\\eta_t = \\eta`."""
    return StepRule("constant", check_positive("eta", eta))


def ogd_sqrt(D: float, G: float) -> StepRule:
    """OGD step :math:`D/(G\\sqrt t)` for convex losses (regret <= 3GD√T/2)."""
    return StepRule("ogd_sqrt", check_positive("D", D), check_positive("G", G))


def ogd_inv_t(lam: float) -> StepRule:
    """OGD step :math:`1/(\\lambda t)` for λ-strongly convex losses (regret <= G²(1+ln T)/(2λ))."""
    return StepRule("ogd_inv_t", check_positive("lam", lam))


def convex_adaptive(D: float, G: float, delta: float = 1.0) -> StepRule:
    """Adaptive convex step :math:`D/\\sqrt{\\delta + 4G^2 + V_{t-1}}` of optimistic OMD."""
    return StepRule(
        "convex_adaptive", check_positive("D", D), check_positive("G", G),
        check_positive("delta", delta),
    )


def strongly_convex(lam: float) -> StepRule:
    """Optimistic step :math:`2/(\\lambda t)` for λ-strongly convex expected losses."""
    return StepRule("strongly_convex", check_positive("lam", lam))
