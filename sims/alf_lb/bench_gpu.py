r"""GPU-vs-CPU benchmark of the practical MoE experiment (``boundlab bench alf_lb --backend cupy``).

``moe_step_T4096_E16_gpu_vs_cpu``: one training step of the ALF-LB arm of :mod:`sims.alf_lb.practical` at
its GPU scale: a global batch of 4096 tokens (8 micro-batches of 2 sequences of 256 tokens), d = 32,
E = 16 experts, K = 2, expert width 64, float32, sign rule u = 10⁻³, global counting. One step is the
routing (top-K on the device, loads and bias update on the host), the forward and hand-written backward
pass of the experts on their own token-slots, and the Adam update. Candidate: the step on CuPy arrays;
reference: the same step on numpy with a single-threaded BLAS, as the experiment runs it on the CPU
(9 ms min, 17 ms median on the shared 2-core machine of BENCHMARKS.md). No target: the ratio is reported. The training
pool holds 256 sequences instead of the experiment's 4096 (the pool size does not change the cost of a
step), and the steps cycle through a schedule of 64 batches. Both sides start from the same host draws.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from sims.alf_lb import moe
from sims.alf_lb.practical import PRACTICAL_DEFAULTS, resolve
from sims.bench import Pair, cupy_or_skip, register_benchmark

__all__ = ["SCHEDULE", "TRAIN_SEQS", "step_workload"]

#: Sequences in the training pool and batches in the cycled schedule of the benchmark.
TRAIN_SEQS, SCHEDULE = 256, 64


def step_workload(xp: ModuleType, **overrides: object) -> tuple[Callable[[], None], dict]:
    """One ALF-LB training step at the GPU scale on namespace ``xp``, and the box holding the state.

    ``overrides`` replace keys of the practical experiment's GPU-scale config (e.g. smaller sizes in
    tests). Each call advances the state in ``box["state"]`` by one step.
    """
    cfg = {**resolve({**PRACTICAL_DEFAULTS, "scale": "gpu"}), "train_seqs": TRAIN_SEQS, **overrides}
    rng = np.random.default_rng(0)
    task = moe.make_task(rng, dim=cfg["dim"], domains=cfg["domains"], teacher_hidden=cfg["teacher_hidden"],
                         center_scale=cfg["center_scale"], token_std=cfg["token_std"])
    data = moe.make_data(task, rng, seq_len=cfg["seq_len"], train_seqs=cfg["train_seqs"], test_seqs=1,
                         steps=SCHEDULE, seqs_per_step=cfg["micros"] * cfg["seqs_per_micro"], xp=xp,
                         dtype=cfg["dtype"])
    params = moe.init_params(rng, dim=cfg["dim"], experts=cfg["experts"], hidden=cfg["hidden"],
                             router_std=cfg["router_std"], xp=xp, dtype=cfg["dtype"])
    spec = moe.make_spec(cfg, "alf_lb")
    box = {"state": moe.init_state(params)}

    def step() -> None:
        with moe._single_threaded_blas(xp):
            box["state"], _ = moe.train_step(box["state"], spec, *data.batch(box["state"].step % SCHEDULE))

    return step, box


@register_benchmark("alf_lb", "moe_step_T4096_E16_gpu_vs_cpu",
                    candidate="one ALF-LB MoE training step on GPU (CuPy, float32, 4096 tokens)",
                    reference="the same step on CPU (numpy + numba routing, one BLAS thread)",
                    backend="cupy", target=None)
def _moe_step() -> Pair:
    xp = cupy_or_skip()
    return step_workload(xp)[0], step_workload(np)[0]
