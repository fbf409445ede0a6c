r"""The EF21 experiments: training curves, speed-up against heterogeneity, the PL rate, and divergence.

``boundlab run ef21 training --set method=ef21w --set step=am --set heterogeneity=100`` runs one of
them; the checks of ``sims/ef21/checks.py`` and the figures of ``paper_figs/ef21.py`` call the same
functions (:func:`run_training`, :func:`run_pl`, :func:`compressed_gd`), which keep every round in
memory; the registered experiments store every round up to :data:`DENSE_ROUNDS` and about 60
log-spaced rounds per decade after it, always with the last (``record="all"`` keeps every round).

- ``training`` (spec §5, F1/F2/F4). Config: ``dataset`` (synthetic | breast_cancer | digits |
  least_squares), ``n_clients``, ``samples_per_client`` and ``d`` (generated data), ``lam``, ``noise``,
  ``heterogeneity`` ζ, ``profile`` (dominant | spread), ``method`` (gd | ef14 | ef21 | ef21w | econtrol),
  ``compressor`` (top | rand, unscaled), ``k``, ``step`` (qm | am | pl | gd: γ_QM, γ_AM, the PL step
  with L_QM (least squares only), 1/L), ``step_multiplier`` (a number, 1 = theory, or "tuned": the best
  of {1, 2, 4, 8, 16, 32}), ``init`` (gradient | zero), ``eta`` (EControl; None = α/400), ``T``, ``tol``
  (stop at ‖∇f‖² ≤ tol·‖∇f(x^0)‖²), ``record``, ``instance_seed``. x^0 ~ N(0, I_d) from the run's
  generator. Columns: ``round, grad_sq, loss, G, G_tilde, bits_values, bits_indices, avg_grad_sq,
  min_grad_sq, bound, claim, gamma, multiplier, alpha, L, L_AM, L_QM, H, clients, dim, status``.
  ``avg_grad_sq`` and ``min_grad_sq`` at row ``round = T`` are over t < T, the quantities that claims
  4-6 bound by ``bound`` (the bound of the claim named in ``claim`` at horizon T, with the run's
  G^0, G_W^0 or G̃^0; NaN, and ``claim = ""``, for EF14, EControl and steps above the claim's limit).
- ``speedup`` (F3). One row per ζ (``heterogeneity`` may be a list; all ζ share one data split and
  x^0): rounds to ‖∇f‖² ≤ ``target``·‖∇f(x^0)‖² of EF21 at γ_QM and EF21-W at γ_AM, their ratio
  ``measured_speedup``, ``predicted_speedup`` (claim 8), H and √n. A target not reached within ``T``
  gives NaN rounds and ratio with ``reached_* = False``, never a clipped count.
- ``pl`` (claim 7). EF21 (``mean="qm"``: Ψ with G; ``"am"``: Ψ with G̃) or EF21-W (``"am"``, G_W) with
  the PL step on least squares: Ψ^t, the bound (1 − γμ)^tΨ^0, f − f*, ‖∇f‖² per round.
- ``divergence``. Compressed GD without error feedback against EF21 (same Top-k and step) on the
  3-client counterexample of Beznosikov et al. (2020), Example 1 (:class:`Counterexample`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import solvers.ef21 as se
from sims.ef21 import problems as pb
from sims.runner import register_experiment
from solvers._checks import check_int, check_positive, check_vector
from theory import ef21 as th

__all__ = [
    "DATASETS",
    "DENSE_ROUNDS",
    "DIVERGENCE_DEFAULTS",
    "METHODS",
    "MULTIPLIERS",
    "PL_DEFAULTS",
    "SPEEDUP_DEFAULTS",
    "STEPS",
    "TRAINING_DEFAULTS",
    "CompressedGDRun",
    "Counterexample",
    "PLRun",
    "TrainingRun",
    "build_compressor",
    "build_method",
    "build_problem",
    "check_training_config",
    "claim_error",
    "claim_of",
    "compressed_gd",
    "counterexample",
    "divergence_experiment",
    "method_alpha",
    "pl_experiment",
    "record_rounds",
    "rounds_to_target",
    "run_pl",
    "run_training",
    "running_stats",
    "solve",
    "speedup_experiment",
    "theory_step",
    "training_experiment",
    "training_rows",
]

#: Methods of the ``training`` experiment.
METHODS: tuple[str, ...] = ("gd", "ef14", "ef21", "ef21w", "econtrol")
#: Step rules: γ_QM = 1/(L + L_QM ξ), γ_AM = 1/(L + L_AM ξ), the PL step (QM), and GD's 1/L.
STEPS: tuple[str, ...] = ("qm", "am", "pl", "gd")
#: Datasets of the ``training`` experiment (``least_squares`` is the PL instance of spec §6).
DATASETS: tuple[str, ...] = ("synthetic", "breast_cancer", "digits", "least_squares")
#: The multiples of the theory step of "tuned" curves (the factor grid of the EF21 authors' code).
MULTIPLIERS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
#: Every round up to this one is stored; after it, about 60 log-spaced rounds per decade.
DENSE_ROUNDS = 128
_PER_DECADE = 60
#: A step is "within the claim's limit" when γ ≤ (1 + STEP_RTOL)·limit (the multiplier 1 itself).
STEP_RTOL = 1e-12


# --------------------------------------------------------------------------------------- building
def build_problem(config: dict[str, Any], rng: np.random.Generator):
    """The problem of a config: synthetic/bundled logistic regression, or least squares.

    Keys used: ``dataset, n_clients, samples_per_client, d, lam, heterogeneity, profile, noise``
    (``samples_per_client`` and ``d`` only for generated data; ``lam`` only for logistic
    regression; ``noise`` is the label noise of the synthetic classes and the noise of least squares).
    """
    name = config["dataset"]
    n = check_int("n_clients", config["n_clients"], 1)
    zeta = check_positive("heterogeneity", config["heterogeneity"], allow_zero=True)
    if name == "least_squares":
        return pb.make_least_squares(n, check_int("samples_per_client", config["samples_per_client"], 1),
                                     check_int("d", config["d"], 1), rng, heterogeneity=zeta,
                                     profile=config["profile"], noise=config["noise"])
    if name == "synthetic":
        N, d = (check_int("samples_per_client", config["samples_per_client"], 1),
                check_int("d", config["d"], 1))
        X, y = pb.synthetic_classification(n * N, d, rng, noise=config["noise"])
    elif name in ("breast_cancer", "digits"):
        X, y = pb.load_dataset(name)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    return pb.make_logistic(X, y, n, rng, lam=config["lam"], heterogeneity=zeta, profile=config["profile"])


def build_compressor(name: str, k: int, d: int):
    """TopK (``"top"``) or unscaled RandK (``"rand"``) keeping k of d coordinates."""
    k = check_int("k", k, 1)
    if k > d:
        raise ValueError(f"k must be <= the dimension d = {d}, got {k}")
    if name == "top":
        return se.TopK(k)
    if name == "rand":
        return se.RandK(k, scaled=False)
    raise ValueError(f"compressor must be 'top' or 'rand', got {name!r}")


def build_method(name: str, compressor, problem, init: str, eta: float | None):
    """The solver of ``name``: GD, EF14, EF21, EF21-W (weights from the problem's L_i) or EControl.

    EControl's η defaults to α/400 (spec §3) when ``eta`` is None.
    """
    if init not in ("gradient", "zero"):
        raise ValueError(f"init must be 'gradient' or 'zero', got {init!r}")
    if name == "gd":
        return se.gd()
    if name == "ef14":
        return se.ef14(compressor)
    if name == "ef21":
        return se.ef21(compressor, init=init)
    if name == "ef21w":
        return se.ef21w(compressor, problem.smoothness, init=init)
    if name == "econtrol":
        eta = compressor.alpha(problem.dim) / 400.0 if eta is None else eta
        return se.econtrol(compressor, check_positive("eta", eta, allow_zero=True), init=init)
    raise ValueError(f"method must be one of {METHODS}, got {name!r}")


def method_alpha(method: str, compressor, d: int) -> float:
    """α of the method's compressor (1 for GD: the identity)."""
    return 1.0 if method == "gd" else float(compressor.alpha(d))


def theory_step(step: str, problem, alpha: float) -> float:
    """γ_QM, γ_AM, the PL step (QM, least squares only) or 1/L."""
    L, L_AM, L_QM = problem.L, *th.smoothness_means(problem.smoothness)
    if step == "qm":
        return float(th.step_qm(L, L_QM, alpha))
    if step == "am":
        return float(th.step_am(L, L_AM, alpha))
    if step == "gd":
        return 1.0 / L
    if step == "pl":
        mu = getattr(problem, "mu", None)
        if mu is None:
            raise ValueError("step 'pl' needs a PL constant: use dataset='least_squares'")
        return float(th.step_pl(L, L_QM, alpha, mu))
    raise ValueError(f"step must be one of {STEPS}, got {step!r}")


def claim_of(method: str, gamma: float, problem, alpha: float, step: str = "qm") -> str | None:
    """The claim whose bound covers (method, γ), or None (EF14, EControl, a step above the claim's limit).

    EF21: claim 6 (G̃^0) for the AM step, else claim 4 (G^0) when γ ≤ γ_QM and claim 6 when
    γ_QM < γ ≤ γ_AM; EF21-W: claim 5 when γ ≤ γ_AM; GD: claim 4 with α = 1 (EF21 with the identity)
    when γ ≤ 1/L.
    """
    L, L_AM, L_QM = problem.L, *th.smoothness_means(problem.smoothness)

    def within(limit: float) -> bool:
        return gamma <= (1.0 + STEP_RTOL) * limit

    if method == "ef21":
        if step != "am" and within(th.step_qm(L, L_QM, alpha)):
            return "ef21.nonconvex_rate"
        if within(th.step_am(L, L_AM, alpha)):
            return "ef21.ef21_am_rate"
    elif method == "ef21w" and within(th.step_am(L, L_AM, alpha)):
        return "ef21.ef21w_rate"
    elif method == "gd" and within(1.0 / L):
        return "ef21.nonconvex_rate"
    return None


def claim_error(claim: str | None, traj) -> np.ndarray | None:
    """The estimator error whose G^0 enters the claim's bound: G (claim 4, and G_W for EF21-W's
    trajectory, claim 5) or G̃ (claim 6)."""
    if claim is None:
        return None
    if traj.method == "GD":  # GD is EF21 with the identity: g_i^t = ∇f_i(x^t), G^t = 0
        return np.zeros(traj.rounds + 1)
    return np.asarray(traj.G_tilde if claim == "ef21.ef21_am_rate" else traj.G, dtype=float)


# --------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class TrainingRun:
    """One run of the ``training`` experiment, every round kept.

    Attributes
    ----------
    problem, x0, traj
        The problem, the start x^0 and the solver's trajectory (rounds t = 0..traj.rounds).
    alpha, gamma, multiplier, theory_gamma
        α of the compressor, the step used, its multiple of ``theory_gamma`` (the config's rule).
    claim
        The claim id whose bound covers the run (:func:`claim_of`), or None.
    avg_grad_sq, min_grad_sq
        At index T (1..rounds): mean and min of ‖∇f(x^t)‖² over t < T; NaN at index 0.
    bound
        At index T: the claim's bound 2(f(x^0) − f_low)/(γT) + E^0/(θT) with E^0 = G^0, G_W^0 or G̃^0;
        NaN at index 0 and everywhere when ``claim`` is None.
    """

    problem: Any
    x0: np.ndarray
    traj: Any
    alpha: float
    gamma: float
    multiplier: float
    theory_gamma: float
    claim: str | None
    avg_grad_sq: np.ndarray = field(repr=False)
    min_grad_sq: np.ndarray = field(repr=False)
    bound: np.ndarray = field(repr=False)


def running_stats(grad_sq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, min) of grad_sq[t] over t < T at index T = 0..len − 1 (NaN at 0)."""
    g = np.asarray(grad_sq, dtype=float)
    T = np.arange(g.size, dtype=float)
    avg, mins = np.full(g.size, np.nan), np.full(g.size, np.nan)
    avg[1:] = np.cumsum(g)[:-1] / T[1:]
    mins[1:] = np.minimum.accumulate(g)[:-1]
    return avg, mins


def solve(problem, method, gamma: float, T: int, x0: np.ndarray, seed: np.random.SeedSequence | int,
          tol: float | None, theorem_step: float | None):
    """One :func:`solvers.ef21.run` with a fresh generator from ``seed``; a step above ``theorem_step``
    (a tuned multiple) is intended here, so its :class:`~solvers.ef21.StepSizeWarning` is muted."""
    with warnings.catch_warnings():
        if theorem_step is not None and gamma > theorem_step * (1.0 + STEP_RTOL):
            warnings.simplefilter("ignore", se.StepSizeWarning)
        return se.run(problem, method, gamma, T, x0=x0, rng=np.random.default_rng(seed), tol=tol,
                      theorem_step=theorem_step)


def _tuned_key(traj) -> tuple[float, float, float]:
    """Sort key of a tuned run: reached the target first, then fewer rounds, then smaller final ‖∇f‖²."""
    if traj.status == "diverged":
        return (2.0, math.inf, math.inf)
    reached = traj.status == "target"
    return (0.0 if reached else 1.0, float(traj.rounds) if reached else 0.0, float(traj.grad_sq[-1]))


def check_training_config(config: dict[str, Any]) -> tuple[int, float | None]:
    """Validate a ``training`` config before any work; returns (T, tol)."""
    for key, allowed in (("dataset", DATASETS), ("method", METHODS), ("step", STEPS),
                         ("compressor", ("top", "rand")), ("init", ("gradient", "zero")),
                         ("profile", ("dominant", "spread")), ("record", ("log", "all"))):
        if config[key] not in allowed:
            raise ValueError(f"{key} must be one of {allowed}, got {config[key]!r}")
    if config["step"] == "pl" and config["dataset"] != "least_squares":
        raise ValueError("step 'pl' needs a PL constant μ: use dataset='least_squares'")
    check_int("n_clients", config["n_clients"], 1)
    check_int("k", config["k"], 1)
    check_positive("heterogeneity", config["heterogeneity"], allow_zero=True)
    check_positive("lam", config["lam"], allow_zero=True)
    check_positive("noise", config["noise"], allow_zero=True)
    if config["dataset"] in ("synthetic", "least_squares"):
        check_int("samples_per_client", config["samples_per_client"], 1)
        if config["k"] > check_int("d", config["d"], 1):
            raise ValueError(f"k must be <= d = {config['d']}, got {config['k']}")
    if config["step_multiplier"] != "tuned":
        check_positive("step_multiplier", config["step_multiplier"])
    if config["eta"] is not None:
        check_positive("eta", config["eta"], allow_zero=True)
    if config["instance_seed"] is not None:
        check_int("instance_seed", config["instance_seed"], 0)
    T = check_int("T", config["T"], 1)
    tol = None if config["tol"] is None else check_positive("tol", config["tol"])
    return T, tol


def run_training(config: dict[str, Any], rng: np.random.Generator, problem=None,
                 x0: np.ndarray | None = None) -> TrainingRun:
    """Run one ``training`` config; every round kept (see :class:`TrainingRun`).

    The problem is drawn first from ``rng``, then x^0 ~ N(0, I_d), then the seed of the compressor's
    randomness (one stream, reused by every multiple of a "tuned" step). With ``instance_seed`` set, the
    problem and x^0 come from ``default_rng(instance_seed)`` instead, so the seeds of a sweep share one
    instance and differ only in the compressor's draws (the seed mean of a RandK run then estimates the
    expectation that claim 4 bounds). ``problem`` and ``x0`` may be given to reuse an instance (the draws
    are then skipped).
    """
    T, tol = check_training_config(config)
    source = rng
    if config["instance_seed"] is not None:  # a fixed instance: only the compressor's draws vary
        source = np.random.default_rng(int(config["instance_seed"]))
    if problem is None:
        problem = build_problem(config, source)
    x0 = source.standard_normal(problem.dim) if x0 is None else check_vector("x0", x0, problem.dim)
    seed = np.random.SeedSequence(int(rng.integers(2**63)))
    name = config["method"]
    compressor = build_compressor(config["compressor"], config["k"], problem.dim) if name != "gd" else None
    alpha = method_alpha(name, compressor, problem.dim)
    method = build_method(name, compressor, problem, config["init"], config["eta"])
    base = theory_step(config["step"], problem, alpha)
    mult = config["step_multiplier"]
    if mult == "tuned":
        runs = [(m, solve(problem, method, m * base, T, x0, seed, tol, base)) for m in MULTIPLIERS]
        mult, traj = min(runs, key=lambda r: _tuned_key(r[1]))
    else:
        mult = check_positive("step_multiplier", mult)
        traj = solve(problem, method, mult * base, T, x0, seed, tol, base)
    gamma = float(traj.gamma)
    avg, mins = running_stats(traj.grad_sq)
    claim = claim_of(name, gamma, problem, alpha, config["step"])
    bound = np.full(avg.size, np.nan)
    if claim is not None:
        E0 = float(claim_error(claim, traj)[0])
        rounds = np.arange(1, avg.size, dtype=float)
        f0 = float(traj.loss[0]) - problem.f_low
        bound[1:] = th.nonconvex_bound(rounds, gamma, f0, E0, alpha)
    return TrainingRun(problem, x0, traj, alpha, gamma, float(mult), base, claim, avg, mins, bound)


def record_rounds(rounds: int, mode: str = "log") -> np.ndarray:
    """The stored rounds of a run of ``rounds`` rounds: all (``"all"``), or every round up to
    :data:`DENSE_ROUNDS` and about 60 log-spaced ones per decade after it, with the last (``"log"``)."""
    if mode == "all" or rounds <= DENSE_ROUNDS:
        return np.arange(rounds + 1)
    if mode != "log":
        raise ValueError(f"record must be 'log' or 'all', got {mode!r}")
    n_log = math.ceil(_PER_DECADE * math.log10(rounds / DENSE_ROUNDS)) + 1
    tail = np.geomspace(DENSE_ROUNDS, rounds, n_log).round().astype(np.int64)
    return np.unique(np.concatenate([np.arange(DENSE_ROUNDS + 1), tail, [rounds]]))


def _constants(problem) -> dict[str, float]:
    L_AM, L_QM = th.smoothness_means(problem.smoothness)
    return {"L": float(problem.L), "L_AM": float(L_AM), "L_QM": float(L_QM),
            "H": float(L_QM / L_AM), "clients": problem.n_clients, "dim": problem.dim}


def training_rows(run: TrainingRun, record: str = "log") -> pd.DataFrame:
    """The tidy rows of a run at the rounds of :func:`record_rounds`."""
    traj = run.traj
    idx = record_rounds(int(traj.rounds), record)
    df = pd.DataFrame({
        "round": idx, "grad_sq": traj.grad_sq[idx], "loss": traj.loss[idx], "G": traj.G[idx],
        "G_tilde": traj.G_tilde[idx], "bits_values": traj.bits_values[idx],
        "bits_indices": traj.bits_indices[idx], "avg_grad_sq": run.avg_grad_sq[idx],
        "min_grad_sq": run.min_grad_sq[idx], "bound": run.bound[idx],
    })
    consts = _constants(run.problem)
    df["claim"] = run.claim or ""
    df["gamma"], df["multiplier"], df["alpha"] = run.gamma, run.multiplier, run.alpha
    for key in ("L", "L_AM", "L_QM", "H"):
        df[key] = consts[key]
    df["clients"], df["dim"], df["status"] = consts["clients"], consts["dim"], traj.status
    return df


TRAINING_DEFAULTS: dict[str, Any] = {
    "dataset": "synthetic", "n_clients": 20, "samples_per_client": 50, "d": 20, "lam": 0.1,
    "noise": 0.5, "heterogeneity": 0.0, "profile": "dominant", "method": "ef21", "compressor": "top",
    "k": 1, "step": "qm", "step_multiplier": 1.0, "init": "gradient", "eta": None, "T": 2000,
    "tol": 1e-10, "record": "log", "instance_seed": None,
}


@register_experiment("ef21", "training", TRAINING_DEFAULTS)
def training_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """‖∇f(x^t)‖², f, G^t (G_W^t, G̃^t), bits and the claim's bound per round of one method."""
    return training_rows(run_training(config, rng), config["record"])


# --------------------------------------------------------------------------------------- speed-up
def rounds_to_target(grad_sq: np.ndarray, target: float) -> float:
    """The first t with ‖∇f(x^t)‖² ≤ target·‖∇f(x^0)‖², NaN when no round reaches it."""
    g = np.asarray(grad_sq, dtype=float)
    hit = np.flatnonzero(g <= target * g[0])
    return float(hit[0]) if hit.size else math.nan


SPEEDUP_DEFAULTS: dict[str, Any] = {
    "dataset": "synthetic", "n_clients": 20, "samples_per_client": 50, "d": 20, "lam": 0.1,
    "noise": 0.5, "heterogeneity": [0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0],
    "profile": "dominant", "compressor": "top", "k": 1, "init": "gradient", "target": 1e-4, "T": 50_000,
}


@register_experiment("ef21", "speedup", SPEEDUP_DEFAULTS)
def speedup_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Rounds to ‖∇f‖² ≤ target·‖∇f(x^0)‖² of EF21 (γ_QM) over EF21-W (γ_AM), against S_pred, per ζ.

    ``heterogeneity`` is one ζ or a list: every ζ scales the same data split (the data, split and
    x^0 come from one seed of the run's generator), so the rows of one run differ only in ζ.
    """
    zetas = config["heterogeneity"]
    zetas = [zetas] if np.isscalar(zetas) else list(zetas)
    target = check_positive("target", config["target"])
    if target >= 1:
        raise ValueError(f"target must be < 1 (a fraction of ‖∇f(x^0)‖²), got {target}")
    T = check_int("T", config["T"], 1)
    for zeta in zetas:
        check_positive("heterogeneity", zeta, allow_zero=True)
    check_int("k", config["k"], 1)
    if config["compressor"] not in ("top", "rand"):
        raise ValueError(f"compressor must be 'top' or 'rand', got {config['compressor']!r}")
    instance, stream = np.random.SeedSequence(int(rng.integers(2**63))).spawn(2)
    x0, rows = None, []
    for zeta in zetas:
        inst = np.random.default_rng(instance)
        problem = build_problem({**config, "heterogeneity": zeta}, inst)
        if x0 is None:
            x0 = inst.standard_normal(problem.dim)
        compressor = build_compressor(config["compressor"], config["k"], problem.dim)
        alpha = float(compressor.alpha(problem.dim))
        L, (L_AM, L_QM) = problem.L, th.smoothness_means(problem.smoothness)
        rounds = {}
        for label, method, gamma in (
                ("ef21", se.ef21(compressor, init=config["init"]), th.step_qm(L, L_QM, alpha)),
                ("ef21w", se.ef21w(compressor, problem.smoothness, init=config["init"]),
                 th.step_am(L, L_AM, alpha))):
            traj = solve(problem, method, float(gamma), T, x0, stream, target, float(gamma))
            rounds[label] = rounds_to_target(traj.grad_sq, target)
            rounds[label + "_status"] = traj.status
        ratio = rounds["ef21"] / rounds["ef21w"]
        rows.append({"zeta": float(zeta), "H": L_QM / L_AM, "L": L, "L_AM": L_AM, "L_QM": L_QM,
                     "alpha": alpha, "clients": problem.n_clients, "dim": problem.dim,
                     "rounds_ef21": rounds["ef21"], "rounds_ef21w": rounds["ef21w"],
                     "reached_ef21": not math.isnan(rounds["ef21"]),
                     "reached_ef21w": not math.isnan(rounds["ef21w"]),
                     "status_ef21": rounds["ef21_status"], "status_ef21w": rounds["ef21w_status"],
                     "measured_speedup": ratio,
                     "predicted_speedup": float(th.predicted_speedup(L, L_QM, L_AM, alpha)),
                     "sqrt_n": math.sqrt(problem.n_clients)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------- PL
@dataclass(frozen=True)
class PLRun:
    """One PL run, every round kept: Ψ^t = f(x^t) − f* + (γ/θ)E^t and the bound (1 − γμ)^t Ψ^0.

    ``E`` is G^t (EF21, QM step), G̃^t (EF21, AM step) or G_W^t (EF21-W).
    """

    problem: Any
    traj: Any
    gamma: float
    mu: float
    alpha: float
    psi: np.ndarray = field(repr=False)
    bound: np.ndarray = field(repr=False)


PL_DEFAULTS: dict[str, Any] = {
    "n_clients": 20, "samples_per_client": 50, "d": 10, "noise": 0.5, "heterogeneity": 0.0,
    "profile": "dominant", "method": "ef21", "mean": "qm", "compressor": "top", "k": 1,
    "init": "gradient", "T": 3000, "record": "log",
}


def run_pl(config: dict[str, Any], rng: np.random.Generator) -> PLRun:
    """EF21 with γ = min{1/(L + L_M√(2β/θ)), θ/(2μ)} (L_M = L_QM or L_AM) on least squares."""
    method, mean = config["method"], config["mean"]
    if (method, mean) not in (("ef21", "qm"), ("ef21", "am"), ("ef21w", "am")):
        raise ValueError("(method, mean) must be ('ef21', 'qm'), ('ef21', 'am') or ('ef21w', 'am'), "
                         f"got ({method!r}, {mean!r})")
    problem = build_problem({**config, "dataset": "least_squares", "lam": 0.0}, rng)
    x0 = rng.standard_normal(problem.dim)
    seed = int(rng.integers(2**63))
    compressor = build_compressor(config["compressor"], config["k"], problem.dim)
    alpha = float(compressor.alpha(problem.dim))
    L, (L_AM, L_QM), mu = problem.L, th.smoothness_means(problem.smoothness), float(problem.mu)
    gamma = float(th.step_pl(L, L_QM if mean == "qm" else L_AM, alpha, mu))
    solver = build_method(method, compressor, problem, config["init"], None)
    traj = solve(problem, solver, gamma, check_int("T", config["T"], 1), x0, seed, None, gamma)
    E = np.asarray(traj.G_tilde if (method, mean) == ("ef21", "am") else traj.G, dtype=float)
    psi = np.asarray(th.pl_lyapunov(np.asarray(traj.loss) - problem.f_star, E, gamma, alpha), dtype=float)
    t = np.arange(psi.size, dtype=float)
    bound = np.asarray(th.pl_bound(t, gamma, mu, psi[0]), dtype=float)
    return PLRun(problem, traj, gamma, mu, alpha, psi, bound)


@register_experiment("ef21", "pl", PL_DEFAULTS)
def pl_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Ψ^t and (1 − γμ)^t Ψ^0 per round of EF21/EF21-W with the PL step on least squares (claim 7)."""
    run = run_pl(config, rng)
    idx = record_rounds(int(run.traj.rounds), config["record"])
    df = pd.DataFrame({"round": idx, "psi": run.psi[idx], "bound": run.bound[idx],
                       "f_gap": np.asarray(run.traj.loss)[idx] - run.problem.f_star,
                       "grad_sq": run.traj.grad_sq[idx]})
    consts = _constants(run.problem)
    df["gamma"], df["mu"], df["alpha"] = run.gamma, run.mu, run.alpha
    for key in ("L", "L_AM", "L_QM", "H"):
        df[key] = consts[key]
    df["status"] = run.traj.status
    return df


# --------------------------------------------------------------------------------------- divergence
@dataclass(frozen=True)
class Counterexample:
    r"""Beznosikov, Horváth, Richtárik, Safaryan (2020), "On Biased Compression for Distributed
    Learning", Example 1: n = d = 3, f_i(x) = ⟨a_i, x⟩² + ½‖x‖² with a_1 = c(−3, 2, 2),
    a_2 = c(2, −3, 2), a_3 = c(2, 2, −3).

    The paper takes c = 1, where ∇f_i(t·1) = t(2⟨a_i, 1⟩a_i + 1) has three entries of equal magnitude
    5|t| and Top1's tie must pick the negative one. With our tie rule (lowest index) that does not
    happen, so c = 1.1 makes the negative entry strictly largest: ∇f_1(t·1) = t(−6.26, 5.84, 5.84).
    Top1 then sends client i's i-th entry, the compressed mean is −(6.26/3)·t·1 and compressed GD
    multiplies x = t·1 by 1 + 6.26γ/3 > 1 for every γ > 0, while x* = 0, f* = 0.
    """

    scale: float = 1.1

    @property
    def a(self) -> np.ndarray:
        """The rows a_i, shape (3, 3)."""
        return self.scale * (2.0 * np.ones((3, 3)) - 5.0 * np.eye(3))

    @property
    def n_clients(self) -> int:
        return 3

    @property
    def dim(self) -> int:
        return 3

    @property
    def smoothness(self) -> np.ndarray:
        """L_i = 2‖a_i‖² + 1 (the Hessian of f_i is 2a_ia_iᵀ + I)."""
        return 2.0 * np.sum(self.a**2, axis=1) + 1.0

    @property
    def L(self) -> float:
        """λ_max((2/3)AᵀA + I)."""
        return float(np.linalg.eigvalsh(2.0 / 3.0 * self.a.T @ self.a + np.eye(3))[-1])

    @property
    def f_low(self) -> float:
        return 0.0

    @property
    def heterogeneity(self) -> float:
        L_AM, L_QM = th.smoothness_means(self.smoothness)
        return float(L_QM / L_AM)

    def client_grads(self, x: np.ndarray) -> np.ndarray:
        """∇f_i(x) = 2⟨a_i, x⟩a_i + x, one row per client."""
        a = self.a
        return 2.0 * (a @ x)[:, None] * a + x[None, :]

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.client_grads(x).mean(axis=0)

    def loss(self, x: np.ndarray) -> float:
        return float(np.mean((self.a @ x) ** 2) + 0.5 * x @ x)


def counterexample(scale: float = 1.1) -> Counterexample:
    """The 3-client counterexample (:class:`Counterexample`)."""
    return Counterexample(check_positive("scale", scale))


@dataclass(frozen=True)
class CompressedGDRun:
    """Compressed GD without error feedback: ‖∇f(x^t)‖² and f(x^t) for t = 0..rounds."""

    grad_sq: np.ndarray
    loss: np.ndarray
    x: np.ndarray
    rounds: int
    status: str


def compressed_gd(problem, compressor, gamma: float, T: int, x0: np.ndarray,
                  rng: np.random.Generator | None = None, blowup: float = 1e30) -> CompressedGDRun:
    r"""Distributed compressed GD *without* error feedback: x^{t+1} = x^t − γ(1/n)Σ_i C(∇f_i(x^t)).

    This is not a method of ``solvers.ef21`` (it has no guarantee for biased C; it is here to show the
    failure that error feedback repairs). One Python iteration per round, clients batched. The run
    stops with status ``"diverged"`` once ‖∇f(x^t)‖² exceeds ``blowup``·max(1, ‖∇f(x^0)‖²) or
    stops being finite; the returned arrays end at the last finite round.
    """
    gamma = check_positive("gamma", gamma)
    T = check_int("T", T, 1)
    x = check_vector("x0", x0, problem.dim).copy()
    rng = np.random.default_rng(0) if rng is None else rng
    grad_sq, loss = np.empty(T + 1), np.empty(T + 1)
    grad_sq[0], loss[0] = float(problem.grad(x) @ problem.grad(x)), problem.loss(x)
    limit = blowup * max(1.0, grad_sq[0])
    status, t = "horizon", 0
    for t in range(T):
        step = compressor.compress(problem.client_grads(x), rng).mean(axis=0)
        x_new = x - gamma * step
        g = problem.grad(x_new)
        g2 = float(g @ g)
        if not (math.isfinite(g2) and g2 <= limit):
            status = "diverged"
            break
        x = x_new
        grad_sq[t + 1], loss[t + 1] = g2, problem.loss(x)
    else:
        t = T
    return CompressedGDRun(grad_sq[: t + 1].copy(), loss[: t + 1].copy(), x, t, status)


DIVERGENCE_DEFAULTS: dict[str, Any] = {"scale": 1.1, "k": 1, "step": "qm", "step_multiplier": 1.0,
                                       "x0_scale": 1.0, "T": 2000}


@register_experiment("ef21", "divergence", DIVERGENCE_DEFAULTS)
def divergence_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Compressed GD without error feedback diverges on Beznosikov et al.'s Example 1; EF21 converges.

    x^0 = s·(1, 1, 1) + 1e-3·N(0, I) (s = ``x0_scale``; the small perturbation from the run's generator
    shows the failure does not need the exact ray t·1). Both methods use Top-k and the same step,
    ``step_multiplier`` × (γ_QM for ``step="qm"``, 1/L for ``step="gd"``). Rows: every round of both
    runs (``method`` = ``"compressed_gd"`` or ``"ef21"``) with ‖∇f‖², f and the run's status.
    """
    problem = counterexample(config["scale"])
    compressor = build_compressor("top", config["k"], problem.dim)
    alpha = float(compressor.alpha(problem.dim))
    L_AM, L_QM = th.smoothness_means(problem.smoothness)
    if config["step"] == "qm":
        base = float(th.step_qm(problem.L, L_QM, alpha))
    elif config["step"] == "gd":
        base = 1.0 / problem.L
    else:
        raise ValueError(f"step must be 'qm' or 'gd', got {config['step']!r}")
    gamma = base * check_positive("step_multiplier", config["step_multiplier"])
    T = check_int("T", config["T"], 1)
    x0 = check_positive("x0_scale", config["x0_scale"]) * np.ones(3) + 1e-3 * rng.standard_normal(3)
    cgd = compressed_gd(problem, compressor, gamma, T, x0)
    ef = solve(problem, se.ef21(compressor), gamma, T, x0, 0, None, base)
    parts = []
    for name, run in (("compressed_gd", cgd), ("ef21", ef)):
        parts.append(pd.DataFrame({"method": name, "round": np.arange(run.rounds + 1),
                                   "grad_sq": np.asarray(run.grad_sq), "loss": np.asarray(run.loss),
                                   "status": run.status}))
    df = pd.concat(parts, ignore_index=True)
    df["gamma"], df["alpha"], df["L"], df["L_QM"], df["H"] = gamma, alpha, problem.L, L_QM, L_QM / L_AM
    return df
