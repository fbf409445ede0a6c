r"""Play a method of the EF21 family on a :class:`~solvers.ef21.problem.Problem`: the round loop.

Each round: the server step :math:`x^{t+1} = x^t - s^t` (``method.direction``), one call of
``problem.client_grads`` at :math:`x^{t+1}`, and the method's (fused) update. The loop runs over rounds
only; clients are vectorised inside the update. Recorded for t = 0..rounds: ‖∇f(x^t)‖² with ∇f the mean
of the client gradients, f(x^t), the method's estimator error G^t (G_W^t for EF21-W), G̃^t for EF21,
and the uplink bits per client under both conventions of spec §5.

On CuPy arrays (x0 or the problem's gradients) every array op stays on the device; the per-round
scalars go into a preallocated device array copied to the host once at the end, and the only
per-round host read is one boolean (stop or go).

:func:`run_batch` plays S runs (seeds) at once: x0 (S, d), the state with a seed axis (see
:mod:`solvers.ef21.methods`), one host read per round of the S stop/go flags, and each run's history
exactly as :func:`run` would record it (each seed stops on its own; a stopped seed keeps its last
accepted iterate while the others go on).

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21", NeurIPS 2021, arXiv 2106.05203 (Theorem 1, bits axis).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace, to_numpy
from solvers.ef21.methods import Method
from solvers.ef21.problem import Problem

__all__ = ["StepSizeWarning", "Trajectory", "bits_per_round", "initial_bits", "run", "run_batch"]

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


def _check_method_fits(method: Method, n: int, d: int, gamma: float, theorem_step: float | None) -> None:
    """The method's compressor and smoothness fit the problem; warn when γ exceeds the theorem's step."""
    if method.compressor is not None:
        method.compressor.alpha(d)  # k <= d, and a contractive compressor (not scaled RandK with k <= d/2)
    if method.smoothness is not None and method.smoothness.shape[0] != n:
        raise ValueError(f"the method's smoothness has {method.smoothness.shape[0]} entries, "
                         f"problem.n_clients is {n}")
    if theorem_step is not None:
        theorem_step = check_positive("theorem_step", theorem_step)
        if gamma > theorem_step * (1 + 1e-12):
            warnings.warn(f"gamma = {gamma:.6g} exceeds the theorem's step-size limit {theorem_step:.6g}; "
                          "the claim does not cover this run", StepSizeWarning, stacklevel=3)


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
    _check_method_fits(method, n, d, gamma, theorem_step)

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


def _rowdot(a: Any, b: Any) -> Any:
    """Σ_j a_sj b_sj for every row s (b may be one shared row), by stacked matmul.

    A stacked 1×m by m×1 matmul gives, row by row, the bits of the one-row ``a[s] @ b`` that :func:`run`
    records, which an elementwise product and sum does not.
    """
    return (a[:, None, :] @ b[..., :, None])[:, 0, 0]


def _check_problems(problem: Any, S: int) -> list[Any]:
    """S problems sharing n and d: one Problem repeated, or a sequence of S."""
    probs = list(problem) if isinstance(problem, Sequence) else [problem] * S
    if len(probs) != S:
        raise ValueError(f"problem must be one Problem or a sequence of S = {S} (one per row of x0), "
                         f"got {len(probs)}")
    shapes = {_check_problem(p) for p in probs}
    if len(shapes) != 1:
        raise ValueError(f"problem: every instance must have the same n_clients and dim, got {sorted(shapes)}")
    return probs


def run_batch(problem: Problem | Sequence[Problem], method: Method, gamma: float, T: int, *, x0: Any,
              rng: Sequence[Any] | None = None, tol: float | None = None, theorem_step: float | None = None,
              divergence: float = 1e30, backend: Literal["auto", "numba", "xp"] = "auto") -> list[Trajectory]:
    r"""Play S runs of ``method`` at once, one per row of ``x0``: seeds and, where given, instances.

    Parameters
    ----------
    problem
        One :class:`~solvers.ef21.problem.Problem` for every run, or a sequence of S problems (instances)
        with the same n and d. A shared problem with a method ``client_grads_batch(X)`` ((S, d) to
        (S, n, d)) is asked once per round; otherwise ``client_grads`` and ``loss`` are called once per
        run and round (with CuPy data, a problem whose ``loss`` returns a host float costs a host read
        per run and round).
    method, gamma, T, tol, theorem_step, divergence, backend
        As in :func:`run`, for every run.
    x0
        (S, d) starting points (numpy or CuPy), finite.
    rng
        None (deterministic compressors) or S generators / int seeds, run s drawing from ``rng[s]``.

    Returns
    -------
    list of Trajectory
        Entry s equals ``run(problem_s, method, gamma, T, x0=x0[s], rng=rng[s], ...)``: bit for bit on
        numpy (the fused kernels run once per seed, the array path is row-wise, the recorded sums are
        per-row dot products); on CuPy to rounding. A randomized compressor keeps drawing for a run that
        has stopped, so its generator ends further on than after the single run.

    References
    ----------
    EF21, NeurIPS 2021, arXiv 2106.05203, Algorithm 1 and Theorem 1.
    """
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method (gd, ef14, ef21, ef21w, econtrol), got {type(method).__name__}")
    xp = array_namespace(x0)
    X = xp.asarray(x0, dtype=xp.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"x0 must have shape (S, d) (one starting point per run), got {X.shape}")
    S = X.shape[0]
    probs = _check_problems(problem, S)
    n, d = _check_problem(probs[0])
    if X.shape[1] != d:
        raise ValueError(f"x0 must have shape (S, {d}) (problem.dim), got {X.shape}")
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError("x0 must be finite, got non-finite entries")
    gamma = check_positive("gamma", gamma)
    T = check_int("T", T, 1)
    if tol is not None:
        tol = check_positive("tol", tol)
    divergence = check_positive("divergence", divergence)
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    if rng is None:
        rngs = None
        _check_rng(None, method)
    else:
        if isinstance(rng, np.random.Generator) or not isinstance(rng, Sequence) or len(rng) != S:
            raise TypeError(f"rng must be None or a sequence of S = {S} generators or int seeds")
        rngs = [_check_rng(r, method) for r in rng]
    _check_method_fits(method, n, d, gamma, theorem_step)
    batch_grads = getattr(probs[0], "client_grads_batch", None) if all(p is probs[0] for p in probs) else None

    def client_grads(Z: Any) -> Any:
        if batch_grads is not None:
            return batch_grads(Z)
        return xp.stack([xp.asarray(p.client_grads(Z[s])) for s, p in enumerate(probs)])

    with np.errstate(all="ignore"):  # divergence is detected and reported, per run
        grads = client_grads(X)
        xp = array_namespace(X, grads)
        X = xp.asarray(X)
        state = method.init(grads, gamma, rngs, backend=backend)
        tilde = None
        if method.kind == "ef21":
            Ls = np.stack([to_numpy(p.smoothness).astype(float) for p in probs])
            tilde = xp.asarray(Ls.mean(axis=1, keepdims=True) / Ls / n)
        hist = xp.full((S, T + 1, 4), xp.nan)
        ncheck = 2 if method.kind == "gd" else 3

        def record(t: int, Z: Any, G: Any) -> tuple[Any, Any]:
            gm = G.mean(axis=-2)
            hist[:, t, 0] = _rowdot(gm, gm)
            hist[:, t, 1] = xp.stack([xp.asarray(p.loss(Z[s]), dtype=xp.float64) for s, p in enumerate(probs)])
            hist[:, t, 2] = state.err[:, 0] if method.kind == "gd" else _rowdot(state.err, state.weight)
            if tilde is not None:
                hist[:, t, 3] = _rowdot(tilde, state.err)
            finite = xp.all(xp.isfinite(hist[:, t, :ncheck]), axis=1) & xp.all(xp.isfinite(Z), axis=1)
            return hist[:, t, 0], finite

        gsq, finite = record(0, X, grads)
        first = to_numpy(xp.stack([gsq, finite.astype(xp.float64)]))
        if not first[1].all():
            raise ValueError(f"problem.client_grads / problem.loss are not finite at x0 of run "
                             f"{int(np.argmin(first[1]))}")
        g0 = first[0]
        limit = xp.asarray(np.where(g0 > 0, divergence * g0, np.inf))
        target = xp.asarray(tol * g0 if tol is not None else np.full(S, -np.inf))
        status = np.where(g0 <= to_numpy(target), "target", "horizon").astype(object)
        active = status == "horizon"
        rounds = np.zeros(S, dtype=np.int64)
        for t in range(T):
            if not active.any():
                break
            X_new = X - method.direction(state, gamma)
            grads = client_grads(X_new)
            state = method.update(state, grads, gamma, rngs, backend=backend)
            gsq, finite = record(t + 1, X_new, grads)
            flags = to_numpy(xp.stack([~finite | (gsq > limit), gsq <= target]))  # the round's host read
            bad, done = flags[0] & active, flags[1] & active & ~flags[0]
            accepted = active & ~bad
            status[bad] = "diverged"
            status[done] = "target"
            rounds[accepted] = t + 1
            X = xp.where(xp.asarray(accepted)[:, None], X_new, X)
            active = accepted & ~done

    out = to_numpy(hist)
    trajectories = []
    for s in range(S):
        k = int(rounds[s])
        tt = np.arange(k + 1, dtype=float)
        bits = {c: initial_bits(method, d, c) + tt * bits_per_round(method, d, c) for c in ("values", "indices")}
        trajectories.append(Trajectory(
            grad_sq=out[s, :k + 1, 0].copy(), loss=out[s, :k + 1, 1].copy(), G=out[s, :k + 1, 2].copy(),
            G_tilde=out[s, :k + 1, 3].copy(), bits_values=bits["values"], bits_indices=bits["indices"], x=X[s].copy(),
            gamma=gamma, rounds=k, status=str(status[s]), method=method.name,
            compressor=method.compressor.name if method.compressor is not None else "none",
            init=method.init_mode,
        ))
    return trajectories
