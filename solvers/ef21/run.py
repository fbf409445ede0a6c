r"""Play a method of the EF21 family on a :class:`~solvers.ef21.problem.Problem`: the round loop.

Each round: the server step :math:`x^{t+1} = x^t - s^t` (``method.direction``), one call of
``problem.client_grads`` at :math:`x^{t+1}`, and the method's (fused) update. The loop runs over rounds
only; clients are vectorised inside the update. Recorded for t = 0..rounds: ‖∇f(x^t)‖² with ∇f the mean
of the client gradients, f(x^t), the method's estimator error G^t (G_W^t for EF21-W), G̃^t for EF21,
and the uplink bits per client under both conventions of spec §5.

On CuPy arrays (x0 or the problem's gradients) every array op stays on the device; the per-round
scalars go into a preallocated device array copied to the host once at the end, and the only
per-round host read is one boolean (stop or go).

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21", NeurIPS 2021, arXiv 2106.05203 (Theorem 1, bits axis).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace, to_numpy
from solvers.ef21.methods import Method
from solvers.ef21.problem import Problem

__all__ = ["StepSizeWarning", "Trajectory", "bits_per_round", "initial_bits", "run"]

Convention = Literal["values", "indices"]
BITS_PER_VALUE = 32


class StepSizeWarning(UserWarning):
    """The step size exceeds the theorem's limit: the run is valid but the claim does not cover it."""


def _check_convention(convention: Any) -> str:
    if convention not in ("values", "indices"):
        raise ValueError(f"convention must be 'values' or 'indices', got {convention!r}")
    return convention


def bits_per_round(method: Method, d: int, convention: Convention) -> int:
    r"""Uplink bits one client sends per round (spec §5), 32 bits per value.

    - GD: 32d under both conventions.
    - Compressed methods with K values per message: 32K (``"values"``, the EF21 authors' convention) or
      K(32 + ⌈log₂ d⌉) (``"indices"``, values plus their positions). A message with K = d is dense
      (Identity, TopK(d)) and costs 32d: no positions are needed.

    Example: Top1 with d = 20 costs 32 bits (values) and 32 + 5 = 37 bits (indices).
    """
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method, got {type(method).__name__}")
    d = check_int("d", d, 1)
    _check_convention(convention)
    if method.compressor is None:
        return BITS_PER_VALUE * d
    K = method.compressor.values_sent(d)
    if K >= d:
        return BITS_PER_VALUE * d
    if convention == "values":
        return BITS_PER_VALUE * K
    return K * (BITS_PER_VALUE + (d - 1).bit_length())  # (d − 1).bit_length() = ⌈log₂ d⌉


def initial_bits(method: Method, d: int, convention: Convention) -> int:
    """Bits per client before round 0: 32d under ``"indices"`` when the init needs a dense gradient
    (g_i⁰ = ∇f_i(x⁰) for EF21 / EF21-W, h_i⁰ for EControl), else 0; never counted under ``"values"``."""
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method, got {type(method).__name__}")
    d = check_int("d", d, 1)
    if _check_convention(convention) == "values" or not method.dense_init:
        return 0
    return BITS_PER_VALUE * d


@dataclass(frozen=True)
class Trajectory:
    """The history of one run, one entry per round t = 0..rounds (numpy arrays, float64).

    Attributes
    ----------
    grad_sq
        ‖∇f(x^t)‖², ∇f = (1/n)Σ_i ∇f_i.
    loss
        f(x^t).
    G
        The method's estimator error: G^t = (1/n)Σ_i‖g_i^t − ∇f_i(x^t)‖² (EF21), G_W^t (EF21-W),
        (1/n)Σ_i‖h_i^{t+1} − ∇f_i(x^t)‖² (EControl), (1/n)Σ_i‖e_i^{t+1}‖²/γ² (EF14); NaN for GD.
    G_tilde
        G̃^t = (1/n)Σ_i (L_AM/L_i)‖g_i^t − ∇f_i(x^t)‖² for EF21, NaN otherwise.
    bits_values, bits_indices
        Cumulative uplink bits per client to reach x^t: initial cost + t × bits per round.
    x
        The last iterate x^rounds (in the namespace of the run: numpy or CuPy).
    gamma
        The step size.
    rounds
        Number of rounds played (≤ T).
    status
        ``"horizon"`` (T rounds), ``"target"`` (‖∇f(x^t)‖² ≤ tol·‖∇f(x⁰)‖²) or ``"diverged"`` (a
        non-finite value or ‖∇f‖² above ``divergence``·‖∇f(x⁰)‖²; the bad round is not recorded).
    method, compressor, init
        Method name, compressor name (``"none"`` for GD), estimator init (``"gradient"``, ``"zero"``,
        ``"none"``).
    """

    grad_sq: np.ndarray
    loss: np.ndarray
    G: np.ndarray
    G_tilde: np.ndarray
    bits_values: np.ndarray
    bits_indices: np.ndarray
    x: Any
    gamma: float
    rounds: int
    status: str
    method: str
    compressor: str
    init: str

    @property
    def diverged(self) -> bool:
        """Whether the run stopped on divergence."""
        return self.status == "diverged"

    @property
    def t(self) -> np.ndarray:
        """Rounds 0..rounds."""
        return np.arange(self.rounds + 1)

    def history(self) -> dict[str, np.ndarray]:
        """The per-round arrays by name (``t``, ``grad_sq``, ``loss``, ``G``, ``G_tilde``, bits)."""
        return {"t": self.t, "grad_sq": self.grad_sq, "loss": self.loss, "G": self.G, "G_tilde": self.G_tilde,
                "bits_values": self.bits_values, "bits_indices": self.bits_indices}


def _check_problem(problem: Any) -> tuple[int, int]:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must implement the Problem protocol (n_clients, dim, smoothness, L, f_low, "
                        f"client_grads, loss, grad), got {type(problem).__name__}")
    n = check_int("problem.n_clients", problem.n_clients, 1)
    d = check_int("problem.dim", problem.dim, 1)
    L = to_numpy(problem.smoothness)
    if L.shape != (n,) or not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise ValueError(f"problem.smoothness must be ({n},) finite and > 0, got shape {L.shape}")
    return n, d


def _check_x0(x0: Any, d: int) -> Any:
    if x0 is None:
        raise ValueError("x0 is required (a finite vector of length problem.dim)")
    xp = array_namespace(x0)
    x = xp.asarray(x0, dtype=xp.float64)
    if x.shape != (d,):
        raise ValueError(f"x0 must have shape ({d},) (problem.dim), got {x.shape}")
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError("x0 must be finite, got non-finite entries")
    return x


def _check_rng(rng: Any, method: Method) -> Any:
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if rng is None or isinstance(rng, np.random.Generator) or type(rng).__module__.startswith("cupy"):
        if rng is None and method.compressor is not None and not method.compressor.deterministic:
            raise ValueError(f"rng is required: {method.compressor.name} is randomized (pass a Generator or seed)")
        return rng
    raise TypeError(f"rng must be a np.random.Generator, an int seed or None, got {type(rng).__name__}")


def run(problem: Problem, method: Method, gamma: float, T: int, *, x0: Any, rng: Any = None,
        tol: float | None = None, theorem_step: float | None = None, divergence: float = 1e30,
        backend: Literal["auto", "numba", "xp"] = "auto") -> Trajectory:
    r"""Play ``T`` rounds of ``method`` on ``problem`` from ``x0``.

    Parameters
    ----------
    problem
        A :class:`~solvers.ef21.problem.Problem`.
    method
        From :func:`~solvers.ef21.methods.gd`, :func:`~solvers.ef21.methods.ef14`,
        :func:`~solvers.ef21.methods.ef21`, :func:`~solvers.ef21.methods.ef21w`,
        :func:`~solvers.ef21.methods.econtrol`.
    gamma
        Step size γ > 0 (EF14: the γ inside its messages).
    T
        Number of rounds, an integer ≥ 1.
    x0
        Starting point, finite, shape (d,) (numpy or CuPy).
    rng
        Generator or int seed; required by randomized compressors (RandK).
    tol
        Stop (status ``"target"``) at the first t with ‖∇f(x^t)‖² ≤ tol·‖∇f(x⁰)‖² (tol > 0).
    theorem_step
        The theorem's step-size limit (computed by the caller from ``theory.ef21``); a
        :class:`StepSizeWarning` is issued when γ > theorem_step·(1 + 10⁻¹²).
    divergence
        Stop (status ``"diverged"``) when ‖∇f(x^t)‖² > divergence·‖∇f(x⁰)‖² or a value is non-finite.
    backend
        Passed to ``method.update``: ``"numba"`` (fused kernels), ``"xp"`` (array path) or ``"auto"``.

    Returns
    -------
    Trajectory
        Per-round history t = 0..rounds; the bad round of a diverged run is not recorded.

    References
    ----------
    EF21, NeurIPS 2021, Theorem 1 (the bound on the mean of ‖∇f(x^t)‖² that these histories check).
    """
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method (gd, ef14, ef21, ef21w, econtrol), got {type(method).__name__}")
    n, d = _check_problem(problem)
    gamma = check_positive("gamma", gamma)
    T = check_int("T", T, 1)
    x = _check_x0(x0, d)
    if tol is not None:
        tol = check_positive("tol", tol)
    divergence = check_positive("divergence", divergence)
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    rng = _check_rng(rng, method)
    if method.compressor is not None:
        method.compressor.alpha(d)  # k <= d, and a contractive compressor (not scaled RandK with k <= d/2)
    if method.smoothness is not None and method.smoothness.shape[0] != n:
        raise ValueError(f"the method's smoothness has {method.smoothness.shape[0]} entries, "
                         f"problem.n_clients is {n}")
    if theorem_step is not None:
        theorem_step = check_positive("theorem_step", theorem_step)
        if gamma > theorem_step * (1 + 1e-12):
            warnings.warn(f"gamma = {gamma:.6g} exceeds the theorem's step-size limit {theorem_step:.6g}; "
                          "the claim does not cover this run", StepSizeWarning, stacklevel=2)

    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and reported
        grads = problem.client_grads(x)
        xp = array_namespace(x, grads)
        x = xp.asarray(x)
        state = method.init(grads, gamma, rng, backend=backend)
        tilde = None
        if method.kind == "ef21":
            L = to_numpy(problem.smoothness).astype(float)
            tilde = xp.asarray(L.mean() / L / n)
        hist = xp.full((T + 1, 4), xp.nan)
        check_G = method.kind != "gd"

        def record(t: int, x_t: Any, grads_t: Any) -> Any:
            """Write row t; return (‖∇f‖², whether every recorded value and x_t are finite)."""
            gm = grads_t.mean(axis=0)
            row = (gm @ gm, problem.loss(x_t), method.error(state),
                   tilde @ state.err if tilde is not None else xp.nan)
            if xp is np:  # host: plain floats, no array round trips
                vals = [float(v) for v in row]
                hist[t] = vals
                finite = all(map(math.isfinite, vals[: 3 if check_G else 2])) and bool(np.isfinite(x_t).all())
                return vals[0], finite
            for j, v in enumerate(row):
                hist[t, j] = v
            finite = xp.all(xp.isfinite(hist[t, : 3 if check_G else 2])) & xp.all(xp.isfinite(x_t))
            return hist[t, 0], finite

        g0, finite0 = record(0, x, grads)
        if not bool(finite0):
            raise ValueError("problem.client_grads / problem.loss are not finite at x0")
        g0 = float(g0)
        limit = divergence * g0 if g0 > 0 else np.inf
        target = tol * g0 if tol is not None else -np.inf
        status, rounds = "horizon", 0
        if g0 <= target:
            status = "target"
        else:
            for t in range(T):
                x_new = x - method.direction(state, gamma)
                grads = problem.client_grads(x_new)
                state = method.update(state, grads, gamma, rng, backend=backend)
                gsq, finite = record(t + 1, x_new, grads)
                if xp is np:
                    bad, done = not finite or gsq > limit, gsq <= target
                else:  # one host read per round: the two flags
                    flags = to_numpy(xp.stack([~finite | (gsq > limit), gsq <= target]))
                    bad, done = bool(flags[0]), bool(flags[1])
                if bad:
                    hist[t + 1] = xp.nan
                    status = "diverged"
                    break
                x, rounds = x_new, t + 1
                if done:
                    status = "target"
                    break

    out = to_numpy(hist[: rounds + 1])
    t = np.arange(rounds + 1, dtype=float)
    bits = {c: initial_bits(method, d, c) + t * bits_per_round(method, d, c) for c in ("values", "indices")}
    return Trajectory(
        grad_sq=out[:, 0].copy(), loss=out[:, 1].copy(), G=out[:, 2].copy(), G_tilde=out[:, 3].copy(),
        bits_values=bits["values"], bits_indices=bits["indices"], x=x, gamma=gamma, rounds=rounds,
        status=status, method=method.name,
        compressor=method.compressor.name if method.compressor is not None else "none",
        init=method.init_mode,
    )
