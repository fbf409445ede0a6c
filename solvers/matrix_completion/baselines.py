r"""Baselines of matrix completion (spec §3.3): zero-filled SVD, SoftImpute and nuclear-norm minimisation.

- :func:`zero_filled_svd`: the best rank-k approximation of P_Ω(M)/p̂ (AltMin's initialisation
  without trimming).
- :func:`soft_impute` (Mazumder–Hastie–Tibshirani 2010): Z ← S_λ(P_Ω(M) + P_Ω⊥(Z)) along a
  warm-started path of λ decreasing geometrically from ‖P_Ω(M)‖₂, where S_λ soft-thresholds the
  singular values. The iterate is kept as factors Z = U·diag(d)·Vᵀ and the matrix to decompose as
  "sparse plus low rank", P_Ω(M) + P_Ω⊥(Z) = (P_Ω(M) − P_Ω(Z)) + Z, applied through a
  ``scipy.sparse.linalg.LinearOperator`` to ``svds``: the dense Z is never formed.
- :func:`nuclear_norm`: min ‖X‖_* s.t. X_ij = M_ij on Ω with cvxpy (SCS or Clarabel), dense, m, n ≤ 50
  (the recoverability ground truth of F1c).

References
----------
R. Mazumder, T. Hastie, R. Tibshirani, "Spectral Regularization Algorithms for Learning Large Incomplete
Matrices", JMLR 11 (2010), Algorithm 1 (Soft-Impute) and §5 (post-processing: the refit).
E. Candès, B. Recht, "Exact Matrix Completion via Convex Optimization", arXiv:0805.4471 (Theorem 1.3).
P. Jain, P. Netrapalli, S. Sanghavi, STOC 2013 (the zero-filled SVD as initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import to_numpy
from solvers.matrix_completion.altmin import _V0_SEED, check_rank, check_truth, predict, top_k_svd
from solvers.matrix_completion.metrics import Truth, rel_error, sampled_residual
from solvers.matrix_completion.observations import Observations

__all__ = ["LowRank", "NuclearNormResult", "SoftImputeResult", "nuclear_norm", "soft_impute", "zero_filled_svd"]


@dataclass(frozen=True, eq=False)
class LowRank:
    """X = F·Gᵀ with F (m, r), G (n, r); never formed unless asked."""

    F: Any
    G: Any

    def predict(self, rows: Any, cols: Any) -> Any:
        """X_ij at the given index pairs."""
        return predict(self.F, self.G, rows, cols)

    def to_dense(self) -> Any:
        """The m×n matrix F·Gᵀ."""
        return self.F @ self.G.T

    def rel_error(self, truth: Truth | tuple) -> float:
        """relF = ‖FGᵀ − M‖_F/‖M‖_F from the factors (spec §7)."""
        return rel_error(self.F, self.G, check_truth(truth, (self.F.shape[0], self.G.shape[0]), len(truth[2])))


def _check_obs(obs: Any) -> Observations:
    if not isinstance(obs, Observations):
        raise TypeError(f"obs must be Observations, got {type(obs).__name__}")
    return obs


def zero_filled_svd(obs: Observations, k: int) -> LowRank:
    r"""The best rank-k approximation of P_Ω(M)/p̂: X = U_k Σ_k W_kᵀ (top-k SVD of the sparse matrix).

    Returns the factors F = U_kΣ_k, G = W_k. E[P_Ω(M)/p] = M, so this is the unbiased spectral estimate
    that AltMin starts from (JNS13, Algorithm 2, step 2).
    """
    obs = _check_obs(obs)
    k = check_rank(k, obs.shape)
    U, s, W = top_k_svd(obs, k, 1.0 / obs.p_hat)
    return LowRank(F=U * s[None, :], G=W)


@dataclass(frozen=True, eq=False)
class SoftImputeResult:
    """SoftImpute's answer Z = U·diag(d)·Vᵀ, with one history entry per inner iteration.

    ``history`` has the columns ``lambda``, ``rank``, ``res_omega`` and (with truth) ``relF``, and
    ``change`` = ‖Z_new − Z_old‖_F²/‖Z_old‖_F² (MHT's convergence test). ``X`` is the final
    estimate (after the refit when asked); ``converged`` is False when some λ used up ``max_iter``.
    """

    X: LowRank
    d: np.ndarray
    lambdas: np.ndarray
    history: dict[str, np.ndarray]
    iterations: int
    converged: bool


def _diff_fro2(F1: np.ndarray, G1: np.ndarray, F0: np.ndarray, G0: np.ndarray) -> float:
    """‖F1G1ᵀ − F0G0ᵀ‖_F² by QR of the stacked factors."""
    if F1.shape[1] + F0.shape[1] == 0:
        return 0.0
    R1 = np.linalg.qr(np.concatenate([F1, -F0], axis=1), mode="r")
    R2 = np.linalg.qr(np.concatenate([G1, G0], axis=1), mode="r")
    return float(np.linalg.norm(R1 @ R2.T) ** 2)


def _top_svd_sparse_plus_lowrank(S: Any, U: np.ndarray, d: np.ndarray, V: np.ndarray, r: int,
                                 dense: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-r SVD of S + U·diag(d)·Vᵀ (S sparse), descending."""
    m, n = S.shape
    if dense:
        Y = S.toarray() + (U * d[None, :]) @ V.T
        Uy, sy, Vty = np.linalg.svd(Y, full_matrices=False)
        return Uy[:, :r], sy[:r], Vty[:r].T
    from scipy.sparse.linalg import LinearOperator, svds

    St = S.T.tocsr()
    Ud = U * d[None, :]

    def mv(x: np.ndarray) -> np.ndarray:
        return S @ x + Ud @ (V.T @ x)

    def rmv(y: np.ndarray) -> np.ndarray:
        return St @ y + V @ (Ud.T @ y)

    op = LinearOperator((m, n), matvec=mv, rmatvec=rmv, matmat=mv, rmatmat=rmv, dtype=np.float64)
    v0 = np.random.default_rng(_V0_SEED).standard_normal(min(m, n))
    Uy, sy, Vty = svds(op, k=r, v0=v0, solver="arpack")
    order = np.argsort(-sy)
    return Uy[:, order], sy[order], Vty[order].T


def soft_impute(obs: Observations, k: int | None = None, lambdas: Any = None, *, n_lambdas: int = 10,
                lambda_min_ratio: float = 1e-3, max_iter: int = 100, tol: float = 1e-5, refit: bool = True,
                truth: Truth | tuple | None = None) -> SoftImputeResult:
    r"""SoftImpute: Z_λ = argmin ½‖P_Ω(M − Z)‖_F² + λ‖Z‖_* along a decreasing path of λ.

    Each inner iteration computes Z ← S_λ(P_Ω(M) + P_Ω⊥(Z)) = S_λ((P_Ω(M) − P_Ω(Z)) + Z), the top
    singular triplets of the sparse-plus-low-rank matrix by ``svds`` on a ``LinearOperator`` (a dense SVD
    when mn ≤ 40 000), keeping σ_i − λ > 0 (at most ``k`` of them). It stops for a λ when
    ‖Z_new − Z_old‖_F²/‖Z_old‖_F² < ``tol`` or after ``max_iter`` iterations, and warm-starts the next λ.

    Parameters
    ----------
    obs
        Observed entries.
    k
        Rank cap (None: min(m, n) − 1, found adaptively).
    lambdas
        Decreasing positive λ values; None: ``n_lambdas`` values geometric from λ_max = ‖P_Ω(M)‖₂ (where
        Z = 0) down to ``lambda_min_ratio``·λ_max.
    max_iter, tol
        Inner iterations per λ and the relative-change tolerance.
    refit
        After the path, refit the singular values on Ω: d = argmin ‖P_Ω(U·diag(d)·Vᵀ − M)‖ (MHT §5,
        "post-processing"), a least-squares problem in r unknowns.
    truth
        (U*, V*, singular values), to record relF per iteration.
    """
    obs = _check_obs(obs)
    m, n = obs.shape
    kmax = min(m, n) - 1 if k is None else check_rank(k, obs.shape)
    kmax = max(1, min(kmax, min(m, n) if m * n <= 40_000 else min(m, n) - 1))
    max_iter = check_int("max_iter", max_iter, 1)
    tol = check_positive("tol", tol)
    n_lambdas = check_int("n_lambdas", n_lambdas, 1)
    lambda_min_ratio = check_positive("lambda_min_ratio", lambda_min_ratio)
    if truth is not None:
        truth = check_truth(truth, obs.shape, len(truth[2]))
    vals = to_numpy(obs.values)
    rows, cols = to_numpy(obs.rows), to_numpy(obs.cols)
    dense = m * n <= 40_000
    import scipy.sparse as sp

    if lambdas is None:
        _, s1, _ = top_k_svd(obs, 1, 1.0)
        lam_max = float(s1[0])
        lambdas = lam_max * np.geomspace(1.0, lambda_min_ratio, n_lambdas)
    else:
        lambdas = np.asarray(lambdas, dtype=float).reshape(-1)
        if lambdas.size == 0 or not np.all(np.isfinite(lambdas)) or np.any(lambdas <= 0):
            raise ValueError("lambdas must be a non-empty array of finite values > 0")
        if np.any(np.diff(lambdas) > 0):
            raise ValueError("lambdas must be non-increasing (a warm-started path)")
    U, d, V = np.zeros((m, 0)), np.zeros(0), np.zeros((n, 0))
    hist: dict[str, list] = {"lambda": [], "rank": [], "res_omega": [], "change": []}
    if truth is not None:
        hist["relF"] = []
    iters, converged = 0, True
    for lam in lambdas:
        done = False
        for _ in range(max_iter):
            pz = np.einsum("ql,ql->q", U[rows] * d[None, :], V[cols]) if d.size else np.zeros_like(vals)
            S = sp.csr_matrix((vals - pz, cols, obs.row_ptr), shape=(m, n))
            r = kmax if dense else min(kmax, max(d.size + 2, 3))
            while True:
                Uy, sy, Vy = _top_svd_sparse_plus_lowrank(S, U, d, V, r, dense)
                if dense or sy[-1] <= lam or r >= kmax:
                    break
                r = min(kmax, 2 * r)
            keep = sy > lam
            U1, d1, V1 = Uy[:, keep], sy[keep] - lam, Vy[:, keep]
            old = _diff_fro2(U * d[None, :], V, np.zeros((m, 0)), np.zeros((n, 0)))
            change = _diff_fro2(U1 * d1[None, :], V1, U * d[None, :], V) / old if old > 0 else np.inf
            U, d, V = U1, d1, V1
            iters += 1
            hist["lambda"].append(float(lam))
            hist["rank"].append(int(d.size))
            hist["res_omega"].append(sampled_residual(obs, U * d[None, :], V) if d.size else 1.0)
            hist["change"].append(float(change))
            if truth is not None:
                hist["relF"].append(rel_error(U * d[None, :], V, truth) if d.size else 1.0)
            if change < tol:
                done = True
                break
        converged &= done
    if refit and d.size:
        D = U[rows] * V[cols]
        d = np.linalg.lstsq(D, vals, rcond=None)[0]
    history = {key: np.asarray(v) for key, v in hist.items()}
    return SoftImputeResult(X=LowRank(F=U * d[None, :], G=V), d=d, lambdas=np.asarray(lambdas), history=history,
                            iterations=iters, converged=bool(converged))


@dataclass(frozen=True, eq=False)
class NuclearNormResult:
    """The cvxpy solution of min ‖X‖_* s.t. P_Ω(X) = P_Ω(M): dense X, solver status and ‖X‖_*."""

    X: np.ndarray
    status: str
    objective: float
    solver: str

    def rel_error(self, truth: Truth | tuple) -> float:
        """‖X − M‖_F/‖M‖_F (dense; m, n ≤ 50)."""
        U, V, s = (np.asarray(t, dtype=float) for t in truth)
        M = (U * s[None, :]) @ V.T
        return float(np.linalg.norm(self.X - M) / np.linalg.norm(M))


NUCLEAR_MAX = 50


def nuclear_norm(obs: Observations, solver: Literal["SCS", "CLARABEL"] = "CLARABEL", **solver_opts: Any
                 ) -> NuclearNormResult:
    r"""Nuclear-norm minimisation min ‖X‖_* s.t. X_ij = M_ij for (i, j) ∈ Ω (Candès–Recht), via cvxpy.

    Dense variables: only for m, n ≤ 50 (a ValueError naming ``obs`` otherwise). ``solver`` is
    ``"SCS"`` or ``"CLARABEL"``; extra keyword arguments go to ``problem.solve``. A failed solve is
    reported in ``status`` (X is then NaN-free zeros only if cvxpy returned nothing, flagged by status).
    """
    obs = _check_obs(obs)
    m, n = obs.shape
    if m > NUCLEAR_MAX or n > NUCLEAR_MAX:
        raise ValueError(f"obs must have m, n <= {NUCLEAR_MAX} for the dense cvxpy model, got shape {(m, n)}")
    if solver not in ("SCS", "CLARABEL"):
        raise ValueError(f"solver must be 'SCS' or 'CLARABEL', got {solver!r}")
    import cvxpy as cp

    rows, cols, vals = to_numpy(obs.rows), to_numpy(obs.cols), to_numpy(obs.values)
    mask = np.zeros((m, n))
    mask[rows, cols] = 1.0
    Mo = np.zeros((m, n))
    Mo[rows, cols] = vals
    X = cp.Variable((m, n))
    prob = cp.Problem(cp.Minimize(cp.normNuc(X)), [cp.multiply(mask, X) == Mo])
    try:
        prob.solve(solver=solver, **solver_opts)
        status = str(prob.status)
    except cp.error.SolverError as exc:  # reported, not raised: a failed solve is a result
        status = f"solver_error: {exc}"
    Xv = X.value
    ok = Xv is not None and np.all(np.isfinite(Xv))
    return NuclearNormResult(X=np.asarray(Xv) if ok else np.zeros((m, n)), status=status if ok else
                             (status if status.startswith("solver_error") else f"{status} (no solution)"),
                             objective=float(prob.value) if ok and prob.value is not None else float("inf"),
                             solver=solver)
