r"""Instance streams of the SOR-tuning experiments: shifted Laplacians (Generator A) and the 2-D heat equation (B).

**Generator A** (spec ``sor_bandit.md`` §5, paper App. G.1). P_N = I⊗T + T⊗I with T = tridiag(−1, 2, −1),
the 5-point Laplacian of the N×N interior grid without the 1/h² factor (diagonal 4), lexicographic order,
n = N². Instance t is

    A_t = P_N + c_t·I,   c_t = −0.15 + 0.6·B_t,   B_t ~ Beta(2, 6) ("low") or Beta(½, 3/2) ("high"),

so c_t ∈ [−0.15, 0.45] and A_t is SPD (λ_min(P_N) = 4(1 − cos πh) = 0.162 at N = 10, h = 1/(N+1)). The
right-hand side b_t ~ N(0, I) conditioned on ‖b_t‖₂ ≤ √n, drawn by rejection as the authors'
``truncated_normal.m`` does (§3 of the paper and the code use √n; App. G.1 writes n, which we do not follow).
The rejection is vectorised: whole batches of Gaussian vectors are drawn and the accepted ones kept in order,
so the stream is a pure function of the generator's state (same seed, same bits).

**Generator B** (App. G.2, following the authors' ``scripts/h2d.m`` and ``utils/Heat2D.m`` where the text
differs). u_t = κ(t)Δu + f on [0,1]², zero Dirichlet data, interior grid of (n_x − 1)² points x_ij = (i, j)/n_x
(i outer, j inner: lexicographic), Δx = 1/n_x, Δt = 5/T (= 1e-3 at T = 5000). Crank–Nicolson at the half step
t_{k+½} = t_k + Δt/2:

    r_k = κ(t_{k+½})Δt/(2Δx²),   A_k = I + r_k P,   b_k = (I − r_k P)u_k + Δt·f(t_{k+½}),

with P = P_{n_x−1}. Choices, each the code's:

- κ(t) = max{0.1 sin 2πt, −10 sin 2πt} (the text has 0.01), so κ ∈ [0, 10];
- f(t, x) = 32·bump(x; (½ + ¼cos 16πt, ½ + ¼sin 16πt), ⅛) (the text has (cos, cos));
- bump(x; c, r) = exp(1 − 1/(1 − min{1, ‖x − c‖²/r²})), with the factor e the text omits (peak value 1);
- u_0 = bump(x; (½, ½), ¼);
- the learners' context is κ(t_k) at the *start* of the step (``pde.coefficient(pde.t)``), while A_k uses the
  half step; the context interval is [min κ, max κ] over ``linspace(0, 5, T)`` as in the code;
- the comparators' trajectory is the exact-solve one (``pde.update(A\b)``): here u_{k+1} = A_k⁻¹b_k is computed
  exactly (to rounding) in the sine basis, since P = S·diag(λ_ij)·S with S the orthonormal 2-D DST-I and
  λ_ij = 4 − 2cos(iπ/n_x) − 2cos(jπ/n_x); every method's solve of step k is warm-started at that u_k.

References
----------
M. Khodak, E. Chow, M.-F. Balcan, A. Talwalkar. Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances. ICLR 2024 (arXiv:2310.02246), §5 and App. G.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import fft

from solvers._checks import check_int, check_positive

__all__ = [
    "HEAT_STOP_TIME",
    "SHIFT_LOW",
    "SHIFT_WIDTH",
    "VARIANCE_BETA",
    "HeatStream",
    "LaplacianStream",
    "Variance",
    "bump",
    "crank_nicolson_step",
    "dense_laplacian",
    "heat_coefficient",
    "heat_forcing",
    "heat_stream",
    "laplacian_eigenvalues",
    "laplacian_stream",
    "sample_shifts",
    "truncated_normal",
]

Variance = Literal["low", "high"]

#: Beta parameters of B_t in c_t = −0.15 + 0.6·B_t, per variance setting (paper App. G.1).
VARIANCE_BETA: dict[str, tuple[float, float]] = {"low": (2.0, 6.0), "high": (0.5, 1.5)}
#: Lower end and width of the support of the shift c_t.
SHIFT_LOW, SHIFT_WIDTH = -0.15, 0.6
#: End time of the heat simulation (the code's ``stoptime``); Δt = HEAT_STOP_TIME / T.
HEAT_STOP_TIME = 5.0


# ---------------------------------------------------------------- Generator A
def sample_shifts(T: int, rng: np.random.Generator, variance: Variance = "low", *, low: float = SHIFT_LOW,
                  width: float = SHIFT_WIDTH) -> np.ndarray:
    """Shifts c_t = low + width·B_t, B_t ~ Beta(VARIANCE_BETA[variance]) i.i.d., shape (T,)."""
    check_int("T", T, 1)
    if variance not in VARIANCE_BETA:
        raise ValueError(f"variance must be one of {sorted(VARIANCE_BETA)}, got {variance!r}")
    check_positive("width", width)
    a, b = VARIANCE_BETA[variance]
    return low + width * rng.beta(a, b, size=T)


def truncated_normal(T: int, n: int, rng: np.random.Generator, *, radius: float | None = None) -> np.ndarray:
    """T vectors b ~ N(0, I_n) conditioned on ‖b‖₂ ≤ radius (default √n), by batched rejection; shape (T, n).

    Each batch draws about 1.25× the expected number of proposals still needed (at least 16), so the loop
    runs a handful of times; accepted rows are kept in the order drawn.
    """
    check_int("T", T, 1)
    check_int("n", n, 1)
    radius = math.sqrt(n) if radius is None else check_positive("radius", radius)
    # P(χ²_n ≤ radius²) via the regularised gamma function; fixes the batch size only, not the result's law.
    from scipy.special import gammainc

    accept = max(float(gammainc(n / 2.0, radius * radius / 2.0)), 1e-3)
    out = np.empty((T, n))
    filled = 0
    while filled < T:
        need = T - filled
        batch = max(16, math.ceil(1.25 * need / accept))
        draw = rng.standard_normal((batch, n))
        keep = draw[np.einsum("ij,ij->i", draw, draw) <= radius * radius][:need]
        out[filled:filled + len(keep)] = keep
        filled += len(keep)
    return out


def laplacian_eigenvalues(N: int) -> np.ndarray:
    """Eigenvalues 4 − 2cos(iπh) − 2cos(jπh), h = 1/(N+1), of P_N in lexicographic (i outer) order, shape (N²,)."""
    check_int("N", N, 1)
    lam1 = 2.0 - 2.0 * np.cos(np.arange(1, N + 1) * math.pi / (N + 1))
    return (lam1[:, None] + lam1[None, :]).ravel()


@dataclass(frozen=True)
class LaplacianStream:
    """T shifted-Laplacian instances A_t = P_N + c_t·I with right-hand sides b_t (Generator A).

    Attributes
    ----------
    N
        Grid side; n = N² unknowns.
    variance
        "low" (Beta(2, 6)) or "high" (Beta(½, 3/2)).
    c
        Shifts, shape (T,), in [−0.15, 0.45].
    b
        Right-hand sides, shape (T, n), ‖b_t‖₂ ≤ √n.
    """

    N: int
    variance: str
    c: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)

    @property
    def T(self) -> int:
        """Number of instances."""
        return int(self.c.shape[0])

    @property
    def n(self) -> int:
        """Unknowns per instance, N²."""
        return self.N * self.N

    @property
    def beta(self) -> np.ndarray:
        """Jacobi radii β_t = 4cos(πh)/(4 + c_t), h = 1/(N+1) (spec §6), shape (T,)."""
        return 4.0 * math.cos(math.pi / (self.N + 1)) / (4.0 + self.c)

    @property
    def omega_star(self) -> np.ndarray:
        """Young's ω*(A_t) = 2/(1 + √(1 − β_t²)), shape (T,)."""
        return 2.0 / (1.0 + np.sqrt(1.0 - self.beta**2))

    def matrix(self, t: int):
        """A_t as the solver's 5-point stencil (``solvers.sor.Stencil5``)."""
        from solvers.sor import Stencil5

        return Stencil5.laplacian(self.N, float(self.c[t]))

    def dense(self, t: int) -> np.ndarray:
        """A_t as a dense (n, n) array (for small-N spectral checks)."""
        return dense_laplacian(self.N, float(self.c[t]))

    def head(self, T: int) -> LaplacianStream:
        """The first T instances (a prefix: the learners' runs at horizon T use exactly these)."""
        check_int("T", T, 1)
        if T > self.T:
            raise ValueError(f"T must be <= the stream's length {self.T}, got {T}")
        return LaplacianStream(self.N, self.variance, self.c[:T], self.b[:T])


def dense_laplacian(N: int, shift: float = 0.0) -> np.ndarray:
    """P_N + shift·I as a dense array (lexicographic order, diagonal 4 + shift)."""
    check_int("N", N, 1)
    t1 = 2.0 * np.eye(N) - np.eye(N, k=1) - np.eye(N, k=-1)
    return np.kron(np.eye(N), t1) + np.kron(t1, np.eye(N)) + shift * np.eye(N * N)


def laplacian_stream(T: int, rng: np.random.Generator, *, N: int = 10, variance: Variance = "low") -> LaplacianStream:
    """Generator A: T i.i.d. instances (c_t, b_t); the shifts are drawn first, then the right-hand sides.

    Raises ``ValueError`` for N ≥ 11: there λ_min(P_N) = 4(1 − cos(π/(N+1))) ≤ 0.15, so shifts near the lower
    end −0.15 of the support would make A_t indefinite (the paper's family is SPD only up to N = 10).
    """
    check_int("N", N, 2)
    lam_min = 4.0 * (1.0 - math.cos(math.pi / (N + 1)))
    if lam_min + SHIFT_LOW <= 0.0:
        raise ValueError(f"N must be <= 10 for Generator A: λ_min(P_N) = {lam_min:.4f} does not exceed −c_min = "
                         f"{-SHIFT_LOW}, so P_N + c_t·I would not be SPD; got N = {N}")
    c = sample_shifts(T, rng, variance)
    b = truncated_normal(T, N * N, rng)
    return LaplacianStream(N, variance, c, b)


# ---------------------------------------------------------------- Generator B
def bump(x: np.ndarray, center: tuple[float, float] | np.ndarray, radius: float) -> np.ndarray:
    """exp(1 − 1/(1 − min{1, ‖x − c‖²/r²})): 1 at the centre, 0 outside the disc (the code's ``bump.m``).

    ``x`` has shape (..., 2); ``center`` broadcasts against it.
    """
    check_positive("radius", radius)
    s = np.minimum(1.0, np.sum((np.asarray(x) - np.asarray(center)) ** 2, axis=-1) / radius**2)
    with np.errstate(divide="ignore"):
        return np.exp(1.0 - 1.0 / (1.0 - s))


def heat_coefficient(t: np.ndarray | float) -> np.ndarray:
    """κ(t) = max{0.1 sin 2πt, −10 sin 2πt} (the code's; ≥ 0, 0.1-peaked half periods then 10-peaked ones)."""
    s = np.sin(2.0 * math.pi * np.asarray(t, dtype=float))
    return np.maximum(0.1 * s, -10.0 * s)


def heat_forcing(t: np.ndarray | float, points: np.ndarray) -> np.ndarray:
    """f(t, x) = 32·bump(x; (½ + ¼cos 16πt, ½ + ¼sin 16πt), ⅛) at ``points`` (n, 2); shape (len(t), n)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    centers = np.stack([0.5 + 0.25 * np.cos(16.0 * math.pi * t), 0.5 + 0.25 * np.sin(16.0 * math.pi * t)], axis=1)
    return 32.0 * bump(points[None, :, :], centers[:, None, :], 0.125)


def _grid_points(nx: int) -> np.ndarray:
    """Interior points (i, j)/n_x, i outer and j inner (the code's ``ijdx``), shape ((n_x − 1)², 2)."""
    k = np.arange(1, nx) / nx
    return np.stack(np.meshgrid(k, k, indexing="ij"), axis=-1).reshape(-1, 2)


@dataclass(frozen=True)
class HeatStream:
    """T Crank–Nicolson steps of the heat equation along the exact-solve trajectory (Generator B).

    Attributes
    ----------
    nx
        Grid resolution; Δx = 1/n_x, n = (n_x − 1)² unknowns.
    dt
        Time step 5/T.
    r
        r_k = κ(t_{k+½})Δt/(2Δx²), shape (T,): A_k = I + r_k P.
    context
        κ(t_k) at the start of step k (what the contextual learners see), shape (T,).
    context_range
        (min, max) of κ over ``linspace(0, 5, T)`` (the code's cmin, cmax), the learners' context interval.
    u
        Exact trajectory u_0..u_T, shape (T+1, n): u_{k+1} = A_k⁻¹b_k.
    b
        Right-hand sides b_k = (I − r_k P)u_k + Δt·f(t_{k+½}), shape (T, n).
    """

    nx: int
    dt: float
    r: np.ndarray = field(repr=False)
    context: np.ndarray = field(repr=False)
    context_range: tuple[float, float]
    u: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)

    @property
    def T(self) -> int:
        """Number of steps."""
        return int(self.r.shape[0])

    @property
    def n(self) -> int:
        """Unknowns, (n_x − 1)²."""
        return (self.nx - 1) ** 2

    @property
    def beta(self) -> np.ndarray:
        """Jacobi radii β_k = 4r_k cos(π/n_x)/(1 + 4r_k) (spec §6), shape (T,)."""
        return 4.0 * self.r * math.cos(math.pi / self.nx) / (1.0 + 4.0 * self.r)

    def matrix(self, k: int):
        """A_k = I + r_k P as the solver's 5-point stencil."""
        from solvers.sor import Stencil5

        return Stencil5.heat(self.nx - 1, float(self.r[k]))

    def dense(self, k: int) -> np.ndarray:
        """A_k as a dense array."""
        return np.eye(self.n) + float(self.r[k]) * dense_laplacian(self.nx - 1)


def _apply_laplacian(v: np.ndarray, m: int) -> np.ndarray:
    """P_m·v for v of length m² (5-point stencil, zero Dirichlet data)."""
    g = v.reshape(m, m)
    out = 4.0 * g
    out[1:, :] -= g[:-1, :]
    out[:-1, :] -= g[1:, :]
    out[:, 1:] -= g[:, :-1]
    out[:, :-1] -= g[:, 1:]
    return out.ravel()


def crank_nicolson_step(u: np.ndarray, r: float, nx: int,
                        source: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One Crank–Nicolson step: b = (I − rP)u + source and u_next = (I + rP)⁻¹b, exactly in the sine basis.

    ``u`` and ``source`` (Δt·f, default 0) have length (n_x − 1)²; returns (u_next, b). The mode
    sin(iπx)sin(jπy) is multiplied by (1 − rλ_ij)/(1 + rλ_ij) (spec §6).
    """
    check_int("nx", nx, 3)
    m = nx - 1
    u = np.asarray(u, dtype=float)
    if u.shape != (m * m,):
        raise ValueError(f"u must have shape ({m * m},), got {u.shape}")
    b = u - r * _apply_laplacian(u, m)
    if source is not None:
        b = b + source
    lam = laplacian_eigenvalues(m).reshape(m, m)
    rhs_hat = fft.dstn(b.reshape(m, m), type=1, norm="ortho")
    return fft.idstn(rhs_hat / (1.0 + r * lam), type=1, norm="ortho").ravel(), b


def heat_stream(nx: int = 25, T: int = 5000, *, stop_time: float = HEAT_STOP_TIME) -> HeatStream:
    """Generator B: the T Crank–Nicolson systems of the code's heat simulation on the exact trajectory.

    Deterministic (no randomness: the data are the code's). The exact solves use the orthonormal DST-I,
    which diagonalises P; cost O(T·n log n).
    """
    check_int("nx", nx, 3)
    check_int("T", T, 1)
    stop_time = check_positive("stop_time", stop_time)
    dt = stop_time / T
    m = nx - 1
    pts = _grid_points(nx)
    half = np.arange(T) * dt + 0.5 * dt
    r = heat_coefficient(half) * dt / (2.0 / nx**2)
    forcing = heat_forcing(half, pts)
    u = np.empty((T + 1, m * m))
    b = np.empty((T, m * m))
    u[0] = bump(pts, (0.5, 0.5), 0.25)
    for k in range(T):  # sequential in k by nature; each step is O(n log n)
        u[k + 1], b[k] = crank_nicolson_step(u[k], float(r[k]), nx, dt * forcing[k])
    grid_kappa = heat_coefficient(np.linspace(0.0, stop_time, T))
    context = heat_coefficient(np.arange(T) * dt)
    return HeatStream(nx, dt, r, context, (float(grid_kappa.min()) + 0.0, float(grid_kappa.max())), u, b)
