r"""Instances of low-rank matrix completion: the truth M = U*Σ*V*ᵀ in factored form, and the sampling of Ω.

Everything random comes from a passed ``np.random.Generator`` (or an int seed turned into one); the
same seed gives the same bits. Nothing here forms an m×n matrix except :meth:`Instance.dense`, which is
meant for small sizes, and nothing builds a dense mask of Ω.

Generators (spec ``matrix_completion.md`` §5):

- :func:`incoherent`: Gaussian (μ of order √log n) or flat (μ = 1) bases with σ from κ down to 1.
- :func:`spiky`: the MC8 counterexample, e₁ a column of both U* and V*.
- :func:`coherence_dial`: Gaussian bases whose first s rows are scaled by 1 + α before the QR.
- :func:`sample`: the Bernoulli model, |Ω| ~ Binomial(mn, p), then that many distinct uniform indices.
- :func:`add_noise`: additive Gaussian noise on observed values.

*Flat bases.* ``basis="hadamard"`` needs orthonormal columns whose rows all have norm √(k/m), so that
μ = 1 exactly. Sylvester's Hadamard matrix (``scipy.linalg.hadamard``) exists only for powers of 2;
taking rows of a larger Hadamard matrix and re-orthonormalising would lose μ = 1. For other sizes the
generator uses the real Fourier basis instead: for 0 < f < m/2 the pair
√(2/m)·(cos(2πfi/m), sin(2πfi/m)) is orthonormal, orthogonal to other frequencies and to the constant
column 1/√m, and contributes exactly 2/m to every squared row norm; ⌊k/2⌋ random frequencies plus the
constant column when k is odd give squared row norms k/m, i.e. μ = 1 exactly. ``basis="fourier"``
forces this construction for every size. Either flat basis is multiplied by a random k×k orthogonal
matrix (which keeps the row norms). The reported μ is always computed from the factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import scipy.linalg

from solvers._checks import check_int, check_positive, check_rng
from theory.matrix_completion import condition_number, incoherence, probability_for_ratio

__all__ = ["Instance", "Omega", "add_noise", "coherence_dial", "incoherent", "sample", "spiky"]

#: Largest m·n that :meth:`Instance.dense` forms.
DENSE_LIMIT: int = 25_000_000




def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Instance:
    """A rank-k truth M = U*·diag(σ)·V*ᵀ kept in factored form.

    Attributes
    ----------
    U_star
        (m, k) orthonormal left factor (read-only).
    sigma
        (k,) singular values, non-increasing and positive (read-only).
    V_star
        (n, k) orthonormal right factor (read-only).
    mu
        max(μ(U*), μ(V*)), computed exactly from the factors.
    kappa
        σ₁/σ_k, computed from ``sigma``.
    """

    U_star: np.ndarray
    sigma: np.ndarray
    V_star: np.ndarray
    mu: float
    kappa: float

    @classmethod
    def from_factors(cls, U_star: np.ndarray, sigma: np.ndarray, V_star: np.ndarray) -> Instance:
        """Build an instance, computing μ and κ (U*, V* orthonormal; σ positive, non-increasing)."""
        U, V, s = np.asarray(U_star, float), np.asarray(V_star, float), np.asarray(sigma, float)
        if s.ndim != 1 or U.ndim != 2 or V.ndim != 2 or U.shape[1] != s.size or V.shape[1] != s.size:
            raise ValueError(f"U_star (m, k), sigma (k,), V_star (n, k) disagree: {U.shape}, {s.shape}, {V.shape}")
        if np.any(np.diff(s) > 0):
            raise ValueError("sigma must be non-increasing")
        mu = max(incoherence(U), incoherence(V))
        return cls(_frozen(U), _frozen(s), _frozen(V), float(mu), condition_number(s))

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n)."""
        return int(self.U_star.shape[0]), int(self.V_star.shape[0])

    @property
    def k(self) -> int:
        """The rank."""
        return int(self.sigma.size)

    @property
    def norm_fro(self) -> float:
        """‖M‖_F = ‖σ‖₂."""
        return float(np.linalg.norm(self.sigma))

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """M_{rows[q], cols[q]} = Σ_l U*_{i l} σ_l V*_{j l} for each q, in O(|Ω|k) without forming M."""
        r = np.asarray(rows)
        c = np.asarray(cols)
        if r.ndim != 1 or c.shape != r.shape:
            raise ValueError(f"rows and cols must be 1-D of equal length, got shapes {r.shape} and {c.shape}")
        if r.dtype == bool or c.dtype == bool or not (np.issubdtype(r.dtype, np.integer)
                                                       and np.issubdtype(c.dtype, np.integer)):
            raise TypeError(f"rows and cols must be integer arrays, got {r.dtype} and {c.dtype}")
        m, n = self.shape
        if r.size and (r.min() < 0 or r.max() >= m):
            raise ValueError(f"rows must lie in [0, m) = [0, {m})")
        if c.size and (c.min() < 0 or c.max() >= n):
            raise ValueError(f"cols must lie in [0, n) = [0, {n})")
        return np.einsum("ql,l,ql->q", self.U_star[r], self.sigma, self.V_star[c])

    def dense(self) -> np.ndarray:
        """The m×n matrix M (small sizes only: m·n ≤ ``DENSE_LIMIT``)."""
        m, n = self.shape
        if m * n > DENSE_LIMIT:
            raise ValueError(f"dense() forms an m×n matrix; m·n = {m * n} exceeds DENSE_LIMIT = {DENSE_LIMIT}")
        return (self.U_star * self.sigma) @ self.V_star.T


def _spectrum(k: int, kappa: float, spectrum: str) -> np.ndarray:
    if k == 1:
        return np.ones(1)  # a rank-1 matrix has κ = 1 whatever was asked
    if spectrum == "linear":
        return np.linspace(kappa, 1.0, k)
    if spectrum == "geometric":
        return np.geomspace(kappa, 1.0, k)
    raise ValueError(f"spectrum must be 'linear' or 'geometric', got {spectrum!r}")


def _haar_orthonormal(rows: int, k: int, rng: np.random.Generator, scale_first: int = 0,
                      factor: float = 1.0) -> np.ndarray:
    """QR of a Gaussian (rows, k) matrix, first ``scale_first`` rows scaled by ``factor``; Haar when factor=1."""
    G = rng.standard_normal((rows, k))
    if scale_first:
        G[:scale_first] *= factor
    Q, R = np.linalg.qr(G)
    d = np.sign(np.diag(R))
    d[d == 0] = 1.0
    return Q * d


def _flat_basis(rows: int, k: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """Orthonormal (rows, k) with every row norm √(k/rows) (μ = 1), times a Haar k×k rotation."""
    if kind == "hadamard" and rows & (rows - 1) == 0:
        cols = rng.choice(rows, size=k, replace=False)
        B = scipy.linalg.hadamard(rows)[:, np.sort(cols)] / np.sqrt(rows)
    else:
        n_freq = (rows - 1) // 2  # frequencies 0 < f < rows/2
        if k // 2 > n_freq:
            raise ValueError(f"k must be ≤ 2⌊(m−1)/2⌋ + 1 = {2 * n_freq + 1} for a flat basis of {rows} rows, got {k}")
        freqs = np.sort(rng.choice(np.arange(1, n_freq + 1), size=k // 2, replace=False))
        i = np.arange(rows)[:, None]
        ang = 2.0 * np.pi * i * freqs[None, :] / rows
        parts = [np.cos(ang), np.sin(ang)]
        B = np.sqrt(2.0 / rows) * np.stack(parts, axis=2).reshape(rows, -1)
        if k % 2:
            B = np.hstack([np.full((rows, 1), 1.0 / np.sqrt(rows)), B])
    return B @ _haar_orthonormal(k, k, rng)


def _check_shape(m: int, n: int, k: int) -> tuple[int, int, int]:
    m, n, k = check_int("m", m), check_int("n", n), check_int("k", k)
    if k > min(m, n):
        raise ValueError(f"k must be ≤ min(m, n) = {min(m, n)}, got {k}")
    return m, n, k


def incoherent(m: int = 400, n: int = 500, k: int = 5, kappa: float = 3.0,
               spectrum: Literal["linear", "geometric"] = "linear",
               basis: Literal["gaussian", "hadamard", "fourier"] = "gaussian", *,
               rng: np.random.Generator | int) -> Instance:
    r"""A rank-k, incoherent instance with σ running from κ down to 1.

    Parameters
    ----------
    m, n, k
        Shape and rank, 1 ≤ k ≤ min(m, n). Default m ≠ n (m = n hides transposition bugs).
    kappa
        Condition number κ ≥ 1. For k = 1 the instance has σ = (1,) and κ = 1.
    spectrum
        ``"linear"``: σ_l equally spaced from κ to 1; ``"geometric"``: σ_l = κ^{(k−l)/(k−1)}.
    basis
        ``"gaussian"``: QR of Gaussian matrices (Haar; μ of order √log n). ``"hadamard"``: normalised
        Hadamard columns when the dimension is a power of 2, the flat real Fourier basis otherwise
        (module docstring), times a random orthogonal k×k matrix: μ = 1 exactly. ``"fourier"``: always
        the flat Fourier basis.
    rng
        Generator or int seed.

    Returns
    -------
    Instance
        With the exact μ = max(μ(U*), μ(V*)) and κ.

    References
    ----------
    Spec ``matrix_completion.md`` §5.
    """
    m, n, k = _check_shape(m, n, k)
    kappa = check_positive("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be ≥ 1, got {kappa}")
    if basis not in ("gaussian", "hadamard", "fourier"):
        raise ValueError(f"basis must be 'gaussian', 'hadamard' or 'fourier', got {basis!r}")
    sigma = _spectrum(k, kappa, spectrum)
    g = check_rng(rng)
    if basis == "gaussian":
        U, V = _haar_orthonormal(m, k, g), _haar_orthonormal(n, k, g)
    else:
        U, V = _flat_basis(m, k, g, basis), _flat_basis(n, k, g, basis)
    return Instance.from_factors(U, sigma, V)


def spiky(m: int, n: int, k: int, sigma_spike: float, *, rng: np.random.Generator | int,
          kappa: float = 1.0) -> Instance:
    r"""The MC8 counterexample: e₁ is a column of both U* and V*, the other columns vanish on coordinate 1.

    M = σ_s·e₁e₁ᵀ + U′Σ′V′ᵀ with U′, V′ Haar on the coordinates 2..m and 2..n and Σ′ linear from κ to 1
    (all ones for κ = 1). Row 1 and column 1 of M vanish except M₁₁ = σ_s, so M and M − σ_s e₁e₁ᵀ
    differ only at (1, 1). The columns are ordered by singular value, so e₁ sits where σ_s falls.

    Returns
    -------
    Instance
        With μ(U*) = √(m/k), μ(V*) = √(n/k), hence μ = √(max(m, n)/k).

    References
    ----------
    Candès & Recht (2009), §1.1; spec ``matrix_completion.md`` MC8.
    """
    m, n, k = _check_shape(m, n, k)
    sigma_spike = check_positive("sigma_spike", sigma_spike)
    kappa = check_positive("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be ≥ 1, got {kappa}")
    g = check_rng(rng)
    U = np.zeros((m, k))
    V = np.zeros((n, k))
    U[0, 0] = V[0, 0] = 1.0
    if k > 1:
        U[1:, 1:] = _haar_orthonormal(m - 1, k - 1, g)
        V[1:, 1:] = _haar_orthonormal(n - 1, k - 1, g)
    rest = _spectrum(k - 1, kappa, "linear") if k > 1 else np.empty(0)
    sigma = np.concatenate([[sigma_spike], rest])
    order = np.argsort(-sigma, kind="stable")
    return Instance.from_factors(U[:, order], sigma[order], V[:, order])


def coherence_dial(m: int, n: int, k: int, alpha: float, s: int, *, rng: np.random.Generator | int,
                   kappa: float = 3.0, spectrum: Literal["linear", "geometric"] = "linear") -> Instance:
    r"""Gaussian bases whose first s rows are scaled by 1 + α before the QR: α tunes μ upwards.

    α = 0 is :func:`incoherent` with ``basis="gaussian"`` (same draws); as α → ∞ the column space
    concentrates on the first s coordinates and μ → √(m/s)-ish (capped by √(m/k)).

    References
    ----------
    Spec ``matrix_completion.md`` §5.
    """
    m, n, k = _check_shape(m, n, k)
    alpha = check_positive("alpha", alpha, allow_zero=True)
    s = check_int("s", s, low=0)
    if s > min(m, n):
        raise ValueError(f"s must be ≤ min(m, n) = {min(m, n)}, got {s}")
    kappa = check_positive("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be ≥ 1, got {kappa}")
    sigma = _spectrum(k, kappa, spectrum)
    g = check_rng(rng)
    U = _haar_orthonormal(m, k, g, s, 1.0 + alpha)
    V = _haar_orthonormal(n, k, g, s, 1.0 + alpha)
    return Instance.from_factors(U, sigma, V)


class Omega(NamedTuple):
    """Observed positions in CSR order (sorted by row, then column); unpacks as ``rows, cols``."""

    rows: np.ndarray
    cols: np.ndarray


def _distinct_uniform(total: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct integers drawn uniformly from [0, total), sorted, in O(size) memory when size ≤ total/2.

    Draws iid uniform candidates in batches until at least ``size`` distinct values are present, then keeps a
    uniform ``size``-subset of them. Conditional on its size the set of distinct values of iid uniform draws is
    a uniform subset (the law is invariant under permutations of [0, total), and the stopping rule depends only
    on the count), so the result is a uniform ``size``-subset.
    """
    if size == 0:
        return np.empty(0, dtype=np.int64)
    if 2 * size > total:  # dense regime: a permutation costs O(total) = O(size)
        return np.sort(rng.permutation(total)[:size]).astype(np.int64)
    have = np.empty(0, dtype=np.int64)
    while have.size < size:
        need = size - have.size
        fresh = 1.0 - have.size / total  # chance that a new draw is not yet present
        batch = int(need / fresh * 1.05) + 16
        merged = np.sort(np.concatenate([have, rng.integers(0, total, size=batch, dtype=np.int64)]))
        # sort-and-compare: np.unique is several times slower on large int64 arrays (numpy 2.4)
        have = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
    if have.size > size:
        keep = np.sort(rng.choice(have.size, size=size, replace=False))
        have = have[keep]
    return have


def sample(shape: tuple[int, int], rng: np.random.Generator | int, p: float | None = None,
           ratio: float | None = None, k: int | None = None) -> Omega:
    r"""Ω from the Bernoulli model: |Ω| ~ Binomial(mn, p), then that many distinct uniform positions.

    Given |Ω| = N, the Bernoulli(p) mask is a uniform N-subset of the mn positions, so this is exactly
    the Bernoulli model, drawn in O(|Ω|) memory (no dense mask).

    Parameters
    ----------
    shape
        (m, n).
    rng
        Generator or int seed.
    p
        Sampling probability in [0, 1]. Exactly one of ``p`` and ``ratio`` is given.
    ratio
        Oversampling ratio r ≥ 0; p = r·k(m+n−k)/(mn), so 𝔼|Ω| = r·k(m+n−k). Needs ``k``.
    k
        The rank, for ``ratio``.

    Returns
    -------
    Omega
        ``(rows, cols)``, int64 arrays sorted by row then column (CSR order).

    References
    ----------
    Spec ``matrix_completion.md`` §2 and §5.
    """
    if (not isinstance(shape, tuple | list) or len(shape) != 2
            or any(isinstance(d, bool) or not isinstance(d, int | np.integer) for d in shape)):
        raise TypeError(f"shape must be a pair of integers (m, n), got {shape!r}")
    m, n = check_int("shape[0]", shape[0]), check_int("shape[1]", shape[1])
    if (p is None) == (ratio is None):
        raise ValueError("give exactly one of p and ratio")
    if ratio is not None:
        if k is None:
            raise ValueError("k is required with ratio (p = r·k(m+n−k)/(mn))")
        k = check_int("k", k)
        if k > min(m, n):
            raise ValueError(f"k must be ≤ min(m, n) = {min(m, n)}, got {k}")
        check_positive("ratio", ratio, allow_zero=True)
        p = float(probability_for_ratio(ratio, m, n, k))
    p = check_positive("p", p, allow_zero=True)
    if p > 1:
        raise ValueError(f"p must be ≤ 1, got {p}")
    g = check_rng(rng)
    total = m * n
    size = int(g.binomial(total, p))
    lin = _distinct_uniform(total, size, g)
    rows, cols = np.divmod(lin, n)
    return Omega(rows.astype(np.int64), cols.astype(np.int64))


def add_noise(values: np.ndarray, sigma: float, rng: np.random.Generator | int) -> np.ndarray:
    """``values`` + σ·N(0, 1) entrywise (a new array); σ = 0 returns a copy and draws nothing."""
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    sigma = check_positive("sigma", sigma, allow_zero=True)
    if sigma == 0:
        return v.copy()
    return v + sigma * check_rng(rng).standard_normal(v.shape)
