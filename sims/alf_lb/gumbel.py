r"""The Gumbel testbed of online ALF-LB: exact multinomial batches, closed-form regret (claims 7-10).

With K = 1 and scores s_ji = a_i + G_ji, G_ji iid Gumbel(0, 1), token j's top-1 expert under the bias
b = −p is argmax_i (a_i − p_i + G_ji), which is a draw from the softmax (the Gumbel-max trick):

    P(token j → i) = q_i(p),   q = softmax(a − p) = softmax(a + b).

Tokens are independent, so the loads of a batch of n tokens routed with p_t are *exactly*
Multinomial(n, q(p_t)): the simulator draws them that way, token by token by inverse CDF from pre-drawn
uniforms, and never materialises the n×E score matrix. The expected per-batch dual loss has the closed
form (``theory.alf_lb``, claim 8)

    F(p) = logsumexp(a − p) + (1/E) Σ_i p_i + γ,   p* = a − mean(a),   F* = mean(a) + ln E + γ,

so each round adds the *exact* pseudo-regret increment F(p_t) − F*. Writing d = p − p*, the increment is
F(p_t) − F* = logsumexp(−d) − ln E + mean(d) (the same formula, shifted by p* so that the small
differences near the optimum are not lost to cancellation), computed with a stable logsumexp.

Round t = 1, ..., T:
1. p_t = −b_{t−1}; add F(p_t) − F* to the regret; q_t = softmax(−d_t);
2. draw the n tokens' experts from q_t, count the loads c_t;
3. g_t = 1/E − c_t/n (fraction units) and ‖g_t‖² = Σ l_i² − 1/E ≤ G² = 1 − 1/E (claim 7);
4. b_t = rule(b_{t−1}, c_t) by :func:`solvers.alf_lb.bias.bias_step` (sign or gradient rule, any
   schedule, optional projection onto ‖b + p*‖₂ ≤ R, i.e. ‖p − p*‖₂ ≤ R).

At checkpoints (T = 2^k and the horizon) the run records R_T = Σ_{t≤T}[F(p_t) − F*], Σ_t ‖g_t‖²,
max_t ‖g_t‖², ‖p_T − p*‖₂ and ‖p_T − p*‖_∞, F(p_T) − F*, MaxVio_global of the exact expected loads n·q_T
(E·max_i q_i − 1), the running mean MaxVio_batch of the sampled loads, and the running minimum of
min_i q_{t,i} / (e^{−2‖p_t − p*‖_∞}/E) (claim 8's pointwise bound on the softmax, ≥ 1).

:func:`simulate` is one fused numba kernel; :func:`simulate_numpy` is the per-round numpy reference.
Both draw the uniforms from the passed generator in the same order (``rng.random((rows, n))`` per chunk
of rounds), so they route every token identically; the floating-point results agree to rounding.

References
----------
X.Y. Han, Y. Zhong, arXiv 2512.03915 (the online dual and its regret); E. Hazan, A. Agarwal, S. Kale,
Machine Learning 69 (2007) (logarithmic regret); spec ``alf_lb.md``, claims 7-10 and figure F1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pandas as pd

from sims.alf_lb.streams import popularity
from sims.runner import Experiment, checkpoints, register_experiment
from solvers._checks import check_int
from solvers.alf_lb import bias as bl
from theory import alf_lb as th

__all__ = [
    "EXPERIMENT",
    "GUMBEL_REGRET_DEFAULTS",
    "RULES",
    "GumbelRun",
    "GumbelTestbed",
    "build_rule",
    "checkpoints",
    "gumbel_regret",
    "make_testbed",
    "simulate",
    "simulate_numpy",
    "start_bias",
    "testbed_of",
]

#: Rounds of uniforms drawn per call of the generator (the stream does not depend on it).
_CHUNK_VALUES = 1 << 19
#: Columns of the per-checkpoint record, in the kernel's order.
_COLUMNS = ("regret", "grad_sq_sum", "grad_sq_max", "dist", "dist_inf", "gap", "maxvio_global",
            "maxvio_batch", "q_ratio_min")


@dataclass(frozen=True)
class GumbelTestbed:
    """K = 1 routing with scores a_i + Gumbel(0, 1) on batches of n tokens (claim 8).

    Attributes
    ----------
    a
        (E,) expert popularities.
    E
        Number of experts, ≥ 2.
    n
        Tokens per batch, ≥ 1.
    p_star
        (E,) the optimal prices a − mean(a) (the representative with Σp* = 0).
    F_star
        The optimal expected dual loss mean(a) + ln E + γ.
    """

    a: np.ndarray
    E: int
    n: int
    p_star: np.ndarray
    F_star: float

    @property
    def G2(self) -> float:
        """G² = K(1 − K/E) = 1 − 1/E, the bound on ‖g_t‖² in fraction units (claim 7)."""
        return float(th.grad_sq_bound(1, self.E))

    @property
    def radius0(self) -> float:
        """‖p_1 − p*‖₂ = ‖p*‖₂ for the start p_1 = 0 (b_0 = 0)."""
        return float(np.linalg.norm(self.p_star))

    def loss(self, p: np.ndarray) -> float | np.ndarray:
        """F(p) (:func:`theory.alf_lb.gumbel_dual_loss`)."""
        return th.gumbel_dual_loss(self.a, p)

    def grad(self, p: np.ndarray) -> np.ndarray:
        """∇F(p) = 1/E − softmax(a − p) (:func:`theory.alf_lb.gumbel_dual_grad`)."""
        return th.gumbel_dual_grad(self.a, p)


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def make_testbed(E: int, batch: int, rng: np.random.Generator, spread: float = 0.5) -> GumbelTestbed:
    """A Gumbel testbed with popularities a ~ N(0, spread²) drawn from ``rng``.

    Parameters
    ----------
    E
        Number of experts, ≥ 2.
    batch
        Tokens per batch n, ≥ 1.
    rng
        Generator of the popularities.
    spread
        Standard deviation of the popularities, ≥ 0 (0 gives a balanced testbed, p* = 0).

    Returns
    -------
    GumbelTestbed
        With p* = a − mean(a) and F* = mean(a) + ln E + γ (:func:`theory.alf_lb.gumbel_optimum`).
    """
    E = check_int("E", E, 2)
    batch = check_int("batch", batch, 1)
    if isinstance(spread, bool) or not isinstance(spread, int | float | np.integer | np.floating) \
            or not math.isfinite(spread) or spread < 0:
        raise ValueError(f"spread must be a finite number >= 0, got {spread!r}")
    a = popularity(E, _check_rng(rng), float(spread))
    p_star, F_star = th.gumbel_optimum(a)
    return GumbelTestbed(a, E, batch, p_star, float(F_star))


@dataclass(frozen=True)
class GumbelRun:
    """A run of T rounds on the Gumbel testbed, recorded at checkpoints.

    Attributes
    ----------
    rounds
        (m,) int64 checkpoints T_k.
    regret, grad_sq_sum, grad_sq_max
        (m,) R_{T_k} = Σ_{t≤T_k}[F(p_t) − F*], Σ_{t≤T_k}‖g_t‖² and max_{t≤T_k}‖g_t‖² (fraction units).
    dist, dist_inf, gap
        (m,) ‖p_{T_k} − p*‖₂, ‖p_{T_k} − p*‖_∞ and F(p_{T_k}) − F*.
    maxvio_global, maxvio_batch
        (m,) MaxVio of the expected loads n·q(p_{T_k}) and the mean MaxVio of the sampled batches t ≤ T_k.
    q_ratio_min
        (m,) min_{t≤T_k} min_i q_{t,i}·E·e^{2‖p_t − p*‖_∞} (claim 8: ≥ 1).
    prices
        (m, E) the iterates p_{T_k} (Σ = 0 up to rounding for rules that keep Σb = 0).
    trace
        (T, E) every iterate p_t when requested, else None.
    loads
        (T, E) int64 the loads c_t of every round when requested (with ``trace``), else None.
    state
        The rule's state after round T.
    """

    rounds: np.ndarray
    regret: np.ndarray
    grad_sq_sum: np.ndarray
    grad_sq_max: np.ndarray
    dist: np.ndarray
    dist_inf: np.ndarray
    gap: np.ndarray
    maxvio_global: np.ndarray
    maxvio_batch: np.ndarray
    q_ratio_min: np.ndarray
    prices: np.ndarray
    trace: np.ndarray | None
    loads: np.ndarray | None
    state: bl.BiasState

    def to_frame(self) -> pd.DataFrame:
        """One row per checkpoint: ``rounds`` and every recorded series."""
        return pd.DataFrame({"rounds": self.rounds, **{c: getattr(self, c) for c in _COLUMNS}})


@numba.njit(cache=True)
def _gumbel_kernel(p_star, n, unif, t0, kind, u, sched_kind, eta0, units, center, freeze_after, radius,
                   anchor, steps, bias, acc, cps, cp_pos, out, out_p, trace, loads_tr):
    rows, n_tok = unif.shape
    E = p_star.shape[0]
    d = np.empty(E)
    w = np.empty(E)
    cdf = np.empty(E)
    counts = np.zeros(E, dtype=np.int64)
    log_e = math.log(E)
    for r in range(rows):
        t = t0 + r + 1
        # p_t = −b_{t−1}; d = p_t − p*; F(p_t) − F* = logsumexp(−d) − ln E + mean(d)
        m = -np.inf
        dsum = 0.0
        dinf = 0.0
        dsq = 0.0
        for i in range(E):
            d[i] = -bias[i] - p_star[i]
            dsum += d[i]
            dsq += d[i] * d[i]
            if -d[i] > m:
                m = -d[i]
            if abs(d[i]) > dinf:
                dinf = abs(d[i])
        s = 0.0
        for i in range(E):
            w[i] = math.exp(-d[i] - m)
            s += w[i]
        gap = m + math.log(s) - log_e + dsum / E
        acc[0] += gap
        c = 0.0
        qmin = np.inf
        qmax = 0.0
        for i in range(E):
            qi = w[i] / s
            c += qi
            cdf[i] = c
            qmin = min(qmin, qi)
            qmax = max(qmax, qi)
        acc[3] = min(acc[3], qmin * E * math.exp(2.0 * dinf))
        # the batch: n tokens, each expert i with probability q_i (inverse CDF)
        counts[:] = 0
        for j in range(n_tok):
            # the first i with x < cdf_i, i.e. #{i < E − 1: cdf_i ≤ x} (cdf is non-decreasing): branch-free
            x = unif[r, j]
            i = 0
            for k in range(E - 1):
                i += x >= cdf[k]
            counts[i] += 1
        gsq = 0.0
        cmax = 0
        for i in range(E):
            g = 1.0 / E - counts[i] / n
            gsq += g * g
            cmax = max(cmax, counts[i])
        acc[1] += gsq
        acc[2] = max(acc[2], gsq)
        acc[4] += cmax * E / n - 1.0
        if trace.shape[0] > 0:
            for i in range(E):
                trace[t - 1, i] = -bias[i]
                loads_tr[t - 1, i] = counts[i]
        k = cp_pos[0]
        if k < cps.shape[0] and cps[k] == t:
            out[k, 0] = acc[0]
            out[k, 1] = acc[1]
            out[k, 2] = acc[2]
            out[k, 3] = math.sqrt(dsq)
            out[k, 4] = dinf
            out[k, 5] = gap
            out[k, 6] = E * qmax - 1.0
            out[k, 7] = acc[4] / t
            out[k, 8] = acc[3]
            for i in range(E):
                out_p[k, i] = -bias[i]
            cp_pos[0] = k + 1
        bl.bias_step(kind, u, sched_kind, eta0, units, center, freeze_after, radius, anchor, t, counts, n, 1,
                     steps, bias)


def _check_inputs(testbed, rule, T, rng, cps, bias0):
    if not isinstance(testbed, GumbelTestbed):
        raise TypeError(f"testbed must be a GumbelTestbed (see make_testbed), got {type(testbed).__name__}")
    if not isinstance(rule, bl.BiasRule):
        raise TypeError(f"rule must be a BiasRule (sign_rule or gradient_rule), got {type(rule).__name__}")
    if rule.anchor.shape != (testbed.E,):
        raise ValueError(f"rule is for E = {rule.anchor.shape[0]} experts, the testbed has E = {testbed.E}")
    T = check_int("T", T, 1)
    _check_rng(rng)
    cps = checkpoints(T) if cps is None else np.asarray(cps)
    if cps.ndim != 1 or cps.size < 1 or cps.dtype.kind not in "iu":
        raise ValueError(f"checkpoints must be a non-empty 1-D integer array, got {cps!r}")
    if cps[0] < 1 or cps[-1] > T or np.any(np.diff(cps) <= 0):
        raise ValueError(f"checkpoints must be strictly increasing integers in 1..T = {T}, got {cps!r}")
    state = bl.init(rule, bias0)
    return T, cps.astype(np.int64), state


def _chunks(rng: np.random.Generator, T: int, n: int):
    """The uniforms of rounds 1..T, one block of rows at a time: (first round − 1, block)."""
    rows = max(1, _CHUNK_VALUES // n)
    for t0 in range(0, T, rows):
        yield t0, rng.random((min(rows, T - t0), n))


def simulate(testbed: GumbelTestbed, rule: bl.BiasRule, T: int, rng: np.random.Generator,
             checkpoints: np.ndarray | None = None, *, bias0: np.ndarray | None = None,
             trace: bool = False) -> GumbelRun:
    r"""Run a bias rule for T rounds on the Gumbel testbed (fused numba kernel).

    Each round routes a batch of n tokens with the previous bias, which gives loads
    c_t ~ Multinomial(n, softmax(a + b_{t−1})), adds the exact F(p_t) − F* and updates the bias.

    Parameters
    ----------
    testbed
        From :func:`make_testbed`.
    rule
        A :func:`~solvers.alf_lb.bias.sign_rule` or :func:`~solvers.alf_lb.bias.gradient_rule` for E
        experts (its projection, if any, acts on b; anchor = −p* makes it the ball ‖p − p*‖₂ ≤ R).
    T
        Rounds, ≥ 1.
    rng
        Generator of the tokens' uniforms (n per round, drawn in blocks of rounds).
    checkpoints
        Strictly increasing rounds in 1..T at which to record (default: powers of two and T).
    bias0
        Starting bias b_0 (default 0, i.e. p_1 = 0; gradient rules only).
    trace
        Also return every iterate p_t and every batch's loads c_t, shape (T, E) each.

    Returns
    -------
    GumbelRun
        The checkpoint records; see :class:`GumbelRun`.

    References
    ----------
    Spec ``alf_lb.md``, claims 7-10 (``theory.alf_lb``).
    """
    T, cps, state = _check_inputs(testbed, rule, T, rng, checkpoints, bias0)
    E, n = testbed.E, testbed.n
    bias, steps = state.bias.copy(), state.steps.copy()
    acc = np.array([0.0, 0.0, 0.0, np.inf, 0.0])
    out = np.full((cps.size, len(_COLUMNS)), np.nan)
    out_p = np.full((cps.size, E), np.nan)
    tr = np.empty((T if trace else 0, E))
    loads_tr = np.empty((T if trace else 0, E), dtype=np.int64)
    pos = np.zeros(1, dtype=np.int64)
    p_star = np.ascontiguousarray(testbed.p_star, dtype=float)
    for t0, unif in _chunks(rng, T, n):
        _gumbel_kernel(p_star, n, unif, t0, rule.kind, rule.u, rule.schedule.kind, rule.schedule.eta0,
                       rule.units, rule.center, rule.freeze_after, rule.radius, rule.anchor, steps, bias,
                       acc, cps, pos, out, out_p, tr, loads_tr)
    if not np.all(np.isfinite(bias)):
        raise FloatingPointError("simulate: the bias became non-finite; the run diverged")
    return GumbelRun(cps, *out.T.copy(), out_p, tr if trace else None, loads_tr if trace else None,
                     bl.BiasState(bias, steps, T))


def simulate_numpy(testbed: GumbelTestbed, rule: bl.BiasRule, T: int, rng: np.random.Generator,
                   checkpoints: np.ndarray | None = None, *, bias0: np.ndarray | None = None,
                   trace: bool = False) -> GumbelRun:
    """:func:`simulate` as a per-round loop of numpy operations and the numpy update (reference).

    It consumes the generator exactly as :func:`simulate` does, so every token is routed identically;
    floating-point results agree to rounding.
    """
    T, cps, state = _check_inputs(testbed, rule, T, rng, checkpoints, bias0)
    E, n = testbed.E, testbed.n
    log_e = math.log(E)
    regret = gsq_sum = gsq_max = mv_sum = 0.0
    ratio_min = math.inf
    out = np.full((cps.size, len(_COLUMNS)), np.nan)
    out_p = np.full((cps.size, E), np.nan)
    tr = np.empty((T, E)) if trace else None
    loads_tr = np.empty((T, E), dtype=np.int64) if trace else None
    k = 0
    for t0, unif in _chunks(rng, T, n):
        for r in range(unif.shape[0]):
            t = t0 + r + 1
            d = -state.bias - testbed.p_star
            m = float(np.max(-d))
            w = np.exp(-d - m)
            s = float(np.cumsum(w)[-1])
            gap = m + math.log(s) - log_e + float(np.cumsum(d)[-1]) / E
            regret += gap
            q = w / s
            cdf = np.cumsum(q)
            dinf = float(np.max(np.abs(d)))
            ratio_min = min(ratio_min, float(q.min()) * E * math.exp(2.0 * dinf))
            experts = np.minimum(np.searchsorted(cdf, unif[r], side="right"), E - 1)
            counts = np.bincount(experts, minlength=E)
            gsq = float(np.sum((1.0 / E - counts / n) ** 2))
            gsq_sum += gsq
            gsq_max = max(gsq_max, gsq)
            mv_sum += float(counts.max()) * E / n - 1.0
            if tr is not None:
                tr[t - 1] = -state.bias
                loads_tr[t - 1] = counts
            if k < cps.size and cps[k] == t:
                out[k] = (regret, gsq_sum, gsq_max, float(np.sqrt(np.sum(d * d))), dinf, gap,
                          E * float(q.max()) - 1.0, mv_sum / t, ratio_min)
                out_p[k] = -state.bias
                k += 1
            state = bl.update_numpy(rule, state, counts, n, 1)
    if not np.all(np.isfinite(state.bias)):
        raise FloatingPointError("simulate_numpy: the bias became non-finite; the run diverged")
    return GumbelRun(cps, *out.T.copy(), out_p, tr, loads_tr, state)


# ---------------------------------------------------------------- the experiment
#: Rule names of the experiment, with what they are.
RULES: dict[str, str] = {
    "inverse_t": "gradient rule, η_t = c/(μt) (claim 9 for c ≥ 1 with μ = μ_R and projection)",
    "inverse_sqrt": "gradient rule, η_t = η₀/√t",
    "constant": "gradient rule, constant η",
    "sign": "sign rule b ← b + u·sign(c̄ − c) (never projected)",
}

GUMBEL_REGRET_DEFAULTS: dict[str, Any] = {
    "E": 8, "batch": 64, "T": 2**14, "spread": 0.5, "instance": None, "rule": "inverse_t", "c": 1.0,
    "mu": "modulus", "R": None, "project": True, "eta": 0.1, "eta0": 1.0, "u": 1e-2,
}


def build_rule(testbed: GumbelTestbed, config: dict[str, Any]) -> tuple[bl.BiasRule, float, float, bool]:
    r"""The bias rule of an experiment config, with its μ, radius R and whether it projects.

    - R = config ``R``, or ‖p_1 − p*‖₂ = ‖p*‖₂ when None (the start p_1 = 0 lies in the domain);
    - μ = μ_R = e^{−2R}/E, the modulus on P = {Σp = 0, ‖p − p*‖₂ ≤ R} (``mu="modulus"``), or the
      curvature 1/E at p* (``mu="curvature"``), used by ``inverse_t``;
    - gradient rules project onto P (b onto ‖b + p*‖₂ ≤ R) when ``project``; the sign rule never does.
    """
    E = testbed.E
    R = testbed.radius0 if config["R"] is None else float(config["R"])
    if not (math.isfinite(R) and R > 0):
        raise ValueError(f"R must be > 0 (None means ‖p*‖₂, which is {testbed.radius0:g} here), got {R!r}")
    if config["mu"] == "modulus":
        mu = float(th.gumbel_modulus(E, R))
    elif config["mu"] == "curvature":
        mu = 1.0 / E
    else:
        raise ValueError(f"mu must be 'modulus' (e^(-2R)/E) or 'curvature' (1/E), got {config['mu']!r}")
    name = config["rule"]
    if name == "sign":
        return bl.sign_rule(E, config["u"]), mu, R, False
    if name == "inverse_t":
        schedule = bl.inverse_t(config["c"], mu)
    elif name == "inverse_sqrt":
        schedule = bl.inverse_sqrt(config["eta0"])
    elif name == "constant":
        schedule = bl.constant(config["eta"])
    else:
        raise ValueError(f"rule must be one of {sorted(RULES)}, got {name!r}")
    project = bool(config["project"])
    radius = R if project else math.inf
    return bl.gradient_rule(E, schedule, radius=radius, anchor=-testbed.p_star), mu, R, project


def start_bias(testbed: GumbelTestbed, R: float, project: bool) -> np.ndarray | None:
    """b_0 of a run: None (b_0 = 0, p_1 = 0), or 0 projected onto ‖b + p*‖₂ ≤ R when ‖p*‖₂ > R (p_1 ∈ P)."""
    if not project or testbed.radius0 <= R:
        return None
    anchor = -testbed.p_star
    return anchor + (0.0 - anchor) * (R / testbed.radius0)


def testbed_of(config: dict[str, Any], rng: np.random.Generator) -> GumbelTestbed:
    """The testbed of an experiment config: a from ``default_rng(instance)``, or from ``rng`` if None."""
    a_rng = rng if config["instance"] is None else np.random.default_rng(int(config["instance"]))
    return make_testbed(int(config["E"]), int(config["batch"]), a_rng, float(config["spread"]))


@register_experiment("alf_lb", "gumbel_regret", GUMBEL_REGRET_DEFAULTS)
def gumbel_regret(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Online bias rule on the Gumbel testbed: exact pseudo-regret at checkpoints T = 1, 2, 4, ..., T.

    Config keys: ``E``, ``batch`` (tokens n), ``T``, ``spread`` (popularities a ~ N(0, spread²)),
    ``instance`` (seed of a; None draws a from the run's generator), ``rule`` (see :data:`RULES`),
    ``c`` (η_t = c/(μt)), ``mu`` ("modulus" μ_R = e^{−2R}/E or "curvature" 1/E), ``R`` (None: ‖p*‖₂),
    ``project`` (onto ‖p − p*‖₂ ≤ R), ``eta`` (constant), ``eta0`` (η₀/√t), ``u`` (sign rule).

    Columns: rounds, regret, bound (claim 9: (cG²/(2μ))H_T when the rule is inverse_t with c ≥ 1,
    projected, μ = μ_R; NaN otherwise), heuristic ((G²/(2/E))(1 + ln T), the unprojected curvature
    form), mu_step (the μ of the step and the bound), radius (the R used), G2, projected, eta_scale
    (the schedule's η₀ or u), and the :class:`GumbelRun` series.
    """
    testbed = testbed_of(config, rng)
    rule, mu, R, project = build_rule(testbed, config)
    T = int(config["T"])
    run = simulate(testbed, rule, T, rng, bias0=start_bias(testbed, R, project))
    df = run.to_frame()
    rounds = df["rounds"].to_numpy(dtype=float)
    E = testbed.E
    covered = config["rule"] == "inverse_t" and float(config["c"]) >= 1 and project and config["mu"] == "modulus"
    df["bound"] = th.log_regret_bound(rounds, 1, E, mu, float(config["c"])) if covered else np.nan
    df["heuristic"] = testbed.G2 / (2.0 / E) * (1.0 + np.log(rounds))
    df["mu_step"] = mu
    df["radius"] = R
    df["G2"] = testbed.G2
    df["projected"] = project
    df["eta_scale"] = rule.u if config["rule"] == "sign" else rule.schedule.eta0
    return df


#: The experiment object (also registered as ``alf_lb gumbel_regret``).
EXPERIMENT = Experiment("alf_lb", "gumbel_regret", gumbel_regret, dict(GUMBEL_REGRET_DEFAULTS),
                        (gumbel_regret.__doc__ or "").strip().splitlines()[0])
