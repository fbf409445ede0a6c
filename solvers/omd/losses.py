r"""Loss sequences of online convex optimisation, stored as arrays so a whole run fits one kernel.

Three families cover the SEA experiments:

- ``linear``:    :math:`f_t(x) = \langle a_t, x\rangle`, gradient :math:`a_t`;
- ``quadratic``: :math:`f_t(x) = \tfrac12\|x - a_t\|^2`, gradient :math:`x - a_t`;
- ``square``:    :math:`f_t(x) = \tfrac12(\langle a_t, x\rangle - b_t)^2`, gradient
  :math:`a_t(\langle a_t, x\rangle - b_t)` (online least squares).

The data are the realised losses; the environments in ``sims`` draw them from the round distributions
and keep the expected losses on the side. The arrays may be CuPy arrays: the sequence then lives on the
device and :func:`solvers.omd.run` plays it there (``backend="xp"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers._xp import array_namespace

__all__ = ["LOSS_CODES", "LossSequence"]

#: Integer code of each family, as the numba kernels see it.
LOSS_CODES: dict[str, int] = {"linear": 0, "quadratic": 1, "square": 2}


@dataclass(frozen=True)
class LossSequence:
    """A realised sequence of T losses of one family.

    Parameters
    ----------
    kind
        ``"linear"``, ``"quadratic"`` or ``"square"``.
    a
        Array of shape (T, d): the linear coefficients, the targets, or the regressors (numpy or CuPy).
    b
        Array of shape (T,): the responses of the ``square`` family; ignored (zeros) otherwise. Kept in
        the namespace of ``a``.
    """

    kind: str
    a: np.ndarray
    b: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in LOSS_CODES:
            raise ValueError(f"kind must be one of {sorted(LOSS_CODES)}, got {self.kind!r}")
        xp = array_namespace(self.a)
        a = xp.ascontiguousarray(xp.asarray(self.a, dtype=float))
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
            raise ValueError(f"a must have shape (T, d) with T, d >= 1, got {a.shape}")
        if not bool(xp.all(xp.isfinite(a))):
            raise ValueError("a must be finite")
        if self.kind == "square":
            if self.b is None:
                raise ValueError("b is required for the 'square' family")
            b = xp.ascontiguousarray(xp.asarray(self.b, dtype=float))
            if b.shape != (a.shape[0],) or not bool(xp.all(xp.isfinite(b))):
                raise ValueError(f"b must be a finite array of shape ({a.shape[0]},)")
        else:
            b = xp.zeros(a.shape[0])
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    @property
    def T(self) -> int:
        """Number of rounds."""
        return self.a.shape[0]

    @property
    def dim(self) -> int:
        """Dimension d."""
        return self.a.shape[1]

    @property
    def code(self) -> int:
        """Integer family code for the kernels."""
        return LOSS_CODES[self.kind]

    def grad(self, t: int, x: np.ndarray) -> np.ndarray:
        """Gradient of f_t at x (t is 0-based)."""
        a = self.a[t]
        if self.kind == "linear":
            return a.copy()
        if self.kind == "quadratic":
            return x - a
        return a * (a @ x - self.b[t])

    def values(self, x: np.ndarray) -> np.ndarray:
        """f_t(x_t) for every round, where ``x`` has shape (T, d) (one point per round)."""
        xp = array_namespace(self.a, x)
        if self.kind == "linear":
            return xp.einsum("td,td->t", self.a, x)
        if self.kind == "quadratic":
            return 0.5 * xp.sum((x - self.a) ** 2, axis=1)
        return 0.5 * (xp.einsum("td,td->t", self.a, x) - self.b) ** 2

    def prefix(self, T: int) -> LossSequence:
        """The first T losses."""
        return LossSequence(self.kind, self.a[:T], self.b[:T] if self.kind == "square" else None)
