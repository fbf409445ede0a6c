r"""The non-convex baseline: gradient training of f(x) = Σ_j α_j (u_jᵀx)_+ on L_nc (spec §2, §3.4; CR2, CR4).

    L_nc(U, α) = ℓ(f(X), y) + (β/2) Σ_j (‖u_j‖² + α_j²),

the hidden bias inside u_j (the last column of X is all ones) and regularised, no output bias. Gradients by hand,
vectorised over samples and neurons, with Z = XUᵀ, g = ∂ℓ/∂f (ŷ − y, or the hinge subgradient −y·1[yŷ < 1]):

    ∂L/∂α = (Z)_+ᵀ g + βα,     ∂L/∂U = ((g αᵀ) ∘ 1[Z > 0])ᵀ X + βU.

Methods: full-batch gradient descent (``"gd"``), minibatch SGD (``"sgd"``) and Adam (Kingma–Ba; full batch
unless ``batch_size`` is given). A minibatch B estimates the loss part by (n/|B|)·Σ_{k∈B}, so the step is an
unbiased estimate of ∇L_nc. Robust baselines (Madry et al.): with ``adv_eps`` > 0 each step first attacks its
batch (FGSM, or PGD with ``adv_steps`` steps from a random start, from :mod:`~solvers.convex_relu.adversarial`)
on the current network and takes the gradient at the perturbed points (bias never perturbed).

CR2 says every (U, α) has L_nc ≥ f*(𝒟_full); CR4 that SGD may beat f*(𝒟) of a sampled 𝒟 but never f*(𝒟_full).

References
----------
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (§6, the non-convex baselines).
M. Pilanci, T. Ergen, ICML 2020, arXiv:2002.10553 (L_nc with weight decay on both layers).
D. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, arXiv:1412.6980 (Algorithm 1).
A. Madry et al., ICLR 2018, arXiv:1706.06083 (PGD adversarial training).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive, check_rng
from solvers._xp import array_namespace, to_numpy
from solvers.convex_relu._validate import check_beta, check_data, check_loss
from solvers.convex_relu.adversarial import _pgd, pointwise_loss
from solvers.convex_relu.losses import loss_grad, loss_value
from solvers.convex_relu.network import ReLUNetwork

__all__ = ["NonconvexResult", "train_nonconvex"]

Status = Literal["max_epochs", "max_time", "diverged"]

_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
_BLOWUP = 1e10  # L_nc above this multiple of max(1, L_nc at the start) counts as divergence


@dataclass(frozen=True, eq=False)
class NonconvexResult:
    r"""The trained weights and their history.

    ``history`` holds one entry per recorded epoch (epoch 0 is the initialisation): ``epoch``, ``objective``
    (L_nc on the clean training data), ``time`` (cumulative training wall time, evaluation excluded), and
    ``accuracy`` (fraction of y_kf(x_k) > 0) when the labels are ±1; with ``adv_eps`` > 0 also
    ``adv_objective``, the L_nc of the batch attack's perturbed training set (a lower estimate of the robust
    L_nc). ``status``: ``"max_epochs"``, ``"max_time"`` or ``"diverged"`` (a non-finite or exploding L_nc; the
    weights are then those of the last epoch before it, never NaN).
    """

    U: Any
    alpha: Any
    history: dict[str, np.ndarray]
    status: Status
    epochs: int
    method: str
    loss: str
    beta: float
    lr: float

    @property
    def network(self) -> ReLUNetwork:
        """The trained :class:`ReLUNetwork`."""
        return ReLUNetwork(self.U, self.alpha)

    @property
    def objective(self) -> float:
        """L_nc at the returned weights (the last history entry)."""
        return float(self.history["objective"][-1])


def _grads(U: Any, alpha: Any, X: Any, y: Any, beta: float, loss: str, scale: float) -> tuple[Any, Any]:
    xp = array_namespace(X, U)
    Z = X @ U.T
    H = xp.maximum(Z, 0.0)
    g = scale * loss_grad(H @ alpha, y, loss)
    g_alpha = H.T @ g + beta * alpha
    g_U = ((g[:, None] * alpha[None, :]) * (Z > 0)).T @ X + beta * U
    return g_U, g_alpha


def _lnc(U: Any, alpha: Any, X: Any, y: Any, beta: float, loss: str) -> float:
    xp = array_namespace(X, U)
    f = xp.maximum(X @ U.T, 0.0) @ alpha
    return loss_value(f, y, loss) + 0.5 * beta * (float(xp.sum(U * U)) + float(xp.dot(alpha, alpha)))


def train_nonconvex(X: Any, y: Any, width: int, beta: float, *, loss: Literal["squared", "hinge"] = "squared",
                    method: Literal["adam", "gd", "sgd"] = "adam", lr: float | None = None, epochs: int = 500,
                    batch_size: int | None = None, rng: np.random.Generator | int, init_scale: float = 1.0,
                    adv_eps: float = 0.0, adv_attack: Literal["pgd", "fgsm"] = "pgd", adv_steps: int = 7,
                    record_every: int = 1, max_time: float | None = None) -> NonconvexResult:
    r"""Train a width-m two-layer ReLU network on L_nc by GD, SGD or Adam (module docstring).

    Parameters
    ----------
    X, y
        (n, d) data with the bias column; labels (±1 for the hinge).
    width
        Number of hidden neurons m ≥ 1.
    beta
        Weight decay β > 0 (β/2 on both layers, hidden bias included).
    loss
        ``"squared"`` or ``"hinge"`` (sums over the samples).
    method
        ``"adam"``, ``"gd"`` (full batch; ``batch_size`` must be None or n) or ``"sgd"``.
    lr
        Step size; None: 1e-2 for Adam, 0.5/σ_max(X)² for GD and SGD (σ_max the largest singular value of X;
        the loss is a sum, so a data-scaled step).
    epochs
        Passes over the data (one step per epoch for full batch).
    batch_size
        Minibatch size; None: n for GD and Adam, min(n, 32) for SGD.
    rng
        Generator or int seed: initialisation U_jl ~ N(0, s²/d), α_j ~ N(0, s²/m) (s = ``init_scale``),
        minibatch order and the PGD random starts. Same seed, same bits.
    adv_eps, adv_attack, adv_steps
        ℓ∞ radius of adversarial training (0: standard training), the inner attack (``"pgd"`` with
        ``adv_steps`` steps of size 2.5ε/steps, or ``"fgsm"``).
    record_every
        Record the history every this many epochs (and at the last one).
    max_time
        Wall-clock budget in seconds for the training (status ``"max_time"`` when reached).
    """
    loss = check_loss(loss)
    X, y = check_data(X, y, loss)
    n, d = X.shape
    width = check_int("width", width, 1)
    beta = check_beta(beta)
    if method not in ("adam", "gd", "sgd"):
        raise ValueError(f"method must be 'adam', 'gd' or 'sgd', got {method!r}")
    epochs = check_int("epochs", epochs, 1)
    if batch_size is None:
        batch_size = min(n, 32) if method == "sgd" else n
    batch_size = check_int("batch_size", batch_size, 1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch_size}")
    if method == "gd" and batch_size != n:
        raise ValueError(f"batch_size must be None or n = {n} for method='gd' (full batch), got {batch_size}")
    rng = check_rng(rng)
    init_scale = check_positive("init_scale", init_scale)
    adv_eps = check_positive("adv_eps", adv_eps, allow_zero=True)
    if adv_attack not in ("pgd", "fgsm"):
        raise ValueError(f"adv_attack must be 'pgd' or 'fgsm', got {adv_attack!r}")
    adv_steps = check_int("adv_steps", adv_steps, 1)
    record_every = check_int("record_every", record_every, 1)
    if max_time is not None:
        max_time = check_positive("max_time", max_time)
    xp = array_namespace(X)
    if lr is None:
        lr = 1e-2 if method == "adam" else 0.5 / float(np.linalg.norm(to_numpy(X), 2)) ** 2
    lr = check_positive("lr", lr)
    pm1 = bool(xp.all((y == 1.0) | (y == -1.0)))

    U = xp.asarray(rng.standard_normal((width, d)) * (init_scale / np.sqrt(d)))
    alpha = xp.asarray(rng.standard_normal(width) * (init_scale / np.sqrt(width)))
    mU, vU, ma, va = (xp.zeros_like(U), xp.zeros_like(U), xp.zeros_like(alpha), xp.zeros_like(alpha))
    adv_size = 2.5 * adv_eps / adv_steps
    hist: dict[str, list] = {"epoch": [], "objective": [], "time": []}
    if pm1:
        hist["accuracy"] = []
    if adv_eps > 0:
        hist["adv_objective"] = []

    def attack(Ub: Any, ab: Any, Xb: Any, yb: Any, gen: np.random.Generator | None) -> Any:
        steps, size = (1, adv_eps) if adv_attack == "fgsm" else (adv_steps, adv_size)
        _, delta = _pgd(Ub, ab, Xb, yb, adv_eps, loss, steps, size, 1, gen if adv_attack == "pgd" else None)
        Xa = Xb.copy()
        Xa[:, :-1] += delta
        return Xa

    def record(epoch: int, obj: float, elapsed: float) -> None:
        hist["epoch"].append(epoch)
        hist["objective"].append(obj)
        hist["time"].append(elapsed)
        if pm1:
            hist["accuracy"].append(float(xp.mean(y * (xp.maximum(X @ U.T, 0.0) @ alpha) > 0)))
        if adv_eps > 0:  # deterministic evaluation attack (zero start), so the history does not use the rng
            Xa = attack(U, alpha, X, y, None)
            f = xp.maximum(Xa @ U.T, 0.0) @ alpha
            reg = 0.5 * beta * (float(xp.sum(U * U)) + float(xp.dot(alpha, alpha)))
            hist["adv_objective"].append(float(xp.sum(pointwise_loss(f, y, loss))) + reg)

    obj0 = _lnc(U, alpha, X, y, beta, loss)
    if not np.isfinite(obj0):
        raise ValueError(f"init_scale must give a finite initial objective, got L_nc = {obj0}")
    record(0, obj0, 0.0)
    limit = _BLOWUP * max(1.0, obj0)
    status: Status = "max_epochs"
    elapsed, t_step, done = 0.0, 0, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        prev = (U, alpha, mU, vU, ma, va)
        order = xp.asarray(rng.permutation(n)) if batch_size < n else None
        for start in range(0, n, batch_size):
            if order is None:
                Xb, yb = X, y
            else:
                idx = order[start:start + batch_size]
                Xb, yb = X[idx], y[idx]
            if adv_eps > 0:
                Xb = attack(U, alpha, Xb, yb, rng)
            gU, ga = _grads(U, alpha, Xb, yb, beta, loss, n / Xb.shape[0] if order is not None else 1.0)
            if method == "adam":
                t_step += 1
                mU, ma = _ADAM_B1 * mU + (1 - _ADAM_B1) * gU, _ADAM_B1 * ma + (1 - _ADAM_B1) * ga
                vU, va = _ADAM_B2 * vU + (1 - _ADAM_B2) * gU * gU, _ADAM_B2 * va + (1 - _ADAM_B2) * ga * ga
                c1, c2 = 1 - _ADAM_B1**t_step, 1 - _ADAM_B2**t_step
                U = U - lr * (mU / c1) / (xp.sqrt(vU / c2) + _ADAM_EPS)
                alpha = alpha - lr * (ma / c1) / (xp.sqrt(va / c2) + _ADAM_EPS)
            else:
                U, alpha = U - lr * gU, alpha - lr * ga
        elapsed += time.perf_counter() - t0
        with np.errstate(over="ignore", invalid="ignore"):
            obj = _lnc(U, alpha, X, y, beta, loss)
        if not np.isfinite(obj) or obj > limit:
            U, alpha, mU, vU, ma, va = prev
            status = "diverged"
            break
        done = epoch
        if max_time is not None and elapsed >= max_time:
            record(epoch, obj, elapsed)
            status = "max_time"
            break
        if epoch % record_every == 0 or epoch == epochs:
            record(epoch, obj, elapsed)
    if status == "diverged" and hist["epoch"][-1] != done:
        record(done, _lnc(U, alpha, X, y, beta, loss), elapsed)
    return NonconvexResult(U=U, alpha=alpha, history={k: np.asarray(v) for k, v in hist.items()}, status=status,
                           epochs=done, method=method, loss=loss, beta=beta, lr=lr)
