r"""The observed entries Ω of an m×n matrix, kept sorted by row (CSR) and by column (CSC).

An :class:`Observations` never holds a dense m×n mask or matrix. It stores the |Ω| entries once, in CSR
order (by row, then column), with ``row_ptr`` (m+1 offsets: row i owns positions
``row_ptr[i]:row_ptr[i+1]``), and the permutation ``csc_perm`` that lists the same positions in CSC
order (by column, then row) with ``col_ptr`` (n+1 offsets). The U-steps of AltMin read the CSR order;
the V-steps read :meth:`Observations.transpose`, which gathers the entries into CSC order once and
caches the result (the transpose of the transpose is the original object).

Every function works on numpy arrays and, where the operations are plain array operations (sorting,
segment offsets, gathers), on CuPy arrays through the namespace of the inputs.

References
----------
Spec ``matrix_completion.md`` §2 (sampling model, p̂ = |Ω|/(mn)) and §3.2 (two sorted orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers._checks import check_int, check_rng
from solvers._xp import array_namespace, is_cupy, to_numpy

__all__ = ["Observations", "observations"]


@dataclass(frozen=True, eq=False)
class Observations:
    """Observed entries of an m×n matrix, in CSR order with a CSC permutation.

    Build with :func:`observations` (validated); the constructor trusts its arguments.

    Attributes
    ----------
    shape
        (m, n).
    rows, cols
        (|Ω|,) int64 indices in CSR order (sorted by row, then column).
    values
        (|Ω|,) float64 observed values M_ij in the same order.
    row_ptr
        (m+1,) int64: row i owns positions ``row_ptr[i]:row_ptr[i+1]``.
    csc_perm
        (|Ω|,) int64: the CSR positions listed in CSC order (by column, then row).
    col_ptr
        (n+1,) int64: column j owns ``csc_perm[col_ptr[j]:col_ptr[j+1]]``.
    """

    shape: tuple[int, int]
    rows: Any
    cols: Any
    values: Any
    row_ptr: Any
    csc_perm: Any
    col_ptr: Any

    @property
    def nnz(self) -> int:
        """|Ω|, the number of observed entries."""
        return int(self.rows.shape[0])

    @property
    def p_hat(self) -> float:
        """p̂ = |Ω|/(mn), the estimate of the sampling probability."""
        m, n = self.shape
        return self.nnz / (m * n)

    def ratio(self, k: int) -> float:
        """The oversampling ratio r = |Ω|/(k(m+n−k)) for rank k (spec §2)."""
        m, n = self.shape
        return self.nnz / (k * (m + n - k))

    @property
    def row_counts(self) -> Any:
        """(m,) |Ω_i|, the number of observed entries of each row."""
        return self.row_ptr[1:] - self.row_ptr[:-1]

    @property
    def col_counts(self) -> Any:
        """(n,) the number of observed entries of each column."""
        return self.col_ptr[1:] - self.col_ptr[:-1]

    def transpose(self) -> Observations:
        """The observations of Mᵀ: rows and columns swap roles; CSC order becomes the CSR order.

        The entries are gathered into column order once; the result is cached, and its own transpose
        is ``self``.
        """
        cached = self.__dict__.get("_transposed")
        if cached is not None:
            return cached
        xp = array_namespace(self.rows)
        perm = self.csc_perm
        inv = xp.empty_like(perm)
        inv[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
        t = Observations(shape=(self.shape[1], self.shape[0]), rows=self.cols[perm], cols=self.rows[perm],
                         values=self.values[perm], row_ptr=self.col_ptr, csc_perm=inv, col_ptr=self.row_ptr)
        object.__setattr__(self, "_transposed", t)
        object.__setattr__(t, "_transposed", self)
        return t

    def to_scipy(self) -> Any:
        """The observed entries as a ``scipy.sparse.csr_matrix`` (``cupyx`` CSR for CuPy arrays)."""
        if is_cupy(self.values):
            import cupyx.scipy.sparse as cusp

            return cusp.csr_matrix((self.values, self.cols, self.row_ptr), shape=self.shape)
        import scipy.sparse as sp

        return sp.csr_matrix((self.values, self.cols, self.row_ptr), shape=self.shape)

    def with_values(self, values: Any) -> Observations:
        """The same index set Ω with other values (length |Ω|, CSR order)."""
        xp = array_namespace(self.rows, values)
        values = xp.asarray(values, dtype=xp.float64)
        if values.shape != self.values.shape:
            raise ValueError(f"values must have shape {tuple(self.values.shape)}, got {tuple(values.shape)}")
        if not bool(xp.all(xp.isfinite(values))):
            raise ValueError("values must be finite")
        return Observations(self.shape, self.rows, self.cols, values, self.row_ptr, self.csc_perm, self.col_ptr)

    def subset(self, mask: Any) -> Observations:
        """The observations at the CSR positions where ``mask`` is true (may be empty)."""
        xp = array_namespace(self.rows, mask)
        mask = xp.asarray(mask, dtype=bool)
        if mask.shape != self.rows.shape:
            raise ValueError(f"mask must have shape {tuple(self.rows.shape)}, got {tuple(mask.shape)}")
        return _from_csr_sorted(self.rows[mask], self.cols[mask], self.values[mask], self.shape)

    def split(self, parts: int, rng: np.random.Generator | int | None) -> list[Observations]:
        """Sample splitting: label every entry ``rng.integers(0, parts, |Ω|)`` and return the parts.

        Parts are returned in label order and may be empty when |Ω| is small. The labels are drawn on
        the host (in CSR order), so the same seed gives the same split on numpy and CuPy.
        """
        parts = check_int("parts", parts, 1)
        rng = check_rng(rng)
        labels = rng.integers(0, parts, self.nnz)
        xp = array_namespace(self.rows)
        labels = xp.asarray(labels)
        return [self.subset(labels == q) for q in range(parts)]




def _offsets(xp: Any, idx: Any, size: int) -> Any:
    """(size+1,) segment offsets of a sorted index array."""
    counts = xp.bincount(idx, minlength=size) if idx.shape[0] else xp.zeros(size, dtype=xp.int64)
    ptr = xp.zeros(size + 1, dtype=xp.int64)
    ptr[1:] = xp.cumsum(counts)
    return ptr


def _from_csr_sorted(rows: Any, cols: Any, values: Any, shape: tuple[int, int]) -> Observations:
    """Build from entries already in CSR order, without validation (may be empty)."""
    xp = array_namespace(rows, cols, values)
    m, n = shape
    csc_perm = xp.lexsort(xp.stack([rows, cols])).astype(xp.int64)  # stable: rows stay sorted within a column
    return Observations(shape=(m, n), rows=rows, cols=cols, values=values, row_ptr=_offsets(xp, rows, m),
                        csc_perm=csc_perm, col_ptr=_offsets(xp, cols[csc_perm], n))


def _check_index(name: str, xp: Any, a: Any) -> Any:
    a = a if is_cupy(a) else np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {tuple(a.shape)}")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
    return a.astype(xp.int64)


def observations(rows: Any, cols: Any, values: Any, shape: tuple[int, int]) -> Observations:
    r"""Validate observed entries (i, j, M_ij) of an m×n matrix and store them in CSR/CSC order.

    Parameters
    ----------
    rows, cols
        Integer index arrays of equal length |Ω| ≥ 1, 0 ≤ rows < m, 0 ≤ cols < n, with no repeated
        pair (i, j). Any order.
    values
        The |Ω| finite observed values.
    shape
        (m, n), both positive integers.

    Returns
    -------
    Observations
        Entries sorted by row then column, with ``row_ptr`` and the CSC permutation ``csc_perm`` /
        ``col_ptr``; never a dense mask.

    Raises
    ------
    ValueError, TypeError
        Naming the argument and the rule it broke, before any work.
    """
    if (not isinstance(shape, tuple | list) or len(shape) != 2
            or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in shape)):
        raise TypeError(f"shape must be a pair of integers (m, n), got {shape!r}")
    m, n = int(shape[0]), int(shape[1])
    if m < 1 or n < 1:
        raise ValueError(f"shape must have m >= 1 and n >= 1, got {(m, n)}")
    xp = array_namespace(rows, cols, values)
    rows = _check_index("rows", xp, rows)
    cols = _check_index("cols", xp, cols)
    values = values if is_cupy(values) else np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {tuple(values.shape)}")
    real = np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)
    if values.dtype == bool or not real:
        raise TypeError(f"values must be a real array, got dtype {values.dtype}")
    if cols.shape[0] != rows.shape[0]:
        raise ValueError(f"cols must have the same length as rows ({rows.shape[0]}), got {cols.shape[0]}")
    if values.shape[0] != rows.shape[0]:
        raise ValueError(f"values must have the same length as rows ({rows.shape[0]}), got {values.shape[0]}")
    if rows.shape[0] == 0:
        raise ValueError("rows must be non-empty: at least one observed entry is needed")
    if int(rows.min()) < 0 or int(rows.max()) >= m:
        raise ValueError(f"rows must lie in [0, m) = [0, {m}), got range [{int(rows.min())}, {int(rows.max())}]")
    if int(cols.min()) < 0 or int(cols.max()) >= n:
        raise ValueError(f"cols must lie in [0, n) = [0, {n}), got range [{int(cols.min())}, {int(cols.max())}]")
    values = values.astype(xp.float64)
    if not bool(xp.all(xp.isfinite(values))):
        raise ValueError("values must be finite, got non-finite entries")
    order = xp.lexsort(xp.stack([cols, rows]))  # by row, then column
    rows, cols, values = rows[order], cols[order], values[order]
    dup = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
    if bool(xp.any(dup)):
        q = int(to_numpy(xp.nonzero(dup)[0])[0])
        raise ValueError(f"rows, cols must not repeat a pair (i, j): ({int(rows[q])}, {int(cols[q])}) appears twice")
    return _from_csr_sorted(rows, cols, values, (m, n))
