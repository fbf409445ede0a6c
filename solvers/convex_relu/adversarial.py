r"""Adversarial robustness of two-layer ReLU models under ℓ∞ attacks on the features (spec §3.3, CR10, CR11).

Threat model: x_k ↦ x_k + δ_k with ‖δ_k‖_∞ ≤ ε on the features; the bias coordinate (the last column of X)
is never perturbed and never enters ε‖·‖₁.

**The convex certificate** (:func:`worst_case_losses`, :func:`worst_case_delta`, :func:`certified_loss`).
Let a_k = Σ_i (Dm)_{ki}(v_i − w_i), the rows of A = Dm·(V − W). If the robust cones
(2D_i − I)Xv_i ≥ ε‖v_i^f‖₁·𝟙 (and the same for w_i) hold, then for every ‖δ‖_∞ ≤ ε each neuron of the recovered
network keeps its sign on the box: u_jᵀ(x_k + δ) ≥ u_jᵀx_k − ε‖u_j^f‖₁ ≥ 0 where D_i = 1, and ≤ 0 where D_i = 0.
The network is therefore affine on the box, f(x_k + δ) = x_kᵀa_k + δᵀa_k^f, and Hölder (δᵀa^f ≥ −ε‖a^f‖₁ with
equality at δ = −ε·sign(a^f)) gives the exact worst case

- hinge:   max_δ (1 − y_k f(x_k + δ))_+ = (1 − y_k x_kᵀa_k + ε‖a_k^f‖₁)_+,  at δ_k = −ε y_k sign(a_k^f);
- squared: max_δ ½(y_k − f(x_k + δ))² = ½(|y_k − x_kᵀa_k| + ε‖a_k^f‖₁)²,  at δ_k = −ε s_k sign(a_k^f),
  s_k = sign(y_k − x_kᵀa_k) (taking s_k = +1 when the residual is 0).

**Any network** (:func:`certify`). The same argument, neuron by neuron: if |u_jᵀx_k| ≥ ε‖u_j^f‖₁ for every
neuron j (no neuron can flip inside the box at x_k), f is affine on the box with slope a_k = Σ_{j active} α_j u_j
and the closed forms above are exact at x_k. Where some neuron can flip, no certificate is given.

**Attacks** (:func:`fgsm`, :func:`pgd`, :func:`brute_force_attack`) work on any :class:`ReLUNetwork`, whose
activation patterns are free to flip. Each returns the perturbed per-point losses; they are lower bounds on the
true worst case, so on a certified point they never exceed the closed form (CR10). With the patterns fixed the
loss is convex in δ, so its maximum over the box is attained at a vertex: brute force over the 2^{d−1} vertices
is then exact (spec §6); with flips it is only a lower bound.

**Collapse** (:func:`eps_star`, CR11). For a mixed pattern i (neither all-active nor all-inactive),
ε_i* = max t s.t. (2D_i − I)Xv ≥ t·𝟙, ‖v^f‖₁ ≤ 1, an LP (v^f = p − q, p, q ≥ 0). If ε > ε_i*, a nonzero v^f in
the robust cone would give, after scaling to ‖v^f‖₁ = 1, a feasible t = ε > ε_i*; so v^f = 0, and then
(2D_i − I)𝟙·v_b ≥ 0 with signs of both kinds forces v_b = 0: the whole group vanishes.

References
----------
Y. Bai, T. Gautam, S. Sojoudi, "Efficient Global Optimization of Two-layer ReLU Networks: Quadratic-time
Algorithms and Adversarial Training", SIAM J. Math. Data Sci. 2023, arXiv:2201.01965 (§5, convex adversarial
training).
Y. Bai, T. Gautam, Y. Gai, S. Sojoudi, "Practical Convex Formulation of Robust One-hidden-layer Neural Network
Training", ACC 2022, arXiv:2105.12237.
I. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015 (FGSM).
A. Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018,
arXiv:1706.06083 (PGD).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive, check_rng
from solvers._xp import array_namespace, to_numpy
from solvers.convex_relu._validate import check_data, check_eps, check_loss, check_patterns, check_weights
from solvers.convex_relu.network import ReLUNetwork

__all__ = [
    "AttackResult",
    "Certificate",
    "EpsStar",
    "brute_force_attack",
    "certified_loss",
    "certify",
    "eps_star",
    "fgsm",
    "pgd",
    "pointwise_loss",
    "robust_accuracy",
    "robust_objective",
    "worst_case_delta",
    "worst_case_losses",
]

BRUTE_FORCE_MAX_FEATURES = 12
_CHUNK_ENTRIES = 1 << 22  # entries of the (n, vertices, m) block evaluated at once by brute force


def pointwise_loss(yhat: Any, y: Any, loss: str) -> Any:
    r"""The per-point losses ½(ŷ_k − y_k)² (``"squared"``) or (1 − y_kŷ_k)_+ (``"hinge"``); they sum to ℓ(ŷ, y)."""
    xp = array_namespace(yhat, y)
    if loss == "squared":
        return 0.5 * (yhat - y) ** 2
    return xp.maximum(0.0, 1.0 - y * yhat)


def _convex_args(X: Any, y: Any, patterns: Any, V: Any, W: Any, eps: Any, loss: Any) -> tuple:
    loss = check_loss(loss)
    X, y = check_data(X, y, loss)
    n, d = X.shape
    patterns = check_patterns(patterns, n)
    V = check_weights("V", V, patterns.P, d)
    W = check_weights("W", W, patterns.P, d)
    return X, y, patterns, V, W, check_eps(eps), loss


def _slopes(X: Any, patterns: Any, V: Any, W: Any) -> tuple[Any, Any]:
    """A = Dm·(V − W) (row k is a_k, the slope of the model at x_k) and the margins x_kᵀa_k."""
    xp = array_namespace(X, V, W)
    A = xp.asarray(patterns.masks, dtype=xp.float64) @ (V - W)
    return A, xp.sum(X * A, axis=1)


def _closed_form(A: Any, m: Any, y: Any, eps: float, loss: str) -> Any:
    xp = array_namespace(A, m, y)
    l1 = xp.sum(xp.abs(A[:, :-1]), axis=1)
    if loss == "hinge":
        return xp.maximum(0.0, 1.0 - y * m + eps * l1)
    return 0.5 * (xp.abs(y - m) + eps * l1) ** 2


def _attaining_delta(A: Any, m: Any, y: Any, eps: float, loss: str) -> Any:
    xp = array_namespace(A, m, y)
    s = y if loss == "hinge" else xp.where(y - m >= 0, 1.0, -1.0)
    delta = xp.zeros_like(A)
    delta[:, :-1] = -eps * s[:, None] * xp.sign(A[:, :-1])
    return delta


def worst_case_losses(X: Any, y: Any, patterns: Any, V: Any, W: Any, eps: float, loss: str = "squared") -> Any:
    r"""Per-point worst-case losses of the convex model (V, W) over ‖δ_k‖_∞ ≤ ε (spec §3.3).

    .. math::
        \text{hinge: } (1 − y_k x_kᵀa_k + ε‖a_k^f‖₁)_+, \qquad
        \text{squared: } ½(|y_k − x_kᵀa_k| + ε‖a_k^f‖₁)²,

    with a_k = Σ_i (Dm)_{ki}(v_i − w_i). This is the exact worst case of the recovered network at every
    training point when the robust cones hold (check with ``cone_violation(X, patterns, V, W, eps)``, CR10);
    without them it is the worst case of the fixed-pattern model only.

    Returns
    -------
    array (n,)
        One loss per training point, in the namespace of the inputs.
    """
    X, y, patterns, V, W, eps, loss = _convex_args(X, y, patterns, V, W, eps, loss)
    A, m = _slopes(X, patterns, V, W)
    return _closed_form(A, m, y, eps, loss)


def certified_loss(X: Any, y: Any, patterns: Any, V: Any, W: Any, eps: float, loss: str = "squared") -> float:
    r"""Σ_k of :func:`worst_case_losses`: the certified robust training loss, **without** the β-penalty.

    Add β Σ_i (‖v_i‖ + ‖w_i‖) for the robust convex objective, or (β/2) Σ_j (‖u_j‖² + α_j²) of the recovered
    network for the robust L_nc (they coincide at the recovery, CR3/CR10).
    """
    return float(worst_case_losses(X, y, patterns, V, W, eps, loss).sum())


def worst_case_delta(X: Any, y: Any, patterns: Any, V: Any, W: Any, eps: float, loss: str = "squared") -> Any:
    r"""The perturbations (n, d) that attain :func:`worst_case_losses` (zero on the bias column).

    δ_k = −ε y_k sign(a_k^f) for hinge; δ_k = −ε s_k sign(a_k^f) with s_k = sign(y_k − x_kᵀa_k) (+1 at a zero
    residual) for squared. Where a_k^f has zero entries any value would do; 0 is returned there.
    """
    X, y, patterns, V, W, eps, loss = _convex_args(X, y, patterns, V, W, eps, loss)
    A, m = _slopes(X, patterns, V, W)
    return _attaining_delta(A, m, y, eps, loss)


# ----------------------------------------------------------------------------------------------------
# any network: certificate and attacks


def _check_network(network: Any, d: int) -> ReLUNetwork:
    if not isinstance(network, ReLUNetwork):
        raise TypeError(f"network must be a ReLUNetwork, got {type(network).__name__}")
    if network.U.shape[1] != d:
        raise ValueError(f"network must have input dimension d = {d} (the columns of X), got {network.U.shape[1]}")
    return network


def _network_args(network: Any, X: Any, y: Any, eps: Any, loss: Any) -> tuple:
    loss = check_loss(loss)
    X, y = check_data(X, y, loss)
    network = _check_network(network, X.shape[1])
    xp = array_namespace(X)
    return xp.asarray(network.U, dtype=xp.float64), xp.asarray(network.alpha, dtype=xp.float64), X, y, \
        check_eps(eps), loss


@dataclass(frozen=True, eq=False)
class Certificate:
    """Per-point ℓ∞ certificate of a ReLU network at radius ε (see :func:`certify`).

    ``stable[k]``: no neuron can change sign on the box around x_k (the network is affine there).
    ``worst_loss[k]``: the exact worst-case loss where stable, +inf where not (no certificate).
    ``worst_delta``: the attaining perturbation where stable, 0 elsewhere (zero bias column).
    ``worst_margin[k]``: min over the box of y_k f(x_k + δ) where stable, −inf elsewhere.
    ``robust_correct[k]``: stable and worst_margin > 0 (certified correct sign; meaningful for ±1 labels).
    """

    stable: Any
    worst_loss: Any
    worst_delta: Any
    worst_margin: Any
    robust_correct: Any

    @property
    def certified_fraction(self) -> float:
        """Fraction of points with a certificate."""
        return float(self.stable.mean())


def _certify(U: Any, alpha: Any, X: Any, y: Any, eps: float, loss: str, tol: float = 0.0) -> Certificate:
    xp = array_namespace(X, U)
    Z = X @ U.T
    radius = eps * xp.sum(xp.abs(U[:, :-1]), axis=1)
    stable = xp.all(xp.abs(Z) >= radius[None, :] - tol, axis=1)
    A = ((Z >= 0) * alpha[None, :]) @ U
    m = xp.sum(X * A, axis=1)
    l1 = xp.sum(xp.abs(A[:, :-1]), axis=1)
    worst = xp.where(stable, _closed_form(A, m, y, eps, loss), xp.inf)
    delta = _attaining_delta(A, m, y, eps, loss) * stable[:, None]
    margin = xp.where(stable, y * m - eps * l1, -xp.inf)
    return Certificate(stable=stable, worst_loss=worst, worst_delta=delta, worst_margin=margin,
                       robust_correct=stable & (margin > 0))


def certify(network: ReLUNetwork, X: Any, y: Any, eps: float, loss: str = "hinge", *, tol: float = 0.0
            ) -> Certificate:
    r"""Exact worst-case losses of any ReLU network at the points where no neuron can flip (module docstring).

    Point k is *stable* when |u_jᵀx_k| ≥ ε‖u_j^f‖₁ − ``tol`` for every neuron j. With ``tol = 0`` there
    f(x_k + δ) = x_kᵀa_k + δᵀa_k^f with a_k = Σ_{j: u_jᵀx_k ≥ 0} α_j u_j, and the worst case is the closed form of
    :func:`worst_case_losses`. For a network recovered from an exactly feasible point of the robust program
    every training point is stable (CR10). ``tol`` > 0 accepts neurons that may cross zero by at most ``tol``
    inside the box (solver-precision cones): the output then differs from the affine model by at most
    Σ_j |α_j|·tol, so the result is a certificate up to that amount, not an exact one.
    """
    tol = check_positive("tol", tol, allow_zero=True)
    U, alpha, X, y, eps, loss = _network_args(network, X, y, eps, loss)
    return _certify(U, alpha, X, y, eps, loss, tol)


def robust_objective(network: ReLUNetwork, X: Any, y: Any, beta: float, eps: float, loss: str = "squared", *,
                     tol: float = 0.0) -> float:
    r"""The certified robust non-convex objective Σ_k max_{‖δ_k‖_∞≤ε} ℓ_k(f(x_k + δ_k)) + (β/2)Σ_j(‖u_j‖² + α_j²).

    Exact when every training point is stable (:func:`certify`, with its ``tol``); +inf when some point has no
    certificate (the attacks then give lower bounds only). At the recovery of a robust convex optimum it equals
    the robust convex optimum (CR10).
    """
    beta = check_positive("beta", beta)
    tol = check_positive("tol", tol, allow_zero=True)
    U, alpha, X, y, eps, loss = _network_args(network, X, y, eps, loss)
    cert = _certify(U, alpha, X, y, eps, loss, tol)
    xp = array_namespace(X)
    penalty = 0.5 * beta * float(xp.sum(U * U) + xp.sum(alpha * alpha))
    return float(xp.sum(cert.worst_loss)) + penalty


@dataclass(frozen=True, eq=False)
class AttackResult:
    """Perturbed per-point losses ``losses`` (n,), the perturbations ``deltas`` (n, d) (zero bias column,
    ‖δ_k‖_∞ ≤ ε) and the clean losses ``clean_losses`` (n,); ``method`` names the attack."""

    losses: Any
    deltas: Any
    clean_losses: Any
    method: str

    @property
    def total(self) -> float:
        """Σ_k of the perturbed losses."""
        return float(self.losses.sum())


def _forward(U: Any, alpha: Any, X: Any) -> Any:
    xp = array_namespace(X, U)
    return xp.maximum(X @ U.T, 0.0) @ alpha


def _ascent(U: Any, alpha: Any, Xp: Any, y: Any, loss: str) -> tuple[Any, Any]:
    """The outputs at Xp and an ascent direction of the per-point loss in the features (n, d − 1).

    The loss is a nondecreasing function of −y f (hinge) and of s·f with s = sign(f − y) (squared), so the
    direction is −y∇f resp. s∇f: it stays informative where the hinge is flat (margin above 1).
    """
    xp = array_namespace(Xp, U)
    Z = Xp @ U.T
    f = xp.maximum(Z, 0.0) @ alpha
    grad = ((Z > 0) * alpha[None, :]) @ U[:, :-1]
    s = -y if loss == "hinge" else xp.where(f - y >= 0, 1.0, -1.0)
    return f, s[:, None] * grad


def _perturb(X: Any, delta_f: Any) -> Any:
    Xp = X.copy()
    Xp[:, :-1] += delta_f
    return Xp


def _pgd(U: Any, alpha: Any, X: Any, y: Any, eps: float, loss: str, steps: int, step_size: float, restarts: int,
         rng: np.random.Generator | None) -> tuple[Any, Any]:
    """Best per-point loss and feature perturbation over all iterates of all restarts."""
    xp = array_namespace(X, U)
    n, d = X.shape
    best = xp.full(n, -xp.inf)
    best_delta = xp.zeros((n, d - 1))
    for _ in range(restarts):
        if rng is None:
            delta = xp.zeros((n, d - 1))
        else:
            delta = xp.asarray(rng.uniform(-eps, eps, size=(n, d - 1)))
        for t in range(steps + 1):
            f, g = _ascent(U, alpha, _perturb(X, delta), y, loss)
            val = pointwise_loss(f, y, loss)
            better = val > best
            best = xp.where(better, val, best)
            best_delta = xp.where(better[:, None], delta, best_delta)
            if t < steps:
                delta = xp.clip(delta + step_size * xp.sign(g), -eps, eps)
    return best, best_delta


def _attack_result(U: Any, alpha: Any, X: Any, y: Any, loss: str, losses: Any, delta_f: Any,
                   method: str) -> AttackResult:
    xp = array_namespace(X)
    deltas = xp.concatenate([delta_f, xp.zeros((X.shape[0], 1))], axis=1)
    return AttackResult(losses=losses, deltas=deltas, clean_losses=pointwise_loss(_forward(U, alpha, X), y, loss),
                        method=method)


def _pgd_options(steps: Any, restarts: Any, rng: Any) -> tuple[int, int, np.random.Generator | None]:
    steps = check_int("steps", steps, 1)
    restarts = check_int("restarts", restarts, 1)
    if rng is None:
        if restarts > 1:
            raise ValueError("rng is required when restarts > 1 (random starts in the box)")
        return steps, restarts, None
    return steps, restarts, check_rng(rng)


def fgsm(network: ReLUNetwork, X: Any, y: Any, eps: float, loss: str = "squared") -> AttackResult:
    r"""FGSM: one signed-gradient step δ_k = ε·sign(∇_{x^f} ℓ_k(f(x_k))) from the clean point, bias untouched.

    The per-point loss is the larger of the clean and the stepped one (an attack never reports less than
    doing nothing). References: Goodfellow, Shlens, Szegedy (ICLR 2015).
    """
    U, alpha, X, y, eps, loss = _network_args(network, X, y, eps, loss)
    best, delta = _pgd(U, alpha, X, y, eps, loss, 1, eps, 1, None)
    return _attack_result(U, alpha, X, y, loss, best, delta, "fgsm")


def pgd(network: ReLUNetwork, X: Any, y: Any, eps: float, loss: str = "squared", *, steps: int = 50,
        step_size: float | None = None, restarts: int = 1, rng: np.random.Generator | int | None = None
        ) -> AttackResult:
    r"""ℓ∞ projected gradient ascent (Madry et al.) on each point's loss, batched over the points.

    δ ← clip(δ + η·sign(∇_{x^f} ℓ_k), −ε, ε) for ``steps`` steps (η = ``step_size``, default 2.5ε/steps), from
    a uniform random start in the box (from δ = 0 when ``rng`` is None), repeated ``restarts`` times; each point
    keeps its largest loss over all iterates and restarts. The bias column is never perturbed. For the hinge the
    ascent direction is −y∇f (see the module docstring), so points with margin above 1 are still pushed.

    Raises
    ------
    ValueError
        ``steps`` < 1, ``restarts`` < 1, ``step_size`` ≤ 0, or ``restarts`` > 1 without ``rng`` (restarts from the
        same deterministic start would repeat each other).
    """
    U, alpha, X, y, eps, loss = _network_args(network, X, y, eps, loss)
    steps, restarts, rng = _pgd_options(steps, restarts, rng)
    step_size = 2.5 * eps / steps if step_size is None else check_positive("step_size", step_size)
    best, delta = _pgd(U, alpha, X, y, eps, loss, steps, step_size, restarts, rng)
    return _attack_result(U, alpha, X, y, loss, best, delta, "pgd")


def brute_force_attack(network: ReLUNetwork, X: Any, y: Any, eps: float, loss: str = "squared") -> AttackResult:
    r"""The largest per-point loss over the 2^{d−1} vertices of the box {‖δ^f‖_∞ ≤ ε} (d − 1 ≤ 12).

    Exact for the worst case when no activation flips inside the box (the loss is then convex in δ), a lower
    bound otherwise. Batched over points and vertices (vertex blocks bound the memory).
    """
    U, alpha, X, y, eps, loss = _network_args(network, X, y, eps, loss)
    xp = array_namespace(X)
    n, d = X.shape
    k = d - 1
    if k > BRUTE_FORCE_MAX_FEATURES:
        raise ValueError(f"X must have d - 1 <= {BRUTE_FORCE_MAX_FEATURES} features for brute_force_attack "
                         f"(2^(d-1) vertices), got d - 1 = {k}")
    bits = (np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1
    vertices = xp.asarray(eps * (2.0 * bits - 1.0))
    Z0 = X @ U.T
    shift = vertices @ U[:, :-1].T
    chunk = max(1, _CHUNK_ENTRIES // max(1, n * U.shape[0]))
    best = xp.full(n, -xp.inf)
    best_idx = xp.zeros(n, dtype=xp.int64)
    for start in range(0, 2**k, chunk):
        out = xp.maximum(Z0[:, None, :] + shift[None, start:start + chunk, :], 0.0) @ alpha
        vals = pointwise_loss(out, y[:, None], loss)
        j = xp.argmax(vals, axis=1)
        v = xp.take_along_axis(vals, j[:, None], axis=1)[:, 0]
        better = v > best
        best = xp.where(better, v, best)
        best_idx = xp.where(better, j + start, best_idx)
    return _attack_result(U, alpha, X, y, loss, best, vertices[best_idx], "brute_force")


def robust_accuracy(network: ReLUNetwork, X: Any, y: Any, eps: float,
                    attack: Literal["pgd", "fgsm", "certified"] = "pgd", *, steps: int = 50, restarts: int = 1,
                    rng: np.random.Generator | int | None = None) -> float:
    r"""Fraction of points whose sign survives the attack: y_k f(x_k + δ_k) > 0 (labels ±1).

    ``"pgd"``/``"fgsm"`` attack the margin (the hinge direction), so the result is an upper bound on the true
    robust accuracy; ``"certified"`` counts the points that :func:`certify` proves robust (a lower bound; exact
    on training points of a robust convex solution). On test points patterns can flip, so only the attack
    numbers apply there (spec §7, certificate scope).
    """
    U, alpha, X, y, eps, _ = _network_args(network, X, y, eps, "hinge")
    if attack == "certified":
        return float(_certify(U, alpha, X, y, eps, "hinge").robust_correct.mean())
    if attack == "fgsm":
        _, delta = _pgd(U, alpha, X, y, eps, "hinge", 1, eps, 1, None)
    elif attack == "pgd":
        steps, restarts, rng = _pgd_options(steps, restarts, rng)
        _, delta = _pgd(U, alpha, X, y, eps, "hinge", steps, 2.5 * eps / steps, restarts, rng)
    else:
        raise ValueError(f"attack must be 'pgd', 'fgsm' or 'certified', got {attack!r}")
    return float((y * _forward(U, alpha, _perturb(X, delta)) > 0).mean())


# ----------------------------------------------------------------------------------------------------
# collapse radius


@dataclass(frozen=True, eq=False)
class EpsStar:
    """ε* = max over mixed patterns of ε_i* (``value``; 0 when no pattern is mixed), the per-pattern LP values
    ``per_pattern`` (P,) (+inf for the all-active and all-inactive patterns, whose LP is unbounded: the bias
    alone separates) and the boolean ``mixed`` (P,)."""

    value: float
    per_pattern: np.ndarray
    mixed: np.ndarray


def eps_star(X: Any, patterns: Any) -> EpsStar:
    r"""The collapse radius of spec §3.3: ε_i* = max{t : (2D_i − I)Xv ≥ t𝟙, ‖v^f‖₁ ≤ 1} per mixed pattern.

    One LP per mixed pattern (scipy ``linprog``, HiGHS), in the variables (t, v_b, p, q) with v^f = p − q,
    p, q ≥ 0, Σp + Σq ≤ 1. For ε > ε* = max_i ε_i* every mixed group of the robust program is zero (CR11).
    The LP is bounded for a mixed pattern: rows k (D = 1) and l (D = 0) give 2t ≤ (x_k − x_l)^fᵀv^f.

    Raises
    ------
    RuntimeError
        When HiGHS fails on a pattern (the message names it).
    """
    from scipy.optimize import linprog

    X, _ = check_data(X)
    n, d = X.shape
    patterns = check_patterns(patterns, n)
    X = to_numpy(X)
    S = to_numpy(patterns.signs).astype(float)
    counts = to_numpy(patterns.masks).sum(axis=0)
    mixed = (counts > 0) & (counts < n)
    per = np.full(patterns.P, np.inf)
    Xf, xb = X[:, :-1], X[:, -1]
    k = d - 1
    c = np.zeros(2 + 2 * k)
    c[0] = -1.0
    l1_row = np.concatenate([[0.0, 0.0], np.ones(2 * k)])[None, :]
    bounds = [(None, None), (None, None)] + [(0.0, None)] * (2 * k)
    for i in np.flatnonzero(mixed):  # one small LP per pattern
        s = S[:, i:i + 1]
        A_ub = np.vstack([np.hstack([np.ones((n, 1)), -s * xb[:, None], -s * Xf, s * Xf]), l1_row])
        b_ub = np.concatenate([np.zeros(n), [1.0]])
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"eps_star: HiGHS failed on pattern {i}: {res.message}")
        per[i] = -res.fun
    value = float(per[mixed].max()) if mixed.any() else 0.0
    return EpsStar(value=value, per_pattern=per, mixed=mixed)
