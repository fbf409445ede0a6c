r"""Balance over score streams: vanilla top-K, ALF-LB and the auxiliary loss in score-only simulations.

A stream brings, at step t = 1..T, a global batch of n tokens with scores s^{(t)} ∈ R^{n×E}, split into
G micro-batches of n/G tokens (``sims.alf_lb.streams``: stationary or drifting popularity, or
domain-clustered sequences). Three *arms* route it to K of E experts:

- ``"vanilla"``: plain top-K of s;
- ``"alf_lb"``: top-K of s + b with one bias per expert, updated by the sign rule b ← b + u·sign(c̄ − c)
  or the gradient rule b ← b + η(K/E − c/n) (Wang et al. 2024, Algorithm 1; :mod:`solvers.alf_lb`).
  ``counting="global"`` updates b once per step from the loads summed over the G micro-batches (the
  all-reduced global batch); ``counting="micro"`` updates b after every micro-batch from its own loads;
- ``"aux"``: the auxiliary-loss baseline. The router logits are z_j = s_j + θ_{d(j)}: the scores are
  the task-optimal logits (what the task gradient alone would teach the router) and θ ∈ R^{D×E} is a
  trainable offset per expert, one row per domain d(j) (D = 1 on streams without domains: a per-expert
  offset; with domains: a linear router on a one-hot domain feature, which is what lets the aux loss
  undo domain specialisation). Tokens go to TopK(z). θ is trained by Adam on

      L(θ) = λ·(1/n) Σ_j KL(softmax(s_j) ‖ softmax(z_j))  +  L_bal(z),

  where L_bal = α·E·Σ_i f_i P_i is :func:`solvers.alf_lb.aux_balance_loss` with micro- or global-batch
  counting of f (P per micro-batch). The first term is the *quality* pull: a stand-in for the task
  gradient that flows into a real router, with its minimum at θ = 0 (z = s, the affinities) and
  gradient λ(softmax(z_j) − softmax(s_j))/n on z_j. ∂L/∂θ_d is the sum over the tokens of domain d of
  ∂L/∂z_j. The weight λ (``task_weight``) sets the scale against which α is small or large: at the
  equilibrium λ·Δsoftmax ≈ α·Δf, so the residual imbalance falls like λ/α.

Adam is invariant to the scale of the loss (up to its ε), so only α/λ matters; λ = 10⁻³ by default,
and α = λ then leaves a MaxVio_global of about 0.5 on the default popularity stream, against 1.35 for
vanilla (Wang et al. report 0.72 at their α = 10⁻³).

What the model implies.

- With one offset per expert (D = 1), TopK(s + θ) *is* a biased top-K. The aux arm and ALF-LB route
  with members of the same family (Lagrangian best responses, claim ``alf_lb.best_response``), so on a
  popularity stream they trace the same quality–balance frontier. They differ only in where they
  settle on it: the aux loss at the imbalance where α·Δf balances the quality pull, ALF-LB at global
  balance. ALF-LB does not dominate there; it reaches balance the aux loss reaches only at large α.
- With domains (D > 1), the aux loss does act against specialisation. The loads f that it counts
  follow the domain mix of the batch it counts on, so the tokens of a domain that is over-represented
  in that batch are pushed off their own preferred experts. This happens on average, not only by
  chance. It is strong under micro-batch counting (a micro-batch holds few sequences) and weaker,
  but present, under global-batch counting (more sequences, a smaller fluctuation of the mix), as in
  Qiu et al. ALF-LB's bias is one number per expert, shared by all domains, and cannot do this. So on
  domain streams ALF-LB dominates the aux loss: similar balance at a far smaller loss of quality.
- The gradient interference of a real aux loss, where its gradient reaches the token representations
  and the gate weights, is outside a score-only model.
- ALF-LB's sign rule with *micro* counting on domain streams: sign(c̄ − c_i) of a micro-batch of few
  domains is decided by the domain mix, not the popularity. The fixed point of the rule equalises
  P(expert i is overloaded in a micro-batch) across experts, which is a median condition rather than
  the mean-load balance, so the global balance it reaches is poor (MaxVio_global ≈ 0.2–0.4 against
  ≈ 0.03–0.08 with global counting in ``specialisation``). The gradient rule averages the loads and
  has no such bias: 0.11 against 0.07 in the default ``specialisation`` run, where what remains is
  the noise of 8× more frequent and noisier updates.

Metrics (per step or at checkpoints):

- MaxVio_batch = (max_i c_i − c̄)/c̄ of each global batch (``maxvio_batch``) and the mean over its
  micro-batches (``maxvio_micro``);
- MaxVio_global: the loads of a held-out set (≥ 2^14 tokens; its noise drawn once, shifted by the
  current popularity, domains balanced) routed with the current bias or θ;
- quality = (Σ s·x − LP)/(vanilla − LP) on small held-out batches (default 4 × 256 tokens, the three
  sums pooled over them). Their LPs (:func:`solvers.alf_lb.solve_assignment_lp`, capacity Kn/E) are
  solved at a few checkpoints only. The value is 1 for plain top-K, ≈ 0 at the balanced optimum, and
  < 0 for a balanced but suboptimal routing;
- on domain streams, the domain × expert usage shares of the held-out set and the per-domain usage
  entropy H_d = −Σ_i u_di ln u_di (ln E when uniform, ln(E/D) at K = E/D for full specialisation).

References
----------
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664 (Algorithm 1; Eq. 4 MaxVio; Fig. 2, 4, 5).
X.Y. Han, Y. Zhong, arXiv 2512.03915 (the bias as a dual price).
Z. Qiu et al., "Demons in the Detail", arXiv 2501.11873 (global-batch counting and specialisation).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np
import pandas as pd

from sims.alf_lb.metrics import maxvio, usage_entropy
from sims.alf_lb.streams import domain_clustered, popularity, popularity_path, popularity_scores, preferred_experts
from sims.runner import register_experiment
from solvers._checks import check_int
from solvers.alf_lb import (
    aux_balance_loss,
    constant,
    gradient_rule,
    inverse_sqrt,
    inverse_t,
    route,
    run_online,
    sign_rule,
    solve_assignment_lp,
    topk_insert,
)
from theory import alf_lb as th

__all__ = [
    "ARMS",
    "ArmConfig",
    "HeldOut",
    "ScoreStream",
    "StreamRun",
    "aux_objective",
    "domain_stream",
    "eval_steps",
    "held_out",
    "held_out_loads",
    "make_stream",
    "popularity_stream",
    "quality",
    "simulate",
    "usage_entropy",
]

#: The arms of the balance simulations.
ARMS: tuple[str, ...] = ("vanilla", "alf_lb", "aux")
Counting = Literal["micro", "global"]
#: Score entries per generated chunk of the stream (bounds the memory of long runs).
_CHUNK = 1 << 21


# ---------------------------------------------------------------------------------------------
# numba: route a stack of batches, each with its own per-label shift, and count per label


@numba.njit(cache=True)
def _stack_counts(scores, shift, shift_lab, count_lab, L, K):
    """counts[b, l, i] = #{j : count_lab[j] = l, i ∈ TopK(scores[b or 0, j] + shift[b, shift_lab[j]])}."""
    Bs, n, E = scores.shape
    B = shift.shape[0]
    counts = np.zeros((B, L, E), dtype=np.int64)
    for b in range(B):
        sc = scores[min(b, Bs - 1)]
        vals = np.empty(K, dtype=np.float64)
        idx = np.empty(K, dtype=np.int64)
        for j in range(n):
            sh = shift[b, shift_lab[j]]
            c = 0
            for i in range(E):
                c = topk_insert(vals, idx, c, K, sc[j, i] + sh[i], i)
            lab = count_lab[j]
            for r in range(K):
                counts[b, lab, idx[r]] += 1
    return counts


def _counts(scores: np.ndarray, shift: np.ndarray, shift_lab: np.ndarray, count_lab: np.ndarray, L: int,
            K: int) -> np.ndarray:
    return _stack_counts(np.ascontiguousarray(scores, dtype=np.float64), np.ascontiguousarray(shift, dtype=float),
                         np.ascontiguousarray(shift_lab, dtype=np.int64),
                         np.ascontiguousarray(count_lab, dtype=np.int64), int(L), int(K))


# ---------------------------------------------------------------------------------------------
# streams


def _check_noise(noise: str) -> str:
    if noise not in ("gaussian", "gumbel"):
        raise ValueError(f"noise must be 'gaussian' or 'gumbel', got {noise!r}")
    return noise


@dataclass(frozen=True)
class ScoreStream:
    """A stream of ``steps`` global batches of n tokens, G = ``micros`` micro-batches each.

    Attributes
    ----------
    E, K, n, micros, steps
        Experts, experts per token, tokens per global batch, micro-batches per batch, batches.
    popularity
        (steps, E) popularity a_t of each batch.
    offsets
        (D, E) additive score offset of each domain (boost on its preferred experts; one zero row when
        the stream has no domains).
    seed
        Seed of the token noise (and of the domains), drawn in chunks in a fixed order.
    noise
        ``"gaussian"`` or ``"gumbel"``.
    seq_len, seqs_per_micro, boost
        Sequence structure and preferred-expert bonus of a domain stream (0 without domains).
    """

    E: int
    K: int
    n: int
    micros: int
    steps: int
    popularity: np.ndarray
    offsets: np.ndarray
    seed: int
    noise: str = "gaussian"
    seq_len: int = 0
    seqs_per_micro: int = 0
    boost: float = 0.0

    @property
    def D(self) -> int:
        """Number of domains (1 without domains)."""
        return int(self.offsets.shape[0])

    @property
    def micro(self) -> np.ndarray:
        """(n,) micro-batch index of each token (contiguous micro-batches)."""
        return np.arange(self.n, dtype=np.int64) // (self.n // self.micros)

    def chunks(self, max_entries: int = _CHUNK) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield (t0, scores (b, n, E), domains (b, n)) for consecutive steps t0..t0+b−1."""
        rng = np.random.default_rng(self.seed)
        per = max(1, max_entries // (self.n * self.E))
        for t0 in range(0, self.steps, per):
            b = min(per, self.steps - t0)
            if self.D == 1:
                noise = popularity_scores(self.n, np.zeros(self.E), rng, batches=b, noise=self.noise)
                yield t0, self.popularity[t0:t0 + b, None, :] + noise, np.zeros((b, self.n), dtype=np.int64)
            else:
                d = domain_clustered(b, rng, D=self.D, E=self.E, K=self.K, seq_len=self.seq_len,
                                     seqs_per_micro=self.seqs_per_micro, micros=self.micros, boost=self.boost,
                                     a=np.zeros(self.E), noise=self.noise)
                yield t0, d.scores + self.popularity[t0:t0 + b, None, :], d.domain


def popularity_stream(E: int, K: int, n: int, steps: int, rng: np.random.Generator, *, spread: float = 1.0,
                      tau: float = 0.0, micros: int = 1, noise: str = "gaussian") -> ScoreStream:
    """A stream of scores s_ji = a_{t,i} + ε_ji with popularity a_1 ~ N(0, spread²) drifting by τ per step.

    Parameters
    ----------
    E, K
        Experts and experts per token.
    n, micros
        Tokens per global batch and micro-batches per batch (dividing n).
    steps
        Number of global batches.
    rng
        Draws the popularity, its walk and the seed of the token noise.
    spread, tau
        Popularity spread and drift per step (τ = 0: stationary).
    noise
        ``"gaussian"`` or ``"gumbel"`` token noise.

    Returns
    -------
    ScoreStream
    """
    E, n, steps, micros = check_int("E", E), check_int("n", n), check_int("steps", steps), check_int("micros", micros)
    if not 1 <= K <= E:
        raise ValueError(f"K must satisfy 1 <= K <= E = {E}, got {K!r}")
    if n % micros:
        raise ValueError(f"micros must divide n = {n}, got {micros}")
    noise = _check_noise(noise)
    a = popularity_path(popularity(E, rng, spread), steps, rng, tau=tau)
    return ScoreStream(E, int(K), n, micros, steps, a, np.zeros((1, E)), int(rng.integers(2**62)), noise)


def domain_stream(E: int, K: int, steps: int, rng: np.random.Generator, *, D: int = 8, seq_len: int = 256,
                  seqs_per_micro: int = 2, micros: int = 8, boost: float = 2.0, spread: float = 0.0,
                  tau: float = 0.0, noise: str = "gaussian") -> ScoreStream:
    """A domain-clustered stream (:func:`~sims.alf_lb.streams.domain_clustered`), popularity drifting by τ.

    Parameters
    ----------
    E, K, steps, rng
        Experts, experts per token, global batches, and the generator of popularity, walk and seed.
    D, seq_len, seqs_per_micro, micros, boost
        Domains (dividing E), the sequence structure of a global batch of
        n = micros·seqs_per_micro·seq_len tokens, and the bonus of a domain's E/D preferred experts.
    spread, tau, noise
        Shared popularity spread, its drift per step, and the token noise.

    Returns
    -------
    ScoreStream
    """
    E, D, steps = check_int("E", E), check_int("D", D), check_int("steps", steps)
    seq_len, seqs_per_micro, micros = check_int("seq_len", seq_len), check_int("seqs_per_micro", seqs_per_micro), \
        check_int("micros", micros)
    if not 1 <= K <= E:
        raise ValueError(f"K must satisfy 1 <= K <= E = {E}, got {K!r}")
    if not (math.isfinite(boost) and boost >= 0):
        raise ValueError(f"boost must be finite and >= 0, got {boost!r}")
    noise = _check_noise(noise)
    offsets = boost * preferred_experts(D, E)
    a = popularity_path(popularity(E, rng, spread), steps, rng, tau=tau)
    n = micros * seqs_per_micro * seq_len
    return ScoreStream(E, int(K), n, micros, steps, a, offsets, int(rng.integers(2**62)), noise, seq_len,
                       seqs_per_micro, float(boost))


# ---------------------------------------------------------------------------------------------
# arms


@dataclass(frozen=True)
class ArmConfig:
    """One arm and its parameters.

    Attributes
    ----------
    arm
        ``"vanilla"``, ``"alf_lb"`` or ``"aux"``.
    counting
        ``"global"`` (loads of the whole step) or ``"micro"`` (per micro-batch), for ALF-LB and aux.
    rule
        ALF-LB rule: ``"sign"`` (step u) or ``"gradient"`` (fraction units, b ← b + η_t(K/E − c/n)).
    u, eta, center
        Sign step, gradient step size η (η_t = η, η/t or η/√t by ``schedule``), centring of the update.
    schedule
        Gradient-rule schedule: ``"constant"``, ``"inverse_t"`` or ``"inverse_sqrt"``.
    alpha, lr, task_weight
        Aux loss coefficient α (0: no aux loss, θ stays 0), Adam learning rate, quality weight λ.
    """

    arm: str = "alf_lb"
    counting: Counting = "global"
    rule: str = "sign"
    u: float = 1e-3
    eta: float = 0.1
    center: bool = False
    schedule: str = "constant"
    alpha: float = 1e-3
    lr: float = 1e-3
    task_weight: float = 1e-3

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"arm must be one of {ARMS}, got {self.arm!r}")
        if self.counting not in ("micro", "global"):
            raise ValueError(f"counting must be 'micro' or 'global', got {self.counting!r}")
        if self.rule not in ("sign", "gradient"):
            raise ValueError(f"rule must be 'sign' or 'gradient', got {self.rule!r}")
        if self.schedule not in ("constant", "inverse_t", "inverse_sqrt"):
            raise ValueError(f"schedule must be 'constant', 'inverse_t' or 'inverse_sqrt', got {self.schedule!r}")
        for name in ("u", "eta", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("alpha", "task_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def label(self) -> str:
        """A short description, e.g. ``alf_lb sign u=0.001 global``."""
        if self.arm == "vanilla":
            return "vanilla"
        if self.arm == "alf_lb":
            step = f"u={self.u:g}" if self.rule == "sign" else \
                f"η={self.eta:g}" + {"constant": "", "inverse_t": "/t", "inverse_sqrt": "/√t"}[self.schedule]
            return f"alf_lb {self.rule} {step} {self.counting}"
        return f"aux α={self.alpha:g} {self.counting}"

    @classmethod
    def from_config(cls, config: dict[str, Any], **overrides: Any) -> ArmConfig:
        """The arm of an experiment config (keys of the dataclass; missing keys keep the defaults)."""
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in {**config, **overrides}.items() if k in keys})


@dataclass(frozen=True)
class StreamRun:
    """An arm's run over a stream.

    Attributes
    ----------
    loads
        (steps, E) int64 loads of each global batch.
    micro_loads
        (steps, G, E) int64 loads of each micro-batch.
    offsets
        (steps, D', E) router offset *after* step t, i.e. the one that routes step t + 1 (ALF-LB: the bias,
        D' = 1; aux: θ, D' = D; vanilla: zeros, D' = 1).
    """

    loads: np.ndarray
    micro_loads: np.ndarray
    offsets: np.ndarray

    def maxvio_batch(self, K: int) -> np.ndarray:
        """(steps,) MaxVio of each global batch."""
        return maxvio(self.loads, K)

    def maxvio_micro(self, K: int) -> np.ndarray:
        """(steps,) mean MaxVio of the micro-batches of each step."""
        return maxvio(self.micro_loads, K).mean(axis=1)


def _rule(arm: ArmConfig, E: int):
    if arm.rule == "sign":
        return sign_rule(E, arm.u, center=arm.center)
    schedule = {"constant": constant(arm.eta), "inverse_t": inverse_t(arm.eta, 1.0),
                "inverse_sqrt": inverse_sqrt(arm.eta)}[arm.schedule]
    return gradient_rule(E, schedule, units="fraction", center=arm.center)


def _simulate_alf_lb(stream: ScoreStream, arm: ArmConfig, loads, micro_loads) -> np.ndarray:
    E, K, n, G = stream.E, stream.K, stream.n, stream.micros
    rule, state = _rule(arm, E), None
    used = np.empty((stream.steps, E))
    zeros, micro = np.zeros(n, dtype=np.int64), stream.micro
    for t0, sc, _ in stream.chunks():
        b = sc.shape[0]
        if arm.counting == "global":
            run = run_online(rule, sc, K, state)
            loads[t0:t0 + b] = run.loads
            micro_loads[t0:t0 + b] = (run.loads[:, None, :] if G == 1
                                      else _counts(sc, run.biases[:, None, :], zeros, micro, G, K))
            used[t0:t0 + b] = run.biases
        else:
            run = run_online(rule, sc.reshape(b * G, n // G, E), K, state)
            ml = run.loads.reshape(b, G, E)
            micro_loads[t0:t0 + b] = ml
            loads[t0:t0 + b] = ml.sum(axis=1)
            used[t0:t0 + b] = run.biases[::G]
        state = run.state
    after = np.concatenate([used[1:], state.bias[None, :]])
    return after[:, None, :]


def _simulate_vanilla(stream: ScoreStream, loads, micro_loads) -> np.ndarray:
    E, K, n, G = stream.E, stream.K, stream.n, stream.micros
    zeros = np.zeros(n, dtype=np.int64)
    for t0, sc, _ in stream.chunks():
        b = sc.shape[0]
        ml = _counts(sc, np.zeros((b, 1, E)), zeros, stream.micro, G, K)
        micro_loads[t0:t0 + b] = ml
        loads[t0:t0 + b] = ml.sum(axis=1)
    return np.zeros((stream.steps, 1, E))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    top = x.max(axis=1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=1, keepdims=True))


def aux_objective(scores: np.ndarray, theta: np.ndarray, domain: np.ndarray, experts: np.ndarray,
                  micro: np.ndarray, alpha: float, task_weight: float, counting: Counting = "global",
                  ) -> tuple[float, np.ndarray]:
    r"""The aux arm's loss on one global batch and its gradient on θ, with the routing held fixed.

    .. math::

        L(θ) = λ·(1/n) Σ_j KL(softmax(s_j) ‖ softmax(z_j)) + α·E·Σ_i f_i P_i,   z_j = s_j + θ_{d(j)},

    the second term averaged over the micro-batches (:func:`solvers.alf_lb.aux_balance_loss`, counts f
    from ``experts``, held constant as in MoE training). ∂L/∂z_j = λ(softmax(z_j) − softmax(s_j))/n +
    ∂L_bal/∂z_j, and ∂L/∂θ_d = Σ_{j: d(j)=d} ∂L/∂z_j.

    Parameters
    ----------
    scores
        (n, E) scores s (the task-optimal logits).
    theta
        (D, E) offsets.
    domain
        (n,) domain of each token, 0..D−1 (zeros when D = 1).
    experts
        (n, K) the routing whose counts f enter L_bal.
    micro
        (n,) micro-batch of each token.
    alpha, task_weight
        α ≥ 0 and λ ≥ 0.
    counting
        ``"micro"`` or ``"global"`` counting of f.

    Returns
    -------
    tuple
        (L, ∂L/∂θ of shape (D, E)).
    """
    n = scores.shape[0]
    D = theta.shape[0]
    z = scores + theta[domain]
    log_q, log_pi = _log_softmax(z), _log_softmax(scores)
    pi = np.exp(log_pi)
    value = task_weight * float(np.sum(pi * (log_pi - log_q))) / n
    grad = (task_weight / n) * (np.exp(log_q) - pi)
    if alpha > 0:
        bal = aux_balance_loss(z, experts, alpha, groups=micro, counting=counting)
        value += bal.value
        grad = grad + bal.grad
    gtheta = grad.sum(axis=0)[None, :] if D == 1 else (domain[None, :] == np.arange(D)[:, None]).astype(float) @ grad
    return value, gtheta


def _simulate_aux(stream: ScoreStream, arm: ArmConfig, loads, micro_loads) -> np.ndarray:
    E, K, G, D = stream.E, stream.K, stream.micros, stream.D
    theta = np.zeros((D, E))
    m1, m2 = np.zeros((D, E)), np.zeros((D, E))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    micro = stream.micro
    flat = (micro * E)[:, None]
    after = np.empty((stream.steps, D, E))
    step = 0
    for t0, sc, doms in stream.chunks():
        for k in range(sc.shape[0]):
            s, dom = sc[k], doms[k]
            experts = route(s + theta[dom], K).experts
            ml = np.bincount((flat + experts).ravel(), minlength=G * E).reshape(G, E)
            micro_loads[t0 + k], loads[t0 + k] = ml, ml.sum(axis=0)
            if arm.alpha > 0:  # with α = 0, θ = 0 is the minimum of the quality term: nothing moves
                _, gtheta = aux_objective(s, theta, dom, experts, micro, arm.alpha, arm.task_weight, arm.counting)
                step += 1
                m1 = beta1 * m1 + (1 - beta1) * gtheta
                m2 = beta2 * m2 + (1 - beta2) * gtheta**2
                theta = theta - arm.lr * (m1 / (1 - beta1**step)) / (np.sqrt(m2 / (1 - beta2**step)) + eps)
            after[t0 + k] = theta
    return after


def simulate(stream: ScoreStream, arm: ArmConfig) -> StreamRun:
    """Run one arm over a stream: route every step causally, count the loads, update the bias or θ.

    Parameters
    ----------
    stream
        The stream (:func:`popularity_stream` or :func:`domain_stream`).
    arm
        The arm and its parameters.

    Returns
    -------
    StreamRun
        Loads per step and micro-batch, and the router offset after each step.

    Notes
    -----
    ALF-LB runs in :func:`solvers.alf_lb.run_online` (one fused numba kernel per chunk of steps); with
    micro counting its batches are the micro-batches, so the bias changes G times per step. The aux arm
    is one vectorised numpy step per global batch (route, aux-loss gradient, Adam). With α = 0 the aux
    gradient vanishes and so does the quality gradient at θ = 0: θ stays 0, the vanilla routing.
    """
    if not isinstance(arm, ArmConfig):
        raise TypeError(f"arm must be an ArmConfig, got {type(arm).__name__}")
    loads = np.empty((stream.steps, stream.E), dtype=np.int64)
    micro_loads = np.empty((stream.steps, stream.micros, stream.E), dtype=np.int64)
    if arm.arm == "vanilla":
        offsets = _simulate_vanilla(stream, loads, micro_loads)
    elif arm.arm == "alf_lb":
        offsets = _simulate_alf_lb(stream, arm, loads, micro_loads)
    else:
        offsets = _simulate_aux(stream, arm, loads, micro_loads)
    return StreamRun(loads, micro_loads, offsets)


# ---------------------------------------------------------------------------------------------
# held-out evaluation


@dataclass(frozen=True)
class HeldOut:
    """A held-out token set: noise (m, E) drawn once and the domain of each token (balanced)."""

    noise: np.ndarray
    domain: np.ndarray


def held_out(stream: ScoreStream, m: int, rng: np.random.Generator) -> HeldOut:
    """m held-out tokens of the stream; at step t their scores are a_t + offsets[domain] + noise."""
    m = check_int("m", m)
    noise = popularity_scores(m, np.zeros(stream.E), rng, noise=stream.noise)
    return HeldOut(noise, np.arange(m, dtype=np.int64) % stream.D)


def _shift(stream: ScoreStream, steps: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(C, D, E) per-domain score shift a_t + offsets_d + router offset after step t."""
    return stream.popularity[steps][:, None, :] + stream.offsets[None] + offsets[steps]


def held_out_loads(stream: ScoreStream, held: HeldOut, steps, offsets: np.ndarray) -> np.ndarray:
    """(C, D, E) loads of the held-out set by domain at step indices ``steps`` (0-based) of a run.

    ``offsets`` are the run's router offsets (steps, D', E); the popularity is that of the step.
    """
    steps = np.atleast_1d(np.asarray(steps, dtype=np.int64))
    return _counts(held.noise[None], _shift(stream, steps, offsets), held.domain, held.domain, stream.D,
                   stream.K)


@dataclass(frozen=True)
class _LPRef:
    scores: np.ndarray  # (L, b, E): L held-out LP batches of b tokens
    domain: np.ndarray  # (L, b)
    lp: float  # Σ over the batches of the LP optimum
    vanilla: float  # Σ over the batches of the plain top-K value


def _lp_ref(stream: ScoreStream, held: HeldOut, step: int, batch: int) -> _LPRef:
    scores = (stream.popularity[step] + stream.offsets[held.domain] + held.noise).reshape(-1, batch, stream.E)
    lp = sum(solve_assignment_lp(s, stream.K).value for s in scores)
    vanilla = sum(float(route(s, stream.K).scores.sum()) for s in scores)
    return _LPRef(scores, held.domain.reshape(-1, batch), lp, vanilla)


def _routed_value(ref: _LPRef, offset: np.ndarray, K: int) -> float:
    total = 0.0
    for s, dom in zip(ref.scores, ref.domain, strict=True):
        experts = route(s + offset[dom if offset.shape[0] > 1 else np.zeros_like(dom)], K).experts
        total += float(np.take_along_axis(s, experts, axis=1).sum())
    return total


def quality(stream: ScoreStream, held: HeldOut, steps, offsets: np.ndarray, *, batch: int | None = None) -> np.ndarray:
    r"""(Σ s·x − LP)/(vanilla − LP) on held-out LP batches at step indices ``steps`` of a run.

    The held-out set is cut into batches of ``batch`` tokens (default: one batch); for each, x is the
    router's routing (top-K of s + offset), LP the assignment LP with capacity K·batch/E and vanilla
    the plain top-K. The three values are summed over the batches before the ratio is taken. The
    result is NaN when vanilla is already balanced (vanilla = LP).
    """
    steps = np.atleast_1d(np.asarray(steps, dtype=np.int64))
    m = held.noise.shape[0]
    batch = m if batch is None else check_int("batch", batch)
    if m % batch:
        raise ValueError(f"batch must divide the held-out size {m}, got {batch}")
    stationary = bool(np.all(stream.popularity == stream.popularity[0]))
    cache: dict[int, _LPRef] = {}
    out = np.empty(steps.size)
    for c, t in enumerate(steps):
        key = 0 if stationary else int(t)
        if key not in cache:
            cache[key] = _lp_ref(stream, held, int(t), batch)
        ref = cache[key]
        gap = ref.vanilla - ref.lp
        out[c] = (_routed_value(ref, offsets[t], stream.K) - ref.lp) / gap if gap > 1e-12 else math.nan
    return out


def eval_steps(steps: int, points: int) -> np.ndarray:
    """Checkpoints (numbers of steps done, ≥ 1): ``points`` log-spaced and ``points`` evenly spaced."""
    steps, points = check_int("steps", steps), check_int("points", points)
    log = np.geomspace(1, steps, points)
    lin = np.linspace(steps / points, steps, points)
    return np.unique(np.rint(np.concatenate([log, lin])).astype(np.int64).clip(1, steps))


# ---------------------------------------------------------------------------------------------
# experiments


#: Keys of the stream shared by the experiments (``stream``: ``"popularity"`` or ``"domain"``).
STREAM_DEFAULTS: dict[str, Any] = {
    "stream": "popularity", "E": 16, "K": 2, "batch": 1024, "micros": 1, "spread": 1.0, "tau": 0.0,
    "noise": "gaussian", "D": 8, "seq_len": 128, "seqs_per_micro": 2, "boost": 2.0,
}


def make_stream(config: dict[str, Any], rng: np.random.Generator) -> ScoreStream:
    """The stream of an experiment config (keys of :data:`STREAM_DEFAULTS` and ``steps``).

    ``stream="popularity"``: global batches of ``batch`` tokens in ``micros`` micro-batches;
    ``stream="domain"``: global batches of micros·seqs_per_micro·seq_len tokens (``batch`` unused).
    """
    E, K, steps = int(config["E"]), int(config["K"]), int(config["steps"])
    if config["stream"] == "popularity":
        return popularity_stream(E, K, int(config["batch"]), steps, rng, spread=float(config["spread"]),
                                 tau=float(config["tau"]), micros=int(config["micros"]), noise=config["noise"])
    if config["stream"] == "domain":
        return domain_stream(E, K, steps, rng, D=int(config["D"]), seq_len=int(config["seq_len"]),
                             seqs_per_micro=int(config["seqs_per_micro"]), micros=int(config["micros"]),
                             boost=float(config["boost"]), spread=float(config["spread"]), tau=float(config["tau"]),
                             noise=config["noise"])
    raise ValueError(f"stream must be 'popularity' or 'domain', got {config['stream']!r}")


def _lp_held(stream: ScoreStream, config: dict[str, Any], rng: np.random.Generator) -> HeldOut:
    """The held-out LP set: ``lp_batches`` batches of ``lp_tokens`` tokens (K·lp_tokens/E an integer)."""
    tokens, batches = check_int("lp_tokens", config["lp_tokens"]), check_int("lp_batches", config["lp_batches"])
    if (stream.K * tokens) % stream.E:
        raise ValueError(f"lp_tokens: K·lp_tokens/E = {stream.K}·{tokens}/{stream.E} must be an integer "
                         "(the LP capacity)")
    return held_out(stream, tokens * batches, rng)


def _quality(stream: ScoreStream, lp_held: HeldOut, steps: np.ndarray, run: StreamRun,
             config: dict[str, Any]) -> np.ndarray:
    return quality(stream, lp_held, steps, run.offsets, batch=int(config["lp_tokens"]))


def _window_means(values: np.ndarray, checkpoints: np.ndarray) -> np.ndarray:
    """Mean of values[t_{k−1} : t_k] over consecutive checkpoints (numbers of steps done)."""
    csum = np.concatenate([[0.0], np.cumsum(values)])
    starts = np.concatenate([[0], checkpoints[:-1]])
    return (csum[checkpoints] - csum[starts]) / (checkpoints - starts)


STREAM_BALANCE_DEFAULTS: dict[str, Any] = {
    **STREAM_DEFAULTS, "steps": 2000, "arm": "alf_lb", "rule": "sign", "u": 1e-3, "eta": 0.1,
    "schedule": "constant", "center": False, "alpha": 1e-3, "lr": 1e-3, "task_weight": 1e-3, "counting": "global",
    "held_out": 65536, "lp_tokens": 256, "lp_batches": 4, "eval_points": 16, "quality_points": 4,
}


@register_experiment("alf_lb", "stream_balance", STREAM_BALANCE_DEFAULTS)
def stream_balance_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """MaxVio_batch, MaxVio_global and quality vs step of one arm on a stationary or drifting stream.

    One row per checkpoint (:func:`eval_steps`): ``step`` (steps done), ``window`` (steps since the
    previous checkpoint), ``maxvio_batch`` / ``maxvio_micro`` (mean over the window),
    ``maxvio_batch_last``, ``maxvio_global`` (held-out set of ``held_out`` tokens with the router after
    that step), ``entropy_mean`` (mean over domains of the held-out usage entropy; ln E when balanced
    and D = 1), ``quality`` (pooled over ``lp_batches`` LP batches of ``lp_tokens`` tokens, at
    ``quality_points`` checkpoints, else NaN), ``floor`` and ``floor_micro`` (claim 11's
    m_E·√((E − K)/(Kn)) for the global and the micro-batch), ``n_tokens`` (tokens per step), ``label``.
    """
    stream = make_stream(config, rng)
    K, E, n = stream.K, stream.E, stream.n
    arm = ArmConfig.from_config(config)
    run = simulate(stream, arm)
    cps = eval_steps(stream.steps, int(config["eval_points"]))
    held = held_out(stream, int(config["held_out"]), rng)
    usage = held_out_loads(stream, held, cps - 1, run.offsets)
    mv, mv_micro = run.maxvio_batch(K), run.maxvio_micro(K)
    q = np.full(cps.size, math.nan)
    if int(config["quality_points"]) > 0:
        pick = np.unique(np.linspace(0, cps.size - 1, int(config["quality_points"])).round().astype(int))
        q[pick] = _quality(stream, _lp_held(stream, config, rng), cps[pick] - 1, run, config)
    return pd.DataFrame({
        "label": arm.label, "n_tokens": n, "step": cps, "window": np.diff(np.concatenate([[0], cps])),
        "maxvio_batch": _window_means(mv, cps), "maxvio_micro": _window_means(mv_micro, cps),
        "maxvio_batch_last": mv[cps - 1], "maxvio_global": maxvio(usage.sum(axis=1), K),
        "entropy_mean": usage_entropy(usage).mean(axis=1), "quality": q,
        "floor": float(th.batch_maxvio_floor(n, K, E)),
        "floor_micro": float(th.batch_maxvio_floor(n // stream.micros, K, E)),
    })


BATCH_SIZE_DEFAULTS: dict[str, Any] = {
    "E": 16, "K": 2, "batch": 4096, "steps": 2000, "spread": 1.0, "noise": "gaussian", "arms": ["alf_lb", "aux"],
    "rule": "sign", "u": 1e-3, "eta": 0.1, "schedule": "constant", "center": False, "alpha": 1e-3, "lr": 1e-3,
    "task_weight": 1e-3, "sizes": [2**k for k in range(9, 17)], "pool": 2**18,
}


@register_experiment("alf_lb", "batch_size", BATCH_SIZE_DEFAULTS)
def batch_size_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Final MaxVio vs computation-batch size for ALF-LB (global counts) and the aux loss (Wang Fig. 5).

    Each arm in ``arms`` is trained on the same stationary popularity stream (global batch ``batch``,
    global counting); its final router then routes a held-out pool of ``pool`` tokens, cut into
    computation batches of each size in ``sizes``. One row per (arm, size): ``maxvio`` (mean over the
    pool/size batches), ``batches``, ``floor`` (claim 11) and ``maxvio_global`` (the whole pool).
    """
    E, K = int(config["E"]), int(config["K"])
    sizes = np.asarray(sorted(int(s) for s in config["sizes"]), dtype=np.int64)
    pool = check_int("pool", config["pool"])
    if sizes.size == 0 or np.any(sizes < 1) or np.any(pool % sizes) or np.any(sizes % sizes[0]):
        raise ValueError(f"sizes must be positive, divide pool = {pool} and be multiples of the smallest, "
                         f"got {config['sizes']!r}")
    stream = popularity_stream(E, K, int(config["batch"]), int(config["steps"]), rng,
                               spread=float(config["spread"]), noise=config["noise"])
    held = held_out(stream, pool, rng)
    chunk_of = np.arange(pool, dtype=np.int64) // sizes[0]
    last = np.array([stream.steps - 1])
    rows = []
    for name in config["arms"]:
        arm = ArmConfig.from_config(config, arm=name, counting="global")
        run = simulate(stream, arm)
        small = _counts(held.noise[None], _shift(stream, last, run.offsets), held.domain, chunk_of,
                        pool // sizes[0], K)[0]
        for size in sizes:
            loads = small.reshape(-1, size // sizes[0], E).sum(axis=1)
            rows.append({"arm": name, "label": arm.label, "n_tokens": int(size), "batches": loads.shape[0],
                         "maxvio": float(maxvio(loads, K).mean()),
                         "floor": float(th.batch_maxvio_floor(int(size), K, E)),
                         "maxvio_global": float(maxvio(small.sum(axis=0), K))})
    return pd.DataFrame(rows)


TRADEOFF_DEFAULTS: dict[str, Any] = {
    **STREAM_DEFAULTS, "steps": 2000, "alphas": [0.0, 1e-4, 1e-3, 1e-2, 1e-1], "us": [1e-4, 1e-3, 1e-2],
    "rule": "sign", "eta": 0.1, "schedule": "constant", "center": False, "lr": 1e-3, "task_weight": 1e-3,
    "counting": "global", "held_out": 65536, "lp_tokens": 256, "lp_batches": 4, "late": 0.25,
}


@register_experiment("alf_lb", "tradeoff", TRADEOFF_DEFAULTS)
def tradeoff_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """MaxVio_global and quality at the end of a run: the aux loss over α, ALF-LB over u (Wang Fig. 2, 4).

    Every arm sees the same stream. One row per arm: ``arm``, ``param`` (``"alpha"`` or ``"u"``),
    ``value``, ``maxvio_global`` (held-out set, final router), ``maxvio_batch`` (mean over the last
    ``late`` fraction of the steps), ``entropy_mean`` (held-out usage entropy, mean over domains) and
    ``quality`` (final router, pooled over the LP batches). α = 0 is the aux arm without the loss,
    i.e. vanilla top-K. On ``stream="popularity"`` the two arms share one frontier (see the module
    docstring); on ``stream="domain"`` the aux loss also pays for undoing specialisation.
    """
    stream = make_stream(config, rng)
    K = stream.K
    held, lp_held = held_out(stream, int(config["held_out"]), rng), _lp_held(stream, config, rng)
    late = max(1, round(float(config["late"]) * stream.steps))
    last = np.array([stream.steps - 1])
    arms = [("alpha", float(a), ArmConfig.from_config(config, arm="aux", alpha=float(a))) for a in config["alphas"]]
    arms += [("u", float(u), ArmConfig.from_config(config, arm="alf_lb", u=float(u))) for u in config["us"]]
    rows = []
    for param, value, arm in arms:
        run = simulate(stream, arm)
        usage = held_out_loads(stream, held, last, run.offsets)[0]
        rows.append({"arm": arm.arm, "label": arm.label, "param": param, "value": value,
                     "maxvio_global": float(maxvio(usage.sum(axis=0), K)),
                     "maxvio_batch": float(run.maxvio_batch(K)[-late:].mean()),
                     "entropy_mean": float(usage_entropy(usage).mean()),
                     "quality": float(_quality(stream, lp_held, last, run, config)[0])})
    return pd.DataFrame(rows)


SPECIALISATION_DEFAULTS: dict[str, Any] = {
    **STREAM_DEFAULTS, "stream": "domain", "spread": 0.5, "micros": 8, "steps": 1000,
    "arms": ["vanilla", "alf_lb", "aux"], "countings": ["micro", "global"], "rule": "sign", "u": 1e-2, "eta": 0.1,
    "schedule": "constant", "center": False, "alpha": 1e-2, "lr": 1e-2, "task_weight": 1e-3, "held_out": 16384,
    "lp_tokens": 256, "lp_batches": 4, "late": 0.25,
}


@register_experiment("alf_lb", "specialisation", SPECIALISATION_DEFAULTS)
def specialisation_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Domain specialisation under micro- vs global-batch counting, for the aux loss and ALF-LB (Qiu et al.).

    Every (arm, counting) in ``arms`` × ``countings`` (vanilla once, counting ``"none"``) runs on the same
    domain-clustered stream. Tidy rows (arm, counting, domain, expert) with the final router's usage
    ``share`` of the held-out set (domains balanced), that domain's usage ``entropy``, and per run:
    ``entropy_mean`` (mean over domains), ``maxvio_global``, ``maxvio_batch`` and ``maxvio_micro`` (mean
    over the last ``late`` fraction of the steps) and ``quality``.
    """
    stream = make_stream(config, rng)
    E, K, D = stream.E, stream.K, stream.D
    held, lp_held = held_out(stream, int(config["held_out"]), rng), _lp_held(stream, config, rng)
    late = max(1, round(float(config["late"]) * stream.steps))
    last = np.array([stream.steps - 1])
    runs = []
    for name in config["arms"]:
        for counting in (("none",) if name == "vanilla" else config["countings"]):
            runs.append((counting, ArmConfig.from_config(config, arm=name,
                                                          counting="global" if counting == "none" else counting)))
    frames = []
    for counting, arm in runs:
        run = simulate(stream, arm)
        usage = held_out_loads(stream, held, last, run.offsets)[0]
        share = usage / usage.sum(axis=1, keepdims=True)
        ent = usage_entropy(usage)
        frames.append(pd.DataFrame({
            "arm": arm.arm, "counting": counting, "label": arm.label,
            "domain": np.repeat(np.arange(D), E), "expert": np.tile(np.arange(E), D),
            "share": share.ravel(), "entropy": np.repeat(ent, E), "entropy_mean": float(ent.mean()),
            "maxvio_global": float(maxvio(usage.sum(axis=0), K)),
            "maxvio_batch": float(run.maxvio_batch(K)[-late:].mean()),
            "maxvio_micro": float(run.maxvio_micro(K)[-late:].mean()),
            "quality": float(_quality(stream, lp_held, last, run, config)[0]),
        }))
    return pd.concat(frames, ignore_index=True)
