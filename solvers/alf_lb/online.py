r"""Online load balancing over a stream of batches: route with the previous bias, count, update.

For batches t = 1..B with scores s^{(t)} ∈ R^{n×E}:

    route s^{(t)} with b_{t−1} (top-K on s + b),  c_t = loads,  b_t = update(b_{t−1}, c_t).

This is *causal*: batch t is routed with a bias computed from batches < t only. The ``oracle`` mode
(diagnostics only, it leaks the current batch like Expert Choice) updates with c_t and re-routes batch t
with b_t, reporting the loads of that second routing.

A numba kernel fuses routing, counting and the update over a whole (B, n, E) array (no Python loop over
batches or tokens); :func:`run_online_numpy` is the per-batch reference loop with numpy routing and the
numpy update. They agree to rounding (the tests hold them to 1e-12 and identical loads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from solvers.alf_lb import bias as bl
from solvers.alf_lb._validate import check_K
from solvers.alf_lb.routing import _route_kernel, route

__all__ = ["OnlineRun", "run_online", "run_online_numpy"]


@dataclass(frozen=True)
class OnlineRun:
    """A run over B batches.

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
               oracle: bool = False) -> OnlineRun:
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

    Returns
    -------
    OnlineRun
        Loads and biases per batch, and the final state.
    """
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
