r"""The auxiliary load-balancing loss of MoE training, with its gradient on the router logits.

For a micro-batch of m tokens with router logits z ∈ R^{m×E}, s' = softmax(z) row-wise and the chosen
experts S_j (top-K):

    f_i = #{j : i ∈ S_j} / (K·m)   (Σ_i f_i = 1),     P_i = (1/m) Σ_j s'_ji,
    L_bal = α·E·Σ_i f_i P_i,                           L_bal = α at uniform routing.

The counts f are not differentiable and are held constant, so

    ∂L_bal/∂z_ji = (α·E/m)·s'_ji·(f_i − Σ_k f_k s'_jk).

*Micro-batch* counting computes f and P per micro-batch and averages the losses; *global-batch* counting
(Qiu et al. 2025) counts f over all micro-batches (and data-parallel groups) and keeps P local, which
loosens the constraint within a micro-batch and lets experts specialise by domain.

The same code runs on numpy and CuPy arrays.

References
----------
W. Fedus, B. Zoph, N. Shazeer, "Switch Transformers", JMLR 2022, eq. (4); Z. Qiu et al., "Demons in
the Detail: On Implementing Load Balancing Loss for Training Specialized Mixture-of-Expert Models",
arXiv 2501.11873; L. Wang et al., arXiv 2408.15664 (the baseline ALF-LB replaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from solvers._xp import array_namespace
from solvers.alf_lb._validate import check_positive, check_scores

__all__ = ["AuxLoss", "aux_balance_loss", "softmax"]


@dataclass(frozen=True)
class AuxLoss:
    """Value and gradient of the auxiliary loss, with the per-group f and P it used.

    Attributes
    ----------
    value
        L_bal (mean over micro-batches).
    grad
        (m, E) ∂L_bal/∂z.
    f
        (G, E) load fractions used for each micro-batch (identical rows under global counting).
    P
        (G, E) mean router probabilities of each micro-batch.
    """

    value: float
    grad: np.ndarray
    f: np.ndarray
    P: np.ndarray


def softmax(z, axis: int = -1):
    """Row-wise softmax, stabilised by the row maximum (numpy or CuPy)."""
    xp = array_namespace(z)
    e = xp.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def aux_balance_loss(logits, experts, alpha: float, *, groups=None,
                     counting: Literal["micro", "global"] = "micro") -> AuxLoss:
    r"""L_bal = α·E·Σ_i f_i P_i per micro-batch, averaged; and ∂L_bal/∂z.

    Parameters
    ----------
    logits
        (m, E) router logits z (s' = softmax(z)).
    experts
        (m, K) chosen experts of each token (e.g. ``route(...).experts``).
    alpha
        α > 0.
    groups
        (m,) micro-batch index of each token, 0..G−1 (None: one micro-batch).
    counting
        ``"micro"``: f per micro-batch; ``"global"``: f over all tokens, P per micro-batch.

    Returns
    -------
    AuxLoss
    """
    logits = check_scores(logits, "logits")
    xp = array_namespace(logits)
    m, E = logits.shape
    experts = xp.asarray(experts)
    if experts.ndim != 2 or experts.shape[0] != m:
        raise ValueError(f"experts must have shape ({m}, K), got {experts.shape}")
    if experts.dtype.kind not in "iu":
        raise TypeError(f"experts must be integer expert indices, got dtype {experts.dtype}")
    if experts.size and (int(experts.min()) < 0 or int(experts.max()) >= E):
        raise ValueError(f"experts must hold expert indices in 0..{E - 1}")
    ordered = xp.sort(experts, axis=1)
    if bool(xp.any(ordered[:, 1:] == ordered[:, :-1])):
        raise ValueError("experts must list K distinct experts per token (a repeated expert in a row)")
    K = experts.shape[1]
    alpha = check_positive("alpha", alpha)
    if counting not in ("micro", "global"):
        raise ValueError(f"counting must be 'micro' or 'global', got {counting!r}")
    if groups is None:
        groups = xp.zeros(m, dtype=xp.int64)
    groups = xp.asarray(groups)
    if groups.shape != (m,) or groups.dtype.kind not in "iu" or (m and int(groups.min()) < 0):
        raise ValueError(f"groups must be non-negative integers of shape ({m},)")
    G = int(groups.max()) + 1
    sizes = xp.bincount(groups, minlength=G).astype(float)
    if bool(xp.any(sizes == 0)):
        raise ValueError("groups must number the micro-batches 0..G−1 with none empty")
    probs = softmax(logits)
    member = (groups[:, None] == xp.arange(G)[None, :]).astype(float)  # (m, G) one-hot micro-batch
    chosen = xp.zeros((m, E))
    chosen[xp.arange(m)[:, None], experts] = 1.0
    P = (member.T @ probs) / sizes[:, None]
    counts = member.T @ chosen
    if counting == "micro":
        f = counts / (K * sizes[:, None])
    else:
        f = xp.broadcast_to(counts.sum(axis=0) / (K * m), (G, E)).copy()
    value = float(alpha * E * xp.mean(xp.sum(f * P, axis=1)))
    fj = f[groups]
    grad = (alpha * E / (G * sizes[groups]))[:, None] * probs * (fj - xp.sum(fj * probs, axis=1, keepdims=True))
    return AuxLoss(value, grad, f, P)
