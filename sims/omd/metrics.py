r"""Regret and the realised SEA sums of a trajectory, at checkpoints T_k (one row per checkpoint).

Comparators are exact: the best fixed point of the ball in hindsight, u*_{T_k} = argmin Σ_{t≤T_k} f_t,
by closed form (linear: −R S/‖S‖; quadratic: Π(mean target)) or, for least squares, by the KKT
condition x(ν) = (AᵀA + νI)^{−1}Aᵀy with ν ≥ 0 chosen so that ‖x(ν)‖ ≤ R with complementary slackness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from sims.omd.environments import SEAStream
from solvers.omd import Trajectory
from theory import omd as th

__all__ = ["ball_lstsq", "hindsight", "trajectory_metrics"]


def ball_lstsq(Q: np.ndarray, q: np.ndarray, radius: float) -> np.ndarray:
    """argmin_{‖x‖≤R} ½xᵀQx − qᵀx for symmetric PSD Q, via the eigenbasis and a root in ν."""
    evals, evecs = np.linalg.eigh(Q)
    evals = np.maximum(evals, 0.0)
    p = evecs.T @ q
    tiny = 1e-12 * max(1.0, float(evals.max()))

    def norm_at(nu: float) -> float:
        return float(np.linalg.norm(p / (evals + nu)))

    if evals.min() > tiny and norm_at(0.0) <= radius:
        return evecs @ (p / evals)
    if evals.min() <= tiny:  # singular Q: the minimum-norm minimiser, if it is feasible
        keep = evals > tiny
        x_min = evecs[:, keep] @ (p[keep] / evals[keep])
        if np.allclose(p[~keep], 0.0, atol=1e-10 * max(1.0, float(np.abs(p).max()))) \
                and np.linalg.norm(x_min) <= radius:
            return x_min
    hi = max(1.0, float(np.linalg.norm(q)) / radius)
    while norm_at(hi) > radius:
        hi *= 2.0
    nu = brentq(lambda v: norm_at(v) - radius, 0.0 if evals.min() > tiny else tiny, hi,
                xtol=1e-14, rtol=1e-13)
    return evecs @ (p / (evals + nu))


def hindsight(stream: SEAStream, checkpoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best fixed points u*_{T_k} and their cumulative losses Σ_{t≤T_k} f_t(u*), per checkpoint."""
    losses, R = stream.losses, stream.radius
    a, b = losses.a, losses.b
    U = np.empty((checkpoints.size, stream.dim))
    best = np.empty(checkpoints.size)
    if losses.kind == "square":
        Q = np.zeros((stream.dim, stream.dim))
        q = np.zeros(stream.dim)
        yy = 0.0
        start = 0
        for k, Tk in enumerate(checkpoints):
            seg_a, seg_b = a[start:Tk], b[start:Tk]
            Q += seg_a.T @ seg_a
            q += seg_a.T @ seg_b
            yy += float(seg_b @ seg_b)
            start = Tk
            U[k] = ball_lstsq(Q, q, R)
            best[k] = 0.5 * (U[k] @ Q @ U[k]) - q @ U[k] + 0.5 * yy
        return U, best
    csum = np.cumsum(a, axis=0)[checkpoints - 1]
    if losses.kind == "linear":
        norms = np.linalg.norm(csum, axis=1, keepdims=True)
        U = -R * csum / np.maximum(norms, np.finfo(float).tiny)
        return U, np.einsum("kd,kd->k", csum, U)
    sq = np.cumsum(np.sum(a * a, axis=1))[checkpoints - 1]
    mean = csum / checkpoints[:, None]
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    U = mean * np.minimum(1.0, R / np.maximum(norms, np.finfo(float).tiny))
    best = 0.5 * (checkpoints * np.sum(U * U, axis=1) - 2 * np.einsum("kd,kd->k", U, csum) + sq)
    return U, best


def _prefix(values: np.ndarray, checkpoints: np.ndarray) -> np.ndarray:
    return np.cumsum(values)[checkpoints - 1]


def trajectory_metrics(stream: SEAStream, traj: Trajectory, checkpoints: np.ndarray
                       ) -> pd.DataFrame:
    """One row per checkpoint T_k with the regrets and every realised sum the OMD claims use.

    Columns: ``rounds`` (T_k), ``regret`` (hindsight), ``lin_regret`` (Σ⟨g_t, x_t − u*⟩),
    ``sigma2_sum``, ``Sigma2_sum``, ``sigma2_max``, ``Sigma2_max``, ``noise`` (Σ‖g_t − ∇F_t(x_t)‖²),
    ``drift`` (Σ‖∇F_t(x_{t−1}) − ∇F_{t−1}(x_{t−1})‖², first term ‖∇F_1(x_1)‖²), ``drift_sachs``
    (Σ_{t<T_k}‖∇F_{t+1}(x_t) − ∇F_t(x_t)‖²), ``V``, ``V_prev``, ``eta_T``, ``weighted_variation``,
    ``stability``, ``decomp_ratio`` (max_t of claim 3's LHS/RHS), ``pseudo_regret``,
    ``avg_excess`` (F(x̄) − min F, i.i.d. streams only), ``dyn_regret``, ``path_length``.
    """
    T = stream.T
    x, g, m = traj.x, traj.grads, traj.hints
    rounds = np.arange(T)
    U, best = hindsight(stream, checkpoints)
    played = np.cumsum(stream.losses.values(x))[checkpoints - 1]
    gx = np.cumsum(np.einsum("td,td->t", g, x))[checkpoints - 1]
    gsum = np.cumsum(g, axis=0)[checkpoints - 1]
    lin = gx - np.einsum("kd,kd->k", gsum, U)

    grad_F = stream.mean_grad(x, rounds)                                # ∇F_t(x_t)
    noise_t = np.sum((g - grad_F) ** 2, axis=1)
    prev_x = np.vstack([x[:1], x[:-1]])
    drift_t = np.empty(T)
    drift_t[0] = float(np.sum(grad_F[0] ** 2))
    drift_t[1:] = np.sum((stream.mean_grad(prev_x[1:], rounds[1:])
                          - stream.mean_grad(prev_x[1:], rounds[:-1])) ** 2, axis=1)
    drift_sachs_t = np.zeros(T)  # term t is ‖∇F_{t+1}(x_t) − ∇F_t(x_t)‖², t < T
    drift_sachs_t[:-1] = drift_t[1:]

    var_t = np.sum((g - m) ** 2, axis=1)
    g_prev = np.vstack([np.zeros((1, stream.dim)), g[:-1]])
    lhs3 = np.sum((g - g_prev) ** 2, axis=1)
    move = np.sum((x - prev_x) ** 2, axis=1)
    noise_prev = np.concatenate([[0.0], noise_t[:-1]])
    rhs3 = 4.0 * (noise_t + stream.L**2 * move + drift_t + noise_prev)
    ratio3 = np.where(rhs3 > 0, lhs3 / np.where(rhs3 > 0, rhs3, 1.0), np.where(lhs3 > 0, np.inf, 0))

    F_played = stream.mean_loss(x, rounds)
    targets = stream.means if stream.family != "linear" else None
    if targets is not None:
        u_t = targets * np.minimum(1.0, stream.radius / np.maximum(
            np.linalg.norm(targets, axis=1, keepdims=True), np.finfo(float).tiny))
        dyn_t = F_played - stream.mean_loss(u_t, rounds)
        path_t = np.concatenate([[0.0], np.linalg.norm(np.diff(u_t, axis=0), axis=1)])
    else:
        dyn_t = path_t = np.full(T, np.nan)

    cols: dict[str, np.ndarray] = {
        "rounds": checkpoints,
        "regret": played - best,
        "lin_regret": lin,
        "sigma2_sum": _prefix(stream.sigma2, checkpoints),
        "Sigma2_sum": _prefix(stream.Sigma2, checkpoints),
        "sigma2_max": np.maximum.accumulate(stream.sigma2)[checkpoints - 1],
        "Sigma2_max": np.maximum.accumulate(stream.Sigma2)[checkpoints - 1],
        "noise": _prefix(noise_t, checkpoints),
        "drift": _prefix(drift_t, checkpoints),
        "drift_sachs": np.cumsum(drift_sachs_t)[checkpoints - 1] - drift_sachs_t[checkpoints - 1],
        "V": _prefix(var_t, checkpoints),
        "V_prev": _prefix(var_t, checkpoints) - var_t[checkpoints - 1],
        "decomp_ratio": np.maximum.accumulate(ratio3)[checkpoints - 1],
        "dyn_regret": _prefix(dyn_t, checkpoints),
        "path_length": _prefix(path_t, checkpoints),
    }
    if np.all(np.isfinite(traj.eta)):
        eta = traj.eta
        cols["eta_T"] = eta[checkpoints - 1]
        cols["weighted_variation"] = _prefix(eta * var_t, checkpoints)
    if traj.x_hat is not None:
        xh = traj.x_hat
        stab_t = (np.sum((x - xh[:-1]) ** 2, axis=1) + np.sum((xh[1:] - x) ** 2, axis=1))
        cols["stability"] = _prefix(stab_t / (2.0 * traj.eta), checkpoints)
    if np.all(stream.Sigma2[1:] == 0):  # i.i.d.: F_t ≡ F, so online-to-batch applies
        x_bar = np.cumsum(x, axis=0)[checkpoints - 1] / checkpoints[:, None]
        f_star = stream.mean_loss(_argmin_F(stream)[None, :], np.zeros(1, dtype=int))[0]
        cols["pseudo_regret"] = _prefix(F_played, checkpoints) - checkpoints * f_star
        cols["avg_excess"] = stream.mean_loss(x_bar, np.zeros(checkpoints.size, dtype=int)) - f_star
    if stream.lam > 0:  # bounds that need the per-round SEA quantities, not only their sums
        cols["bound_sachs_sc"] = np.array([
            th.sachs_strongly_convex_bound(stream.lam, stream.L, stream.D,
                                           float(cols["sigma2_max"][k]), stream.Sigma2[:Tk])
            for k, Tk in enumerate(checkpoints)])
        cols["bound_chen_sc"] = np.array([
            th.chen_strongly_convex_bound(stream.lam, stream.L, stream.D, stream.sigma2[:Tk],
                                          stream.Sigma2[:Tk]) for Tk in checkpoints])
    return pd.DataFrame(cols)


def _argmin_F(stream: SEAStream) -> np.ndarray:
    """argmin over the ball of the (constant) expected loss F_1."""
    c = stream.means[0]
    if stream.family == "linear":
        n = np.linalg.norm(c)
        return -stream.radius * c / n if n > 0 else np.zeros_like(c)
    n = np.linalg.norm(c)
    return c * min(1.0, stream.radius / n) if n > 0 else np.zeros_like(c)
