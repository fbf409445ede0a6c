r"""Robust alternating minimization for matrix completion (spec §3.1), with its per-round history.

The algorithm (Gu–Song–Yin–Zhang 2024, Algorithm 1, in the JNS13 form with warm starts)::

    p̂ = |Ω|/(mn)
    split=True : part = rng.integers(0, 2T+1, |Ω|),  p' = p̂/(2T+1)      # theory-faithful
    split=False: part = 0 everywhere,                p' = p̂             # practical default
    U0, S0, W0 = top-k SVD of the sparse matrix (vals/p') on part 0   (sorted descending)
    trim="entries": U0[|U0| > 2μ√(k/m)] = 0;  "rows": rescale rows with norm > 2μ√(k/m) to it;  None: skip
    U, R0 = qr(U0);  warmV = W0·S0·R0ᵀ
    for t in 0..T-1:
        Ωa = part == t+1;  Ωb = part == T+t+1                        # both Ω when split=False
        Vf = solver(design=U, Ωa by column, warm=warmV);  V, Rv = qr(Vf)
        Uf = solver(design=V, Ωb by row,    warm=U·Rvᵀ);  U, Ru = qr(Uf)
        warmV = V·Ruᵀ

Warm starts rewrite the previous estimate in the new basis: M ≈ U·Vfᵀ = (U·Rvᵀ)·Vᵀ, and
M ≈ Uf·Vᵀ = U·(V·Ruᵀ)ᵀ, so a solver warm-started there begins where the last half-step ended (a warm
start left in the old basis slows CG badly, spec §7). The m×n product is never formed: errors come
from :mod:`~solvers.matrix_completion.metrics`.

On CuPy observations every array of the loop stays on the device (the row solvers' xp path, batched
``qr``); a round reads scalars only: the finiteness and norm tests of the divergence rule, the flop
counts, and the history's res_Ω, μ and (with a truth) dist and relF.

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
Nearly Linear Time", ICLR 2024, arXiv:2302.11068 (Algorithm 1; Theorem 1.1 = claim MC1).
P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank Matrix Completion using Alternating Minimization",
STOC 2013, arXiv:1212.0467 (Algorithm 2: spectral initialisation, clipping, sample splitting).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive, check_rng
from solvers._xp import array_namespace, is_cupy, to_numpy
from solvers.matrix_completion import _kernels as K
from solvers.matrix_completion.metrics import Truth, coherence, rel_error, sampled_residual, subspace_dist
from solvers.matrix_completion.observations import Observations
from solvers.matrix_completion.row_solvers import Backend, Solver, cg, exact, sketch_precond

__all__ = ["AltMinResult", "History", "altmin", "check_rank", "check_truth", "predict", "top_k_svd"]

Status = Literal["converged", "max_rounds", "stagnated", "diverged", "underdetermined"]
Trim = Literal["entries", "rows"] | None

# A fixed ARPACK start vector, so that runs that need no randomness (split=False, deterministic
# solvers) need no generator and still give the same bits every time.
_V0_SEED = 0x5EED


@dataclass(frozen=True)
class History:
    """One entry per round t = 0..rounds (t = 0 is the spectral initialisation U·warmVᵀ).

    ``dist_U``, ``dist_V`` and ``relF`` are None when no truth was given. ``flops`` counts the row
    solves (cumulative; the initial SVD is not counted); ``time`` is cumulative wall time in seconds,
    initialisation included.
    """

    round: np.ndarray
    dist_U: np.ndarray | None
    dist_V: np.ndarray | None
    relF: np.ndarray | None
    res_omega: np.ndarray
    mu_U: np.ndarray
    mu_V: np.ndarray
    flops: np.ndarray
    time: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The recorded columns (those available), for a tidy table."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, eq=False)
class AltMinResult:
    """AltMin's answer X = U·Vᵀ (never formed unless asked) with its history and an honest status.

    Attributes
    ----------
    U
        (m, k) left factor Uf of the last U-step (not orthonormal).
    V
        (n, k) orthonormal right factor.
    status
        ``"converged"`` (res_Ω < tol), ``"max_rounds"``, ``"stagnated"`` (res_Ω stopped improving),
        ``"diverged"`` (a non-finite iterate: the last finite factors are returned), or
        ``"underdetermined"``: some row or column has fewer than k observations, or |Ω| < k(m+n−k)
        (r < 1), so no method can identify M (MC8); ``stop_reason`` then says how the iteration ended.
    stop_reason
        How the iteration ended: one of the first four statuses.
    rounds
        Rounds completed.
    history
        :class:`History`.
    flops
        Multiply-adds of all row solves.
    message
        A sentence explaining the status.
    underdetermined_rows, underdetermined_cols
        Indices of rows/columns with fewer than k observed entries.
    mu
        The μ used for trimming (None: no trimming).
    trimmed
        Entries (trim="entries") or rows (trim="rows") changed by trimming.
    """

    U: Any
    V: Any
    status: Status
    stop_reason: str
    rounds: int
    history: History
    flops: int
    message: str
    underdetermined_rows: np.ndarray
    underdetermined_cols: np.ndarray
    mu: float | None
    trimmed: int

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n)."""
        return (int(self.U.shape[0]), int(self.V.shape[0]))

    @property
    def ok(self) -> bool:
        """True when the run converged on an identifiable instance."""
        return self.status == "converged"

    def predict(self, rows: Any, cols: Any) -> Any:
        """X_ij = ⟨U_i, V_j⟩ at the given index pairs."""
        return predict(self.U, self.V, rows, cols)

    def to_dense(self) -> Any:
        """The m×n matrix U·Vᵀ (only when asked: it costs mn memory)."""
        return self.U @ self.V.T

    def rel_error(self, truth: Truth | tuple) -> float:
        """relF = ‖UVᵀ − M‖_F/‖M‖_F from the factors (spec §7)."""
        return rel_error(self.U, self.V, check_truth(truth, self.shape, self.U.shape[1]))


def predict(F: Any, G: Any, rows: Any, cols: Any) -> Any:
    """⟨F_i, G_j⟩ for every pair (rows[q], cols[q]) (numba on numpy)."""
    xp = array_namespace(F, G)
    rows = xp.asarray(rows, dtype=xp.int64).reshape(-1)
    cols = xp.asarray(cols, dtype=xp.int64).reshape(-1)
    if rows.shape != cols.shape:
        raise ValueError(f"cols must have the same length as rows ({rows.shape[0]}), got {cols.shape[0]}")
    if rows.shape[0] and (int(rows.min()) < 0 or int(rows.max()) >= F.shape[0]):
        raise ValueError(f"rows must lie in [0, {F.shape[0]})")
    if cols.shape[0] and (int(cols.min()) < 0 or int(cols.max()) >= G.shape[0]):
        raise ValueError(f"cols must lie in [0, {G.shape[0]})")
    if xp is np:
        out = np.empty(rows.shape[0])
        K.sampled_product(rows, cols, np.ascontiguousarray(F, dtype=float), np.ascontiguousarray(G, dtype=float), out)
        return out
    return xp.sum(F[rows] * G[cols], axis=1)


def check_rank(k: Any, shape: tuple[int, int]) -> int:
    """k as an int with 1 ≤ k ≤ min(m, n), or a ValueError/TypeError naming ``k``."""
    k = check_int("k", k, 1)
    if k > min(shape):
        raise ValueError(f"k must be <= min(m, n) = {min(shape)}, got {k}")
    return k


def check_truth(truth: Any, shape: tuple[int, int], k: int) -> Truth:
    """(U*, V*, s) as a :class:`Truth` with shapes (m, k), (n, k), (k,), or a ValueError naming ``truth``."""
    if not isinstance(truth, tuple) or len(truth) != 3:
        raise TypeError("truth must be a tuple (U*, V*, singular values)")
    xp = array_namespace(*truth)
    U, V, s = (t if is_cupy(t) else np.asarray(t, dtype=float) for t in truth)
    m, n = shape
    if U.shape != (m, k) or V.shape != (n, k) or s.shape != (k,):
        raise ValueError(f"truth must have shapes ({m}, {k}), ({n}, {k}), ({k},); got "
                         f"{tuple(U.shape)}, {tuple(V.shape)}, {tuple(s.shape)}")
    if not all(bool(xp.all(xp.isfinite(t))) for t in (U, V, s)):
        raise ValueError("truth must be finite")
    return Truth(U, V, s)


def _check_solver(solver: Any) -> Solver:
    if isinstance(solver, str):
        table = {"cg": lambda: cg(3), "exact": exact, "sketch_precond": sketch_precond}
        if solver not in table:
            raise ValueError(f"solver must be 'cg', 'exact', 'sketch_precond' or a solver object, got {solver!r}")
        return table[solver]()
    if not callable(getattr(solver, "solve", None)):
        raise TypeError(f"solver must be a name or an object with a solve method, got {type(solver).__name__}")
    return solver


def top_k_svd(obs: Observations, k: int, scale: float = 1.0) -> tuple[Any, Any, Any]:
    """Top-k SVD (U (m,k), s (k,) descending, W (n,k)) of the sparse matrix scale·P_Ω(M).

    ARPACK (``scipy.sparse.linalg.svds``) from a fixed start vector; a dense SVD when the matrix is small
    (mn ≤ 40 000) or k ≥ min(m, n) − 1, where ARPACK does not apply. ``svds`` returns ascending
    singular values: they are sorted descending here.
    """
    m, n = obs.shape
    xp = array_namespace(obs.values)
    if m * n <= 40_000 or k >= min(m, n) - 1:
        D = xp.zeros((m, n))
        D[obs.rows, obs.cols] = obs.values * scale
        U, s, Wt = xp.linalg.svd(D, full_matrices=False)
        return U[:, :k], s[:k], Wt[:k].T
    A = obs.to_scipy() * scale
    if xp is np:
        from scipy.sparse.linalg import svds

        v0 = np.random.default_rng(_V0_SEED).standard_normal(min(m, n))
        U, s, Wt = svds(A, k=k, v0=v0, solver="arpack")
    else:  # pragma: no cover - needs CuPy
        from cupyx.scipy.sparse.linalg import svds

        U, s, Wt = svds(A, k=k)
    order = xp.argsort(-s)
    return U[:, order], s[order], Wt[order].T




def altmin(obs: Observations, k: int, *, T: int = 40, solver: str | Solver = "cg", mu: float | None = None,
           trim: Trim = "entries", split: bool = False, rng: np.random.Generator | int | None = None,
           truth: Truth | tuple | None = None, tol: float = 1e-13, patience: int | None = 5,
           stall_rtol: float = 1e-3, divergence: float = 1e6, backend: Backend = "auto") -> AltMinResult:
    r"""Complete a rank-k matrix from its observed entries by (robust) alternating minimization.

    Parameters
    ----------
    obs
        The observed entries (:func:`~solvers.matrix_completion.observations.observations`).
    k
        Target rank, 1 ≤ k ≤ min(m, n).
    T
        Maximum number of rounds (one V-step and one U-step each).
    solver
        ``"cg"`` (= :func:`~.row_solvers.cg` (3), the spec's default), ``"exact"``, ``"sketch_precond"``,
        or a solver object (:func:`~.row_solvers.cg`, :func:`~.row_solvers.exact`,
        :func:`~.row_solvers.sketch_precond`, :func:`~.row_solvers.inject`).
    mu
        Incoherence bound used by trimming at 2μ√(k/m). None: the true max(μ(U*), μ(V*)) when ``truth``
        is given, else no trimming (an underestimated μ wrecks the initialisation, spec §7).
    trim
        ``"entries"`` (JNS13 clipping), ``"rows"`` (rescale long rows) or None.
    split
        Sample splitting into 2T+1 parts (theory mode; divides p by 2T+1).
    rng
        Generator or seed: needed by ``split=True`` and by randomized solvers without their own.
    truth
        (U*, V*, singular values), for the diagnostics dist, relF (never used by the algorithm).
    tol
        Stop once res_Ω < tol.
    patience, stall_rtol
        Stop as stagnated when res_Ω has not dropped below (1 − stall_rtol)·(best so far) for
        ``patience`` consecutive rounds (None: never).
    divergence
        Stop as diverged when ‖X_t‖_F = ‖U_f‖_F (V orthonormal) exceeds ``divergence`` times the estimate
        ‖P_Ω(M)‖_F/√p̂ of ‖M‖_F: an iterate that has blown up off Ω although it may still fit Ω. The last
        factors within the limit are returned.
    backend
        ``"auto"``, ``"numba"`` or ``"xp"`` for the row solvers.

    Returns
    -------
    AltMinResult
        Factors (Uf, V) with X = Uf·Vᵀ, the per-round :class:`History` (dist(U_t, U*) = ‖U* − U_t(U_tᵀU*)‖₂,
        dist(V_t, V*), relF by the QR-of-factors trick, res_Ω, μ(U_t), μ(V_t), cumulative flops and
        time) and a status. Never raises on a hopeless instance: rows or columns with fewer than k
        observations, or r < 1, give status ``"underdetermined"`` with the offending indices.

    References
    ----------
    Gu, Song, Yin, Zhang, ICLR 2024, Algorithm 1 and Theorem 1.1; Jain, Netrapalli, Sanghavi, STOC 2013,
    Algorithm 2 and Theorem 2.
    """
    if not isinstance(obs, Observations):
        raise TypeError(f"obs must be Observations, got {type(obs).__name__}")
    m, n = obs.shape
    k = check_rank(k, obs.shape)
    T = check_int("T", T, 1)
    solver = _check_solver(solver)
    if mu is not None:
        mu = check_positive("mu", mu)
    if trim not in ("entries", "rows", None):
        raise ValueError(f"trim must be 'entries', 'rows' or None, got {trim!r}")
    if not isinstance(split, bool):
        raise TypeError(f"split must be a bool, got {type(split).__name__}")
    rng = check_rng(rng, allow_none=True)
    if split and rng is None:
        raise TypeError("rng must be a numpy Generator or an int seed when split=True")
    if rng is None and hasattr(solver, "rng") and solver.rng is None:
        raise TypeError(f"rng must be a numpy Generator or an int seed: solver {solver.name!r} is randomized "
                        "and has no generator of its own")
    if truth is not None:
        truth = check_truth(truth, obs.shape, k)
    tol = check_positive("tol", tol, allow_zero=True)
    if patience is not None:
        patience = check_int("patience", patience, 1)
    stall_rtol = check_positive("stall_rtol", stall_rtol, allow_zero=True)
    divergence = check_positive("divergence", divergence)
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")

    xp = array_namespace(obs.values)
    t0 = time.perf_counter()
    if split:
        parts = obs.split(2 * T + 1, rng)
        p_prime = obs.p_hat / (2 * T + 1)
    else:
        parts = None
        p_prime = obs.p_hat
    part0 = parts[0] if split else obs
    U0, S0, W0 = top_k_svd(part0, k, 1.0 / p_prime) if part0.nnz else (
        xp.zeros((m, k)), xp.zeros(k), xp.zeros((n, k)))
    if mu is None and truth is not None:
        mu = max(coherence(truth.U), coherence(truth.V))
    trimmed = 0
    if trim is not None and mu is not None:
        tau = 2.0 * mu * np.sqrt(k / m)
        if trim == "entries":
            big = xp.abs(U0) > tau
            trimmed = int(xp.sum(big))
            U0 = xp.where(big, 0.0, U0)
        else:
            norms = xp.sqrt(xp.sum(U0 * U0, axis=1))
            big = norms > tau
            trimmed = int(xp.sum(big))
            U0 = U0 * xp.where(big, tau / xp.where(big, norms, 1.0), 1.0)[:, None]
    U, R0 = xp.linalg.qr(U0)
    warmV = (W0 * S0[None, :]) @ R0.T
    V = W0

    rec: dict[str, list] = {key: [] for key in ("dist_U", "dist_V", "relF", "res_omega", "mu_U", "mu_V",
                                                 "flops", "time")}
    flops = 0

    def record(Ul: Any, Vl: Any, F: Any, G: Any) -> float:
        res = sampled_residual(obs, F, G)
        if truth is not None:
            rec["dist_U"].append(subspace_dist(Ul, truth.U))
            rec["dist_V"].append(subspace_dist(Vl, truth.V))
            rec["relF"].append(rel_error(F, G, truth))
        rec["res_omega"].append(res)
        rec["mu_U"].append(coherence(Ul))
        rec["mu_V"].append(coherence(Vl))
        rec["flops"].append(flops)
        rec["time"].append(time.perf_counter() - t0)
        return res

    res = record(U, V, U, warmV)
    norm_limit = divergence * float(xp.linalg.norm(obs.values)) / np.sqrt(obs.p_hat)
    Uf, best, stall, rounds = U, res, 0, 0
    stop = "max_rounds"
    if not np.isfinite(res):
        stop = "diverged"
    elif res < tol:
        stop = "converged"
    else:
        for t in range(T):
            oa = parts[t + 1] if split else obs
            ob = parts[T + t + 1] if split else obs
            sv = solver.solve(oa.transpose(), U, warmV, rng=rng, backend=backend)
            if not bool(xp.all(xp.isfinite(sv.X))):
                stop = "diverged"
                break
            V_new, Rv = xp.linalg.qr(sv.X)
            su = solver.solve(ob, V_new, U @ Rv.T, rng=rng, backend=backend)
            if not bool(xp.all(xp.isfinite(su.X))) or float(xp.linalg.norm(su.X)) > norm_limit:
                stop = "diverged"
                break
            flops += sv.flops + su.flops
            Uf, V = su.X, V_new
            U, Ru = xp.linalg.qr(Uf)
            warmV = V @ Ru.T
            rounds = t + 1
            res = record(U, V, Uf, V)
            if res < tol:
                stop = "converged"
                break
            if res < (1.0 - stall_rtol) * best:
                best, stall = res, 0
            else:
                stall += 1
                if patience is not None and stall >= patience:
                    stop = "stagnated"
                    break
    if rounds == 0:  # the answer is the initialisation U·warmVᵀ
        Uf, V = U, warmV

    bad_r = np.nonzero(to_numpy(obs.row_counts) < k)[0]
    bad_c = np.nonzero(to_numpy(obs.col_counts) < k)[0]
    r_ratio = obs.ratio(k)
    status: Status = stop  # type: ignore[assignment]
    msgs = {"converged": f"res_Ω < {tol:g} after {rounds} rounds",
            "max_rounds": f"T = {T} rounds done, res_Ω = {res:.3g}",
            "stagnated": f"res_Ω stopped improving at {best:.3g} after {rounds} rounds",
            "diverged": f"a non-finite iterate, or one above {divergence:g}·‖P_Ω(M)‖_F/√p̂ in norm, in round "
                        f"{rounds + 1}; the last factors within the limit are returned"}
    message = msgs[stop]
    if bad_r.size or bad_c.size or r_ratio < 1:
        status = "underdetermined"
        message = (f"not identifiable: {bad_r.size} rows and {bad_c.size} columns have fewer than k = {k} "
                   f"observations, oversampling r = {r_ratio:.3g} (r < 1 means fewer samples than degrees of "
                   f"freedom); the iteration ended as {stop}: {message}")
    hist = History(round=np.arange(rounds + 1), dist_U=np.array(rec["dist_U"]) if truth is not None else None,
                   dist_V=np.array(rec["dist_V"]) if truth is not None else None,
                   relF=np.array(rec["relF"]) if truth is not None else None,
                   res_omega=np.array(rec["res_omega"]), mu_U=np.array(rec["mu_U"]), mu_V=np.array(rec["mu_V"]),
                   flops=np.array(rec["flops"], dtype=np.int64), time=np.array(rec["time"]))
    return AltMinResult(U=Uf, V=V, status=status, stop_reason=stop, rounds=rounds, history=hist, flops=int(flops),
                        message=message, underdetermined_rows=bad_r, underdetermined_cols=bad_c, mu=mu,
                        trimmed=trimmed)
