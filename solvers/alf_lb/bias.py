r"""Bias updates of auxiliary-loss-free load balancing, as ``init`` / ``update`` on a small state.

After a batch is routed with bias b_{t−1} and its loads c_t are counted, the bias moves towards
balance (Wang et al. 2024, Algorithm 1; Han & Zhong 2025, the dual-subgradient reading b = −p):

- **sign rule** (constant u):      b_t = b_{t−1} + u·sign(c̄ − c_t),        c̄ = K·n/E;
- **gradient rule** (schedule η_t): b_t = b_{t−1} + η_t·g_t,  g_t = K/E·1 − c_t/n (fraction units)
  or g_t = c̄·1 − c_t (count units), i.e. online (sub)gradient descent p_t = p_{t−1} − η_t g_t on the
  per-batch dual loss f_t(p) = (1/n)Σ_j topKsum(s_j − p) + (K/E)Σ_i p_i;
- schedules η_t: constant η, c/(μt), η₀/√t; optional freeze (no update after a given number of
  updates, as DeepSeek-V3 froze the bias) and centring Δ ← Δ − mean(Δ) (torchtitan);
- optional projection of b onto the ball ‖b − b_ref‖₂ ≤ R (the projected domain of the log-T regret
  analysis, ``theory.alf_lb``, claim 9).

The sign rule keeps *integer* lattice coordinates k with b = u·k (b = (u/E)·k when centred, since
E·σ_i − Σ_k σ_k is an integer), so a limit cycle of a constant-u run is detected exactly. The sign is
computed in integers, sign(K·n − E·c_i), so no rounding decides it; sign(0) = 0.

One numba function, :func:`bias_step`, applies an update; the batch simulators call it from their
kernels, and :func:`update` calls it on one batch (the reference loop uses :func:`update_numpy`, the
same arithmetic written with numpy arrays). :func:`update_xp` is the array path of the GPU runs: the
kernel's arithmetic in the order of the kernel (sums over experts in index order), on a bias (E,) or
on S biases (S, E) at once, numpy or CuPy; on numpy it reproduces :func:`bias_step` bit for bit.

References
----------
L. Wang et al., "Auxiliary-Loss-Free Load Balancing Strategy for Mixture-of-Experts", arXiv 2408.15664.
X.Y. Han, Y. Zhong, arXiv 2512.03915. DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv 2412.19437.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from solvers._xp import array_namespace, seqsum
from solvers.alf_lb._validate import check_K, check_positive

__all__ = [
    "BiasRule",
    "BiasState",
    "Schedule",
    "bias_step",
    "constant",
    "gradient_rule",
    "init",
    "inverse_sqrt",
    "inverse_t",
    "sign_rule",
    "update",
    "update_numpy",
    "update_xp",
]

SIGN, GRADIENT = 0, 1
CONSTANT, INVERSE_T, INVERSE_SQRT = 0, 1, 2
FRACTION, COUNT = 0, 1


class Schedule(NamedTuple):
    """A step-size schedule η_t = eta0·{1, 1/t, 1/√t}[kind], t = 1, 2, ..."""

    kind: int
    eta0: float
    label: str

    def eta(self, t):
        """η_t for update number(s) t ≥ 1."""
        t = np.asarray(t, dtype=float)
        return self.eta0 * (1.0 if self.kind == CONSTANT else 1.0 / t if self.kind == INVERSE_T
                            else 1.0 / np.sqrt(t))


def constant(eta: float) -> Schedule:
    """η_t = η."""
    return Schedule(CONSTANT, check_positive("eta", eta), f"η = {eta:g}")


def inverse_t(c: float, mu: float) -> Schedule:
    """η_t = c/(μt), the strongly convex schedule of the log-T regret bound (claim 9: c ≥ 1)."""
    c, mu = check_positive("c", c), check_positive("mu", mu)
    return Schedule(INVERSE_T, c / mu, f"c/(μt), c = {c:g}")


def inverse_sqrt(eta0: float) -> Schedule:
    """η_t = η₀/√t."""
    return Schedule(INVERSE_SQRT, check_positive("eta0", eta0), f"η₀/√t, η₀ = {eta0:g}")


class BiasRule(NamedTuple):
    """A bias update rule; build it with :func:`sign_rule` or :func:`gradient_rule`."""

    name: str
    kind: int
    u: float
    schedule: Schedule
    units: int
    center: bool
    freeze_after: int
    radius: float
    anchor: np.ndarray


class BiasState(NamedTuple):
    """Bias after ``t`` updates; ``steps`` are the sign rule's integer lattice coordinates."""

    bias: np.ndarray
    steps: np.ndarray
    t: int


def _common(E: int, freeze_after: int | None, radius: float, anchor) -> tuple[int, float, np.ndarray]:
    if isinstance(E, bool) or not isinstance(E, int | np.integer) or E < 1:
        raise ValueError(f"E must be an integer >= 1, got {E!r}")
    if freeze_after is not None and (isinstance(freeze_after, bool) or not isinstance(freeze_after, int | np.integer)
                                     or freeze_after < 0):
        raise ValueError(f"freeze_after must be None or an integer >= 0, got {freeze_after!r}")
    radius = math.inf if radius == math.inf else check_positive("radius", radius)
    anchor = np.zeros(E) if anchor is None else np.asarray(anchor, dtype=float)
    if anchor.shape != (E,) or not np.all(np.isfinite(anchor)):
        raise ValueError(f"anchor must be a finite vector of shape ({E},), got shape {anchor.shape}")
    return -1 if freeze_after is None else int(freeze_after), radius, anchor


def sign_rule(E: int, u: float = 1e-3, *, center: bool = False, freeze_after: int | None = None) -> BiasRule:
    """The sign rule b ← b + u·sign(c̄ − c) of Wang et al. (Algorithm 1), u > 0."""
    u = check_positive("u", u)
    freeze, radius, anchor = _common(E, freeze_after, math.inf, None)
    return BiasRule(f"sign, u = {u:g}", SIGN, u, constant(1.0), COUNT, bool(center), freeze, radius, anchor)


def gradient_rule(E: int, schedule: Schedule, *, units: str = "fraction", center: bool = False,
                  freeze_after: int | None = None, radius: float = math.inf, anchor=None) -> BiasRule:
    """The gradient rule b ← Π(b + η_t g_t), g_t = K/E − c_t/n (``units="fraction"``) or c̄ − c_t."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule (constant, inverse_t, inverse_sqrt), got {schedule!r}")
    if units not in ("fraction", "count"):
        raise ValueError(f"units must be 'fraction' or 'count', got {units!r}")
    freeze, radius, anchor = _common(E, freeze_after, radius, anchor)
    return BiasRule(f"gradient, {schedule.label}", GRADIENT, 0.0, schedule,
                    FRACTION if units == "fraction" else COUNT, bool(center), freeze, radius, anchor)


def init(rule: BiasRule, bias=None) -> BiasState:
    """The state before the first batch: b_0 = 0 (or ``bias``; the sign rule starts on its lattice)."""
    E = rule.anchor.shape[0]
    if bias is None:
        return BiasState(np.zeros(E), np.zeros(E, dtype=np.int64), 0)
    if rule.kind == SIGN:
        raise ValueError("bias: the sign rule starts at b_0 = 0 (its integer lattice); pass bias=None")
    bias = np.asarray(bias, dtype=float)
    if bias.shape != (E,) or not np.all(np.isfinite(bias)):
        raise ValueError(f"bias must be a finite vector of shape ({E},), got shape {bias.shape}")
    return BiasState(bias.copy(), np.zeros(E, dtype=np.int64), 0)


@numba.njit(cache=True, inline="always")
def _sign(x):
    return 1 if x > 0 else (-1 if x < 0 else 0)


@numba.njit(cache=True)
def bias_step(kind, u, sched_kind, eta0, units, center, freeze_after, radius, anchor, t, counts, n, K,
              steps, bias):
    """Apply update number ``t`` (≥ 1) for loads ``counts`` of a batch of n tokens, in place.

    Every rule parameter is an argument (see :class:`BiasRule`); ``steps`` and ``bias`` are the state.
    """
    E = counts.shape[0]
    if freeze_after >= 0 and t > freeze_after:
        return
    if kind == SIGN:
        total = 0
        for i in range(E):
            total += _sign(K * n - E * counts[i])
        for i in range(E):
            sigma = _sign(K * n - E * counts[i])
            if center:
                steps[i] += E * sigma - total
                bias[i] = (u / E) * steps[i]
            else:
                steps[i] += sigma
                bias[i] = u * steps[i]
        return
    if sched_kind == CONSTANT:
        eta = eta0
    elif sched_kind == INVERSE_T:
        eta = eta0 / t
    else:
        eta = eta0 / math.sqrt(t)
    mean_delta = 0.0
    for i in range(E):
        g = K / E - counts[i] / n if units == FRACTION else K * n / E - counts[i]
        mean_delta += eta * g
    mean_delta = mean_delta / E if center else 0.0
    for i in range(E):
        g = K / E - counts[i] / n if units == FRACTION else K * n / E - counts[i]
        bias[i] += eta * g - mean_delta
    if radius < math.inf:
        dist = 0.0
        for i in range(E):
            dist += (bias[i] - anchor[i]) ** 2
        dist = math.sqrt(dist)
        if dist > radius:
            for i in range(E):
                bias[i] = anchor[i] + (bias[i] - anchor[i]) * (radius / dist)


def _args(rule: BiasRule) -> tuple:
    return (rule.kind, rule.u, rule.schedule.kind, rule.schedule.eta0, rule.units, rule.center,
            rule.freeze_after, rule.radius, rule.anchor)


def update(rule: BiasRule, state: BiasState, loads: np.ndarray, n: int, K: int) -> BiasState:
    """The state after one batch of ``n`` tokens with per-expert ``loads`` (numba step)."""
    loads = _check_loads(loads, state.bias.shape[0], n, K)
    bias, steps = state.bias.copy(), state.steps.copy()
    bias_step(*_args(rule), state.t + 1, loads, n, K, steps, bias)
    return BiasState(bias, steps, state.t + 1)


def update_numpy(rule: BiasRule, state: BiasState, loads: np.ndarray, n: int, K: int) -> BiasState:
    """:func:`update` written with numpy array operations (the reference of the benchmarks)."""
    loads = _check_loads(loads, state.bias.shape[0], n, K)
    t = state.t + 1
    E = loads.shape[0]
    if 0 <= rule.freeze_after < t:
        return BiasState(state.bias, state.steps, t)
    if rule.kind == SIGN:
        sigma = np.sign(K * n - E * loads)
        steps = state.steps + (E * sigma - sigma.sum() if rule.center else sigma)
        return BiasState((rule.u / E) * steps if rule.center else rule.u * steps, steps, t)
    eta = float(rule.schedule.eta(t))
    g = K / E - loads / n if rule.units == FRACTION else K * n / E - loads
    delta = eta * g
    bias = state.bias + (delta - delta.sum() / E if rule.center else delta)
    if rule.radius < math.inf:
        dist = math.sqrt(float(np.sum((bias - rule.anchor) ** 2)))
        if dist > rule.radius:
            bias = rule.anchor + (bias - rule.anchor) * (rule.radius / dist)
    return BiasState(bias, state.steps, t)


def step_xp(rule: BiasRule, t: int, counts, n: int, K: int, steps, bias):
    """Update number ``t`` (≥ 1) on arrays (E,) or (S, E) of the counts' namespace; returns (bias, steps).

    No validation and no host read: the online runs call it once per batch with loads from the routing.
    The arithmetic is :func:`bias_step`'s, operation for operation (η_t from the host integer t, the
    expert sums by :func:`~solvers._xp.seqsum`).
    """
    xp = array_namespace(counts, bias)
    E = counts.shape[-1]
    if 0 <= rule.freeze_after < t:
        return bias, steps
    if rule.kind == SIGN:
        sigma = xp.sign(K * n - E * counts)
        if rule.center:
            steps = steps + (E * sigma - sigma.sum(axis=-1, keepdims=True))
            return (rule.u / E) * steps, steps
        steps = steps + sigma
        return rule.u * steps, steps
    sched = rule.schedule
    eta = sched.eta0 if sched.kind == CONSTANT else sched.eta0 / t if sched.kind == INVERSE_T \
        else sched.eta0 / math.sqrt(t)
    g = K / E - counts / n if rule.units == FRACTION else K * n / E - counts
    delta = eta * g
    if rule.center:
        delta = delta - (seqsum(delta) / E)[..., None]
    bias = bias + delta
    if rule.radius < math.inf:
        anchor = xp.asarray(rule.anchor)
        diff = bias - anchor
        dist = xp.sqrt(seqsum(diff * diff))[..., None]
        bias = xp.where(dist > rule.radius, anchor + diff * (rule.radius / dist), bias)
    return bias, steps


def update_xp(rule: BiasRule, state: BiasState, loads, n: int, K: int) -> BiasState:
    """:func:`update` on the arrays of ``loads`` (numpy or CuPy), for one bias (E,) or S biases (S, E).

    ``state.bias`` and ``state.steps`` take the shape of ``loads`` (a batched state holds (S, E) arrays
    and one update count t for all seeds). Checks the loads (shape, integers ≥ 0 summing to K·n per
    seed; one host read), then applies :func:`step_xp`.
    """
    xp = array_namespace(loads, state.bias)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (tokens in the batch), got {n!r}")
    E = rule.anchor.shape[0]
    check_K(K, E)
    loads = xp.asarray(loads)
    if loads.ndim not in (1, 2) or loads.shape[-1] != E or tuple(state.bias.shape) != tuple(loads.shape):
        raise ValueError(f"loads must have shape ({E},) or (S, {E}), the shape of state.bias "
                         f"{tuple(state.bias.shape)}, got {tuple(loads.shape)}")
    if loads.dtype.kind not in "iu" or bool(xp.any(loads < 0)) or bool(xp.any(loads.sum(axis=-1) != K * n)):
        raise ValueError(f"loads must be non-negative integer counts summing to K·n = {K * n}")
    bias, steps = step_xp(rule, state.t + 1, loads.astype(xp.int64), n, K, xp.asarray(state.steps),
                          xp.asarray(state.bias, dtype=float))
    return BiasState(bias, steps, state.t + 1)


def _check_loads(loads, E: int, n: int, K: int) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (tokens in the batch), got {n!r}")
    check_K(K, E)
    loads = np.asarray(loads)
    if loads.shape != (E,):
        raise ValueError(f"loads must have shape ({E},), got {loads.shape}")
    if loads.dtype.kind not in "iu" or loads.min() < 0 or loads.sum() != K * n:
        raise ValueError(f"loads must be non-negative integer counts summing to K·n = {K * n}")
    return loads.astype(np.int64)
