r"""A small sparse MoE layer trained with no balancing, the auxiliary loss, or ALF-LB (spec §5).

The "small GPU experiment" of the ALF-LB spec: one MoE layer regressing domain-clustered data, trained
with hand-written backpropagation and Adam, under three balancing arms. It is written once on an array
namespace ``xp`` (numpy, or CuPy with ``backend="cupy"``), so the same code runs on the CPU and the GPU.

**Data.** D Gaussian domain clusters in R^d: a centre c_D ~ N(0, σ_c² I) per domain and tokens
x = c_D + σ_x ε. Each domain has its own random two-layer teacher, y = V_D tanh(U_D x + a_D) + v_D
(+ optional target noise). A *sequence* holds ``seq_len`` tokens of one domain; a *micro-batch* holds
``seqs_per_micro`` sequences and a training step ``micros`` micro-batches (the global batch). The
training data are a fixed pool of ``train_seqs`` sequences, and the sequences of every step are drawn
from it up front, so a run is a function of its seed only and never copies data to the device inside
the loop; the held-out set is ``test_seqs`` further sequences.

**Model.** Router logits z = x W_r ∈ R^E, gate scores s = sigmoid(z). Token j goes to
S_j = TopK_i(s_ji + b_i) (``solvers.alf_lb.route``; the bias b chooses, nothing more) and the layer
outputs

    ŷ_j = Σ_{i∈S_j} w_ji · expert_i(x_j),   w_ji = s_ji / Σ_{k∈S_j} s_jk   (unbiased scores),
    expert_i(x) = W2_i φ(W1_i x + b1_i) + b2_i,  φ = GELU (tanh form) or ReLU.

Each expert runs only on its own token-slots: the n·K slots are sorted by expert (one argsort) and
sliced per expert (a loop over the E experts, none over tokens).

**Loss and gradients.** L = MSE(ŷ, y) (mean over tokens and outputs) + L_bal, with L_bal only in the
``aux`` arm. By hand, with δ_j = ∂L/∂ŷ_j = 2(ŷ_j − y_j)/(n d):

    ∂L/∂w_ji = ⟨δ_j, expert_i(x_j)⟩,        ∂L/∂expert_i(x_j) = w_ji δ_j,
    ∂L/∂s_ji = (∂L/∂w_ji − Σ_{k∈S_j} w_jk ∂L/∂w_jk) / Σ_{k∈S_j} s_jk   (i ∈ S_j; 0 otherwise),
    ∂L/∂z_ji = s_ji(1 − s_ji) ∂L/∂s_ji + ∂L_bal/∂z_ji,   ∂L/∂W_r = xᵀ ∂L/∂z,

and the usual two-layer backpropagation inside each expert. The selection S_j is piecewise constant in
the parameters, so this is the exact gradient wherever no top-K tie is crossed (the tests compare it
with central finite differences).

**Arms.**
- ``none``: plain top-K (b ≡ 0).
- ``aux``: L_bal = α E Σ_i f_i P_i with P from softmax(z) (``solvers.alf_lb.aux_balance_loss``), per
  micro-batch (``counting="micro"``: f and P per micro-batch) or with f counted over the global batch
  (``counting="global"``, Qiu et al. 2025); its gradient is added to ∂L/∂z.
- ``alf_lb``: the bias b moves after every step by ``solvers.alf_lb.update``: the sign rule
  b ← b + u·sign(c̄ − c) or the gradient rule b ← b + η(K/E − c/n) in fraction units. With
  ``counting="global"`` the loads c are those of the whole step (n = global batch) and the bias moves
  once per step; with ``counting="micro"`` the micro-batches of a step are routed one after another and
  the bias moves after each with that micro-batch's loads (n = micro-batch), so micro-batch m + 1 is
  routed with the bias updated by micro-batch m. Routing is causal either way: a token is routed with a
  bias computed from earlier tokens only. The bias gets no gradient and no weight decay, and it is part
  of the training state (:func:`state_arrays` / :func:`state_from_arrays`).

**Reported every ``log_every`` steps** (one tidy row per arm and checkpoint): the training MSE (mean
over the steps since the last checkpoint), the held-out MSE, MaxVio_batch (mean over the micro-batches
of those steps), MaxVio_global (the held-out set under the current router and bias), the mean over
domains of the entropy of each domain's expert usage on the held-out set (nats, at most ln E; lower
means more domain specialisation), and the spread max b − min b of the bias.

**Scales.** The registered defaults are the quick CPU scale: 300 steps of 4 micro-batches of 2
sequences of 64 tokens (512 tokens per step), α = u = 10⁻²; under a second per arm with a
single-threaded BLAS (the experiment limits BLAS to one thread with threadpoolctl, since threaded
BLAS on these small matrices only slows a busy machine down). The full scale of the spec is
:data:`FULL_SCALE`: sequences of 256 tokens, 8 micro-batches of 512 tokens (4096 tokens per step),
5000 steps, α = u = 10⁻³ as in Wang et al., float32 on CuPy, over 3 seeds, e.g.
``run_sweep(exp, [exp.config(FULL_SCALE)], seeds=3)``.

**Host transfers.** Inside the training loop the only device-to-host copies are the per-micro-batch
expert counts (G·E integers per step), which slice the expert groups, feed the numba bias update and
MaxVio_batch, and the scalars logged at checkpoints; the bias (E numbers) goes back to the device after
each update. (The solvers' argument checks and the aux-loss value also read back a few scalars.)

References
----------
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664 (Algorithm 1; MaxVio, eq. 4; Table 2).
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915.
Z. Qiu et al., "Demons in the Detail: On Implementing Load Balancing Loss for Training Specialized
Mixture-of-Expert Models", arXiv 2501.11873 (micro- vs global-batch counting).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sims.alf_lb.metrics import maxvio, usage_entropy
from sims.backend import array_module  # re-exported: the namespace of config["backend"]
from sims.runner import register_experiment
from solvers._checks import check_int
from solvers._xp import array_namespace, to_numpy
from solvers.alf_lb import (
    BiasRule,
    BiasState,
    Routing,
    aux_balance_loss,
    constant,
    gradient_rule,
    route,
    sign_rule,
    update,
)

__all__ = [
    "ARMS",
    "FULL_SCALE",
    "MOE_DEFAULTS",
    "AdamState",
    "DomainTask",
    "LossGrad",
    "MoEData",
    "MoEParams",
    "TrainSpec",
    "TrainState",
    "adam_init",
    "adam_update",
    "array_module",
    "domain_entropy",
    "domain_usage",
    "init_params",
    "init_state",
    "loss_and_grad",
    "make_data",
    "make_spec",
    "make_task",
    "moe_experiment",
    "predict",
    "state_arrays",
    "state_from_arrays",
    "train",
    "train_step",
]

#: The balancing arms.
ARMS: dict[str, str] = {
    "none": "plain top-K, no balancing",
    "aux": "auxiliary loss α·E·Σ f_i P_i on the router logits",
    "alf_lb": "auxiliary-loss-free bias (sign or gradient rule)",
}

_GELU_C = float(np.sqrt(2.0 / np.pi))
_GELU_A = 0.044715


# ---------------------------------------------------------------------------------------------
# array namespace (config["backend"] -> sims.backend.array_module)


def _single_threaded_blas(xp: ModuleType) -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread on the CPU.

    The matrices here are small (tens of rows per expert): a threaded BLAS only adds synchronisation,
    and on a busy machine its spinning threads slow a run down several-fold.
    """
    if xp is not np:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ---------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class DomainTask:
    """D domain clusters with one random two-layer teacher each (host arrays).

    Attributes
    ----------
    centers
        (D, d) cluster centres c_D.
    token_std
        σ_x, the spread of tokens around their centre.
    U, a, V, v
        Teachers y = V_D tanh(U_D x + a_D) + v_D: U (D, h, d), a (D, h), V (D, d, h), v (D, d).
    target_noise
        Standard deviation of Gaussian noise added to the targets.
    """

    centers: np.ndarray
    token_std: float
    U: np.ndarray
    a: np.ndarray
    V: np.ndarray
    v: np.ndarray
    target_noise: float

    @property
    def domains(self) -> int:
        """D."""
        return int(self.centers.shape[0])

    @property
    def dim(self) -> int:
        """d."""
        return int(self.centers.shape[1])

    def teacher(self, x: np.ndarray, domain: np.ndarray) -> np.ndarray:
        """Noise-free targets of tokens x (m, d) from their domains (m,)."""
        y = np.empty_like(x)
        for D in range(self.domains):
            rows = domain == D
            y[rows] = np.tanh(x[rows] @ self.U[D].T + self.a[D]) @ self.V[D].T + self.v[D]
        return y


def _check_nonneg(name: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def make_task(rng: np.random.Generator, *, dim: int = 32, domains: int = 8, teacher_hidden: int = 64,
              center_scale: float = 1.0, token_std: float = 0.5, target_noise: float = 0.0) -> DomainTask:
    """Draw the domain centres c_D ~ N(0, center_scale² I) and the teachers (weights N(0, 1/fan-in)).

    Parameters
    ----------
    rng
        The generator (all randomness).
    dim, domains, teacher_hidden
        d, D and the teachers' hidden width h.
    center_scale, token_std, target_noise
        σ_c, σ_x and the target noise.
    """
    dim, domains, teacher_hidden = (check_int("dim", dim), check_int("domains", domains),
                                    check_int("teacher_hidden", teacher_hidden))
    center_scale = _check_nonneg("center_scale", center_scale)
    token_std = _check_nonneg("token_std", token_std)
    target_noise = _check_nonneg("target_noise", target_noise)
    centers = center_scale * rng.standard_normal((domains, dim))
    U = rng.standard_normal((domains, teacher_hidden, dim)) / np.sqrt(dim)
    a = 0.5 * rng.standard_normal((domains, teacher_hidden))
    V = rng.standard_normal((domains, dim, teacher_hidden)) / np.sqrt(teacher_hidden)
    v = 0.5 * rng.standard_normal((domains, dim))
    return DomainTask(centers, token_std, U, a, V, v, target_noise)


@dataclass(frozen=True)
class MoEData:
    """Training pool, per-step schedule and held-out set, on the device of ``xp``.

    Attributes
    ----------
    train_x, train_y
        (S, L, d) the pool of S training sequences of L tokens, and their targets.
    train_domain
        (S,) the domain of each pool sequence.
    schedule
        (steps, seqs_per_step) int64: the pool sequences of each step, micro-batch after micro-batch.
    test_x, test_y
        (m, d) the held-out tokens and targets.
    test_domain
        (m,) the domain of each held-out token.
    domains
        D.
    """

    train_x: Any
    train_y: Any
    train_domain: Any
    schedule: Any
    test_x: Any
    test_y: Any
    test_domain: Any
    domains: int

    @property
    def steps(self) -> int:
        """Steps the schedule covers."""
        return int(self.schedule.shape[0])

    def batch(self, step: int):
        """(x, y) of training step ``step`` (0-based), tokens ordered micro-batch by micro-batch."""
        idx = self.schedule[step]
        d = self.train_x.shape[-1]
        return self.train_x[idx].reshape(-1, d), self.train_y[idx].reshape(-1, d)


def _sequences(task: DomainTask, rng: np.random.Generator, count: int, seq_len: int):
    """``count`` sequences, the domains in turn (0, 1, ..., D−1, 0, ...), so every domain is equally present."""
    domain = np.arange(count) % task.domains
    tokens = np.repeat(domain, seq_len)
    x = task.centers[tokens] + task.token_std * rng.standard_normal((count * seq_len, task.dim))
    y = task.teacher(x, tokens)
    if task.target_noise > 0:
        y = y + task.target_noise * rng.standard_normal(y.shape)
    return x, y, domain, tokens


def make_data(task: DomainTask, rng: np.random.Generator, *, seq_len: int, train_seqs: int, test_seqs: int,
              steps: int, seqs_per_step: int, xp: ModuleType = np, dtype: str = "float64") -> MoEData:
    """Draw the training pool, the sequences of every step (uniform from the pool) and the held-out set.

    Pool and held-out set cycle through the domains, so each domain holds ⌊S/D⌋ or ⌈S/D⌉ sequences; the
    sequences of a step are drawn uniformly with replacement from the pool, so the domain mix of a step
    varies from step to step.

    Everything is drawn on the host from ``rng`` and moved to ``xp`` once.
    """
    seq_len, train_seqs, test_seqs = (check_int("seq_len", seq_len), check_int("train_seqs", train_seqs),
                                      check_int("test_seqs", test_seqs))
    steps, seqs_per_step = check_int("steps", steps), check_int("seqs_per_step", seqs_per_step)
    x, y, domain, _ = _sequences(task, rng, train_seqs, seq_len)
    schedule = rng.integers(train_seqs, size=(steps, seqs_per_step))
    tx, ty, _, tdomain = _sequences(task, rng, test_seqs, seq_len)
    shape = (train_seqs, seq_len, task.dim)
    return MoEData(xp.asarray(x.reshape(shape), dtype=dtype), xp.asarray(y.reshape(shape), dtype=dtype),
                   xp.asarray(domain), xp.asarray(schedule), xp.asarray(tx, dtype=dtype),
                   xp.asarray(ty, dtype=dtype), xp.asarray(tdomain), task.domains)


# ---------------------------------------------------------------------------------------------
# model


class MoEParams(NamedTuple):
    """Trainable parameters: router W_r (d, E); experts W1 (E, d, H), b1 (E, H), W2 (E, H, d), b2 (E, d).

    The load-balancing bias is not a parameter (it gets no gradient); it lives in :class:`TrainState`.
    """

    router: Any
    w1: Any
    b1: Any
    w2: Any
    b2: Any


def init_params(rng: np.random.Generator, *, dim: int = 32, experts: int = 16, hidden: int = 64,
                router_std: float = 1.0, xp: ModuleType = np, dtype: str = "float64") -> MoEParams:
    """Weights N(0, 1/fan-in) (router: N(0, router_std²/d)), biases 0; drawn on the host, moved to ``xp``."""
    dim, experts, hidden = check_int("dim", dim), check_int("experts", experts), check_int("hidden", hidden)
    router_std = _check_nonneg("router_std", router_std, positive=True)
    arrays = (router_std * rng.standard_normal((dim, experts)) / np.sqrt(dim),
              rng.standard_normal((experts, dim, hidden)) / np.sqrt(dim),
              np.zeros((experts, hidden)),
              rng.standard_normal((experts, hidden, dim)) / np.sqrt(hidden),
              np.zeros((experts, dim)))
    return MoEParams(*(xp.asarray(a, dtype=dtype) for a in arrays))


def _namespace(x) -> ModuleType:
    return array_namespace(x)


def _act(pre, xp: ModuleType, activation: str):
    """φ(A) and what its derivative needs (the tanh of the GELU, or None for ReLU)."""
    if activation == "relu":
        return xp.maximum(pre, 0), None
    t = xp.tanh(_GELU_C * pre * (1 + _GELU_A * pre * pre))
    return 0.5 * pre * (1 + t), t


def _act_grad(pre, t, activation: str):
    """φ'(A): the step function for ReLU; for the tanh-form GELU 0.5(1 + t) + 0.5A(1 − t²)c(1 + 3aA²)."""
    if activation == "relu":
        return (pre > 0).astype(pre.dtype)
    return 0.5 * (1 + t) + (0.5 * _GELU_C) * pre * (1 - t * t) * (1 + 3 * _GELU_A * pre * pre)


def _sigmoid(z, xp: ModuleType):
    return 0.5 * (1 + xp.tanh(0.5 * z))  # never overflows, unlike 1/(1 + e^{−z})


def _check_activation(activation: str) -> str:
    if activation not in ("gelu", "relu"):
        raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
    return activation


class _Forward(NamedTuple):
    out: Any
    routing: Routing
    weights: Any
    slot_out: Any
    order: Any
    xs: Any
    offsets: np.ndarray
    cache: list


def _forward(params: MoEParams, x, K: int, bias, activation: str, routing: Routing | None) -> _Forward:
    xp = _namespace(x)
    n = x.shape[0]
    E = params.router.shape[1]
    if routing is None:
        routing = route(_sigmoid(x @ params.router, xp), K, bias, backend="numpy")
    weights = routing.gate_weights()  # unbiased scores normalised over the chosen set
    slots = n * K
    flat = routing.experts.reshape(-1)
    order = xp.argsort(flat * slots + xp.arange(slots))  # by expert, then slot: unique keys, any sort
    xs = x[order // K]
    offsets = np.concatenate(([0], np.cumsum(to_numpy(routing.loads))))
    sorted_out = xp.empty((slots, params.b2.shape[1]), dtype=x.dtype)
    cache: list = []
    for i in range(E):
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        if lo == hi:
            cache.append(None)
            continue
        pre = xs[lo:hi] @ params.w1[i] + params.b1[i]
        hid, t = _act(pre, xp, activation)
        sorted_out[lo:hi] = hid @ params.w2[i] + params.b2[i]
        cache.append((pre, hid, t))
    slot_out = xp.empty_like(sorted_out)
    slot_out[order] = sorted_out
    slot_out = slot_out.reshape(n, K, -1)
    out = xp.sum(weights[:, :, None] * slot_out, axis=1)
    return _Forward(out, routing, weights, slot_out, order, xs, offsets, cache)


def predict(params: MoEParams, x, K: int, bias=None, *, activation: str = "gelu") -> tuple[Any, Routing]:
    """The layer's output ŷ (m, d) on tokens x (m, d) and their routing under ``bias`` (selection only)."""
    fwd = _forward(params, x, K, bias, _check_activation(activation), None)
    return fwd.out, fwd.routing


class LossGrad(NamedTuple):
    """Loss, its parts and the gradient of every parameter.

    Attributes
    ----------
    loss
        MSE + L_bal (0-d array on the device).
    mse
        The MSE part (0-d array).
    aux
        L_bal (0.0 without the auxiliary loss).
    grads
        ∂loss/∂θ for every parameter θ, as :class:`MoEParams`.
    routing
        The routing used.
    out
        The output ŷ.
    """

    loss: Any
    mse: Any
    aux: float
    grads: MoEParams
    routing: Routing
    out: Any


def loss_and_grad(params: MoEParams, x, y, K: int, *, bias=None, activation: str = "gelu", alpha: float = 0.0,
                  groups=None, counting: str = "micro", routing: Routing | None = None) -> LossGrad:
    r"""MSE(ŷ, y) + L_bal and its hand-written gradient with respect to every parameter.

    Parameters
    ----------
    params
        The parameters.
    x, y
        (n, d) tokens and targets.
    K
        Experts per token.
    bias
        (E,) selection bias (None: 0). It picks S_j and never enters the gate weights.
    activation
        ``"gelu"`` (tanh form) or ``"relu"``.
    alpha
        α of the auxiliary loss L_bal = α E Σ_i f_i P_i (0: no auxiliary loss).
    groups, counting
        Micro-batch index of each token and ``"micro"``/``"global"`` counting of f, as in
        :func:`solvers.alf_lb.aux_balance_loss`.
    routing
        A precomputed routing of x (e.g. micro-batches routed with different biases); None routes x
        with ``bias``.

    Returns
    -------
    LossGrad

    Notes
    -----
    δ_j = 2(ŷ_j − y_j)/(n d); ∂L/∂w_ji = ⟨δ_j, expert_i(x_j)⟩; ∂L/∂s_ji = (∂L/∂w_ji − Σ_k w_jk ∂L/∂w_jk)/Σ_k s_jk
    over the chosen set; ∂L/∂z = s(1 − s)∂L/∂s + ∂L_bal/∂z; ∂L/∂W_r = xᵀ ∂L/∂z; inside expert i,
    ∂L/∂W2_i = φ(A_i)ᵀ G_i, ∂L/∂A_i = (G_i W2_iᵀ)·φ'(A_i), ∂L/∂W1_i = X_iᵀ ∂L/∂A_i, with G_i the rows
    w_ji δ_j of its slots and the biases' gradients the column sums.
    """
    activation = _check_activation(activation)
    xp = _namespace(x)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y must both be (n, d), got {x.shape} and {y.shape}")
    alpha = _check_nonneg("alpha", alpha)
    n, d_out = y.shape
    K = int(K)
    fwd = _forward(params, x, K, bias, activation, routing)
    routing = fwd.routing
    resid = fwd.out - y
    mse = xp.mean(resid * resid)
    delta = (2.0 / resid.size) * resid
    # gate weights and router
    dw = xp.sum(fwd.slot_out * delta[:, None, :], axis=2)
    chosen = routing.scores
    dchosen = (dw - xp.sum(dw * fwd.weights, axis=1, keepdims=True)) / xp.sum(chosen, axis=1, keepdims=True)
    dz = xp.zeros((n, params.router.shape[1]), dtype=x.dtype)
    dz[xp.arange(n)[:, None], routing.experts] = dchosen * chosen * (1 - chosen)
    aux = 0.0
    if alpha > 0:
        logits = x @ params.router
        lb = aux_balance_loss(logits, routing.experts, alpha, groups=groups, counting=counting)
        aux = lb.value
        dz = dz + lb.grad.astype(x.dtype, copy=False)
    grouter = x.T @ dz
    # experts, on their own slots
    dslot = (fwd.weights[:, :, None] * delta[:, None, :]).reshape(n * K, d_out)[fwd.order]
    gw1, gb1 = xp.zeros_like(params.w1), xp.zeros_like(params.b1)
    gw2, gb2 = xp.zeros_like(params.w2), xp.zeros_like(params.b2)
    for i, entry in enumerate(fwd.cache):
        if entry is None:
            continue
        pre, hid, t = entry
        lo, hi = int(fwd.offsets[i]), int(fwd.offsets[i + 1])
        g_out = dslot[lo:hi]
        gw2[i] = hid.T @ g_out
        gb2[i] = xp.sum(g_out, axis=0)
        g_pre = (g_out @ params.w2[i].T) * _act_grad(pre, t, activation)
        gw1[i] = fwd.xs[lo:hi].T @ g_pre
        gb1[i] = xp.sum(g_pre, axis=0)
    grads = MoEParams(grouter, gw1, gb1, gw2, gb2)
    return LossGrad(mse + aux, mse, aux, grads, routing, fwd.out)


# ---------------------------------------------------------------------------------------------
# optimiser and training state


class AdamState(NamedTuple):
    """Adam's first and second moments and its step count."""

    m: MoEParams
    v: MoEParams
    t: int


def adam_init(params: MoEParams) -> AdamState:
    """Zero moments."""
    xp = _namespace(params.router)
    zeros = MoEParams(*(xp.zeros_like(p) for p in params))
    return AdamState(zeros, MoEParams(*(xp.zeros_like(p) for p in params)), 0)


def adam_update(params: MoEParams, grads: MoEParams, state: AdamState, *, lr: float, beta1: float = 0.9,
                beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
                ) -> tuple[MoEParams, AdamState]:
    r"""One Adam(W) step: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr(m̂/(√v̂ + ε) + λθ)."""
    xp = _namespace(params.router)
    t = state.t + 1
    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
    new_p, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, state.m, state.v, strict=True):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step = (m / c1) / (xp.sqrt(v / c2) + eps)
        if weight_decay:
            step = step + weight_decay * p
        new_p.append(p - lr * step)
        new_m.append(m)
        new_v.append(v)
    return MoEParams(*new_p), AdamState(MoEParams(*new_m), MoEParams(*new_v), t)


class TrainState(NamedTuple):
    """Everything a run needs to continue: parameters, Adam, the bias and the step count.

    The bias state (``solvers.alf_lb.BiasState``: bias, the sign rule's integer lattice steps, update
    count) is kept on the host, where the numba update runs.
    """

    params: MoEParams
    adam: AdamState
    bias: BiasState
    step: int


def init_state(params: MoEParams) -> TrainState:
    """Step 0: the given parameters, zero Adam moments, b = 0."""
    E = params.router.shape[1]
    zero = BiasState(np.zeros(E), np.zeros(E, dtype=np.int64), 0)
    return TrainState(params, adam_init(params), zero, 0)


_FIELDS = MoEParams._fields


def state_arrays(state: TrainState) -> dict[str, np.ndarray]:
    """The state as named host arrays (``np.savez(path, **state_arrays(s))`` checkpoints it, bias included)."""
    out: dict[str, np.ndarray] = {}
    for prefix, group in (("param", state.params), ("adam_m", state.adam.m), ("adam_v", state.adam.v)):
        for name, arr in zip(_FIELDS, group, strict=True):
            out[f"{prefix}_{name}"] = to_numpy(arr)
    out["adam_t"] = np.asarray(state.adam.t)
    out["bias"] = np.asarray(state.bias.bias)
    out["bias_steps"] = np.asarray(state.bias.steps)
    out["bias_t"] = np.asarray(state.bias.t)
    out["step"] = np.asarray(state.step)
    return out


def state_from_arrays(arrays: dict[str, np.ndarray], xp: ModuleType = np) -> TrainState:
    """Inverse of :func:`state_arrays`; parameters and moments go to ``xp``."""
    missing = [k for k in ("bias", "bias_steps", "bias_t", "step", "adam_t") if k not in arrays]
    if missing:
        raise ValueError(f"arrays: not a training state, missing {missing}")

    def group(prefix: str) -> MoEParams:
        return MoEParams(*(xp.asarray(arrays[f"{prefix}_{name}"]) for name in _FIELDS))

    bias = BiasState(np.array(arrays["bias"], dtype=float), np.array(arrays["bias_steps"], dtype=np.int64),
                     int(arrays["bias_t"]))
    adam = AdamState(group("adam_m"), group("adam_v"), int(arrays["adam_t"]))
    return TrainState(group("param"), adam, bias, int(arrays["step"]))


# ---------------------------------------------------------------------------------------------
# one arm


@dataclass(frozen=True)
class TrainSpec:
    """How one arm trains.

    Attributes
    ----------
    arm
        ``"none"``, ``"aux"`` or ``"alf_lb"``.
    K, micros
        Experts per token; micro-batches per step (the step's tokens are split evenly).
    counting
        ``"micro"`` or ``"global"`` (aux loss: f per micro-batch or over the step; ALF-LB: one update
        per micro-batch with its loads, or one per step with the step's loads).
    alpha
        α of the aux arm.
    rule
        The bias rule of the ALF-LB arm (``solvers.alf_lb.sign_rule`` / ``gradient_rule``).
    activation, lr, beta1, beta2, eps, weight_decay
        Expert nonlinearity and Adam(W) settings (weight decay on the weights only, never the bias).
    """

    arm: str
    K: int
    micros: int
    counting: str = "global"
    alpha: float = 0.0
    rule: BiasRule | None = None
    activation: str = "gelu"
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"arm must be one of {sorted(ARMS)}, got {self.arm!r}")
        if self.counting not in ("micro", "global"):
            raise ValueError(f"counting must be 'micro' or 'global', got {self.counting!r}")
        if self.arm == "aux" and not self.alpha > 0:
            raise ValueError(f"alpha must be > 0 for the aux arm, got {self.alpha!r}")
        if self.arm == "alf_lb" and self.rule is None:
            raise ValueError("rule: the alf_lb arm needs a bias rule (sign_rule or gradient_rule)")
        check_int("K", self.K)
        check_int("micros", self.micros)
        _check_activation(self.activation)
        _check_nonneg("lr", self.lr, positive=True)


class _StepLog(NamedTuple):
    mse: Any
    aux: float
    micro_loads: np.ndarray


def _route_micro_sequential(state: TrainState, spec: TrainSpec, x, xp: ModuleType) -> tuple[Routing, BiasState]:
    """Route micro-batch after micro-batch, updating the bias with each one's loads in between."""
    scores = _sigmoid(x @ state.params.router, xp)
    size = x.shape[0] // spec.micros
    bias_state = state.bias
    experts, chosen, loads = [], [], []
    for m in range(spec.micros):
        r = route(scores[m * size:(m + 1) * size], spec.K, xp.asarray(bias_state.bias, dtype=x.dtype),
                  backend="numpy")
        counts = to_numpy(r.loads)
        bias_state = update(spec.rule, bias_state, counts, size, spec.K)
        experts.append(r.experts)
        chosen.append(r.scores)
        loads.append(counts)
    routing = Routing(xp.concatenate(experts), xp.concatenate(chosen), np.stack(loads).sum(axis=0))
    return routing, bias_state


def train_step(state: TrainState, spec: TrainSpec, x, y) -> tuple[TrainState, _StepLog]:
    """One training step on a global batch (x, y) of ``spec.micros`` equal micro-batches.

    Route (with the bias of earlier tokens), backpropagate MSE (+ L_bal), take an Adam step, and, in the
    ALF-LB arm, update the bias from the loads. Returns the new state and the step's MSE, L_bal and
    (micros, E) loads.
    """
    xp = _namespace(x)
    n = x.shape[0]
    G = spec.micros
    if n % G:
        raise ValueError(f"x: {n} tokens do not split into micros = {G} equal micro-batches")
    E = state.params.router.shape[1]
    groups = xp.repeat(xp.arange(G), n // G)
    bias_state = state.bias
    if spec.arm == "alf_lb" and spec.counting == "micro":
        routing, bias_state = _route_micro_sequential(state, spec, x, xp)
        bias = None
    else:
        routing = None
        bias = xp.asarray(state.bias.bias, dtype=x.dtype) if spec.arm == "alf_lb" else None
    lg = loss_and_grad(state.params, x, y, spec.K, bias=bias, activation=spec.activation,
                       alpha=spec.alpha if spec.arm == "aux" else 0.0, groups=groups, counting=spec.counting,
                       routing=routing)
    slot_group = xp.repeat(groups, spec.K)
    micro_loads = to_numpy(xp.bincount(slot_group * E + lg.routing.experts.reshape(-1),
                                       minlength=G * E).reshape(G, E))
    if spec.arm == "alf_lb" and spec.counting == "global":
        bias_state = update(spec.rule, bias_state, micro_loads.sum(axis=0), n, spec.K)
    params, adam = adam_update(state.params, lg.grads, state.adam, lr=spec.lr, beta1=spec.beta1,
                               beta2=spec.beta2, eps=spec.eps, weight_decay=spec.weight_decay)
    return TrainState(params, adam, bias_state, state.step + 1), _StepLog(lg.mse, lg.aux, micro_loads)


def domain_usage(experts, domain, domains: int, E: int):
    """(D, E) fraction of each domain's token-slots routed to each expert (rows sum to 1; 0 if unseen)."""
    xp = _namespace(experts)
    K = experts.shape[1]
    slot_domain = xp.repeat(domain, K)
    counts = xp.bincount(slot_domain * E + experts.reshape(-1), minlength=domains * E).reshape(domains, E)
    total = xp.sum(counts, axis=1, keepdims=True)
    return counts / xp.maximum(total, 1)


def domain_entropy(experts, domain, domains: int, E: int) -> float:
    """Mean over the domains present of −Σ_i u_Di ln u_Di, u_D = the domain's expert usage (nats, ≤ ln E)."""
    xp = _namespace(experts)
    return float(xp.nanmean(usage_entropy(domain_usage(experts, domain, domains, E))))


def _evaluate(state: TrainState, spec: TrainSpec, data: MoEData) -> dict[str, float]:
    xp = _namespace(data.test_x)
    E = state.params.router.shape[1]
    bias = xp.asarray(state.bias.bias, dtype=data.test_x.dtype) if spec.arm == "alf_lb" else None
    out, routing = predict(state.params, data.test_x, spec.K, bias, activation=spec.activation)
    resid = out - data.test_y
    return {"test_loss": float(xp.mean(resid * resid)),
            "maxvio_global": float(maxvio(to_numpy(routing.loads), spec.K)),
            "entropy": domain_entropy(routing.experts, data.test_domain, data.domains, E)}


def train(state: TrainState, spec: TrainSpec, data: MoEData, steps: int, *, log_every: int = 50,
          ) -> tuple[TrainState, pd.DataFrame]:
    """Train from ``state`` up to step ``steps`` (absolute), logging every ``log_every`` steps and at the end.

    Returns the final state and one row per checkpoint: step, arm, train_loss (mean MSE since the last
    checkpoint), aux_loss (mean L_bal), test_loss, maxvio_batch (mean over those steps' micro-batches),
    maxvio_global and entropy (held-out set under the current router and bias) and bias_spread.

    Raises
    ------
    RuntimeError
        If the loss stops being finite (naming the checkpoint).
    """
    steps, log_every = check_int("steps", steps, low=0), check_int("log_every", log_every)
    if steps > data.steps:
        raise ValueError(f"steps = {steps} exceeds the {data.steps} steps of the data schedule")
    xp = _namespace(data.test_x)
    rows: list[dict[str, Any]] = []
    loss_sum, aux_sum, vio_sum, count = xp.zeros(()), 0.0, 0.0, 0
    while state.step < steps:
        x, y = data.batch(state.step)
        state, log = train_step(state, spec, x, y)
        loss_sum = loss_sum + log.mse
        aux_sum += log.aux
        vio_sum += float(np.mean(maxvio(log.micro_loads, spec.K)))
        count += 1
        if state.step % log_every == 0 or state.step == steps:
            train_loss = float(loss_sum) / count
            if not np.isfinite(train_loss):
                raise RuntimeError(f"the {spec.arm} arm diverged: training loss {train_loss} at step {state.step}")
            rows.append({"step": state.step, "arm": spec.arm, "train_loss": train_loss, "aux_loss": aux_sum / count,
                         **_evaluate(state, spec, data), "maxvio_batch": vio_sum / count,
                         "bias_spread": float(np.ptp(state.bias.bias))})
            loss_sum, aux_sum, vio_sum, count = xp.zeros(()), 0.0, 0.0, 0
    return state, pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# the registered experiment


MOE_DEFAULTS: dict[str, Any] = {
    "arms": ["none", "aux", "alf_lb"], "steps": 300, "log_every": 50,
    "dim": 32, "domains": 8, "experts": 16, "K": 2, "hidden": 64, "teacher_hidden": 64, "activation": "gelu",
    "seq_len": 64, "seqs_per_micro": 2, "micros": 4, "train_seqs": 256, "test_seqs": 32,
    "center_scale": 1.0, "token_std": 0.5, "target_noise": 0.0, "router_std": 1.0,
    "lr": 3e-3, "beta1": 0.9, "beta2": 0.999, "adam_eps": 1e-8, "weight_decay": 0.0,
    "counting": "global", "alpha": 1e-2, "bias_rule": "sign", "u": 1e-2, "eta": 1e-2, "center": False,
    "dtype": "float64", "backend": "numpy",
}

#: Overrides of :data:`MOE_DEFAULTS` for the full (GPU) scale of the spec; run it over 3 seeds.
FULL_SCALE: dict[str, Any] = {
    "steps": 5000, "log_every": 100, "seq_len": 256, "seqs_per_micro": 2, "micros": 8,
    "train_seqs": 4096, "test_seqs": 256, "lr": 1e-3, "alpha": 1e-3, "u": 1e-3, "eta": 1e-3,
    "dtype": "float32", "backend": "cupy",
}


def make_spec(config: dict[str, Any], arm: str) -> TrainSpec:
    """The :class:`TrainSpec` of ``arm`` under an experiment config."""
    E = check_int("experts", config["experts"])
    rule = None
    if arm == "alf_lb":
        if config["bias_rule"] == "sign":
            rule = sign_rule(E, config["u"], center=bool(config["center"]))
        elif config["bias_rule"] == "gradient":
            rule = gradient_rule(E, constant(config["eta"]), units="fraction", center=bool(config["center"]))
        else:
            raise ValueError(f"bias_rule must be 'sign' or 'gradient', got {config['bias_rule']!r}")
    return TrainSpec(arm, int(config["K"]), int(config["micros"]), config["counting"],
                     float(config["alpha"]) if arm == "aux" else 0.0, rule, config["activation"],
                     float(config["lr"]), float(config["beta1"]), float(config["beta2"]),
                     float(config["adam_eps"]), float(config["weight_decay"]))


def check_moe_config(config: dict[str, Any]) -> list[Any]:
    """The specs (:func:`make_spec`) of a moe config's arms, after checking arms, dtype and K ≤ experts."""
    arms = [config["arms"]] if isinstance(config["arms"], str) else list(config["arms"])
    if not arms or any(a not in ARMS for a in arms):
        raise ValueError(f"arms must be a non-empty list of {sorted(ARMS)}, got {config['arms']!r}")
    if config["dtype"] not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {config['dtype']!r}")
    K, E = check_int("K", config["K"]), check_int("experts", config["experts"])
    if K > E:
        raise ValueError(f"K must be <= experts = {E}, got {K}")
    return [make_spec(config, arm) for arm in arms]


@register_experiment("alf_lb", "moe", MOE_DEFAULTS)
def moe_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """A small MoE layer trained with no balancing, the aux loss and ALF-LB from the same data and start."""
    specs = check_moe_config(config)  # every arm validated before any work
    xp = array_module(config["backend"])
    steps = check_int("steps", config["steps"])
    micros, per_micro = check_int("micros", config["micros"]), check_int("seqs_per_micro",
                                                                           config["seqs_per_micro"])
    task = make_task(rng, dim=config["dim"], domains=config["domains"], teacher_hidden=config["teacher_hidden"],
                     center_scale=config["center_scale"], token_std=config["token_std"],
                     target_noise=config["target_noise"])
    data = make_data(task, rng, seq_len=config["seq_len"], train_seqs=config["train_seqs"],
                     test_seqs=config["test_seqs"], steps=steps, seqs_per_step=micros * per_micro, xp=xp,
                     dtype=config["dtype"])
    params = init_params(rng, dim=config["dim"], experts=config["experts"], hidden=config["hidden"],
                         router_std=config["router_std"], xp=xp, dtype=config["dtype"])
    with _single_threaded_blas(xp):
        tables = [train(init_state(params), spec, data, steps, log_every=config["log_every"])[1] for spec in specs]
    return pd.concat(tables, ignore_index=True)
