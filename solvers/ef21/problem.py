r"""The distributed problem that the EF21 family solves: what a concrete problem must provide.

.. math::

    \min_{x\in\mathbb R^d} f(x) = \frac1n\sum_{i=1}^n f_i(x),

with :math:`f_i` :math:`L_i`-smooth, :math:`f` L-smooth and :math:`f \ge f^{\inf} > -\infty`
(spec ``ef21.md`` §2). Concrete problems (logistic regression with a non-convex regulariser, least
squares) live in ``sims.ef21.problems``; the solvers only use this protocol.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21", NeurIPS 2021, arXiv 2106.05203, §2 (assumptions).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Problem"]


@runtime_checkable
class Problem(Protocol):
    """A finite-sum problem split over ``n_clients`` clients.

    Attributes
    ----------
    n_clients
        n, the number of clients.
    dim
        d, the dimension of x.
    smoothness
        (n,) the smoothness constants L_i of the f_i (true upper bounds, all > 0).
    L
        The smoothness constant of f (L ≤ mean(L_i)).
    f_low
        A valid lower bound on inf f (e.g. 0 for a non-negative loss), used in place of f^inf.
    """

    n_clients: int
    dim: int
    smoothness: np.ndarray
    L: float
    f_low: float

    def client_grads(self, x: Any) -> Any:
        """All client gradients at once: the (n, d) array with rows ∇f_i(x) (numpy, or CuPy for CuPy x)."""
        ...

    def loss(self, x: Any) -> float:
        """f(x) = (1/n)Σ_i f_i(x)."""
        ...

    def grad(self, x: Any) -> Any:
        """∇f(x) = (1/n)Σ_i ∇f_i(x), shape (d,)."""
        ...
