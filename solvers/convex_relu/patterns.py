r"""Activation patterns D(h) = diag(1[Xh ≥ 0]): sampling, exact enumeration in 2-D, and β_max (spec §2, §6).

A set of P patterns is stored as the mask Dm ∈ {0,1}^{n×P} (column i is the diagonal of D_i) together
with generators H ∈ R^{d×P} that realise them, Dm[:, i] = 1[X h_i ≥ 0]. The comparison is ≥ everywhere
(spec §7), so h = 0 gives the all-ones pattern and a row exactly on a hyperplane counts as active.

References
----------
M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", ICML 2020, arXiv:2002.10553 (§2: the
pattern set and its size).
T. Cover, "Geometrical and statistical properties of systems of linear inequalities", IEEE Trans.
Electron. Comput. 1965 (the count 2Σ_{j<r} C(n−1, j) in general position).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers._checks import check_int, check_rng
from solvers._xp import array_namespace, to_numpy

__all__ = ["Patterns", "beta_max", "enumerate_patterns_2d", "pattern_of", "sample_patterns", "with_bias"]


@dataclass(frozen=True, eq=False)
class Patterns:
    """P activation patterns of n samples with their generators.

    Attributes
    ----------
    masks
        (n, P) float64 in {0, 1}: ``masks[:, i]`` is the diagonal of D_i.
    generators
        (d, P) float64: ``pattern_of(X, generators[:, i]) == masks[:, i]``.
    """

    masks: Any
    generators: Any

    def __post_init__(self) -> None:
        if self.masks.ndim != 2 or self.generators.ndim != 2 or self.masks.shape[1] != self.generators.shape[1]:
            raise ValueError(f"patterns: masks (n, P) and generators (d, P) must agree in P, got shapes "
                             f"{self.masks.shape} and {self.generators.shape}")

    @property
    def P(self) -> int:
        """Number of patterns."""
        return int(self.masks.shape[1])

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.masks.shape[0])

    @property
    def d(self) -> int:
        """Dimension of the generators (features plus bias)."""
        return int(self.generators.shape[0])

    @property
    def signs(self) -> Any:
        """S = 2·Dm − 1 ∈ {±1}^{n×P}: row k of the cone constraint (2D_i − I)Xv ≥ 0."""
        return 2.0 * self.masks - 1.0

    def subset(self, idx: Any) -> Patterns:
        """The patterns at ``idx`` (indices or a boolean mask over the P patterns), in that order."""
        xp = array_namespace(self.masks)
        idx = xp.asarray(idx)
        return Patterns(self.masks[:, idx], self.generators[:, idx])

    def union(self, other: Patterns) -> Patterns:
        """These patterns followed by those of ``other`` not already present (exact column match).

        Duplicates inside either set are removed too; the first generator of each pattern is kept.
        """
        if not isinstance(other, Patterns):
            raise TypeError(f"other must be Patterns, got {type(other).__name__}")
        if other.n != self.n or other.d != self.d:
            raise ValueError(f"other must have n = {self.n} rows and d = {self.d}, got n = {other.n}, d = {other.d}")
        xp = array_namespace(self.masks)
        masks = xp.concatenate([self.masks, xp.asarray(other.masks)], axis=1)
        gens = xp.concatenate([self.generators, xp.asarray(other.generators)], axis=1)
        keep = _first_unique_columns(to_numpy(masks))
        keep = xp.asarray(keep)
        return Patterns(masks[:, keep], gens[:, keep])


def _first_unique_columns(masks: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of every distinct column, in increasing order."""
    if masks.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(masks, axis=1, return_index=True)
    return np.sort(first)


def with_bias(X: Any) -> Any:
    """X with a column of ones appended (the bias, counted in d)."""
    xp = array_namespace(X)
    X = xp.asarray(X, dtype=xp.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n samples × features), got shape {X.shape}")
    return xp.concatenate([X, xp.ones((X.shape[0], 1))], axis=1)


def pattern_of(X: Any, h: Any) -> Any:
    """1[Xh ≥ 0] as float64: shape (n,) for h of shape (d,), (n, k) for h of shape (d, k)."""
    xp = array_namespace(X, h)
    return (X @ xp.asarray(h, dtype=xp.float64) >= 0.0).astype(xp.float64)


def sample_patterns(X: Any, P: int, rng: np.random.Generator | int, *, dedupe: bool = True) -> Patterns:
    r"""Sample P generators h ~ N(0, I_d) and their patterns 1[Xh ≥ 0] (spec §2 Sampling).

    With ``dedupe`` duplicate columns are removed (the first generator in sampling order is kept, and
    patterns stay in the order of their first appearance) and the all-zero pattern is dropped, so the
    result may hold fewer than P patterns. The generators are drawn on the host from ``rng`` (same seed,
    same bits) and moved to X's namespace.

    Parameters
    ----------
    X
        (n, d) data with the bias column.
    P
        Number of generators drawn, ≥ 1.
    rng
        A numpy Generator or an int seed.
    dedupe
        Remove duplicates and the all-zero pattern.
    """
    P = check_int("P", P, 1)
    rng = check_rng(rng)
    xp = array_namespace(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    H = rng.standard_normal((X.shape[1], P))
    masks = to_numpy(pattern_of(X, xp.asarray(H)))
    if dedupe:
        keep = _first_unique_columns(masks)
        keep = keep[masks[:, keep].any(axis=0)]
        masks, H = masks[:, keep], H[:, keep]
    return Patterns(xp.asarray(masks), xp.asarray(H))




def enumerate_patterns_2d(X: Any, *, tol: float = 1e-10) -> Patterns:
    r"""All distinct non-zero patterns of 2-D data with bias (d = 3), each with a generator inside its cell.

    The hyperplanes {h : x_kᵀh = 0} cut R³ into n² − n + 2 open cones in general position (Cover 1965
    with r = 3); one is the all-negative cell (the all-zero pattern, dropped). Every cone is pointed with
    extreme rays ±(x_i × x_j), and near such a ray the planes of rows i and j cross transversally, so the
    four sign choices of rows i, j with the other rows' signs at the ray give every cell touching it
    (spec §6). For each (i, j, ±, a_i, a_j) the generator is h = ±c + t·δ with c = x_i × x_j, δ the
    min-norm solution of x_iᵀδ = σ_i, x_jᵀδ = σ_j (σ = +1 for active, −1 for inactive) and
    t = ½ min_k |x_kᵀc| / |x_kᵀδ| over the other rows, so no other sign changes and rows i, j are
    strictly inside: every generator realises its mask with a strict margin, verified with
    :func:`pattern_of`.

    Parameters
    ----------
    X
        (n, 3) data whose last column is all ones, in general position: no three rows linearly dependent
        (equivalently, no three points collinear and no two equal).
    tol
        Relative tolerance of the general-position test |det(x_i, x_j, x_k)| > tol·‖x_i‖‖x_j‖‖x_k‖.

    Returns
    -------
    Patterns
        n² − n + 1 patterns (all but the all-zero one), in order of first appearance over the pairs
        (i < j) in lexicographic order.

    Raises
    ------
    ValueError
        X not of shape (n, 3) with a bias column, or not in general position (the offending rows named).
    """
    xp = array_namespace(X)
    Xh = np.asarray(to_numpy(X), dtype=np.float64)
    if Xh.ndim != 2 or Xh.shape[1] != 3:
        raise ValueError(f"X must have shape (n, 3) (2-D points plus the bias column), got {Xh.shape}")
    if not np.all(np.isfinite(Xh)) or not np.all(Xh[:, -1] == 1.0):
        raise ValueError("X must be finite with its last column all ones; call with_bias(X)")
    n = Xh.shape[0]
    if n == 1:  # one hyperplane: the half-space containing x_1 is the only non-zero pattern
        return Patterns(xp.ones((1, 1)), xp.asarray(Xh.T.copy()))
    ii, jj = np.triu_indices(n, 1)
    C = np.cross(Xh[ii], Xh[jj])  # (Q, 3) vertex directions
    norms = np.linalg.norm(Xh, axis=1)
    scale = norms[ii] * norms[jj]
    cn = np.linalg.norm(C, axis=1)
    bad = cn <= tol * scale
    if bad.any():
        q = int(np.argmax(bad))
        raise ValueError(f"X must be in general position: rows {ii[q]} and {jj[q]} coincide")
    XC = C @ Xh.T  # (Q, n): x_k · (x_i × x_j) = det(x_i, x_j, x_k)
    other = np.ones_like(XC, dtype=bool)
    q_idx = np.arange(len(ii))
    other[q_idx, ii] = False
    other[q_idx, jj] = False
    degenerate = other & (np.abs(XC) <= tol * scale[:, None] * norms[None, :])
    if degenerate.any():
        q, k = np.unravel_index(int(np.argmax(degenerate)), degenerate.shape)
        raise ValueError(f"X must be in general position: rows {ii[q]}, {jj[q]} and {k} are collinear "
                         "(linearly dependent with the bias)")
    # min-norm δ with [x_i; x_j] δ = σ for the four sign choices: δ = Aᵀ(AAᵀ)⁻¹σ
    A = np.stack([Xh[ii], Xh[jj]], axis=1)  # (Q, 2, 3)
    gram = A @ A.transpose(0, 2, 1)
    sig = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # (4, 2)
    coef = np.linalg.solve(gram[:, None], np.broadcast_to(sig[None, :, :, None], (len(ii), 4, 2, 1)))
    delta = (A.transpose(0, 2, 1)[:, None] @ coef)[..., 0]  # (Q, 4, 3)
    XD = delta @ Xh.T  # (Q, 4, n)
    with np.errstate(divide="ignore"):
        ratio = np.where(other[:, None, :], np.abs(XC)[:, None, :] / np.abs(XD), np.inf)
    t = 0.5 * np.minimum(ratio.min(axis=2), 1.0)  # (Q, 4)
    # the two rays ±c; (8Q, 3) ordered by pair, then sign, then the choice for rows i, j
    Hgen = np.concatenate([C[:, None, :] + t[:, :, None] * delta, -C[:, None, :] + t[:, :, None] * delta],
                          axis=1).reshape(-1, 3)
    margins = Hgen @ Xh.T
    if np.any(np.abs(margins) <= 1e-14 * np.linalg.norm(Hgen, axis=1)[:, None] * norms[None, :]):
        raise ValueError("X must be in general position: a cell generator lies on a hyperplane "
                         "(X is too close to degenerate for the enumeration)")
    masks = (margins >= 0.0).astype(np.float64).T  # (n, 8Q)
    keep = _first_unique_columns(masks)
    keep = keep[masks[:, keep].any(axis=0)]
    masks, Hgen = masks[:, keep], Hgen[keep].T
    if masks.shape[1] != n * n - n + 1:
        raise ValueError(f"X must be in general position: found {masks.shape[1]} non-zero patterns, expected "
                         f"n² − n + 1 = {n * n - n + 1}")
    if not np.array_equal(pattern_of(Xh, Hgen), masks):  # pragma: no cover - guaranteed by the margins
        raise RuntimeError("enumerate_patterns_2d: a generator does not realise its pattern")
    return Patterns(xp.asarray(masks), xp.asarray(np.ascontiguousarray(Hgen)))


def beta_max(X: Any, y: Any, patterns: Patterns) -> float:
    r"""β_max = max_i ‖XᵀD_i y‖₂: for every β ≥ β_max, v = w = 0 is optimal for C(𝒟).

    Derivation. The loss gradient at ŷ = 0 is −y for both losses (squared: ŷ − y; hinge: every margin
    1 − y_k·0 = 1 > 0, so the hinge is differentiable there with gradient −y). C(𝒟) is convex and its
    feasible set is a product of cones containing 0, so 0 is optimal iff every feasible direction
    (v_i, w_i) ∈ K_i has a non-negative directional derivative:

        −yᵀ Σ_i D_iX(v_i − w_i) + β Σ_i (‖v_i‖ + ‖w_i‖) ≥ Σ_i (β − ‖XᵀD_i y‖)(‖v_i‖ + ‖w_i‖) ≥ 0

    by Cauchy–Schwarz. The condition is sufficient, not necessary: the cone may make a smaller β
    already give zero.
    """
    xp = array_namespace(X, y)
    G = X.T @ (patterns.masks * y[:, None])  # (d, P): column i = XᵀD_i y
    return float(xp.sqrt(xp.max(xp.sum(G * G, axis=0))))
