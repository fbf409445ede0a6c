r"""EF21 problems: federated logistic regression with a non-convex regulariser, and least squares (PL).

Both implement the solvers' ``Problem`` protocol: ``n_clients``, ``dim``, ``smoothness`` (the L_i), ``L``,
``f_low``, and ``client_grads(x) -> (n, d)``, ``loss(x) -> float``, ``grad(x) -> (d,)``, with
f = (1/n)Σ_i f_i. Client data are stored padded to a common row count N_max: A (n, N_max, d) and
per-row weights 1/N_i (0 on padding rows), so every client's gradient comes out of two batched
contractions, with no Python loop over clients. The data arrays may be NumPy or CuPy arrays
(:meth:`LogisticProblem.to`); the constants (``smoothness``, ``L``, ``mu``, ...) are host floats, computed
once at construction with ``numpy.linalg.eigvalsh`` on the d × d matrices, so they are exact upper
bounds up to eigvalsh's rounding (relative ~1e-15), never estimates.

**Logistic** (spec ``ef21.md`` §5). f_i(x) = (1/N_i)Σ_j log(1 + exp(−y_ij a_ijᵀx)) + λΣ_k x_k²/(1 + x_k²).
Its Hessian is (1/N_i)A_iᵀdiag(σ(1−σ))A_i + λ·diag(r''(x_k)) with σ(1−σ) ≤ ¼ and
r''(u) = (2 − 6u²)/(1 + u²)³ ∈ [−½, 2], so ‖∇²f_i‖ ≤ L_i = λ_max(A_iᵀA_i)/(4N_i) + 2λ and
‖∇²f‖ ≤ L = λ_max((1/n)Σ_i A_iᵀA_i/(4N_i)) + 2λ (the lower side, −λ/2, is smaller in modulus). Both terms
are non-negative, so f_low = 0.

**Least squares** (spec §6, the PL instance). f_i(x) = ‖A_ix − b_i‖²/(2N_i), L_i = λ_max(A_iᵀA_i/N_i),
L = λ_max(M), μ = λ_min(M) with M = (1/n)Σ_i A_iᵀA_i/N_i; f is μ-strongly convex, hence PL with μ. Since
f(x) = ½‖W(Ax − b)‖² for the stacked rows weighted by W = diag(1/√(nN_i)), x* and f* = f(x*) come from
``numpy.linalg.lstsq`` on the weighted system. ``f_low`` is the exact lower bound 0; ``f_star`` is for the
PL claim.

**Heterogeneous smoothness** (spec §5). Client i's rows (and, for least squares, its targets) are scaled by
√s_i, which multiplies its curvature by s_i: ``"dominant"`` has s_1 = 1 + ζ and s_i = 1 otherwise (H rises
towards √n once client 1 dominates); ``"spread"`` has s_i = exp(ζ(i−1)/(n−1)). The constants are computed
after scaling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, Self

import numpy as np

from solvers._checks import check_int, check_positive, check_rng
from solvers._xp import array_namespace
from theory import ef21 as th

__all__ = [
    "DATASETS",
    "PROFILES",
    "LeastSquaresProblem",
    "LogisticProblem",
    "heterogeneity_scales",
    "load_dataset",
    "make_least_squares",
    "make_logistic",
    "synthetic_classification",
]

PROFILES = ("dominant", "spread")
DATASETS = ("breast_cancer", "digits")

Array = Any  # numpy.ndarray or cupy.ndarray


# ---------------------------------------------------------------- shared helpers


def heterogeneity_scales(n_clients: int, zeta: float, profile: str = "dominant") -> np.ndarray:
    r"""The curvature multipliers s_i of the heterogeneity knob (spec ``ef21.md`` §5).

    Parameters
    ----------
    n_clients
        Number of clients n ≥ 1.
    zeta
        Strength ζ ≥ 0; ζ = 0 gives s_i = 1.
    profile
        ``"dominant"``: s_1 = 1 + ζ, s_i = 1 for i ≥ 2. ``"spread"``: s_i = exp(ζ(i−1)/(n−1)) (s_1 = 1
        for n = 1), which needs ζ ≤ 300 to stay finite in float64 (H is within 1e-6 of √n long before).

    Returns
    -------
    ndarray
        s, shape (n,). Client i's rows are multiplied by √s_i.
    """
    n = check_int("n_clients", n_clients, 1)
    zeta = check_positive("heterogeneity", zeta, allow_zero=True)
    if profile == "dominant":
        s = np.ones(n)
        s[0] += zeta
        return s
    if profile == "spread":
        if n == 1:
            return np.ones(1)
        if zeta > 300.0:  # s_n = exp(ζ) and squared gradients must stay finite in float64
            raise ValueError(f"heterogeneity must be ≤ 300 for the 'spread' profile (s_n = exp(ζ)), got {zeta!r}")
        return np.exp(zeta * np.arange(n) / (n - 1))
    raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")


def _pad_clients(blocks: Sequence[np.ndarray], values: Sequence[np.ndarray],
                 fill: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stack per-client (N_i, d) rows and (N_i,) values into padded arrays with weights 1/N_i."""
    n = len(blocks)
    counts = np.array([b.shape[0] for b in blocks], dtype=np.int64)
    N_max, d = int(counts.max()), blocks[0].shape[1]
    A = np.zeros((n, N_max, d))
    v = np.full((n, N_max), fill)
    w = np.zeros((n, N_max))
    for i, (block, val) in enumerate(zip(blocks, values, strict=True)):  # construction only, once
        A[i, : counts[i]] = block
        v[i, : counts[i]] = val
        w[i, : counts[i]] = 1.0 / counts[i]
    return A, v, w, counts


def _client_curvatures(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """M_i = A_iᵀA_i/N_i for every client, shape (n, d, d) (padding rows have weight 0)."""
    return np.matmul((A * w[..., None]).transpose(0, 2, 1), A)


def _check_client_data(A_list: Sequence[Any], v_list: Sequence[Any], v_name: str) -> tuple[list, list]:
    if len(A_list) == 0:
        raise ValueError("A_list must hold at least one client")
    if len(A_list) != len(v_list):
        raise ValueError(f"A_list and {v_name}_list must have one entry per client, got {len(A_list)} and "
                         f"{len(v_list)}")
    blocks = [np.asarray(a, dtype=float) for a in A_list]
    values = [np.asarray(v, dtype=float) for v in v_list]
    d = blocks[0].shape[1] if blocks[0].ndim == 2 else -1
    for i, (a, v) in enumerate(zip(blocks, values, strict=True)):
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] != d or d < 1:
            raise ValueError(f"A_list[{i}] must have shape (N_i ≥ 1, d) with a common d ≥ 1, got {a.shape}")
        if v.shape != (a.shape[0],):
            raise ValueError(f"{v_name}_list[{i}] must have shape ({a.shape[0]},), got {v.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"A_list[{i}] must be finite")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{v_name}_list[{i}] must be finite")
    return blocks, values


def _check_x(x: Array, d: int) -> None:
    if x.shape != (d,):
        raise ValueError(f"x must have shape ({d},), got {x.shape}")


class _ClientMeans:
    """Properties shared by both problems: sizes and the smoothness means of claim 3."""

    _device_fields: ClassVar[tuple[str, ...]] = ()
    A: Array
    smoothness: np.ndarray

    @property
    def n_clients(self) -> int:
        """Number of clients n."""
        return int(self.A.shape[0])

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(self.A.shape[2])

    @property
    def L_AM(self) -> float:
        """Arithmetic mean (1/n)ΣL_i."""
        return float(th.smoothness_means(self.smoothness)[0])

    @property
    def L_QM(self) -> float:
        """Quadratic mean √((1/n)ΣL_i²)."""
        return float(th.smoothness_means(self.smoothness)[1])

    @property
    def heterogeneity(self) -> float:
        """H = L_QM/L_AM ∈ [1, √n)."""
        return float(th.heterogeneity(self.smoothness))

    def to(self, xp: ModuleType) -> Self:
        """The same problem with its data arrays in namespace ``xp`` (e.g. ``cupy``); constants stay host floats."""
        arrays = {name: xp.asarray(getattr(self, name)) for name in self._device_fields}
        return dataclasses.replace(self, **arrays)  # type: ignore[type-var]


# ---------------------------------------------------------------- logistic regression
@dataclass(frozen=True, eq=False)
class LogisticProblem(_ClientMeans):
    r"""Federated logistic regression with the non-convex regulariser λΣ_k x_k²/(1 + x_k²).

    f_i(x) = (1/N_i)Σ_j log(1 + exp(−y_ij a_ijᵀx)) + λΣ_k x_k²/(1 + x_k²), f = (1/n)Σ_i f_i.
    Build it with :func:`make_logistic` or :meth:`from_clients`.

    Attributes
    ----------
    A
        Padded features, shape (n, N_max, d); rows past N_i are zero.
    y
        Labels ±1, shape (n, N_max) (padding rows hold +1 with weight 0).
    weights
        Row weights 1/N_i, 0 on padding, shape (n, N_max).
    lam
        Regularisation λ ≥ 0.
    smoothness
        L_i = λ_max(A_iᵀA_i)/(4N_i) + 2λ, shape (n,), host.
    L
        λ_max((1/n)Σ_i A_iᵀA_i/(4N_i)) + 2λ.
    counts
        N_i, shape (n,), host.
    f_low
        0, a valid lower bound on f.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, §5 (experiments); spec ``ef21.md`` §5.
    """

    _device_fields: ClassVar[tuple[str, ...]] = ("A", "y", "weights")

    A: Array
    y: Array
    weights: Array
    lam: float
    smoothness: np.ndarray
    L: float
    counts: np.ndarray
    f_low: float = 0.0

    @classmethod
    def from_clients(cls, A_list: Sequence[np.ndarray], y_list: Sequence[np.ndarray],
                     lam: float = 0.1) -> LogisticProblem:
        """Build the problem from per-client features (N_i, d) and labels (N_i,) in {−1, +1}.

        Raises
        ------
        ValueError
            On empty or mismatched clients, non-finite data, labels other than ±1 or λ < 0.
        """
        lam = check_positive("lam", lam, allow_zero=True)
        blocks, labels = _check_client_data(A_list, y_list, "y")
        for i, lab in enumerate(labels):
            if not np.all(np.abs(lab) == 1.0):
                raise ValueError(f"y_list[{i}] must hold labels in {{−1, +1}}, got values {np.unique(lab)}")
        A, y, w, counts = _pad_clients(blocks, labels, 1.0)
        M = _client_curvatures(A, w)
        L_i = np.linalg.eigvalsh(M)[:, -1] / 4.0 + 2.0 * lam
        L = float(np.linalg.eigvalsh(M.mean(axis=0))[-1] / 4.0 + 2.0 * lam)
        if not np.all(L_i > 0):
            raise ValueError("every client needs a non-zero feature row or lam > 0 (L_i must be > 0)")
        return cls(A=A, y=y, weights=w, lam=lam, smoothness=L_i, L=L, counts=counts)

    def _reg(self, x: Array) -> Array:
        x2 = x * x
        return self.lam * (x2 / (1.0 + x2)).sum()

    def _reg_grad(self, x: Array) -> Array:
        return 2.0 * self.lam * x / (1.0 + x * x) ** 2

    def _row_coefficients(self, xp: ModuleType, x: Array) -> Array:
        """s_ij = −y_ij σ(−y_ij a_ijᵀx)/N_i.

        σ(−u) = ½(1 − tanh(u/2)) cannot overflow and is accurate to ε in absolute terms, which is what a
        sum of s_ij a_ij needs (and 3× cheaper than exp(−logaddexp(0, u))).
        """
        _check_x(x, self.dim)
        margins = self.y * xp.matmul(self.A, x)  # y_ij a_ijᵀx, (n, N_max)
        return (-0.5 * self.y * self.weights) * (1.0 - xp.tanh(0.5 * margins))

    def client_losses(self, x: Array) -> Array:
        """f_i(x) for every client, shape (n,), on the data's device (``logaddexp``: no overflow)."""
        _check_x(x, self.dim)
        xp = array_namespace(self.A, x)
        margins = self.y * xp.matmul(self.A, x)
        return (self.weights * xp.logaddexp(0.0, -margins)).sum(axis=1) + self._reg(x)

    def loss(self, x: Array) -> float:
        """f(x) = (1/n)Σ_i f_i(x)."""
        return float(self.client_losses(x).mean())

    def client_grads(self, x: Array) -> Array:
        """∇f_i(x) for every client, shape (n, d): Σ_j s_ij a_ij + 2λx/(1 + x²)², batched over clients."""
        xp = array_namespace(self.A, x)
        s = self._row_coefficients(xp, x)
        return xp.matmul(s[:, None, :], self.A)[:, 0, :] + self._reg_grad(x)[None, :]

    def grad(self, x: Array) -> Array:
        """∇f(x) = (1/n)Σ_i ∇f_i(x), shape (d,)."""
        xp = array_namespace(self.A, x)
        s = self._row_coefficients(xp, x)
        return xp.tensordot(s, self.A, axes=2) / self.n_clients + self._reg_grad(x)


def synthetic_classification(n_samples: int, d: int, rng: np.random.Generator | int,
                             noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    r"""Synthetic labelled data: a ~ N(0, I_d), y = sign(aᵀx_true + noise·ε), x_true, ε ~ N(0, 1).

    Draws, in order, x_true (d,), the features (n_samples, d) and ε (n_samples,); a zero score gets y = +1.

    Parameters
    ----------
    n_samples, d
        Rows and features, ≥ 1.
    rng
        Generator or int seed.
    noise
        Label noise scale ≥ 0.

    Returns
    -------
    X, y
        Features (n_samples, d) and labels in {−1, +1}.

    References
    ----------
    Spec ``ef21.md`` §5 (synthetic default: d = 20, n = 20 clients, N_i = 50).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    d = check_int("d", d, 1)
    noise = check_positive("noise", noise, allow_zero=True)
    gen = check_rng(rng)
    x_true = gen.standard_normal(d)
    X = gen.standard_normal((n_samples, d))
    eps = gen.standard_normal(n_samples)
    y = np.where(X @ x_true + noise * eps >= 0.0, 1.0, -1.0)
    return X, y


def load_dataset(name: str, *, intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""A dataset bundled with scikit-learn, standardised, with labels ±1 (nothing is downloaded).

    - ``"breast_cancer"``: 569 × 30, y = +1 for benign (target 1), −1 for malignant.
    - ``"digits"``: 1797 × 64, y = +1 if the digit is < 5, else −1. Three pixels are constant over the
      data set; they carry no information and cannot be standardised, so they are dropped (61 columns).

    Each column is centred and divided by its standard deviation; ``intercept`` appends a column of ones.

    Parameters
    ----------
    name
        One of :data:`DATASETS`.
    intercept
        Whether to append the intercept column.

    Returns
    -------
    X, y
        Features (n_samples, d) and labels in {−1, +1}.

    References
    ----------
    Spec ``ef21.md`` §5 (the papers' LIBSVM sets are not available offline).
    """
    from sklearn import datasets

    if name == "breast_cancer":
        X, target = datasets.load_breast_cancer(return_X_y=True)
        y = np.where(target == 1, 1.0, -1.0)
    elif name == "digits":
        X, target = datasets.load_digits(return_X_y=True)
        y = np.where(target < 5, 1.0, -1.0)
    else:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    X = np.asarray(X, dtype=float)
    std = X.std(axis=0)
    keep = std > 0
    X = (X[:, keep] - X[:, keep].mean(axis=0)) / std[keep]
    if intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    return X, y


def make_logistic(X: np.ndarray, y: np.ndarray, n_clients: int, rng: np.random.Generator | int,
                  lam: float = 0.1, heterogeneity: float = 0.0, profile: str = "dominant") -> LogisticProblem:
    r"""Split (X, y) over clients and build the :class:`LogisticProblem`.

    The rows are permuted with ``rng`` and cut into contiguous near-equal parts (``np.array_split``: the
    first N mod n clients get one row more), as in the EF21 code. Client i's rows are then scaled by √s_i
    (:func:`heterogeneity_scales`) and L_i, L recomputed.

    Parameters
    ----------
    X
        Features, shape (n_samples, d), finite.
    y
        Labels in {−1, +1}, shape (n_samples,).
    n_clients
        1 ≤ n ≤ n_samples.
    rng
        Generator or int seed (used for the permutation only).
    lam
        Regularisation λ ≥ 0 (0.1 as in the EF21 code; 0 gives the convex problem).
    heterogeneity
        ζ ≥ 0.
    profile
        ``"dominant"`` or ``"spread"``.

    Returns
    -------
    LogisticProblem

    References
    ----------
    Spec ``ef21.md`` §5.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n_samples ≥ 1, d ≥ 1), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite, got non-finite entries")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y must hold labels in {{−1, +1}}, got values {np.unique(y)[:5]}")
    n = check_int("n_clients", n_clients, 1)
    if n > X.shape[0]:
        raise ValueError(f"n_clients must be ≤ n_samples = {X.shape[0]}, got {n}")
    lam = check_positive("lam", lam, allow_zero=True)
    scales = heterogeneity_scales(n, heterogeneity, profile)
    gen = check_rng(rng)
    parts = np.array_split(gen.permutation(X.shape[0]), n)
    A_list = [X[idx] * np.sqrt(s) for idx, s in zip(parts, scales, strict=True)]
    return LogisticProblem.from_clients(A_list, [y[idx] for idx in parts], lam=lam)


# ---------------------------------------------------------------- least squares (PL)
def _ls_client_losses(A: Array, b: Array, w: Array, x: Array) -> Array:
    xp = array_namespace(A, x)
    r = xp.matmul(A, x) - b
    return 0.5 * (w * r * r).sum(axis=1)


@dataclass(frozen=True, eq=False)
class LeastSquaresProblem(_ClientMeans):
    r"""Federated least squares, the PL instance: f_i(x) = ‖A_ix − b_i‖²/(2N_i), f = (1/n)Σ_i f_i.

    Build it with :func:`make_least_squares` or :meth:`from_clients`.

    Attributes
    ----------
    A
        Padded features, shape (n, N_max, d).
    b
        Padded targets, shape (n, N_max).
    weights
        Row weights 1/N_i, 0 on padding.
    smoothness
        L_i = λ_max(A_iᵀA_i/N_i), host.
    L
        λ_max(M), M = (1/n)Σ_i A_iᵀA_i/N_i.
    mu
        λ_min(M) > 0, computed as σ_min(WA)² for accuracy at large condition numbers: f is μ-strongly
        convex, hence ½‖∇f‖² ≥ μ(f − f*).
    x_star, f_star
        The minimiser (``numpy.linalg.lstsq`` on the rows weighted by 1/√(nN_i)) and f(x*).
    counts
        N_i, host.
    f_low
        0, the exact lower bound used by the non-convex claims (f_star is for the PL claim).

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 2; spec ``ef21.md`` §6.
    """

    _device_fields: ClassVar[tuple[str, ...]] = ("A", "b", "weights")

    A: Array
    b: Array
    weights: Array
    smoothness: np.ndarray
    L: float
    mu: float
    x_star: np.ndarray
    f_star: float
    counts: np.ndarray
    f_low: float = 0.0

    @classmethod
    def from_clients(cls, A_list: Sequence[np.ndarray], b_list: Sequence[np.ndarray]) -> LeastSquaresProblem:
        """Build the problem from per-client features (N_i, d) and targets (N_i,).

        Raises
        ------
        ValueError
            On empty or mismatched clients, non-finite data, or a rank-deficient design (μ ≤ 0).
        """
        blocks, targets = _check_client_data(A_list, b_list, "b")
        A, b, w, counts = _pad_clients(blocks, targets, 0.0)
        n, _, d = A.shape
        M = _client_curvatures(A, w)
        L_i = np.linalg.eigvalsh(M)[:, -1]
        L = float(np.linalg.eigvalsh(M.mean(axis=0))[-1])
        if not np.all(L_i > 0):
            raise ValueError("every client needs a non-zero row in A_list (L_i must be > 0)")
        root = np.sqrt(w / n)  # f(x) = ½‖W(Ax − b)‖², W = diag(1/√(nN_i)), so M = (WA)ᵀ(WA)
        WA = (A * root[..., None]).reshape(-1, d)
        # μ = σ_min(WA)²: relative error ~ε√(L/μ), where eigvalsh(M) would give ~εL/μ
        sv = np.linalg.svd(WA, compute_uv=False)
        if WA.shape[0] < d or sv[-1] <= max(WA.shape) * np.finfo(float).eps * sv[0]:
            raise ValueError(f"the stacked design must have rank d = {d} (mu = λ_min > 0 for the PL claim); got "
                             f"singular values down to {sv[-1]:.3g} with {int(counts.sum())} rows in total")
        mu = float(sv[-1] ** 2)
        x_star = np.linalg.lstsq(WA, (b * root).reshape(-1), rcond=None)[0]
        f_star = float(_ls_client_losses(A, b, w, x_star).mean())
        return cls(A=A, b=b, weights=w, smoothness=L_i, L=L, mu=mu, x_star=x_star, f_star=f_star, counts=counts)

    def _residual_coefficients(self, xp: ModuleType, x: Array) -> Array:
        _check_x(x, self.dim)
        return self.weights * (xp.matmul(self.A, x) - self.b)

    def client_losses(self, x: Array) -> Array:
        """f_i(x) for every client, shape (n,), on the data's device."""
        _check_x(x, self.dim)
        return _ls_client_losses(self.A, self.b, self.weights, x)

    def loss(self, x: Array) -> float:
        """f(x) = (1/n)Σ_i f_i(x)."""
        return float(self.client_losses(x).mean())

    def client_grads(self, x: Array) -> Array:
        """∇f_i(x) = A_iᵀ(A_ix − b_i)/N_i for every client, shape (n, d)."""
        xp = array_namespace(self.A, x)
        return xp.matmul(self._residual_coefficients(xp, x)[:, None, :], self.A)[:, 0, :]

    def grad(self, x: Array) -> Array:
        """∇f(x) = (1/n)Σ_i ∇f_i(x), shape (d,)."""
        xp = array_namespace(self.A, x)
        return xp.tensordot(self._residual_coefficients(xp, x), self.A, axes=2) / self.n_clients


def make_least_squares(n_clients: int, samples_per_client: int | Sequence[int], d: int,
                       rng: np.random.Generator | int, heterogeneity: float = 0.0, profile: str = "dominant",
                       noise: float = 0.1, optimum_spread: float = 0.0) -> LeastSquaresProblem:
    r"""A synthetic federated least-squares problem (spec ``ef21.md`` §6, the PL instance).

    Draws, in order: x_true ~ N(0, I_d); all rows a_ij ~ N(0, I_d); client offsets z_i ~ N(0, I_d); target
    noise ε_ij ~ N(0, 1). Client i's targets are b_ij = a_ijᵀ(x_true + optimum_spread·z_i) + noise·ε_ij, so
    ``optimum_spread`` > 0 gives the clients different minimisers (gradient heterogeneity, EControl's knob)
    while ``heterogeneity`` scales client i's rows and targets by √s_i (smoothness heterogeneity). The same
    seed gives the same draws for every value of the two knobs.

    Parameters
    ----------
    n_clients
        n ≥ 1.
    samples_per_client
        N_i ≥ 1: one int for all clients or a sequence of n ints.
    d
        Dimension ≥ 1, with ΣN_i ≥ d so that μ > 0.
    rng
        Generator or int seed.
    heterogeneity, profile
        ζ ≥ 0 and the profile of :func:`heterogeneity_scales`.
    noise
        Target noise scale ≥ 0 (0 makes f* = 0 when optimum_spread = 0).
    optimum_spread
        Scale ≥ 0 of the client-specific offsets of the planted solution.

    Returns
    -------
    LeastSquaresProblem
    """
    n = check_int("n_clients", n_clients, 1)
    d = check_int("d", d, 1)
    if isinstance(samples_per_client, int | np.integer):
        counts = [check_int("samples_per_client", samples_per_client, 1)] * n
    else:
        counts = list(samples_per_client)
        if len(counts) != n:
            raise ValueError(f"samples_per_client must be an int or hold n_clients = {n} ints, got {len(counts)}")
        counts = [check_int(f"samples_per_client[{i}]", c, 1) for i, c in enumerate(counts)]
    if sum(counts) < d:
        raise ValueError(f"samples_per_client must total ≥ d = {d} rows for μ > 0, got {sum(counts)}")
    noise = check_positive("noise", noise, allow_zero=True)
    spread = check_positive("optimum_spread", optimum_spread, allow_zero=True)
    scales = heterogeneity_scales(n, heterogeneity, profile)
    gen = check_rng(rng)
    x_true = gen.standard_normal(d)
    rows = gen.standard_normal((sum(counts), d))
    offsets = gen.standard_normal((n, d))
    eps = gen.standard_normal(sum(counts))
    cuts = np.cumsum(counts)[:-1]
    A_list, b_list = [], []
    for i, (a, e) in enumerate(zip(np.split(rows, cuts), np.split(eps, cuts), strict=True)):
        root = np.sqrt(scales[i])
        A_list.append(root * a)
        b_list.append(root * (a @ (x_true + spread * offsets[i]) + noise * e))
    return LeastSquaresProblem.from_clients(A_list, b_list)
