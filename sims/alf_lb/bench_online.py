"""Benchmarks of the online simulations: fused numba kernels against per-round numpy loops.

The Gumbel testbed (the online simulation of F1 and claims 7–10): T = 10^5 rounds of a batch of 64
tokens over E = 8 experts, gradient rule η_t = c/(μ_R t) with c = 1,
projected onto ‖p − p*‖₂ ≤ R = ‖p*‖₂ (the claim-9 setting). Both consume the same uniforms, so they route
every token identically (see :mod:`sims.alf_lb.gumbel`).

Token-level balancing of a general stream (:func:`solvers.alf_lb.run_online`, any noise and K), where
each batch's scores are given: 10^4 batches of 64 tokens, E = 8, K = 2, sign rule.
"""

from __future__ import annotations

import numpy as np

import solvers.alf_lb as al
from sims.alf_lb import gumbel as gb
from sims.alf_lb.streams import popularity, popularity_scores
from sims.bench import Pair, register_benchmark

_T, _BATCH, _E = 10**5, 64, 8


@register_benchmark("alf_lb", "online_gumbel_T100000_batch64_E8", candidate="numba fused kernel",
                    reference="per-round numpy loop", target=20)
def _online_gumbel() -> Pair:
    testbed = gb.make_testbed(_E, _BATCH, np.random.default_rng(0), spread=0.5)
    rule, _, R, project = gb.build_rule(testbed, gb.EXPERIMENT.config({"rule": "inverse_t", "c": 1.0}))
    bias0 = gb.start_bias(testbed, R, project)
    return (lambda: gb.simulate(testbed, rule, _T, np.random.default_rng(1), bias0=bias0),
            lambda: gb.simulate_numpy(testbed, rule, _T, np.random.default_rng(1), bias0=bias0))


@register_benchmark("alf_lb", "run_online_tokens_B10000_batch64_E8_K2",
                    candidate="numba fused routing + count + sign update (token level)",
                    reference="per-batch loop of numpy routing and the numpy update")
def _run_online_tokens() -> Pair:
    """Token-level causal balancing (general streams, any K): B = 10⁴ batches of 64 tokens, E = 8, K = 2."""
    rng = np.random.default_rng(0)
    scores = popularity_scores(64, popularity(8, rng), rng, batches=10_000).astype(np.float32)
    rule = al.sign_rule(8, 1e-3)
    return (lambda: al.run_online(rule, scores, 2), lambda: al.run_online_numpy(rule, scores, 2))
