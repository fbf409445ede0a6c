r"""Contractive compressors: TopK, RandK (unscaled or scaled) and the identity.

A compressor :math:`\mathcal C` is α-contractive (0 < α ≤ 1) if for every :math:`v \in \mathbb R^d`

.. math::

    \mathbb E\,\|\mathcal C(v) - v\|^2 \le (1 - \alpha)\|v\|^2 .

- TopK keeps the K entries of largest magnitude (ties to the lowest index: the stable order of
  (−|v_j|, j), so numpy and CuPy agree); deterministic, α = K/d, and the inequality holds on every v.
- RandK keeps a uniform random K-subset S: unscaled, :math:`\mathbb E\|\mathcal C(v) - v\|^2 =
  (1 - K/d)\|v\|^2`, α = K/d in expectation; scaled, :math:`(d/K)v_S` is unbiased with
  :math:`\mathbb E\|\mathcal C(v) - v\|^2 = (d/K - 1)\|v\|^2`, contractive only for K > d/2
  (α = 2 − d/K). Do not feed scaled RandK with K ≤ d/2 to error feedback.
- Identity sends v (α = 1); with it EF21 is gradient descent.

``compress`` works row by row on an (n, d) array (one client per row) or on one vector. TopK runs a
numba kernel on numpy input and an argsort on any array namespace (``backend="xp"``, CuPy included);
the two agree exactly, ties included. Subclass :class:`Compressor` (a frozen dataclass) for your own.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21: A New, Simpler, Theoretically Better, and Practically
Faster Error Feedback", NeurIPS 2021, arXiv 2106.05203, §2 (contractive compressors, TopK α = K/d).
S. Stich, J.-B. Cordonnier, M. Jaggi, "Sparsified SGD with Memory", NeurIPS 2018, arXiv 1809.07599.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int
from solvers._xp import array_namespace, is_cupy
from solvers.ef21 import _kernels

__all__ = [
    "Compressor",
    "Identity",
    "RandK",
    "TopK",
    "contraction_ratio",
    "randk_error_closed_form",
    "randk_expected_error",
]

Backend = Literal["auto", "numba", "xp"]
_MAX_SUBSETS = 10**6


def _as_rows(V: Any) -> tuple[Any, Any, bool]:
    """(xp, V as a float (n, d) array, whether the input was one vector)."""
    xp = array_namespace(V)
    V = xp.asarray(V)
    if V.ndim not in (1, 2):
        raise ValueError(f"V must be a vector (d,) or an array of rows (n, d), got shape {V.shape}")
    if not np.issubdtype(V.dtype, np.floating):
        V = V.astype(xp.float64)
    if V.shape[-1] < 1:
        raise ValueError("V must have at least one column (d >= 1)")
    return xp, (V[None, :] if V.ndim == 1 else V), V.ndim == 1


def _rng(rng: Any, who: str) -> Any:
    """A generator from ``rng`` (a numpy or CuPy Generator, or an int seed); raise if there is none."""
    if isinstance(rng, np.random.Generator) or type(rng).__module__.startswith("cupy"):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if rng is None:
        raise ValueError(f"rng is required by the randomized compressor {who}: pass a np.random.Generator or a seed")
    raise TypeError(f"rng must be a np.random.Generator or an int seed, got {type(rng).__name__}")


def _uniform(xp: Any, rng: Any, shape: tuple[int, ...]) -> Any:
    """Uniform [0, 1) keys in the namespace ``xp``; drawn on the host from a numpy generator."""
    if type(rng).__module__.startswith("cupy"):
        return rng.random(shape)
    return xp.asarray(rng.random(shape))


@dataclass(frozen=True)
class Compressor(ABC):
    """Base class of a contractive compressor that sends ``k`` values per vector.

    Subclasses implement :meth:`alpha` and :meth:`compress`, and override :attr:`deterministic` when
    the compressor uses no randomness. ``k`` must be an integer ≥ 1; calls with a dimension d < k
    raise a ValueError naming ``k``.
    """

    k: int

    def __post_init__(self) -> None:
        check_int("k", self.k, 1)

    def check_dim(self, d: int) -> int:
        """Return ``d`` as an int, or raise if it is not an integer ≥ 1 or is smaller than ``k``."""
        d = check_int("d", d, 1)
        if self.k is not None and self.k > d:
            raise ValueError(f"k must be in [1, d] = [1, {d}], got k = {self.k}")
        return d

    @abstractmethod
    def alpha(self, d: int) -> float:
        """The contraction parameter α in E‖C(v) − v‖² ≤ (1 − α)‖v‖² on R^d."""

    @property
    def deterministic(self) -> bool:
        """Whether C(v) depends on v only (no random draws)."""
        return False

    @abstractmethod
    def compress(self, V: Any, rng: Any = None) -> Any:
        """C applied to each row of an (n, d) array (or to one vector); a dense array of the same shape."""

    def values_sent(self, d: int) -> int:
        """Number of values in one message on R^d (K; d for the identity)."""
        self.check_dim(d)
        return int(self.k)

    @property
    def name(self) -> str:
        """Short label, e.g. ``Top1``."""
        return f"{type(self).__name__}{self.k}"


@dataclass(frozen=True)
class TopK(Compressor):
    """Keep the k entries of largest magnitude of each row, ties to the lowest index (α = k/d)."""

    def alpha(self, d: int) -> float:
        return self.k / self.check_dim(d)

    @property
    def deterministic(self) -> bool:
        return True

    @property
    def name(self) -> str:
        return f"Top{self.k}"

    def compress(self, V: Any, rng: Any = None, *, backend: Backend = "auto") -> Any:
        """TopK of each row.

        Parameters
        ----------
        V
            (n, d) or (d,) array, numpy or CuPy.
        rng
            Unused (TopK is deterministic).
        backend
            ``"numba"`` (numpy input only), ``"xp"`` (a stable argsort of −|V| in the array's namespace,
            the CuPy path) or ``"auto"`` (numba for numpy input). Both give the same array.
        """
        xp, R, vector = _as_rows(V)
        self.check_dim(R.shape[1])
        if backend not in ("auto", "numba", "xp"):
            raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
        if backend == "numba" and xp is not np:
            raise ValueError("backend='numba' needs numpy input; use backend='xp' for CuPy arrays")
        if xp is np and backend != "xp":
            out = np.zeros(R.shape, dtype=R.dtype)
            _kernels.topk_rows(np.ascontiguousarray(R), self.k, out)
        else:
            out = topk_xp(R, self.k)
        return out[0] if vector else out


def topk_xp(R: Any, k: int) -> Any:
    """TopK of each row of R (n, d) by a stable argsort of −|R| (numpy, or CuPy, whose sort is stable)."""
    xp = array_namespace(R)
    key = -xp.abs(R)
    order = xp.argsort(key, axis=1) if is_cupy(R) else np.argsort(key, axis=1, kind="stable")
    rows = xp.arange(R.shape[0])[:, None]
    keep = order[:, :k]
    out = xp.zeros_like(R)
    out[rows, keep] = R[rows, keep]
    return out


@dataclass(frozen=True)
class RandK(Compressor):
    """Keep a uniform random k-subset of each row; ``scaled`` multiplies it by d/k (unbiased).

    Unscaled: α = k/d. Scaled: α = 2 − d/k, contractive only for k > d/2 (``alpha`` raises otherwise).
    """

    scaled: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.scaled, bool | np.bool_):
            raise TypeError(f"scaled must be a bool, got {type(self.scaled).__name__}")

    def alpha(self, d: int) -> float:
        d = self.check_dim(d)
        if not self.scaled:
            return self.k / d
        if 2 * self.k <= d:
            raise ValueError(f"scaled RandK is not contractive for k <= d/2; do not use it with error feedback "
                             f"(k = {self.k}, d = {d})")
        return 2.0 - d / self.k

    @property
    def name(self) -> str:
        return f"Rand{self.k}" + ("-scaled" if self.scaled else "")

    def compress(self, V: Any, rng: Any = None) -> Any:
        """RandK of each row, subsets independent across rows.

        Row i keeps the k entries with the smallest of d uniform keys drawn by ``rng.random((n, d))``
        (a uniform k-subset); drawing row by row with ``rng.random(d)`` gives the same subsets. With a
        numpy generator and CuPy input the keys are drawn on the host and copied to the device.
        """
        xp, R, vector = _as_rows(V)
        d = self.check_dim(R.shape[1])
        rng = _rng(rng, self.name)
        keys = _uniform(xp, rng, R.shape)
        kth = xp.partition(keys, self.k - 1, axis=1)[:, self.k - 1:self.k]
        kept = R * (d / self.k) if self.scaled else R
        out = xp.where(keys <= kth, kept, xp.zeros((), dtype=R.dtype))
        return out[0] if vector else out


@dataclass(frozen=True)
class Identity(Compressor):
    """No compression: C(v) = v, α = 1 (sends all d values; ``k`` is None)."""

    k: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        pass

    def alpha(self, d: int) -> float:
        self.check_dim(d)
        return 1.0

    @property
    def deterministic(self) -> bool:
        return True

    def values_sent(self, d: int) -> int:
        return self.check_dim(d)

    @property
    def name(self) -> str:
        return "Identity"

    def compress(self, V: Any, rng: Any = None) -> Any:
        xp, R, vector = _as_rows(V)
        out = xp.array(R, copy=True)
        return out[0] if vector else out


def contraction_ratio(compressor: Compressor, V: Any, rng: Any = None) -> Any:
    r"""Per-row :math:`\|\mathcal C(v) - v\|^2/\|v\|^2` (0 for zero rows); a float for one vector.

    For an α-contractive deterministic compressor every entry is at most 1 − α (up to rounding).
    """
    if not isinstance(compressor, Compressor):
        raise TypeError(f"compressor must be a Compressor, got {type(compressor).__name__}")
    xp, R, vector = _as_rows(V)
    C = compressor.compress(R, rng)
    num = ((C - R) ** 2).sum(axis=1)
    den = (R**2).sum(axis=1)
    ratio = xp.where(den > 0, num / xp.where(den > 0, den, 1.0), 0.0)
    return float(ratio[0]) if vector else ratio


def _check_v_k(v: Any, k: int) -> tuple[np.ndarray, int, int]:
    v = np.asarray(v, dtype=float)
    if v.ndim != 1 or v.size < 1:
        raise ValueError(f"v must be a non-empty vector, got shape {v.shape}")
    d = v.size
    k = check_int("k", k, 1)
    if k > d:
        raise ValueError(f"k must be in [1, d] = [1, {d}], got k = {k}")
    return v, k, d


def randk_expected_error(v: Any, k: int, scaled: bool = False) -> float:
    r"""Exact :math:`\mathbb E\|\mathcal C(v) - v\|^2` of RandK, by enumerating all C(d, k) subsets.

    Unscaled, a subset S leaves :math:`\sum_{j\notin S} v_j^2`; scaled, it also leaves
    :math:`(d/k - 1)^2 \sum_{j\in S} v_j^2`. The mean over subsets is the expectation. Raises a
    ValueError if C(d, k) > 10⁶. Compare with :func:`randk_error_closed_form`.
    """
    v, k, d = _check_v_k(v, k)
    count = math.comb(d, k)
    if count > _MAX_SUBSETS:
        raise ValueError(f"C(d, k) = C({d}, {k}) = {count} subsets exceed the enumeration limit {_MAX_SUBSETS}")
    sq = v * v
    total_sq = float(sq.sum())
    factor = (d / k - 1.0) ** 2 if scaled else 0.0
    acc = 0.0
    subsets = itertools.combinations(range(d), k)
    chunk = max(1, 100_000 // k)
    while True:
        block = np.fromiter(itertools.chain.from_iterable(itertools.islice(subsets, chunk)), dtype=np.int64)
        if block.size == 0:
            break
        kept = sq[block.reshape(-1, k)].sum(axis=1)
        acc += float(((total_sq - kept) + factor * kept).sum())
    return acc / count


def randk_error_closed_form(v: Any, k: int, scaled: bool = False) -> float:
    r"""Closed form of the RandK error: :math:`(1 - k/d)\|v\|^2`, or :math:`(d/k - 1)\|v\|^2` scaled."""
    v, k, d = _check_v_k(v, k)
    sq = float(v @ v)
    return (d / k - 1.0) * sq if scaled else (1.0 - k / d) * sq
