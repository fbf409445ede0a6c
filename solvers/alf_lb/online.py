r"""Online load balancing over a stream of batches: route with the previous bias, count, update.

For batches t = 1..B with scores s^{(t)} ∈ R^{n×E}:

    route s^{(t)} with b_{t−1} (top-K on s + b),  c_t = loads,  b_t = update(b_{t−1}, c_t).

This is *causal*: batch t is routed with a bias computed from batches < t only. The ``oracle`` mode
(diagnostics only, it leaks the current batch like Expert Choice) updates with c_t and re-routes batch t
with b_t, reporting the loads of that second routing.

A numba kernel fuses routing, counting and the update over a whole (B, n, E) array (no Python loop over
batches or tokens); :func:`run_online_numpy` is the per-batch reference loop with numpy routing and the
numpy update. They agree to rounding (the tests hold them to 1e-12 and identical loads).

:func:`run_online_batch` runs S seeds at once, scores (S, B, n, E): the kernel once per seed on the CPU,
or the array path (``backend="xp"``, the only one for CuPy): one loop over the B batches whose body
routes all S·n tokens by one stable argsort, counts the loads by one bincount and updates the S biases
by :func:`~solvers.alf_lb.bias.step_xp`, with nothing copied to the host until the end. On numpy the
array path equals the kernel bit for bit (same biased scores, same tie rule, the kernel's update
arithmetic), so it is tested for equality, not closeness. :func:`run_online` takes the array path for
CuPy scores (S = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from solvers._xp import array_namespace, is_cupy
from solvers.alf_lb import bias as bl
from solvers.alf_lb._validate import check_K, check_score_batch
from solvers.alf_lb.routing import _route_array, _route_kernel, route

__all__ = ["OnlineRun", "run_online", "run_online_batch", "run_online_numpy"]


@dataclass(frozen=True)
class OnlineRun:
    """A run over B batches (S runs: a leading seed axis on ``loads``, ``biases`` and the state's arrays).

    Attributes
    ----------
    loads
        (B, E) int64: loads of batch t under the bias it was routed with.
    biases
        (B, E) float64: the bias b_{t−1} each batch was routed with (b_t in oracle mode), as rounded to
        the scores' dtype for the routing.
    state
        The rule's state after the last batch (pass it to continue the run).
    """

    loads: np.ndarray
    biases: np.ndarray
    state: bl.BiasState


@numba.njit(cache=True)
def _online_kernel(scores, K, oracle, kind, u, sched_kind, eta0, units, center, freeze_after, radius,
                   anchor, t0, steps, bias, loads_out, bias_out):
    B, n, E = scores.shape
    flat = scores.reshape(B * n * E)
    experts = np.empty((n, K), dtype=np.int64)
    chosen = np.empty((n, K), dtype=scores.dtype)
    counts = np.zeros(E, dtype=np.int64)
    cast = np.empty(E, dtype=scores.dtype)
    for t in range(B):
        batch = flat[t * n * E:(t + 1) * n * E]
        for i in range(E):
            cast[i] = bias[i]
        counts[:] = 0
        _route_kernel(batch, E, cast, K, experts, chosen, counts)
        bl.bias_step(kind, u, sched_kind, eta0, units, center, freeze_after, radius, anchor, t0 + t + 1,
                     counts, n, K, steps, bias)
        if oracle:
            for i in range(E):
                cast[i] = bias[i]
            counts[:] = 0
            _route_kernel(batch, E, cast, K, experts, chosen, counts)
        bias_out[t] = cast
        loads_out[t] = counts


def _prepare(rule: bl.BiasRule, scores, K: int,
             state: bl.BiasState | None) -> tuple[np.ndarray, int, bl.BiasState]:
    """Validated scores (B, n, E), K and the starting state (the rule's initial state when None)."""
    scores = _check_batches(scores)
    E = scores.shape[2]
    K = check_K(K, E)
    if rule.anchor.shape != (E,):
        raise ValueError(f"rule was built for E = {rule.anchor.shape[0]} experts, scores have E = {E}")
    state = bl.init(rule) if state is None else state
    if state.bias.shape != (E,):
        raise ValueError(f"state.bias must have shape ({E},), got {state.bias.shape}")
    return scores, K, state


def _check_batches(scores) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim != 3:
        raise ValueError(f"scores must be 3-D (batches x tokens x experts), got shape {scores.shape}")
    if scores.dtype not in (np.float32, np.float64):  # integers, bools and float16 are widened
        scores = scores.astype(np.float32 if scores.dtype == np.float16 else np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite, got non-finite entries")
    return np.ascontiguousarray(scores)


def run_online(rule: bl.BiasRule, scores, K: int, state: bl.BiasState | None = None, *,
               oracle: bool = False, backend: Literal["auto", "numba", "xp"] = "auto") -> OnlineRun:
    """Route B batches causally and update the bias after each (numba kernel).

    Parameters
    ----------
    rule
        A :func:`~solvers.alf_lb.bias.sign_rule` or :func:`~solvers.alf_lb.bias.gradient_rule`.
    scores
        (B, n, E) finite scores of B batches of n tokens.
    K
        Experts per token, 1 ≤ K ≤ E.
    state
        Where to continue from (default: :func:`~solvers.alf_lb.bias.init`).
    oracle
        Re-route each batch with the bias updated on its own loads (non-causal; diagnostics only).
    backend
        ``"numba"`` (the fused kernel), ``"xp"`` (the array path of :func:`run_online_batch` with one
        seed; numpy or CuPy, where the arrays of the result stay) or ``"auto"`` (numba for numpy).

    Returns
    -------
    OnlineRun
        Loads and biases per batch, and the final state.
    """
    if backend == "xp" or (backend == "auto" and is_cupy(scores)):
        arr = array_namespace(scores).asarray(scores)
        if arr.ndim != 3:
            raise ValueError(f"scores must be 3-D (batches x tokens x experts), got shape {arr.shape}")
        st = None if state is None else bl.BiasState(state.bias[None], state.steps[None], state.t)
        out = run_online_batch(rule, arr[None], K, st, oracle=oracle, backend="xp")
        return OnlineRun(out.loads[0], out.biases[0], bl.BiasState(out.state.bias[0], out.state.steps[0],
                                                                   out.state.t))
    if backend not in ("auto", "numba"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    scores, K, state = _prepare(rule, scores, K, state)
    B, _, E = scores.shape
    bias, steps = state.bias.copy(), state.steps.copy()
    loads = np.empty((B, E), dtype=np.int64)
    biases = np.empty((B, E), dtype=float)
    _online_kernel(scores, K, bool(oracle), rule.kind, rule.u, rule.schedule.kind, rule.schedule.eta0,
                   rule.units, rule.center, rule.freeze_after, rule.radius, rule.anchor, state.t, steps,
                   bias, loads, biases)
    return OnlineRun(loads, biases, bl.BiasState(bias, steps, state.t + B))


def run_online_numpy(rule: bl.BiasRule, scores, K: int, state: bl.BiasState | None = None, *,
                     oracle: bool = False) -> OnlineRun:
    """:func:`run_online` as a per-batch loop of numpy routing and the numpy update (reference)."""
    scores, K, state = _prepare(rule, scores, K, state)
    B, n, E = scores.shape
    loads, biases = np.empty((B, E), dtype=np.int64), np.empty((B, E))
    for t in range(B):
        used = state.bias.astype(scores.dtype)
        counts = route(scores[t], K, used, backend="numpy").loads
        state = bl.update_numpy(rule, state, counts, n, K)
        if oracle:
            used = state.bias.astype(scores.dtype)
            counts = route(scores[t], K, used, backend="numpy").loads
        loads[t], biases[t] = counts, used
    return OnlineRun(loads, biases, state)


def _online_xp(rule: bl.BiasRule, scores, K: int, oracle: bool, t0: int, steps, bias, loads_out, bias_out):
    """The array path over (S, B, n, E) scores; writes loads_out (S, B, E), bias_out; returns (bias, steps)."""
    n = scores.shape[2]
    for t in range(scores.shape[1]):
        cast = bias.astype(scores.dtype)
        counts = _route_array(scores[:, t], cast, K).loads
        bias, steps = bl.step_xp(rule, t0 + t + 1, counts, n, K, steps, bias)
        if oracle:
            cast = bias.astype(scores.dtype)
            counts = _route_array(scores[:, t], cast, K).loads
        bias_out[:, t] = cast
        loads_out[:, t] = counts
    return bias, steps


def run_online_batch(rule: bl.BiasRule, scores, K: int, state: bl.BiasState | None = None, *,
                     oracle: bool = False, backend: Literal["auto", "numba", "xp"] = "auto") -> OnlineRun:
    r"""S independent online runs at once: scores (S, B, n, E), one bias per seed.

    Parameters
    ----------
    rule
        A :func:`~solvers.alf_lb.bias.sign_rule` or :func:`~solvers.alf_lb.bias.gradient_rule` (shared).
    scores
        (S, B, n, E) finite scores, numpy or CuPy: seed s routes the B batches ``scores[s]``.
    K
        Experts per token, 1 ≤ K ≤ E.
    state
        Where to continue from: a :class:`~solvers.alf_lb.bias.BiasState` with (S, E) arrays (default:
        every seed at :func:`~solvers.alf_lb.bias.init`).
    oracle
        As in :func:`run_online`.
    backend
        ``"numba"`` (the fused kernel once per seed, numpy only), ``"xp"`` (vectorised over the seeds,
        numpy or CuPy) or ``"auto"`` (numba for numpy, xp for CuPy).

    Returns
    -------
    OnlineRun
        loads (S, B, E), biases (S, B, E) and the state with bias and steps (S, E) (in the namespace of
        the scores); seed s equals ``run_online(rule, scores[s], K, state_s)`` exactly on numpy.
    """
    scores = check_score_batch(scores, ndim=4)
    xp = array_namespace(scores)
    S, B, _, E = scores.shape
    K = check_K(K, E)
    if rule.anchor.shape != (E,):
        raise ValueError(f"rule was built for E = {rule.anchor.shape[0]} experts, scores have E = {E}")
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    if backend == "numba" and xp is not np:
        raise ValueError("backend='numba' runs on the CPU only; CuPy scores take backend='auto' or 'xp'")
    if state is None:
        first = bl.init(rule)
        state = bl.BiasState(np.tile(first.bias, (S, 1)), np.tile(first.steps, (S, 1)), 0)
    if tuple(state.bias.shape) != (S, E) or tuple(state.steps.shape) != (S, E):
        raise ValueError(f"state.bias and state.steps must have shape (S, E) = ({S}, {E}), got "
                         f"{tuple(state.bias.shape)} and {tuple(state.steps.shape)}")
    bias = xp.array(state.bias, dtype=xp.float64, copy=True)
    steps = xp.array(state.steps, dtype=xp.int64, copy=True)
    loads = xp.empty((S, B, E), dtype=xp.int64)
    biases = xp.empty((S, B, E), dtype=xp.float64)
    if backend == "xp" or xp is not np:
        bias, steps = _online_xp(rule, scores, K, bool(oracle), state.t, steps, bias, loads, biases)
    else:
        for s in range(S):
            _online_kernel(scores[s], K, bool(oracle), rule.kind, rule.u, rule.schedule.kind, rule.schedule.eta0,
                           rule.units, rule.center, rule.freeze_after, rule.radius, rule.anchor, state.t, steps[s],
                           bias[s], loads[s], biases[s])
    return OnlineRun(loads, biases, bl.BiasState(bias, steps, state.t + B))
