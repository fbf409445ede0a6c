r"""The practical GPU experiment of ALF-LB: the tiny MoE layer trained with the aux loss and with ALF-LB.

``boundlab run alf_lb practical --set scale=gpu --set backend=cupy`` trains the MoE layer of
:mod:`sims.alf_lb.moe` (same model, data, arms and metrics; see there for the mathematics) at one of two
preset sizes, on numpy or on CuPy, and adds the wall time of every checkpoint. Every number of the table
but the times is a function of the seed: the task, the data and the initial weights are drawn on the host
from the run's generator in the order of :func:`~sims.alf_lb.moe.moe_experiment` (so the metric columns
equal that experiment's on the same configuration and seed) and moved to the device once.

**Scales** (:data:`SCALES`, overrides of :data:`~sims.alf_lb.moe.MOE_DEFAULTS`):

- ``quick``: the CPU scale of the moe experiment, 300 steps of 512 tokens (4 micro-batches of 2 sequences
  of 64 tokens), float64, α = u = 10⁻²; about a second per arm on one CPU core.
- ``gpu``: the full scale of the spec (:data:`~sims.alf_lb.moe.FULL_SCALE`), 5000 steps of 4096 tokens
  (8 micro-batches of 2 sequences of 256 tokens), float32, α = u = 10⁻³.

**Config keys** (:data:`PRACTICAL_DEFAULTS`): ``scale`` (quick | gpu), ``backend`` (numpy | cupy), ``arms``
(default ``["aux", "alf_lb"]``; ``none`` may be added), and ``steps``, ``log_every``, ``dtype``: None takes
the scale's value, anything else replaces it (e.g. a short GPU-scale run to time the step).

**Columns** (:data:`COLUMNS`), one row per arm and checkpoint, after the config keys and ``seed`` that
the runner adds: ``step, arm, train_loss, aux_loss, test_loss, maxvio_global, entropy, maxvio_batch,
bias_spread`` (as in the moe experiment), ``tokens_per_step``, ``wall_time_s`` (seconds of training of
this arm up to this checkpoint, held-out evaluations included, data generation excluded), ``step_time_s``
(seconds per step since the previous checkpoint) and ``device`` (:func:`sims.backend.describe_device`).
Before its clock starts, each arm takes one discarded step from the initial state, so numba's cache load
and CuPy's kernel compilation stay out of the times.

References
----------
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664 (Algorithm 1; MaxVio, eq. 4).
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from sims.alf_lb import moe
from sims.runner import register_experiment
from solvers._checks import check_int

__all__ = ["COLUMNS", "PRACTICAL_DEFAULTS", "SCALES", "practical_experiment", "resolve"]

#: Overrides of the moe experiment's defaults at each scale.
SCALES: dict[str, dict[str, Any]] = {
    "quick": {},
    "gpu": {key: value for key, value in moe.FULL_SCALE.items() if key != "backend"},
}

PRACTICAL_DEFAULTS: dict[str, Any] = {
    "scale": "quick", "backend": "numpy", "arms": ["aux", "alf_lb"], "steps": None, "log_every": None,
    "dtype": None,
}

#: The columns of the table, in order (the runner puts the config keys and ``seed`` first).
COLUMNS: tuple[str, ...] = ("step", "arm", "train_loss", "aux_loss", "test_loss", "maxvio_global", "entropy",
                            "maxvio_batch", "bias_spread", "tokens_per_step", "wall_time_s", "step_time_s",
                            "device")

_OVERRIDABLE = ("steps", "log_every", "dtype")


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """The full moe-experiment config of a practical config: defaults, the scale's preset, then the
    non-None overrides of ``steps``, ``log_every`` and ``dtype``, with ``arms`` and ``backend``."""
    scale = config["scale"]
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    out = {**moe.MOE_DEFAULTS, **SCALES[scale], "arms": config["arms"], "backend": config["backend"]}
    out.update({key: config[key] for key in _OVERRIDABLE if config[key] is not None})
    return out


def _checkpoints(steps: int, log_every: int) -> list[int]:
    """The steps at which :func:`~sims.alf_lb.moe.train` logs: multiples of ``log_every``, and ``steps``."""
    stops = list(range(log_every, steps + 1, log_every))
    return stops if stops and stops[-1] == steps else [*stops, steps]


@register_experiment("alf_lb", "practical", PRACTICAL_DEFAULTS)
def practical_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """The MoE layer trained with the aux loss and ALF-LB at the quick or GPU scale, with wall times."""
    from sims.backend import array_module, check_backend_name, describe_device, synchronize

    cfg = resolve(config)
    backend = check_backend_name(cfg["backend"])
    specs = moe.check_moe_config(cfg)
    steps, log_every = check_int("steps", cfg["steps"]), check_int("log_every", cfg["log_every"])
    micros, per_micro = check_int("micros", cfg["micros"]), check_int("seqs_per_micro", cfg["seqs_per_micro"])
    xp = array_module(backend)  # BackendUnavailable (one line) before any work
    device = describe_device(backend)

    task = moe.make_task(rng, dim=cfg["dim"], domains=cfg["domains"], teacher_hidden=cfg["teacher_hidden"],
                         center_scale=cfg["center_scale"], token_std=cfg["token_std"],
                         target_noise=cfg["target_noise"])
    data = moe.make_data(task, rng, seq_len=cfg["seq_len"], train_seqs=cfg["train_seqs"],
                         test_seqs=cfg["test_seqs"], steps=steps, seqs_per_step=micros * per_micro, xp=xp,
                         dtype=cfg["dtype"])
    params = moe.init_params(rng, dim=cfg["dim"], experts=cfg["experts"], hidden=cfg["hidden"],
                             router_std=cfg["router_std"], xp=xp, dtype=cfg["dtype"])
    tables = []
    with moe._single_threaded_blas(xp):
        for spec in specs:
            state = moe.init_state(params)
            moe.train_step(state, spec, *data.batch(0))  # warm-up, discarded
            synchronize(backend)
            start = last = time.perf_counter()
            done = 0
            for stop in _checkpoints(steps, log_every):
                state, rows = moe.train(state, spec, data, stop, log_every=log_every)
                synchronize(backend)
                now = time.perf_counter()
                rows["wall_time_s"], rows["step_time_s"] = now - start, (now - last) / (stop - done)
                last, done = now, stop
                tables.append(rows)
    out = pd.concat(tables, ignore_index=True)
    out["tokens_per_step"], out["device"] = micros * per_micro * cfg["seq_len"], device
    return out[list(COLUMNS)]
