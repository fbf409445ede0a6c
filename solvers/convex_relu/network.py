r"""Two-layer ReLU networks and the maps between them and the convex program C(𝒟) (spec §2, claims CR2, CR3).

- :class:`ReLUNetwork`: f(x) = Σ_j α_j (u_jᵀx)_+ with the non-convex objective
  L_nc(U, α) = ℓ(f(X), y) + (β/2) Σ_j (‖u_j‖² + α_j²);
- :func:`recover`: convex weights (V, W) → network (each nonzero v_i gives u = v_i/√‖v_i‖, α = √‖v_i‖;
  each nonzero w_i gives α = −√‖w_i‖). On v_i ∈ K_i, (Xu)_+ = D_iXu, so f(X) = Σ_i D_iX(v_i − w_i) and
  (β/2)(‖u‖² + α²) = β‖v_i‖: L_nc equals the convex objective (CR3);
- :func:`lift`: network → feasible convex point with convex objective ≤ L_nc (CR2);
- :func:`convex_predict`, :func:`convex_objective`, :func:`cone_violation`;
- :func:`restore_feasible`: an approximate point (ADMM's v) → an exactly feasible one, whose objective is
  then an upper bound on f*(𝒟) (spec §7).

References
----------
M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", ICML 2020, arXiv:2002.10553 (Theorem 1
and the recovery of §3).
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (§2; robust cones of §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers._checks import check_positive
from solvers._xp import array_namespace, to_numpy
from solvers.convex_relu._validate import (
    check_beta,
    check_data,
    check_eps,
    check_loss,
    check_patterns,
    check_weights,
)
from solvers.convex_relu.losses import loss_value
from solvers.convex_relu.patterns import Patterns

__all__ = ["ReLUNetwork", "cone_violation", "convex_objective", "convex_predict", "group_norms", "lift", "recover",
           "restore_feasible"]


def group_norms(V: Any) -> Any:
    """Row norms ‖v_i‖₂ of a (P, d) weight array."""
    xp = array_namespace(V)
    return xp.sqrt(xp.sum(V * V, axis=1))


@dataclass(frozen=True, eq=False)
class ReLUNetwork:
    """f(x) = Σ_j α_j (u_jᵀx)_+; the hidden bias is the last coordinate of u_j, there is no output bias.

    Attributes
    ----------
    U
        (m, d) hidden weights, row j = u_j.
    alpha
        (m,) output weights.
    """

    U: Any
    alpha: Any

    def __post_init__(self) -> None:
        if self.U.ndim != 2 or self.alpha.ndim != 1 or self.alpha.shape[0] != self.U.shape[0]:
            raise ValueError(f"network: U must be (m, d) and alpha (m,), got {self.U.shape} and {self.alpha.shape}")

    @property
    def width(self) -> int:
        """Number of hidden neurons m."""
        return int(self.U.shape[0])

    def forward(self, X: Any) -> Any:
        """f(X) = (XUᵀ)_+ α, shape (n,)."""
        xp = array_namespace(X, self.U)
        return xp.maximum(X @ self.U.T, 0.0) @ self.alpha

    def objective(self, X: Any, y: Any, beta: float, loss: str = "squared") -> float:
        r"""L_nc = ℓ(f(X), y) + (β/2) Σ_j (‖u_j‖² + α_j²)."""
        X, y = check_data(X, y, loss)
        beta = check_beta(beta)
        xp = array_namespace(X, self.U)
        reg = float(xp.sum(self.U * self.U)) + float(xp.dot(self.alpha, self.alpha))
        return loss_value(self.forward(X), y, loss) + 0.5 * beta * reg


def recover(V: Any, W: Any, tol: float = 0.0) -> ReLUNetwork:
    r"""The network of convex weights (V, W) (spec §2 Recovery).

    Neurons: u = v_i/√‖v_i‖, α = √‖v_i‖ for every kept v_i (first), then u = w_i/√‖w_i‖,
    α = −√‖w_i‖ for every kept w_i. A group is kept when its norm is > 0 and > tol·(largest norm of
    V and W together); ``tol = 1e-6`` is the threshold for interior-point solutions (spec §7).
    """
    tol = check_positive("tol", tol, allow_zero=True)
    xp = array_namespace(V, W)
    if V.ndim != 2 or V.shape != W.shape:
        raise ValueError(f"V and W must be (P, d) arrays of the same shape, got {V.shape} and {W.shape}")
    nv, nw = group_norms(V), group_norms(W)
    top = max(float(xp.max(nv)) if nv.shape[0] else 0.0, float(xp.max(nw)) if nw.shape[0] else 0.0)
    kv = (nv > 0) & (nv > tol * top)
    kw = (nw > 0) & (nw > tol * top)
    sv, sw = xp.sqrt(nv[kv]), xp.sqrt(nw[kw])
    U = xp.concatenate([V[kv] / sv[:, None], W[kw] / sw[:, None]], axis=0)
    return ReLUNetwork(U, xp.concatenate([sv, -sw]))


def lift(network: ReLUNetwork, X: Any, patterns: Patterns) -> tuple[Patterns, Any, Any]:
    r"""A feasible point of C(𝒟′) with convex objective ≤ L_nc(network) (claim CR2).

    Each neuron j with α_j ≠ 0 and u_j ≠ 0 goes, with value |α_j|·u_j, to the v-slot (α_j > 0) or the
    w-slot (α_j < 0) of its pattern D(u_j) = 1[Xu_j ≥ 0]; neurons with the same pattern and sign are
    summed. Why this lowers the objective: the predictions are unchanged, since
    α_j(Xu_j)_+ = α_j D(u_j)Xu_j; |α_j|u_j ∈ K_{D(u_j)} and cones are closed under sums, so the point is
    feasible; and β‖Σ_j |α_j|u_j‖ ≤ β Σ_j |α_j|‖u_j‖ ≤ (β/2) Σ_j (‖u_j‖² + α_j²) by the triangle
    inequality and AM–GM (the rescaling |α_j| = ‖u_j‖ of the spec, which leaves |α_j|u_j unchanged).

    Dead neurons (α_j = 0, u_j = 0, or Xu_j < 0 on every row: the all-zero pattern, which is not in
    𝒟_full) only add penalty and are dropped. Patterns D(u_j) not in ``patterns`` (exact column match)
    are appended, with generator u_j, in order of first appearance, so 𝒟′ ⊇ 𝒟 and 𝒟′ = 𝒟 when
    ``patterns`` is the full set.

    Returns
    -------
    (patterns_out, V, W)
        𝒟′ (``patterns`` followed by the new patterns) and (P′, d) weights.
    """
    if not isinstance(network, ReLUNetwork):
        raise TypeError(f"network must be a ReLUNetwork, got {type(network).__name__}")
    X, _ = check_data(X)
    n, d = X.shape
    patterns = check_patterns(patterns, n, d)
    if network.U.shape[1] != d:
        raise ValueError(f"network must have d = {d} inputs (the columns of X), got {network.U.shape[1]}")
    xp = array_namespace(X, patterns.masks)
    Xh, U, a = to_numpy(X), np.asarray(to_numpy(network.U), dtype=float), np.asarray(to_numpy(network.alpha), float)
    neuron_masks = (Xh @ U.T >= 0.0).astype(np.float64)  # (n, m)
    # dead neurons (α = 0, u = 0, or inactive on every row) contribute nothing but penalty: dropped
    live = (a != 0) & np.any(U != 0, axis=1) & neuron_masks.any(axis=0)
    U, a, neuron_masks = U[live], a[live], neuron_masks[:, live]
    P0 = patterns.P
    allm = np.concatenate([np.asarray(to_numpy(patterns.masks)), neuron_masks], axis=1)
    _, first, inv = np.unique(allm, axis=1, return_index=True, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    slot = first[inv[P0:]]  # per neuron: first column with its pattern (< P0: an existing pattern)
    new_cols = np.unique(slot[slot >= P0])  # appended patterns, in order of first appearance
    index = np.empty(allm.shape[1], dtype=np.int64)
    index[:P0] = np.arange(P0)
    index[new_cols] = P0 + np.arange(new_cols.size)
    col = index[slot]
    Pn = P0 + new_cols.size
    V, W = np.zeros((Pn, d)), np.zeros((Pn, d))
    val = np.abs(a)[:, None] * U
    np.add.at(V, col[a > 0], val[a > 0])
    np.add.at(W, col[a < 0], val[a < 0])
    gens = U[new_cols - P0].T
    out = Patterns(xp.concatenate([patterns.masks, xp.asarray(neuron_masks[:, new_cols - P0])], axis=1),
                   xp.concatenate([patterns.generators, xp.asarray(gens)], axis=1))
    return out, xp.asarray(V), xp.asarray(W)


def _masks(patterns: Any) -> Any:
    return patterns.masks if isinstance(patterns, Patterns) else patterns


def convex_predict(X: Any, patterns: Patterns | Any, V: Any, W: Any) -> Any:
    r"""ŷ = Σ_i D_iX(v_i − w_i) = rowsum(Dm ∘ X(V − W)ᵀ), shape (n,). ``patterns`` may be the (n, P) mask."""
    xp = array_namespace(X, V, W)
    return xp.sum(_masks(patterns) * (X @ (V - W).T), axis=1)


def convex_objective(X: Any, y: Any, patterns: Patterns | Any, V: Any, W: Any, beta: float,
                     loss: str = "squared") -> float:
    r"""ℓ(Σ_i D_iX(v_i − w_i), y) + β Σ_i (‖v_i‖₂ + ‖w_i‖₂) (the objective of C(𝒟), cones not checked)."""
    beta = check_beta(beta)
    loss = check_loss(loss)
    xp = array_namespace(X, V, W)
    pen = float(xp.sum(group_norms(V))) + float(xp.sum(group_norms(W)))
    return loss_value(convex_predict(X, patterns, V, W), y, loss) + beta * pen


def cone_violation(X: Any, patterns: Patterns | Any, V: Any, W: Any, eps: float = 0.0) -> float:
    r"""max(0, max_{i,k} −[(2D_i − I)Xv_i]_k + ε‖v_i^f‖₁, the same for w_i): 0 iff (V, W) is feasible.

    With ε = 0 these are the cones K_i of C(𝒟); with ε > 0 the robust cones of spec §3.3
    ((2D_i − I)Xv_i ≥ ε‖v_i^f‖₁·𝟙, v^f = v without its bias coordinate). The value is absolute, in the
    units of Xv.
    """
    eps = check_eps(eps)
    xp = array_namespace(X, V, W)
    S = 2.0 * _masks(patterns) - 1.0
    worst = 0.0
    for Z in (V, W):
        slack = S * (X @ Z.T)  # (n, P)
        need = eps * xp.sum(xp.abs(Z[:, :-1]), axis=1) if eps > 0 else 0.0
        worst = max(worst, float(xp.max(need - xp.min(slack, axis=0))))
    return max(0.0, worst)



def _restore_groups(X: Any, ST: Any, Z: Any, slackT: Any, Hg: Any, ghT: Any, eps: float, least_norm: bool) -> Any:
    r"""Restore G groups at once (the rule of :func:`restore_feasible`), without a Python loop over groups or rows.

    Z (G, d) weights; ST (G, n) signs; slackT = ST ∘ ZXᵀ (G, n); Hg (G, d) generators; ghT = ST ∘ HgXᵀ (G, n).
    Group-major (G, n) layout: the row selection is then a contiguous argpartition. The least-norm step is
    one batched r×r solve, r = min(d, n).
    """
    xp = array_namespace(X, Z)
    n, d = X.shape
    G = Z.shape[0]

    def shortfall(Zc: Any, sl: Any) -> Any:  # > 0 exactly where a row violates its (robust) cone
        return (eps * xp.sum(xp.abs(Zc[:, :-1]), axis=1))[:, None] - sl if eps > 0 else -sl

    viol = shortfall(Z, slackT)
    if least_norm:
        r = min(d, n)
        idx = (xp.argpartition(viol, n - r, axis=1)[:, n - r:] if r < n
               else xp.broadcast_to(xp.arange(n)[None, :], (G, n)))
        b = xp.take_along_axis(viol, idx, axis=1)  # (G, r): the r largest shortfalls of each group
        act = b > 0
        b = xp.where(act, b, 0.0)
        A = (xp.take_along_axis(ST, idx, axis=1) * act)[:, :, None] * X[idx]  # (G, r, d)
        M = A @ A.transpose(0, 2, 1)
        ridge = 1e-12 * xp.trace(M, axis1=1, axis2=2)
        M = M + xp.where(act, ridge[:, None], 1.0)[:, :, None] * xp.eye(r)[None]  # idle rows get w = 0
        w = xp.linalg.solve(M, b[:, :, None])  # (G, r, 1)
        Z = Z + (A.transpose(0, 2, 1) @ w)[:, :, 0]
        viol = shortfall(Z, ST * (Z @ X.T))
    margin = ghT - (eps * xp.sum(xp.abs(Hg[:, :-1]), axis=1))[:, None] if eps > 0 else ghT
    usable = xp.all(margin > 0, axis=1)
    t = xp.max(xp.maximum(viol, 0.0) / xp.where(margin > 0, margin, 1.0), axis=1)  # (G,); 0 when feasible
    broken = xp.any(viol > 0, axis=1) & ~usable
    return xp.where(broken[:, None], 0.0, Z + t[:, None] * Hg)


def restore_feasible(X: Any, patterns: Patterns, V: Any, W: Any, eps: float = 0.0, *,
                     method: str = "least_norm") -> tuple[Any, Any]:
    r"""An exactly feasible point of C(𝒟) (or of its robust cones, ε > 0) near (V, W) (spec §7).

    ADMM's copy v may violate the cones by a little, so f(v) can lie below f*(𝒟). Restoring feasibility
    gives f(restored) ≥ f*(𝒟), and (f(restored) − f*)/f* is a certified suboptimality of the restored
    point. Only groups with a violated row change; for such a group v (the same for w), with
    A = (2D − I)X and the shortfall b_k = ε‖v^f‖₁ − (Av)_k (b_k > 0 on violated rows):

    1. ``method="least_norm"`` first: on the r = min(d, n) rows of largest shortfall that are violated
       (rows R), the least-norm step δ = A_Rᵀ(A_RA_Rᵀ)⁻¹b_R (a 10⁻¹²·tr ridge keeps it defined) lifts those
       rows onto the boundary; v ← v + δ. This may break other rows, which step 2 repairs. Measured on
       an ADMM iterate (n = 200, d = 10, P = 32, α = 1.6): the restored gap falls from 1.3e-4 to 2.7e-5 at
       iteration 700, from 1.0e-4 to 1.4e-5 at 930 (a second pass gains < 20 %).
    2. The generator rule: the pattern's generator h has margins m_k = (Ah)_k − ε‖h^f‖₁. If every m_k > 0,
       v ← v + t·h with t = max_k max(0, b_k)/m_k (b recomputed after step 1): for every row,
       (A(v + th))_k = (Av)_k + t(Ah)_k ≥ ε‖v^f‖₁ + tε‖h^f‖₁ ≥ ε‖(v + th)^f‖₁ by the triangle inequality,
       so the group is feasible (with equality on the binding row). If some m_k ≤ 0 (a row on h's
       hyperplane: ≥ counts it active, but it gives no margin), the group falls back to v = 0, which is
       always feasible.

    Feasible up to rounding: a row may end at −(a few ulps)·|X||v| instead of 0.

    Parameters
    ----------
    X
        (n, d) data with the bias column.
    patterns
        The patterns 𝒟 with their generators (``generators[:, i]`` realises ``masks[:, i]``).
    V, W
        (P, d) weights.
    eps
        Robust radius ε ≥ 0 of the cones (SXv ≥ ε‖v^f‖₁𝟙); 0 for C(𝒟).
    method
        ``"least_norm"`` (step 1 then 2) or ``"generator"`` (step 2 only).

    Returns
    -------
    (V, W)
        Restored weights, in the namespace of the inputs; groups without violated rows are unchanged.

    References
    ----------
    Bai, Gautam, Sojoudi, SIMODS 2023, arXiv:2201.01965 (C(𝒟) and its robust cones); spec §7 (the
    certified gap of an approximate solution).
    """
    X, _ = check_data(X)
    n, d = X.shape
    patterns = check_patterns(patterns, n, d)
    P = patterns.P
    V = check_weights("V", V, P, d)
    W = check_weights("W", W, P, d)
    eps = check_eps(eps)
    if method not in ("least_norm", "generator"):
        raise ValueError(f"method must be 'least_norm' or 'generator', got {method!r}")
    xp = array_namespace(X, V, W)
    ST = xp.asarray(patterns.signs).T
    ST2 = xp.concatenate([ST, ST], axis=0)
    Hg = xp.asarray(patterns.generators).T
    ghT = ST * (Hg @ X.T)
    Z = xp.concatenate([V, W], axis=0)
    out = _restore_groups(X, ST2, Z, ST2 * (Z @ X.T), xp.concatenate([Hg, Hg], axis=0),
                          xp.concatenate([ghT, ghT], axis=0), eps, method == "least_norm")
    return out[:P], out[P:]
