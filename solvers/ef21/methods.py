r"""GD, EF14, EF21, EF21-W and EControl as ``init`` / ``direction`` / ``update`` triples over a state.

One round of every method, as :func:`solvers.ef21.run` plays it (spec ``ef21.md`` §3):

1. server step: :math:`x^{t+1} = x^t - s^t` with :math:`s^t` = ``direction(state, γ)``;
2. every client evaluates its gradient at :math:`x^{t+1}`: ``grads = problem.client_grads(x)``;
3. ``update(state, grads, γ, rng)`` compresses, updates client and server state, and computes the
   per-client estimator error of the new round.

``init(grads0, γ, rng)`` takes the gradients at :math:`x^0`. The methods differ in which gradients the
step of round t uses:

- GD and EF21 / EF21-W step with the state built from gradients at earlier points
  (:math:`s^t = \gamma g^t`); the gradients at :math:`x^{t+1}` then update :math:`g`;
- EF14 and EControl compress the gradient at :math:`x^t` *before* stepping from :math:`x^t`, so
  ``init`` already compresses round 0's message (with ``grads0``) and ``update`` with the gradients at
  :math:`x^{t+1}` prepares the step of round t + 1.

Vectorised over clients. On numpy arrays with :class:`~solvers.ef21.compressors.TopK` or
:class:`~solvers.ef21.compressors.Identity`, ``update`` is one fused numba kernel per method that reads
each client row once (:mod:`solvers.ef21._kernels`); other compressors, and CuPy arrays, take the array
path (form the compressor input, call ``compressor.compress``, update), the same code on any namespace.
``update_per_client`` is the plain per-client Python loop, the reference for tests and benchmarks.

**Seeds.** ``init`` and ``update`` also take gradients (S, n, d) of S independent runs (seeds): the state
then carries the seed axis first (g (S, n, d), g_mean (S, d), err (S, n); weight and scale stay (n,)),
every client operation is row-wise so clients × seeds fold into S·n rows, and only the server sums
Σ_i weight_i(·) are taken per seed (``weight @ C`` broadcasts over the seed axis). The fused kernels
run once per seed on views; TopK and Identity compress the S·n rows in one call; a randomized
compressor takes ``rng`` as a sequence of S generators and draws seed s's keys from ``rng[s]``, so seed
s sees exactly the draws of a single run with that generator.

**In place.** ``update`` overwrites the (n, d) arrays of the state it is given and returns the next
state (which shares them); copy the state first (:func:`copy_state`) to keep the old one.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21: A New, Simpler, Theoretically Better, and Practically
Faster Error Feedback", NeurIPS 2021, arXiv 2106.05203, Algorithm 1.
P. Richtárik, E. Gasanov, K. Burlachenko, "Error Feedback Reloaded: From Quadratic to Arithmetic Mean of
Smoothness Constants", ICLR 2024, arXiv 2402.10774 (EF21-W; the rule here is the spec's reconstruction).
Y. Gao, R. Islamov, S. Stich, "EControl: Fast Distributed Optimization with Compression and Error
Control", ICLR 2024, arXiv 2311.05645 (reconstructed rule, spec §3).
F. Seide et al., "1-Bit Stochastic Gradient Descent", Interspeech 2014; S. Stich, J.-B. Cordonnier,
M. Jaggi, "Sparsified SGD with Memory", NeurIPS 2018 (EF14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from solvers._checks import check_positive
from solvers._xp import array_namespace, is_cupy
from solvers.ef21 import _kernels
from solvers.ef21.compressors import Compressor, Identity, RandK, TopK, topk_xp

__all__ = [
    "EControlState",
    "EF14State",
    "EF21State",
    "GDState",
    "Method",
    "copy_state",
    "econtrol",
    "ef14",
    "ef21",
    "ef21w",
    "gd",
]

Backend = Literal["auto", "numba", "xp"]
Init = Literal["gradient", "zero"]


class GDState(NamedTuple):
    """GD at round t."""

    grad: Any   # (d,) ∇f(x^t) = (1/n)Σ_i ∇f_i(x^t)
    err: Any    # (n,) NaN: GD keeps no estimator


class EF21State(NamedTuple):
    """EF21 / EF21-W at round t (before the server step of round t)."""

    g: Any       # (n, d) client estimates g_i^t
    g_mean: Any  # (d,) server estimate g^t = Σ_i weight_i g_i^t
    err: Any     # (n,) ‖g_i^t − scale_i·∇f_i(x^t)‖²
    weight: Any  # (n,) aggregation weights: 1/n (EF21), w_i = L_i/Σ_j L_j (EF21-W)
    scale: Any   # (n,) client scale: 1 (EF21), 1/(n w_i) = L_AM/L_i (EF21-W)


class EF14State(NamedTuple):
    """EF14 after the client step of round t: e_i^{t+1} and the server's pending step."""

    e: Any       # (n, d) e_i^{t+1} = e_i^t + γ∇f_i(x^t) − v_i^t
    v_mean: Any  # (d,) (1/n)Σ_i v_i^t: x^{t+1} = x^t − v_mean
    err: Any     # (n,) ‖e_i^{t+1}‖²/γ², the untransmitted gradient mass in gradient units
    weight: Any  # (n,) 1/n


class EControlState(NamedTuple):
    """EControl after the client step of round t."""

    e: Any       # (n, d) e_i^{t+1}
    h: Any       # (n, d) h_i^{t+1} = h_i^t + Δ_i^t
    h_mean: Any  # (d,) h^{t+1} = h^t + Δ^t: x^{t+1} = x^t − γ h^{t+1}
    err: Any     # (n,) ‖h_i^{t+1} − ∇f_i(x^t)‖² (EF21's G^t when η = 0)
    weight: Any  # (n,) 1/n


@dataclass(frozen=True, eq=False)
class Method:
    """One method of the family: its name and its pure functions.

    Attributes
    ----------
    name
        ``"GD"``, ``"EF14"``, ``"EF21"``, ``"EF21-W"`` or ``"EControl"``.
    kind
        ``"gd"``, ``"ef14"``, ``"ef21"``, ``"ef21w"`` or ``"econtrol"``.
    compressor
        The compressor (None for GD).
    init_mode
        ``"gradient"`` or ``"zero"`` (the estimator's start), ``"none"`` for GD and EF14.
    init
        ``init(grads0, gamma=None, rng=None, *, backend="auto") -> state`` from the (n, d) gradients at x⁰
        (EF14 needs ``gamma``; EF14 and EControl compress round 0's message here).
    direction
        ``direction(state, gamma) -> s`` with x^{t+1} = x^t − s.
    update
        ``update(state, grads, gamma=None, rng=None, *, backend="auto") -> state`` with the (n, d)
        gradients at x^{t+1}; ``backend`` is ``"numba"`` (fused kernel), ``"xp"`` (array path) or
        ``"auto"``. Overwrites the state's (n, d) arrays.
    update_per_client
        The same update as a plain per-client loop (numpy only): the reference.
    eta
        EControl's η (None otherwise).
    smoothness
        EF21-W's L_i (None otherwise).
    """

    name: str
    kind: str
    compressor: Compressor | None
    init_mode: str
    init: Callable[..., Any]
    direction: Callable[[Any, float], Any]
    update: Callable[..., Any]
    update_per_client: Callable[..., Any]
    eta: float | None = None
    smoothness: np.ndarray | None = None

    @property
    def dense_init(self) -> bool:
        """Whether the initial state needs a dense gradient from every client (g_i⁰ or h_i⁰ = ∇f_i(x⁰))."""
        return self.kind in ("ef21", "ef21w", "econtrol") and self.init_mode == "gradient"

    def error(self, state: Any) -> Any:
        """The estimator error of ``state``: G = Σ_i weight_i·err_i (G_W for EF21-W), NaN for GD."""
        if self.kind == "gd":
            return state.err[..., 0]
        return state.err @ state.weight


def copy_state(state: Any) -> Any:
    """A deep copy of a state (its arrays copied), to keep it across an in-place ``update``."""
    return type(state)(*(x.copy() if hasattr(x, "copy") else x for x in state))


# ---------------------------------------------------------------------------------------------
# helpers


def _client_array(name: str, a: Any, shape: tuple[int, ...] | None = None) -> tuple[Any, Any]:
    xp = array_namespace(a)
    a = xp.asarray(a, dtype=xp.float64)
    if a.ndim not in (2, 3) or min(a.shape) < 1:
        raise ValueError(f"{name} must be an (n, d) array of client gradients (or (S, n, d) for S seeds), "
                         f"got shape {a.shape}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (n clients, d), got {a.shape}")
    if xp is np:
        a = np.ascontiguousarray(a)
    return xp, a


def _check_grads0(grads0: Any, compressor: Compressor | None) -> tuple[Any, Any]:
    xp, G = _client_array("grads0", grads0)
    if not bool(xp.all(xp.isfinite(G))):
        raise ValueError("grads0 must be finite, got non-finite entries")
    if compressor is not None:
        alpha = compressor.alpha(G.shape[-1])  # checks k <= d; raises for a non-contractive scaled RandK
        if not 0 < alpha <= 1:
            raise ValueError(f"compressor {compressor.name} must be contractive on R^{G.shape[-1]}: "
                             f"alpha must be in (0, 1], got {alpha}")
    return xp, G


def _check_compressor(compressor: Any) -> Compressor:
    if not isinstance(compressor, Compressor):
        raise TypeError(f"compressor must be a Compressor (TopK, RandK, Identity or a subclass), "
                        f"got {type(compressor).__name__}")
    return compressor


def _check_init(init: Any) -> str:
    if init not in ("gradient", "zero"):
        raise ValueError(f"init must be 'gradient' or 'zero', got {init!r}")
    return init


def _check_rng(compressor: Compressor, rng: Any) -> None:
    if rng is None and not compressor.deterministic:
        raise ValueError(f"rng is required by the randomized compressor {compressor.name}")


def _seed_rng(rng: Any, s: int, S: int) -> Any:
    """Seed s's generator from ``rng``: a sequence of S generators (a batched run), else ``rng`` itself."""
    if isinstance(rng, list | tuple):
        if len(rng) != S:
            raise ValueError(f"rng must hold one generator per seed ({S}), got {len(rng)}")
        return rng[s]
    if S > 1 and rng is not None:
        raise ValueError(f"rng must be a sequence of {S} generators (one per seed) for a randomized compressor")
    return rng


def _fused(backend: str, xp: Any, compressor: Compressor) -> bool:
    """Whether to take the fused numba kernel (numpy arrays and TopK / Identity)."""
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    fusable = xp is np and type(compressor) in (TopK, Identity)
    if backend == "numba" and not fusable:
        raise ValueError("backend='numba' needs numpy arrays and a TopK or Identity compressor")
    return fusable and backend != "xp"


def _kernel_k(compressor: Compressor, d: int) -> int:
    return compressor.values_sent(d)


def _compress(compressor: Compressor, U: Any, rng: Any, backend: str) -> Any:
    """The array path's compression of every row (TopK through its argsort path when forced).

    U (S, n, d): a deterministic compressor takes the S·n rows at once; a randomized one is called once
    per seed with that seed's generator.
    """
    if U.ndim == 3:
        S, n, d = U.shape
        if compressor.deterministic:
            return _compress(compressor, U.reshape(S * n, d), rng, backend).reshape(S, n, d)
        xp = array_namespace(U)
        return xp.stack([compressor.compress(U[s], _seed_rng(rng, s, S)) for s in range(S)])
    if type(compressor) is TopK and (backend == "xp" or is_cupy(U)):
        return topk_xp(U, compressor.k)
    return compressor.compress(U, rng)


def _per_seed(kernel: Callable[..., Any], G: Any, per_seed: tuple, shared: tuple, err: Any) -> None:
    """Run a fused kernel on every seed's views of a batched state (or once on an unbatched one).

    The kernel is called as ``kernel(G, *per_seed, *shared, err)``: ``per_seed`` are the state arrays
    with a seed axis (written in place through the views), ``shared`` the arguments common to all seeds.
    """
    if G.ndim == 2:
        kernel(G, *per_seed, *shared, err)
        return
    for s in range(G.shape[0]):
        kernel(G[s], *(a[s] for a in per_seed), *shared, err[s])


def _compress_row(compressor: Compressor, u: np.ndarray, rng: Any) -> np.ndarray:
    """One client's message, as a per-client loop writes it (numpy)."""
    d = u.shape[0]
    if type(compressor) is TopK:
        out = np.zeros_like(u)
        if compressor.k == 1:
            j = int(np.argmax(np.abs(u)))
            out[j] = u[j]
        else:
            idx = np.argsort(-np.abs(u), kind="stable")[:compressor.k]
            out[idx] = u[idx]
        return out
    if type(compressor) is Identity:
        return u.copy()
    if type(compressor) is RandK:
        k = compressor.k
        keys = rng.random(d)
        kth = np.partition(keys, k - 1)[k - 1]
        return np.where(keys <= kth, u * (d / k) if compressor.scaled else u, 0.0)
    return np.asarray(compressor.compress(u, rng))


def _numpy_state(state: Any) -> None:
    if any(is_cupy(x) for x in state):
        raise TypeError("update_per_client is the numpy reference; it does not take CuPy states")


# ---------------------------------------------------------------------------------------------
# GD


def gd() -> Method:
    r"""Gradient descent :math:`x^{t+1} = x^t - \gamma\frac1n\sum_i\nabla f_i(x^t)` (spec §3; γ = 1/L)."""

    def init(grads0: Any, gamma: float | None = None, rng: Any = None, *, backend: Backend = "auto") -> GDState:
        xp, G = _check_grads0(grads0, None)
        return GDState(G.mean(axis=-2), xp.full(G.shape[:-1], xp.nan))

    def direction(state: GDState, gamma: float) -> Any:
        return check_positive("gamma", gamma) * state.grad

    def update(state: GDState, grads: Any, gamma: float | None = None, rng: Any = None, *,
               backend: Backend = "auto") -> GDState:
        _, G = _client_array("grads", grads, (*state.err.shape, state.grad.shape[-1]))
        return GDState(G.mean(axis=-2), state.err)

    def update_per_client(state: GDState, grads: Any, gamma: float | None = None, rng: Any = None) -> GDState:
        _numpy_state(state)
        _, G = _client_array("grads", grads, (state.err.shape[0], state.grad.shape[0]))
        total = np.zeros(G.shape[1])
        for i in range(G.shape[0]):
            total += G[i]
        return GDState(total / G.shape[0], state.err)

    return Method("GD", "gd", None, "none", init, direction, update, update_per_client)


# ---------------------------------------------------------------------------------------------
# EF21 and EF21-W


def _check_smoothness(smoothness: Any) -> np.ndarray:
    L = np.asarray(smoothness, dtype=float)
    if L.ndim != 1 or L.size < 1:
        raise ValueError(f"smoothness must be a non-empty vector of L_i, got shape {L.shape}")
    if not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise ValueError("smoothness must be finite and > 0 (the L_i of every client)")
    return L


def _ef21_family(compressor: Compressor, init_mode: str, smoothness: np.ndarray | None) -> Method:
    weighted = smoothness is not None

    def weights(xp: Any, n: int) -> tuple[Any, Any]:
        if not weighted:
            return xp.full(n, 1.0 / n), xp.ones(n)
        if smoothness.shape[0] != n:
            raise ValueError(f"smoothness has {smoothness.shape[0]} entries but grads0 has {n} client rows")
        return xp.asarray(smoothness / smoothness.sum()), xp.asarray(smoothness.mean() / smoothness)

    def init(grads0: Any, gamma: float | None = None, rng: Any = None, *, backend: Backend = "auto") -> EF21State:
        xp, G = _check_grads0(grads0, compressor)
        n = G.shape[-2]
        weight, scale = weights(xp, n)
        target = scale[:, None] * G if weighted else G
        if init_mode == "gradient":
            g = xp.array(target, copy=True)
            err = xp.zeros(G.shape[:-1])
        else:
            g = xp.zeros_like(target)
            err = (target**2).sum(axis=-1)
        g_mean = weight @ g if weighted else g.mean(axis=-2)
        return EF21State(g, g_mean, err, weight, scale)

    def direction(state: EF21State, gamma: float) -> Any:
        return check_positive("gamma", gamma) * state.g_mean

    def update(state: EF21State, grads: Any, gamma: float | None = None, rng: Any = None, *,
               backend: Backend = "auto") -> EF21State:
        xp, G = _client_array("grads", grads, state.g.shape)
        if _fused(backend, xp, compressor):
            _per_seed(_kernels.ef21_topk, G, (state.g, state.g_mean),
                      (state.scale, state.weight, _kernel_k(compressor, G.shape[-1])), state.err)
            return state
        _check_rng(compressor, rng)
        U = (state.scale[:, None] * G if weighted else G) - state.g
        C = _compress(compressor, U, rng, backend)
        state.g[...] += C
        return EF21State(state.g, state.g_mean + state.weight @ C, ((U - C) ** 2).sum(axis=-1),
                         state.weight, state.scale)

    def update_per_client(state: EF21State, grads: Any, gamma: float | None = None, rng: Any = None) -> EF21State:
        _numpy_state(state)
        _, G = _client_array("grads", grads, state.g.shape)
        _check_rng(compressor, rng)
        g, g_mean, err = state.g, state.g_mean.copy(), np.empty(G.shape[0])
        for i in range(G.shape[0]):
            u = (state.scale[i] * G[i] if weighted else G[i]) - g[i]
            c = _compress_row(compressor, u, rng)
            g[i] += c
            g_mean += state.weight[i] * c
            r = u - c
            err[i] = r @ r
        return EF21State(g, g_mean, err, state.weight, state.scale)

    name, kind = ("EF21-W", "ef21w") if weighted else ("EF21", "ef21")
    return Method(name, kind, compressor, init_mode, init, direction, update, update_per_client,
                  smoothness=smoothness)


def ef21(compressor: Compressor, init: Init = "gradient") -> Method:
    r"""EF21 (Richtárik, Sokolov, Fatkhullin 2021, Algorithm 1; spec §3).

    .. math::

        x^{t+1} = x^t - \gamma g^t,\quad c_i^t = \mathcal C(\nabla f_i(x^{t+1}) - g_i^t),\quad
        g_i^{t+1} = g_i^t + c_i^t,\quad g^{t+1} = g^t + \tfrac1n\textstyle\sum_i c_i^t,

    with :math:`g_i^0 = \nabla f_i(x^0)` (``init="gradient"``) or 0 and :math:`g^0 = \frac1n\sum_i g_i^0`.
    The per-client error is :math:`\|g_i^t - \nabla f_i(x^t)\|^2`, so G^t = (1/n)Σ_i err_i (claim 4) and
    G̃^t = (1/n)Σ_i (L_AM/L_i) err_i (claim 6). Theory step γ_QM = 1/(L + L_QM ξ).
    """
    return _ef21_family(_check_compressor(compressor), _check_init(init), None)


def ef21w(compressor: Compressor, smoothness: Any, init: Init = "gradient") -> Method:
    r"""EF21-W, the weighted EF21 of "Error Feedback Reloaded" (spec §3; *reconstructed* rule).

    With :math:`w_i = L_i/\sum_j L_j` and client scale :math:`1/(n w_i) = L_{AM}/L_i`:

    .. math::

        x^{t+1} = x^t - \gamma g^t,\quad c_i^t = \mathcal C\big(\nabla f_i(x^{t+1})/(n w_i) - g_i^t\big),\quad
        g_i^{t+1} = g_i^t + c_i^t,\quad g^{t+1} = g^t + \textstyle\sum_i w_i c_i^t,

    :math:`g_i^0 = \nabla f_i(x^0)/(n w_i)` or 0, :math:`g^0 = \sum_i w_i g_i^0`. The per-client error is
    :math:`\|g_i^t - \nabla f_i(x^t)/(n w_i)\|^2` and G_W^t = Σ_i w_i err_i (claim 5). Theory step
    γ_AM = 1/(L + L_AM ξ). Keep float64: 1/(n w_i) amplifies clients with small L_i.

    Parameters
    ----------
    compressor
        Contractive compressor.
    smoothness
        (n,) the L_i (finite, > 0).
    init
        ``"gradient"`` or ``"zero"``.
    """
    return _ef21_family(_check_compressor(compressor), _check_init(init), _check_smoothness(smoothness))


# ---------------------------------------------------------------------------------------------
# EF14


def ef14(compressor: Compressor) -> Method:
    r"""Classic error feedback (Seide et al. 2014, in the form of Stich et al. 2018; spec §3).

    .. math::

        e_i^0 = 0,\quad v_i^t = \mathcal C(e_i^t + \gamma\nabla f_i(x^t)),\quad
        x^{t+1} = x^t - \tfrac1n\textstyle\sum_i v_i^t,\quad e_i^{t+1} = e_i^t + \gamma\nabla f_i(x^t) - v_i^t.

    The step of round t uses the gradient at x^t, so ``init`` (which needs γ) compresses round 0 and
    ``update`` with the gradients at x^{t+1} prepares round t + 1. The reported error is
    :math:`\|e_i^{t+1}\|^2/\gamma^2`. No convergence claim is attached (bounded gradients needed).
    """
    compressor = _check_compressor(compressor)

    def init(grads0: Any, gamma: float | None = None, rng: Any = None, *, backend: Backend = "auto") -> EF14State:
        if gamma is None:
            raise ValueError("gamma is required by EF14's init (round 0 compresses γ∇f_i(x⁰))")
        check_positive("gamma", gamma)
        xp, G = _check_grads0(grads0, compressor)
        n, d = G.shape[-2:]
        state = EF14State(xp.zeros(G.shape), xp.zeros((*G.shape[:-2], d)), xp.zeros(G.shape[:-1]), xp.full(n, 1.0 / n))
        return update(state, G, gamma, rng, backend=backend)

    def direction(state: EF14State, gamma: float) -> Any:
        check_positive("gamma", gamma)
        return state.v_mean

    def update(state: EF14State, grads: Any, gamma: float | None = None, rng: Any = None, *,
               backend: Backend = "auto") -> EF14State:
        gamma = check_positive("gamma", gamma)
        xp, G = _client_array("grads", grads, state.e.shape)
        if _fused(backend, xp, compressor):
            _per_seed(_kernels.ef14_topk, G, (state.e, state.v_mean),
                      (gamma, state.weight, _kernel_k(compressor, G.shape[-1])), state.err)
            state.err[...] /= gamma * gamma
            return state
        _check_rng(compressor, rng)
        U = state.e + gamma * G
        C = _compress(compressor, U, rng, backend)
        state.e[...] = U - C
        return EF14State(state.e, state.weight @ C, (state.e**2).sum(axis=-1) / (gamma * gamma), state.weight)

    def update_per_client(state: EF14State, grads: Any, gamma: float | None = None, rng: Any = None) -> EF14State:
        _numpy_state(state)
        gamma = check_positive("gamma", gamma)
        _, G = _client_array("grads", grads, state.e.shape)
        _check_rng(compressor, rng)
        e, v_mean, err = state.e, np.zeros(G.shape[1]), np.empty(G.shape[0])
        for i in range(G.shape[0]):
            u = e[i] + gamma * G[i]
            v = _compress_row(compressor, u, rng)
            e[i] = u - v
            v_mean += state.weight[i] * v
            err[i] = (e[i] @ e[i]) / (gamma * gamma)
        return EF14State(e, v_mean, err, state.weight)

    return Method("EF14", "ef14", compressor, "none", init, direction, update, update_per_client)


# ---------------------------------------------------------------------------------------------
# EControl


def econtrol(compressor: Compressor, eta: float, init: Init = "gradient") -> Method:
    r"""EControl (Gao, Islamov, Stich 2024) — the spec's *reconstructed* rule, not confirmed against
    the paper's algorithm.

    .. math::

        \Delta_i^t = \mathcal C(\eta e_i^t + g_i^t - h_i^t),\quad
        e_i^{t+1} = e_i^t + g_i^t - h_i^t - \Delta_i^t,\quad h_i^{t+1} = h_i^t + \Delta_i^t,\\
        \Delta^t = \tfrac1n\textstyle\sum_i\Delta_i^t,\quad x^{t+1} = x^t - \gamma(h^t + \Delta^t),\quad
        h^{t+1} = h^t + \Delta^t,

    with :math:`g_i^t = \nabla f_i(x^t)` (full gradients here), :math:`e_i^0 = 0` and
    :math:`h_i^0 = \nabla f_i(x^0)` (``init="gradient"``, the spec's rule) or 0. The step of round t
    uses the gradient at x^t, so ``init`` compresses round 0. The reported error is
    :math:`\|h_i^{t+1} - \nabla f_i(x^t)\|^2`. With η = 0 and ``init="gradient"`` the iterates are
    EF21's with g_i⁰ = ∇f_i(x⁰) (claim 9): h_i^{t+1} plays g_i^t. The analysis reportedly takes η = α/400
    (not confirmed); keep η small relative to α.

    Parameters
    ----------
    compressor
        Contractive compressor (α = δ in the paper's notation).
    eta
        η ≥ 0, the weight of the error fed back.
    init
        ``"gradient"`` (h_i⁰ = ∇f_i(x⁰), a dense initial message) or ``"zero"``.
    """
    compressor = _check_compressor(compressor)
    eta = check_positive("eta", eta, allow_zero=True)
    init_mode = _check_init(init)

    def init_fn(grads0: Any, gamma: float | None = None, rng: Any = None, *,
                backend: Backend = "auto") -> EControlState:
        xp, G = _check_grads0(grads0, compressor)
        n = G.shape[-2]
        h = xp.array(G, copy=True) if init_mode == "gradient" else xp.zeros(G.shape)
        state = EControlState(xp.zeros(G.shape), h, h.mean(axis=-2), xp.zeros(G.shape[:-1]), xp.full(n, 1.0 / n))
        return update(state, G, gamma, rng, backend=backend)

    def direction(state: EControlState, gamma: float) -> Any:
        return check_positive("gamma", gamma) * state.h_mean

    def update(state: EControlState, grads: Any, gamma: float | None = None, rng: Any = None, *,
               backend: Backend = "auto") -> EControlState:
        xp, G = _client_array("grads", grads, state.h.shape)
        if _fused(backend, xp, compressor):
            _per_seed(_kernels.econtrol_topk, G, (state.e, state.h, state.h_mean),
                      (eta, state.weight, _kernel_k(compressor, G.shape[-1])), state.err)
            return state
        _check_rng(compressor, rng)
        U = eta * state.e + G - state.h
        D = _compress(compressor, U, rng, backend)
        state.e[...] = state.e + G - state.h - D
        state.h[...] += D
        return EControlState(state.e, state.h, state.h_mean + state.weight @ D,
                             ((state.h - G) ** 2).sum(axis=-1), state.weight)

    def update_per_client(state: EControlState, grads: Any, gamma: float | None = None,
                          rng: Any = None) -> EControlState:
        _numpy_state(state)
        _, G = _client_array("grads", grads, state.h.shape)
        _check_rng(compressor, rng)
        e, h, h_mean, err = state.e, state.h, state.h_mean.copy(), np.empty(G.shape[0])
        for i in range(G.shape[0]):
            u = eta * e[i] + G[i] - h[i]
            delta = _compress_row(compressor, u, rng)
            e[i] = e[i] + G[i] - h[i] - delta
            h[i] += delta
            h_mean += state.weight[i] * delta
            r = h[i] - G[i]
            err[i] = r @ r
        return EControlState(e, h, h_mean, err, state.weight)

    return Method("EControl", "econtrol", compressor, init_mode, init_fn, direction, update, update_per_client,
                  eta=eta)
