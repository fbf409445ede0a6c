"""Benchmark of the Gumbel-testbed simulator: the fused numba kernel against the per-round numpy loop.

T = 10^5 rounds of a batch of 64 tokens over E = 8 experts, gradient rule η_t = c/(μ_R t) with c = 1,
projected onto ‖p − p*‖₂ ≤ R = ‖p*‖₂ (the claim-9 setting). Both consume the same uniforms, so they route
every token identically (see :mod:`sims.alf_lb.gumbel`).
"""

from __future__ import annotations

import numpy as np

from sims.alf_lb import gumbel as gb
from sims.bench import Pair, register_benchmark

_T, _BATCH, _E = 10**5, 64, 8


@register_benchmark("alf_lb", "online_gumbel_T100000_batch64_E8", candidate="numba fused kernel",
                    reference="per-round numpy loop")
def _online_gumbel() -> Pair:
    testbed = gb.make_testbed(_E, _BATCH, np.random.default_rng(0), spread=0.5)
    rule, _, R, project = gb.build_rule(testbed, gb.EXPERIMENT.config({"rule": "inverse_t", "c": 1.0}))
    bias0 = gb.start_bias(testbed, R, project)
    return (lambda: gb.simulate(testbed, rule, _T, np.random.default_rng(1), bias0=bias0),
            lambda: gb.simulate_numpy(testbed, rule, _T, np.random.default_rng(1), bias0=bias0))
