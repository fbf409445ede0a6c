r"""The two losses of the convex ReLU program, as sums (spec §2), on numpy or CuPy arrays.

- squared: ℓ(ŷ, y) = ½‖ŷ − y‖², gradient ŷ − y;
- hinge: ℓ(ŷ, y) = Σ_k (1 − y_k ŷ_k)_+, subgradient −y_k·1[y_k ŷ_k < 1] (the choice 0 at the kink).
"""

from __future__ import annotations

from typing import Any

from solvers._xp import array_namespace
from solvers.convex_relu._validate import check_loss

__all__ = ["LOSSES", "loss_grad", "loss_value"]

LOSSES = ("squared", "hinge")


def loss_value(yhat: Any, y: Any, loss: str = "squared") -> float:
    r"""ℓ(ŷ, y) as a float: ½‖ŷ − y‖² (``"squared"``) or Σ_k (1 − y_kŷ_k)_+ (``"hinge"``)."""
    loss = check_loss(loss)
    xp = array_namespace(yhat, y)
    if loss == "squared":
        r = yhat - y
        return 0.5 * float(xp.dot(r, r))
    return float(xp.sum(xp.maximum(0.0, 1.0 - y * yhat)))


def loss_grad(yhat: Any, y: Any, loss: str = "squared") -> Any:
    r"""∇_ŷ ℓ: ŷ − y (``"squared"``), or the hinge subgradient −y·1[yŷ < 1] (``"hinge"``)."""
    loss = check_loss(loss)
    xp = array_namespace(yhat, y)
    if loss == "squared":
        return yhat - y
    return xp.where(y * yhat < 1.0, -y, 0.0 * y)
