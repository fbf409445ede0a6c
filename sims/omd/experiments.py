"""The OMD experiments: regret of a method on a SEA stream, at checkpoints T = 2^k.

``boundlab run omd regret --set method=oftrl --set rho=0.25`` runs one of them; the checks of
``sims/omd/checks.py`` and the figures of ``paper_figs/omd.py`` call the same functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import solvers.omd as so
from sims.omd.environments import SEAStream, make_stream
from sims.omd.metrics import trajectory_metrics
from sims.runner import checkpoints as runner_checkpoints
from sims.runner import register_experiment
from theory import omd as th

__all__ = ["METHODS", "build_method", "checkpoints", "oftrl_nu", "regret_experiment"]

#: Method names accepted by the experiments, with what they are.
METHODS: dict[str, str] = {
    "optimistic_omd": "optimistic OMD, adaptive convex step D/√(δ + 4G² + V_{t−1})",
    "optimistic_omd_sc": "optimistic OMD, strongly convex step 2/(λt)",
    "ogd": "OGD, step D/(G√t)",
    "ogd_sc": "OGD, step 1/(λt)",
    "ogd_const": "OGD, constant step (config eta)",
    "oftrl": "OFTRL of Sachs et al., ν = LD² + DG unless nu is set",
    "oftl": "OFTL of Sachs et al. (μ = λ)",
    "ons": "online Newton step (M ≡ 0)",
    "optimistic_ons": "optimistic online Newton step",
    "sword": "Sword++-style ensemble of optimistic OGD learners",
}


def oftrl_nu(stream: SEAStream, config: dict[str, Any]) -> float:
    """OFTRL's ν: the config's ``nu`` if set, else ν = LD² + DG (:func:`theory.omd.default_nu`)."""
    return float(config["nu"]) if config["nu"] is not None else th.default_nu(stream.D, stream.G,
                                                                               stream.L)


def build_method(name: str, stream: SEAStream, config: dict[str, Any]) -> so.OnlineMethod:
    """The method ``name`` tuned to the stream's constants (D, G, L, λ, α) as its theorem says."""
    ball = so.Ball(stream.dim, stream.radius)
    D, G = stream.D, stream.G
    if name == "optimistic_omd":
        return so.optimistic_omd(ball, so.convex_adaptive(D, G, config["delta"]))
    if name == "optimistic_omd_sc":
        return so.optimistic_omd(ball, so.strongly_convex(stream.lam))
    if name == "ogd":
        return so.ogd(ball, so.ogd_sqrt(D, G))
    if name == "ogd_sc":
        return so.ogd(ball, so.ogd_inv_t(stream.lam))
    if name == "ogd_const":
        return so.ogd(ball, so.constant(config["eta"]))
    if name == "oftrl":
        return so.oftrl(ball, oftrl_nu(stream, config))
    if name == "oftl":
        return so.oftl(ball, stream.lam)
    if name in ("ons", "optimistic_ons"):
        return so.online_newton(ball, alpha=stream.alpha, G=G, delta=config["delta"],
                                optimistic=name == "optimistic_ons")
    if name == "sword":
        return so.sword_pp(ball, G=G, T=stream.T)
    raise ValueError(f"method must be one of {sorted(METHODS)}, got {name!r}")


def checkpoints(T: int, first: int = 16) -> np.ndarray:
    """Powers of two from ``first`` (16: the OMD figures start there) up to T, and T itself."""
    return runner_checkpoints(T, first)


REGRET_DEFAULTS: dict[str, Any] = {
    "family": "quadratic", "method": "optimistic_omd", "T": 4096, "d": 10, "rho": 0.5,
    "s0": 1.0, "A0": 1.0, "m": 0.0, "path": "alternating", "block": 64, "omega": 0.01,
    "radius": 1.0, "tau": 0.1, "delta": 1.0, "nu": None, "eta": 0.1,
}


@register_experiment("omd", "regret", REGRET_DEFAULTS)
def regret_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Regret of one method on one SEA stream at checkpoints T = 16, 32, ..., with the SEA sums."""
    T, d = int(config["T"]), int(config["d"])
    stream = make_stream(config["family"], T, d, rng, rho=config["rho"], s0=config["s0"],
                         A0=config["A0"], m=config["m"], path=config["path"],
                         block=int(config["block"]), omega=config["omega"],
                         radius=config["radius"], tau=config["tau"])
    method = build_method(config["method"], stream, config)
    traj = so.run(method, stream.losses)
    df = trajectory_metrics(stream, traj, checkpoints(T))
    for name, value in (("D", stream.D), ("G", stream.G), ("L", stream.L), ("lam", stream.lam),
                        ("alpha", stream.alpha), ("oftrl_nu", oftrl_nu(stream, config))):
        df[name] = value
    return df
