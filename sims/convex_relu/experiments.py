r"""The convex-ReLU experiments (spec ``convex_relu.md`` §5): F1-F5 as tidy tables.

``boundlab run convex_relu admm_gap --set rho_mults='[1, 10]'`` runs one of them; the checks of
:mod:`sims.convex_relu.checks`, the benchmarks of :mod:`sims.convex_relu.bench` and the figures call the same
functions. Every run spawns three generators from its own (the data, the pattern sample, the non-convex
initialisations), so rows of one run that differ only in the method share the same data and the same patterns,
and the same seed gives the same table (wall-time columns aside). The runner adds the config keys and ``seed`` as
leading columns, so no experiment writes a column named like one of its config keys.

Data keys shared by every experiment (:func:`build_problem`): ``dataset`` (a name of
:data:`sims.convex_relu.data.DATASETS`), ``n`` and ``d`` (points and columns with the bias, for the generated
datasets; None where the dataset fixes them), ``scaling`` and ``test_fraction`` (None: the dataset's default),
``data_kw`` (other keywords of the dataset, e.g. ``{"noise": 0.1}``); ``P_s`` (Gaussian generators drawn, then
deduplicated with the all-zero pattern dropped; ``"full"`` enumerates every pattern of 2-D data) and ``c_beta``
(β = c_β·β_max, β_max = max_i ‖XᵀD_iy‖ over the run's patterns: any β ≥ β_max makes zero optimal).

- ``admm_gap`` (F1). Keys: data keys, ``rho0`` (``"default"``: the solver's ``default_rho``; ``"beta"``:
  ρ₀ = β), ``rho_mults`` (the c of ρ = c·ρ₀), ``balance_rules`` (residual-balancing rules of ``admm`` also run
  from ρ₀: ``"balance"``, Boyd's rule of the spec, and/or ``"balance_rel"``, on relative residuals), ``max_iter``,
  ``record_every``. f* is Clarabel's value of the same program. One row per rule and recorded iteration:
  ``rule`` (``"c=0.1"``, …, ``"balance"``, ``"balance_rel"``), ``rho_mult`` (the starting multiple; 1 for
  balancing), ``iteration, objective, gap`` (|f(v) − f*|/|f*|), ``restored_gap`` ((f(restored v) − f*)/|f*|,
  the solver's feasible restoration; NaN where the solver does not report it), ``violation, r_pri, r_dual, rho,
  train_acc, test_acc`` (of the recovered network; NaN for regression), ``time`` (cumulative seconds, setup
  included, accuracy evaluation excluded), ``flops, status, f_star, rho_base, beta, P``.
- ``timing`` (F2). Keys: data keys (``n`` unused), ``ns`` (list), ``P_factor`` (P_s = ⌈P_factor·n⌉),
  ``rho_mult`` (ρ = rho_mult·``default_rho``), ``target_gap`` and ``target_violation`` (ADMM stops once
  |f(v) − f*|/|f*| ≤ target_gap with violation ≤ target_violation, f* from Clarabel), ``max_iter``, ``methods`` (any of
  ``woodbury``, ``dense``, ``clarabel``, ``scs``), ``dense_max`` (dense only where 2dP ≤ dense_max). One row per
  n and method: ``method, n_train, P, time`` (seconds to the target, setup and compilation included),
  ``iterations`` (ADMM; NaN for cvxpy), ``gap, violation, status, setup_time, flops, f_star``.
- ``accuracy_time`` (F3). Keys: data keys, ``methods`` (any of ``admm``, ``gated``, ``cvxpy``, ``adam``, ``sgd``),
  ``rho_mult`` (ρ = rho_mult·``default_rho``), ``max_iter`` (ADMM and gated FISTA; gated
  FISTA is recorded at 1, 2, 4, …, max_iter), ``record_every`` (ADMM), ``nc_width`` (None: 2·P), ``nc_epochs``,
  ``nc_runs`` (initialisations of each non-convex method), ``nc_lr`` (None: the solver's default). One row per
  method, run and recorded step: ``method, run, step`` (iteration or epoch), ``time`` (training seconds),
  ``objective`` (the method's own: C(𝒟), the gated program or L_nc), ``train_acc, test_acc, P, beta``.
- ``robust`` (F4). Keys: data keys (``scaling`` "minmax" by default so ε is in input units), ``loss``,
  ``train_eps`` (list of ε_train), ``attack_eps`` (list of ε), ``pgd_steps``, ``pgd_restarts``, ``nc_width``,
  ``nc_epochs``, ``nc_lr``. Models: ``convex`` (Clarabel, ε = 0), ``convex_robust`` (the robust SOCP at each ε_train),
  ``nonconvex`` (Adam) and ``nonconvex_pgd`` (PGD adversarial training at each ε_train). One row per model,
  ε_train, ε and attack: ``model, eps_train, eps, attack`` (``pgd``/``fgsm`` on the test set; ``certified``: the
  fraction of training points certified correct by the closed form), ``split, accuracy, eps_star`` (the collapse
  radius of the patterns), ``P, beta``.
- ``sampling`` (F5). Keys: data keys (2-D data), ``P_list`` (nested samples: prefixes of one draw of max(P_list)
  generators), ``nc_width_mults`` (widths as multiples of m* of the full program), ``nc_runs``, ``nc_epochs``,
  ``nc_lr``, ``fresh`` (patterns drawn to estimate the pricing violation rate), ``xi`` (confidence of the
  scenario bound), ``zeta`` (None: n). One row per quantity: ``kind`` (``sampled`` / ``full`` / ``nonconvex``),
  ``P_s`` (generators drawn; NaN for full and nonconvex), ``P`` (distinct patterns), ``value`` (f*(𝒟) from
  Clarabel, or L_nc), ``lower`` (the dual certificate f*(𝒟) ≥ lower, :func:`dual_lower_bound`), ``active``
  (nonzero groups), ``width, run, violation_rate`` (pricing over ``fresh`` new patterns), ``scenario_psi`` (the
  ψ at which Campi–Garatti's tail with N = P_s equals ξ), ``f_full``.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sims.convex_relu import data
from sims.runner import Experiment, register_experiment
from solvers._checks import check_int, check_positive
from solvers.convex_relu import (
    Patterns,
    ReLUNetwork,
    beta_max,
    enumerate_patterns_2d,
    recover,
    sample_patterns,
)
from solvers.convex_relu.admm import admm, default_rho
from solvers.convex_relu.adversarial import eps_star, robust_accuracy
from solvers.convex_relu.cvx import CvxResult, solve_cvxpy
from solvers.convex_relu.network import restore_feasible
from solvers.convex_relu.nonconvex import train_nonconvex
from solvers.convex_relu.pricing import price, violation_rate
from theory import convex_relu as th

__all__ = [
    "ACCURACY_TIME_DEFAULTS",
    "ADMM_GAP_DEFAULTS",
    "EXPERIMENTS",
    "ROBUST_DEFAULTS",
    "SAMPLING_DEFAULTS",
    "TIMING_DEFAULTS",
    "Problem",
    "accuracy",
    "accuracy_time_experiment",
    "admm_gap_experiment",
    "build_problem",
    "dual_lower_bound",
    "load_dataset",
    "patterns_for",
    "robust_experiment",
    "sampling_experiment",
    "scenario_psi",
    "single_blas",
    "timing_experiment",
]

TOPIC = "convex_relu"
_DATA_KEYS = ("n", "d", "scaling", "test_fraction")


class Problem(NamedTuple):
    """The data, the patterns 𝒟 and β = c_β·β_max of a run."""

    data: data.Dataset
    patterns: Patterns
    beta: float
    beta_max: float

    @property
    def X(self) -> np.ndarray:
        """Training inputs (bias column last)."""
        return self.data.X_train

    @property
    def y(self) -> np.ndarray:
        """Training targets."""
        return self.data.y_train


# --------------------------------------------------------------------------------------------- building
Fn = TypeVar("Fn", bound=Callable[..., Any])


def single_blas(func: Fn) -> Fn:
    """Run ``func`` with BLAS/LAPACK limited to one thread.

    The dense work here is small (d×d and n×n factorisations with n ≤ a few thousand, thin products); on the
    shared two-core machine, threaded OpenBLAS competing with other processes made one 70×70 Cholesky-based
    inverse take 0.1 s instead of 0.4 ms, and one ADMM iteration at n = 2000 take 48 ms instead of 10 ms.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def load_dataset(config: dict[str, Any], rng: np.random.Generator | int) -> data.Dataset:
    """The dataset of a config: ``dataset`` by name, with the keys ``n, d, scaling, test_fraction`` that the
    dataset accepts (and that are not None) and ``data_kw``; a key the dataset does not take raises ValueError."""
    name = config["dataset"]
    if name not in data.DATASETS:
        raise ValueError(f"dataset must be one of {sorted(data.DATASETS)}, got {name!r}")
    params = inspect.signature(data.DATASETS[name]).parameters
    kw = {k: config[k] for k in _DATA_KEYS if config.get(k) is not None and k in params}
    extra = dict(config.get("data_kw") or {})
    unknown = [k for k in extra if k not in params or k == "rng"]
    if unknown:
        raise ValueError(f"data_kw has keywords {unknown} that dataset {name!r} does not take")
    missing = [k for k in ("n", "d") if k in params and params[k].default is inspect.Parameter.empty
               and k not in kw and k not in extra]
    if missing:
        raise ValueError(f"dataset {name!r} needs {missing} (set them in the config)")
    return data.load(name, rng, **kw, **extra)


def patterns_for(X: np.ndarray, P_s: int | str, rng: np.random.Generator) -> Patterns:
    """``P_s`` sampled patterns (deduplicated, all-zero dropped), or every pattern of 2-D data for ``"full"``."""
    if P_s == "full":
        return enumerate_patterns_2d(X)
    return sample_patterns(X, check_int("P_s", P_s, 1), rng)


def build_problem(config: dict[str, Any], rng: np.random.Generator) -> Problem:
    """Data (first child of ``rng``), patterns (second child) and β = c_β·β_max of a config."""
    g_data, g_pat = rng.spawn(2)
    c_beta = check_positive("c_beta", config["c_beta"])
    ds = load_dataset(config, g_data)
    pats = patterns_for(ds.X_train, config["P_s"], g_pat)
    bmax = beta_max(ds.X_train, ds.y_train, pats)
    return Problem(ds, pats, c_beta * bmax, bmax)


def accuracy(network: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points with y_k f(x_k) > 0 (labels ±1); NaN for real targets or no points."""
    if X.shape[0] == 0:
        return math.nan
    return _sign_accuracy(network.forward(X), y)


def _accuracies(network: ReLUNetwork, ds: data.Dataset) -> tuple[float, float]:
    return accuracy(network, ds.X_train, ds.y_train), accuracy(network, ds.X_test, ds.y_test)


def dual_lower_bound(X: np.ndarray, y: np.ndarray, patterns: Patterns, V: np.ndarray, W: np.ndarray,
                     beta: float) -> float:
    r"""A certified lower bound on f*(𝒟) (squared loss) from the residual e = y − ŷ of any point (V, W).

    Weak duality: ½‖r‖² = max_λ λᵀ(y − ŷ) − ½‖λ‖², and min over v_i ∈ K_i of −λᵀD_iXv_i + β‖v_i‖ is 0 when
    p(D_i, λ) = max{λᵀD_iXv : v ∈ K_i, ‖v‖ ≤ 1} ≤ β (and p(D_i, −λ) ≤ β for the w-slots), −∞ otherwise. So every
    λ with max_i max(p(D_i, λ), p(D_i, −λ)) ≤ β gives f*(𝒟) ≥ λᵀy − ½‖λ‖². With λ = s·e and the prices p of
    :func:`solvers.convex_relu.pricing.price` (exact, by NNLS), s ∈ [0, β/max p] is feasible and
    g(s) = s·eᵀy − ½s²‖e‖² is maximised at s = clip(eᵀy/‖e‖², 0, β/max p). At an optimum of C(𝒟) the bound is
    tight (s = 1 is optimal and feasible), so lower ≤ f*(𝒟) ≤ f(V, W) brackets the optimum with a certified gap.
    """
    pr = price(X, y, patterns, V, W, beta, patterns)
    e = pr.e
    ee, ey = float(e @ e), float(e @ y)
    if ee == 0.0:
        return 0.0  # e = 0 ⇒ λ = 0, whose value 0 is a valid (trivial) lower bound
    top = float(pr.values.max())
    s_max = math.inf if top == 0.0 else beta / top
    s = min(max(ey / ee, 0.0), s_max)
    return s * ey - 0.5 * s * s * ee


def scenario_psi(N: int, zeta: int, xi: float) -> float:
    """The violation level ψ at which Campi–Garatti's tail P[Binomial(N, ψ) ≤ ζ − 1] equals ξ (1 when N < ζ).

    The tail is decreasing in ψ; bisection to 1e-10.
    """
    if N < zeta:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(th.scenario_violation_tail(N, zeta, mid)) > xi:
            lo = mid
        else:
            hi = mid
    return hi


def _names(value: Any, what: str, allowed: Sequence[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ValueError(f"{what} must not be empty")
    bad = [v for v in items if v not in allowed]
    if bad:
        raise ValueError(f"{what} must be chosen from {list(allowed)}, got {bad}")
    return items


def _floats(value: Any, what: str, allow_zero: bool = False) -> list[float]:
    items = [value] if isinstance(value, int | float) else list(value)
    if not items:
        raise ValueError(f"{what} must not be empty")
    return [check_positive(what, v, allow_zero=allow_zero) for v in items]


def _reference(prob: Problem, loss: str = "squared", eps: float = 0.0, solver: str | None = None) -> CvxResult:
    res = solve_cvxpy(prob.X, prob.y, prob.patterns, prob.beta, loss=loss, eps=eps, solver=solver)
    if not res.ok:
        raise RuntimeError(f"cvxpy failed on C(𝒟) (n={prob.data.n}, P={prob.patterns.P}): {res.attempts}")
    return res


def _certifiable(prob: Problem, loss: str, eps: float) -> ReLUNetwork:
    r"""The network of the (robust) convex optimum, restored to exactly feasible cones before recovery.

    The interior-point solution meets its cones only to about 1e-9, and a neuron that may cross zero inside
    the ε-box voids the closed-form certificate of that point (:func:`certify` with ``tol = 0``). Restoring
    feasibility (:func:`~solvers.convex_relu.network.restore_feasible`, at the program's own ε) and dropping
    the groups below 1e-6 of the largest (spec §7) gives a network whose certificate is exact; the attacks
    and the certificate then judge this same network.
    """
    res = _reference(prob, loss, eps=eps)
    V, W = restore_feasible(prob.X, prob.patterns, res.V, res.W, eps)
    return recover(V, W, 1e-6)


class _Accuracy:
    """ADMM callback: accuracies of the recovered network at each recorded iteration, and the time it took."""

    def __init__(self, ds: data.Dataset) -> None:
        self.ds, self.rows, self.spent = ds, {}, 0.0

    def __call__(self, k: int, V: Any, W: Any) -> None:
        t0 = time.perf_counter()
        self.rows[k] = (*_accuracies(recover(V, W), self.ds), self.spent)
        self.spent += time.perf_counter() - t0

    def columns(self, iterations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """train_acc, test_acc and the evaluation time spent before each recorded iteration."""
        got = [self.rows[int(k)] for k in iterations]
        return tuple(np.array([g[j] for g in got]) for j in range(3))  # type: ignore[return-value]


def _admm_rows(res: Any, cb: _Accuracy, f_star: float) -> pd.DataFrame:
    h = res.history
    train, test, spent = cb.columns(h.iteration)
    restored = getattr(h, "restored_objective", None)
    restored_gap = (np.asarray(restored) - f_star) / abs(f_star) if restored is not None else np.nan
    return pd.DataFrame({"iteration": h.iteration, "objective": h.objective,
                         "gap": np.abs(h.objective - f_star) / abs(f_star), "restored_gap": restored_gap,
                         "violation": h.violation,
                         "r_pri": h.r_pri, "r_dual": h.r_dual, "rho": h.rho, "train_acc": train, "test_acc": test,
                         "time": h.time - spent, "flops": h.flops, "status": res.status})


# --------------------------------------------------------------------------------------------- F1
ADMM_GAP_DEFAULTS: dict[str, Any] = {
    "dataset": "gaussian_mixture", "n": 200, "d": 6, "scaling": "standard", "test_fraction": 0.3, "data_kw": {},
    "P_s": 40, "c_beta": 0.1, "rho0": "default", "rho_mults": [0.1, 1.0, 10.0, 100.0],
    "balance_rules": ["balance", "balance_rel"],
    "max_iter": 2000, "record_every": 10,
}


@register_experiment(TOPIC, "admm_gap", ADMM_GAP_DEFAULTS)
@single_blas
def admm_gap_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """ADMM's relative gap, violation, residuals and accuracy per iteration for ρ = c·ρ₀ and balancing (F1, CR7)."""
    if config["rho0"] not in ("default", "beta"):
        raise ValueError(f"rho0 must be 'default' or 'beta', got {config['rho0']!r}")
    balance = _names(config["balance_rules"], "balance_rules", ("balance", "balance_rel")) \
        if config["balance_rules"] else []
    mults = _floats(config["rho_mults"], "rho_mults")
    max_iter = check_int("max_iter", config["max_iter"], 1)
    every = check_int("record_every", config["record_every"], 1)
    prob = build_problem(config, rng)
    f_star = _reference(prob).value
    rho0 = default_rho(prob.X, prob.patterns, prob.beta) if config["rho0"] == "default" else prob.beta
    rules = [(f"c={c:g}", c, "fixed") for c in mults] + [(rule, 1.0, rule) for rule in balance]
    parts = []
    for rule, c, how in rules:
        cb = _Accuracy(prob.data)
        res = admm(prob.X, prob.y, prob.patterns, prob.beta, rho=c * rho0, rho_rule=how, max_iter=max_iter,
                   abstol=0.0, reltol=0.0, record_every=every, callback=cb, stall_window=None, f_star=f_star)
        parts.append(_admm_rows(res, cb, f_star).assign(rule=rule, rho_mult=c))
    out = pd.concat(parts, ignore_index=True)
    out = out[["rule", "rho_mult", *[c for c in out.columns if c not in ("rule", "rho_mult")]]]
    return out.assign(f_star=f_star, rho_base=rho0, beta=prob.beta, P=prob.patterns.P)


# --------------------------------------------------------------------------------------------- F2
TIMING_DEFAULTS: dict[str, Any] = {
    "dataset": "teacher", "n": None, "d": 5, "scaling": None, "test_fraction": None, "data_kw": {"width": 5,
                                                                                                  "noise": 0.1},
    "P_s": None, "c_beta": 0.1, "ns": [80, 160, 320], "P_factor": 0.25, "rho_mult": 1.0, "target_gap": 1e-4,
    "target_violation": 1e-5, "max_iter": 20000, "methods": ["woodbury", "dense", "cone", "clarabel", "scs"],
    "dense_max": 1200,
}
#: ADMM's slack splitting with either u-step, ADMM's cone splitting (``"cone"``), and the two conic solvers.
_TIMING_METHODS = ("woodbury", "dense", "cone", "clarabel", "scs")


@register_experiment(TOPIC, "timing", TIMING_DEFAULTS)
@single_blas
def timing_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Wall time to a relative gap (ADMM: slack splitting with the Woodbury or dense u-step, cone splitting)
    against Clarabel and SCS, per n with P_s ∝ n (F2). ρ = ``rho_mult``·default_rho of each splitting."""
    methods = _names(config["methods"], "methods", _TIMING_METHODS)
    ns = [check_int("ns", n, 2) for n in config["ns"]]
    factor = check_positive("P_factor", config["P_factor"])
    gap = check_positive("target_gap", config["target_gap"])
    viol = check_positive("target_violation", config["target_violation"], allow_zero=True)
    max_iter = check_int("max_iter", config["max_iter"], 1)
    rows = []
    for n, g in zip(ns, rng.spawn(len(ns)), strict=True):
        prob = build_problem({**config, "n": n, "P_s": max(1, math.ceil(factor * n))}, g)
        ref = _reference(prob, solver="CLARABEL")
        f_star = ref.value
        base = {"n_train": prob.data.n, "P": prob.patterns.P, "f_star": f_star}
        rho = config["rho_mult"] * default_rho(prob.X, prob.patterns, prob.beta)
        rho_cone = (config["rho_mult"] * default_rho(prob.X, prob.patterns, prob.beta, splitting="cone")
                    if "cone" in methods else None)
        for method in methods:
            if method == "clarabel":
                rows.append({**base, "method": method, "time": ref.solve_time, "iterations": math.nan, "gap": 0.0,
                             "violation": ref.violation, "status": ref.status, "setup_time": ref.compile_time,
                             "flops": math.nan})
            elif method == "scs":
                res = solve_cvxpy(prob.X, prob.y, prob.patterns, prob.beta, solver="SCS")
                rows.append({**base, "method": method, "time": res.solve_time, "iterations": math.nan,
                             "gap": abs(res.value - f_star) / abs(f_star) if res.ok else math.nan,
                             "violation": res.violation, "status": res.status, "setup_time": res.compile_time,
                             "flops": math.nan})
            else:
                if method == "dense" and 2 * prob.X.shape[1] * prob.patterns.P > config["dense_max"]:
                    continue
                cone = method == "cone"
                t0 = time.perf_counter()
                res = admm(prob.X, prob.y, prob.patterns, prob.beta, rho=rho_cone if cone else rho,
                           u_step="auto" if cone else method, splitting="cone" if cone else "slack",
                           max_iter=max_iter, abstol=0.0, reltol=0.0, f_star=f_star, target_gap=gap,
                           target_violation=viol, target="violation", record_every=5, stall_window=None)
                elapsed = time.perf_counter() - t0
                rows.append({**base, "method": method, "time": elapsed, "iterations": res.iterations,
                             "gap": abs(res.objective - f_star) / abs(f_star), "violation": res.violation,
                             "status": res.status, "setup_time": res.setup_time, "flops": res.flops})
    cols = ["method", "n_train", "P", "time", "iterations", "gap", "violation", "status", "setup_time", "flops",
            "f_star"]
    return pd.DataFrame(rows)[cols]


# --------------------------------------------------------------------------------------------- F3
ACCURACY_TIME_DEFAULTS: dict[str, Any] = {
    "dataset": "breast_cancer", "n": None, "d": None, "scaling": "standard", "test_fraction": 0.3, "data_kw": {},
    "P_s": 24, "c_beta": 0.05, "methods": ["admm", "gated", "cvxpy", "adam", "sgd"], "rho_mult": 1.0,
    "max_iter": 1000, "record_every": 10, "nc_width": None, "nc_epochs": 256, "nc_runs": 3, "nc_lr": None,
}
_F3_METHODS = ("admm", "gated", "cvxpy", "adam", "sgd")


def _nonconvex_curve(prob: Problem, method: str, width: int, epochs: int, lr: float | None,
                     seed: int) -> pd.DataFrame:
    """Train and test accuracy of one non-convex run at epochs 1, 2, 4, …, epochs.

    Training is deterministic given the seed and a run of e epochs is the prefix of a longer one (initialisation,
    then one permutation per epoch), so each checkpoint is a fresh run of that many epochs; its recorded time is
    the training time of those epochs.
    """
    from sims.runner import checkpoints

    rows = []
    for e in checkpoints(epochs):
        res = train_nonconvex(prob.X, prob.y, width, prob.beta, method=method, epochs=int(e), lr=lr, rng=seed,
                              record_every=int(e))
        net = res.network
        rows.append({"step": int(res.epochs), "time": float(res.history["time"][-1]), "objective": res.objective,
                     "train_acc": accuracy(net, prob.X, prob.y),
                     "test_acc": accuracy(net, prob.data.X_test, prob.data.y_test), "status": res.status})
    return pd.DataFrame(rows)


@register_experiment(TOPIC, "accuracy_time", ACCURACY_TIME_DEFAULTS)
@single_blas
def accuracy_time_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Train/test accuracy against training time: ADMM, gated FISTA, a cvxpy point, Adam and SGD (F3)."""
    methods = _names(config["methods"], "methods", _F3_METHODS)
    max_iter = check_int("max_iter", config["max_iter"], 1)
    every = check_int("record_every", config["record_every"], 1)
    epochs = check_int("nc_epochs", config["nc_epochs"], 1)
    runs = check_int("nc_runs", config["nc_runs"], 1)
    g_prob, g_nc = rng.spawn(2)
    prob = build_problem(config, g_prob)
    width = prob.patterns.P * 2 if config["nc_width"] is None else check_int("nc_width", config["nc_width"], 1)
    seeds = [int(s) for s in g_nc.integers(0, 2**63, size=runs)]
    parts = []
    for method in methods:
        if method == "admm":
            cb = _Accuracy(prob.data)
            rho = config["rho_mult"] * default_rho(prob.X, prob.patterns, prob.beta)
            res = admm(prob.X, prob.y, prob.patterns, prob.beta, rho=rho, max_iter=max_iter, record_every=every,
                       callback=cb, stall_window=None)
            train, test, spent = cb.columns(res.history.iteration)
            parts.append(pd.DataFrame({"method": method, "run": 0, "step": res.history.iteration,
                                       "time": res.history.time - spent, "objective": res.history.objective,
                                       "train_acc": train, "test_acc": test, "status": res.status}))
        elif method == "gated":
            parts.append(_gated_curve(prob, max_iter))
        elif method == "cvxpy":
            res = _reference(prob)
            net = res.network()
            parts.append(pd.DataFrame([{"method": method, "run": 0, "step": 0, "time": res.solve_time,
                                        "objective": res.value, "train_acc": accuracy(net, prob.X, prob.y),
                                        "test_acc": accuracy(net, prob.data.X_test, prob.data.y_test),
                                        "status": res.status}]))
        else:
            for i, seed in enumerate(seeds):
                df = _nonconvex_curve(prob, method, width, epochs, config["nc_lr"], seed)
                parts.append(df.assign(method=method, run=i))
    out = pd.concat(parts, ignore_index=True)
    cols = ["method", "run", "step", "time", "objective", "train_acc", "test_acc", "status"]
    return out[cols].assign(P=prob.patterns.P, beta=prob.beta)


def _gated_curve(prob: Problem, max_iter: int) -> pd.DataFrame:
    """Gated FISTA's objective and its gated model's accuracy at the first recorded iterations ≥ 1, 2, 4, …, max_iter.

    One run (tol = 0); a callback evaluates the accuracies at the checkpoints, and the time it spends is taken out
    of the run's recorded time (restart iterations are not recorded, so a checkpoint may land a little later).
    """
    from sims.runner import checkpoints
    from solvers.convex_relu.gated import GatedNetwork, gated_fista

    marks = iter(int(k) for k in checkpoints(max_iter))
    pending = [next(marks)]
    evals: dict[int, tuple[float, float, float]] = {}
    spent = [0.0]

    def evaluate(k: int, U: Any) -> None:
        if k < pending[0]:
            return
        t0 = time.perf_counter()
        net = GatedNetwork(U, prob.patterns.generators)
        evals[k] = (_sign_accuracy(net.forward(prob.X), prob.y),
                    _sign_accuracy(net.forward(prob.data.X_test), prob.data.y_test), spent[0])
        pending[0] = next((m for m in marks if m > k), max_iter + 1)
        spent[0] += time.perf_counter() - t0

    res = gated_fista(prob.X, prob.y, prob.patterns, prob.beta, max_iter=max_iter, tol=0.0, callback=evaluate)
    h = res.history
    rows = [{"method": "gated", "run": 0, "step": int(k), "time": float(t) - evals[int(k)][2], "objective": float(f),
             "train_acc": evals[int(k)][0], "test_acc": evals[int(k)][1], "status": res.status}
            for k, t, f in zip(h.iteration, h.time, h.objective, strict=True) if int(k) in evals]
    return pd.DataFrame(rows)


def _sign_accuracy(f: np.ndarray, y: np.ndarray) -> float:
    return math.nan if y.size == 0 or not np.all(np.abs(y) == 1) else float(np.mean(y * f > 0))


# --------------------------------------------------------------------------------------------- F4
ROBUST_DEFAULTS: dict[str, Any] = {
    "dataset": "iris_pair", "n": None, "d": None, "scaling": "minmax", "test_fraction": 0.3, "data_kw": {},
    "P_s": 24, "c_beta": 0.05, "loss": "hinge", "train_eps": [0.05, 0.1], "attack_eps": [0.0, 0.05, 0.1, 0.2],
    "pgd_steps": 20, "pgd_restarts": 3, "nc_width": 32, "nc_epochs": 300, "nc_lr": None,
}


@register_experiment(TOPIC, "robust", ROBUST_DEFAULTS)
@single_blas
def robust_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Robust test accuracy against ε (PGD with restarts, FGSM) and certified training accuracy of convex,
    convex-robust, non-convex and PGD-trained models (F4, CR10, CR11)."""
    loss = config["loss"]
    if loss not in ("hinge", "squared"):
        raise ValueError(f"loss must be 'hinge' or 'squared', got {loss!r}")
    eps_train = _floats(config["train_eps"], "train_eps")
    eps_attack = _floats(config["attack_eps"], "attack_eps", allow_zero=True)
    steps = check_int("pgd_steps", config["pgd_steps"], 1)
    restarts = check_int("pgd_restarts", config["pgd_restarts"], 1)
    width = check_int("nc_width", config["nc_width"], 1)
    epochs = check_int("nc_epochs", config["nc_epochs"], 1)
    g_prob, g_nc, g_att = rng.spawn(3)
    prob = build_problem(config, g_prob)
    ds = prob.data
    if not np.all(np.abs(ds.y_train) == 1):
        raise ValueError(f"dataset must be a classification task (labels ±1), got {config['dataset']!r}")
    star = eps_star(prob.X, prob.patterns).value
    models: list[tuple[str, float, ReLUNetwork]] = [("convex", 0.0, _certifiable(prob, loss, 0.0))]
    for e in eps_train:
        models.append(("convex_robust", e, _certifiable(prob, loss, e)))
    nc_seed = int(g_nc.integers(0, 2**63))
    models.append(("nonconvex", 0.0, train_nonconvex(prob.X, prob.y, width, prob.beta, loss=loss, epochs=epochs,
                                                     lr=config["nc_lr"], rng=nc_seed).network))
    for e in eps_train:
        models.append(("nonconvex_pgd", e, train_nonconvex(prob.X, prob.y, width, prob.beta, loss=loss,
                                                           epochs=epochs, lr=config["nc_lr"], rng=nc_seed,
                                                           adv_eps=e, adv_attack="pgd").network))
    att_seed = int(g_att.integers(0, 2**63))
    rows = []
    for model, e_tr, net in models:
        for eps in eps_attack:
            common = {"model": model, "eps_train": e_tr, "eps": eps}
            if eps == 0.0:
                clean = accuracy(net, ds.X_test, ds.y_test)
                rows += [{**common, "attack": a, "split": "test", "accuracy": clean} for a in ("pgd", "fgsm")]
            else:
                rows.append({**common, "attack": "pgd", "split": "test",
                             "accuracy": robust_accuracy(net, ds.X_test, ds.y_test, eps, "pgd", steps=steps,
                                                         restarts=restarts, rng=att_seed)})
                rows.append({**common, "attack": "fgsm", "split": "test",
                             "accuracy": robust_accuracy(net, ds.X_test, ds.y_test, eps, "fgsm")})
            rows.append({**common, "attack": "certified", "split": "train",
                         "accuracy": robust_accuracy(net, prob.X, prob.y, eps, "certified")})
    return pd.DataFrame(rows).assign(eps_star=star, P=prob.patterns.P, beta=prob.beta)


# --------------------------------------------------------------------------------------------- F5
SAMPLING_DEFAULTS: dict[str, Any] = {
    "dataset": "spiral2d", "n": 16, "d": None, "scaling": None, "test_fraction": None, "data_kw": {},
    "c_beta": 0.1, "P_list": [2, 4, 8, 16, 32, 64, 128, 256], "nc_width_mults": [1.0, 2.0], "nc_runs": 3,
    "nc_epochs": 2000, "nc_lr": None, "fresh": 1000, "xi": 0.1, "zeta": None,
}


@register_experiment(TOPIC, "sampling", SAMPLING_DEFAULTS)
@single_blas
def sampling_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """f*(𝒟) of nested samples against P_s, falling to f*(𝒟_full); non-convex L_nc; pricing violation rate against
    the scenario bound (F5, CR4, CR12)."""
    P_list = sorted(check_int("P_list", p, 1) for p in config["P_list"])
    mults = _floats(config["nc_width_mults"], "nc_width_mults")
    runs = check_int("nc_runs", config["nc_runs"], 1)
    epochs = check_int("nc_epochs", config["nc_epochs"], 1)
    fresh = check_int("fresh", config["fresh"], 1)
    xi = check_positive("xi", config["xi"])
    c_beta = check_positive("c_beta", config["c_beta"])
    g_data, g_pat, g_nc, g_fresh = rng.spawn(4)
    ds = load_dataset(config, g_data)
    X, y = ds.X_train, ds.y_train
    zeta = ds.n if config["zeta"] is None else check_int("zeta", config["zeta"], 1)
    full = enumerate_patterns_2d(X)
    beta = c_beta * beta_max(X, y, full)  # one β for every sample: f*(𝒟) comparable across 𝒟
    ref = solve_cvxpy(X, y, full, beta)
    f_full = ref.value
    lower_full = dual_lower_bound(X, y, full, ref.V, ref.W, beta)
    m_star = ref.active_groups()
    rows = [{"kind": "full", "P_s": math.nan, "P": full.P, "value": f_full, "lower": lower_full, "active": m_star,
             "width": math.nan, "run": math.nan, "violation_rate": 0.0, "scenario_psi": math.nan}]
    H = g_pat.standard_normal((X.shape[1], P_list[-1]))
    fresh_seed = int(g_fresh.integers(0, 2**63))
    for P_s in P_list:
        pats = _dedupe(X, H[:, :P_s])
        if pats.P == 0:  # only the all-zero pattern so far: f*(𝒟) = ½‖y‖² (the zero network)
            rows.append({"kind": "sampled", "P_s": P_s, "P": 0, "value": 0.5 * float(y @ y),
                         "lower": 0.5 * float(y @ y), "active": 0, "width": math.nan, "run": math.nan,
                         "violation_rate": math.nan, "scenario_psi": scenario_psi(P_s, zeta, xi)})
            continue
        res = solve_cvxpy(X, y, pats, beta)
        rate = violation_rate(X, y, pats, res.V, res.W, beta, fresh, fresh_seed).rate
        rows.append({"kind": "sampled", "P_s": P_s, "P": pats.P, "value": res.value,
                     "lower": dual_lower_bound(X, y, pats, res.V, res.W, beta), "active": res.active_groups(),
                     "width": math.nan, "run": math.nan, "violation_rate": rate,
                     "scenario_psi": scenario_psi(P_s, zeta, xi)})
    seeds = [int(s) for s in g_nc.integers(0, 2**63, size=runs)]
    for c in mults:
        width = max(1, round(c * m_star))
        for i, seed in enumerate(seeds):
            res = train_nonconvex(X, y, width, beta, epochs=epochs, lr=config["nc_lr"], rng=seed,
                                  record_every=epochs)
            rows.append({"kind": "nonconvex", "P_s": math.nan, "P": math.nan, "value": res.objective,
                         "lower": math.nan, "active": math.nan, "width": width, "run": i,
                         "violation_rate": math.nan, "scenario_psi": math.nan})
    return pd.DataFrame(rows).assign(f_full=f_full, beta=beta)


def _dedupe(X: np.ndarray, H: np.ndarray) -> Patterns:
    """The distinct nonzero patterns of the generators H (first occurrence kept, in order)."""
    masks = (X @ H >= 0).astype(float)
    _, first = np.unique(masks, axis=1, return_index=True)
    keep = np.sort(first)
    keep = keep[masks[:, keep].any(axis=0)]
    return Patterns(masks[:, keep], H[:, keep])


#: The experiments of the topic by name (the runner's objects, for the checks and the tests).
EXPERIMENTS: dict[str, Experiment] = {
    name: Experiment(TOPIC, name, func, defaults, (func.__doc__ or "").strip().splitlines()[0])
    for name, func, defaults in (
        ("admm_gap", admm_gap_experiment, ADMM_GAP_DEFAULTS),
        ("timing", timing_experiment, TIMING_DEFAULTS),
        ("accuracy_time", accuracy_time_experiment, ACCURACY_TIME_DEFAULTS),
        ("robust", robust_experiment, ROBUST_DEFAULTS),
        ("sampling", sampling_experiment, SAMPLING_DEFAULTS),
    )
}
