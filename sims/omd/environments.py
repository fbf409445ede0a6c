r"""SEA environments: loss streams between i.i.d. and adversarial, with their exact SEA quantities.

Three families (spec ``omd.md`` §5), all on the ball B(R) of diameter D = 2R:

- **G1, linear**: f_t(x) = ⟨c_t + ξ_t, x⟩, ξ_t uniform on the sphere of radius s;
  σ_t² = s², Σ_t² = ‖c_t − c_{t−1}‖² (c_0 = 0), L = 0, G = max‖c_t‖ + s.
- **G2, quadratic tracking**: f_t(x) = ½‖x − c_t − ξ_t‖²; σ_t² = s², Σ_1² = (R + ‖c_1‖)²,
  Σ_t² = ‖c_t − c_{t−1}‖² (t ≥ 2), L = λ = 1, G = R + max‖c_t‖ + s.
- **G3, online least squares**: a_t uniform on S^{d−1}, y_t = ⟨a_t, w_t⟩ + ε_t,
  ε_t ~ U[−τ√3, τ√3], f_t(x) = ½(⟨a_t, x⟩ − y_t)², F_t(x) = ‖x − w_t‖²/(2d) + τ²/2;
  σ_t² = (R + ‖w_t‖)²(d−1)/d² + τ², Σ_1² = (R + ‖w_1‖)²/d², Σ_t² = ‖w_t − w_{t−1}‖²/d²,
  L = λ = 1/d, G ≤ B = R + max‖w_t‖ + τ√3, α = 1/B².

The mixing parameter ρ ∈ [0, 1] sets the noise scale s = (1 − ρ)s₀ and the mean path
c_t = m e₁ + ρ A₀ z_t, with z_t alternating ((−1)^t e₁), block switches every B rounds, a random walk
in the unit ball, or a circle of radius R/(2A₀) at angular speed ω (for dynamic regret).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from solvers.omd import LossSequence

__all__ = ["FAMILIES", "PATHS", "SEAStream", "make_stream", "mean_path", "sphere"]

FAMILIES = ("linear", "quadratic", "square")
PATHS = ("alternating", "block", "walk", "circle", "constant")


def sphere(rng: np.random.Generator, n: int, d: int, radius: float = 1.0) -> np.ndarray:
    """n points uniform on the sphere of radius ``radius`` in R^d."""
    z = rng.standard_normal((n, d))
    return radius * z / np.linalg.norm(z, axis=1, keepdims=True)


@numba.njit(cache=True)
def _projected_walk(steps: np.ndarray) -> np.ndarray:
    """z_t = Π_{unit ball}(z_{t−1} + step_t), z_0 = 0: a sequential recursion, hence a kernel."""
    T, d = steps.shape
    z = np.empty((T, d))
    pos = np.zeros(d)
    for t in range(T):
        s = 0.0
        for i in range(d):
            pos[i] += steps[t, i]
            s += pos[i] * pos[i]
        scale = 1.0 / max(1.0, math.sqrt(s))
        for i in range(d):
            pos[i] *= scale
            z[t, i] = pos[i]
    return z


def mean_path(kind: str, T: int, d: int, rng: np.random.Generator, *, block: int = 64,
              omega: float = 0.01) -> np.ndarray:
    """The unscaled mean path z_t, t = 1..T, shape (T, d), each of norm at most 1."""
    t = np.arange(1, T + 1)
    z = np.zeros((T, d))
    if kind == "alternating":
        z[:, 0] = (-1.0) ** t
    elif kind == "block":
        z[:, 0] = (-1.0) ** ((t - 1) // block)
    elif kind == "walk":
        z = _projected_walk(rng.standard_normal((T, d)) / math.sqrt(d * block))
    elif kind == "circle":
        z[:, 0], z[:, 1] = np.cos(omega * t), np.sin(omega * t)
    elif kind == "constant":
        pass
    else:
        raise ValueError(f"path must be one of {PATHS}, got {kind!r}")
    return z


@dataclass(frozen=True)
class SEAStream:
    """One realised SEA stream: the losses, the expected-loss means and the exact SEA quantities."""

    family: str
    losses: LossSequence
    means: np.ndarray       # c_t (G1, G2) or w_t (G3), shape (T, d)
    radius: float
    sigma2: np.ndarray      # σ_t², shape (T,)
    Sigma2: np.ndarray      # Σ_t² = sup_x ‖∇F_t − ∇F_{t−1}‖², shape (T,)
    G: float
    L: float
    lam: float              # strong convexity of F_t (0 for linear)
    alpha: float            # exp-concavity of f_t (0 where not used)
    noise_offset: float     # F_t(x) − (noise-free part): s²/2 or τ²/2

    @property
    def D(self) -> float:
        """Diameter 2R."""
        return 2.0 * self.radius

    @property
    def T(self) -> int:
        """Horizon."""
        return self.losses.T

    @property
    def dim(self) -> int:
        """Dimension."""
        return self.losses.dim

    def mean_grad(self, x: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """∇F_t(x_i) for paired rows: ``x`` (n, d) and 0-based ``rounds`` (n,)."""
        if self.family == "linear":
            return self.means[rounds].copy()
        if self.family == "quadratic":
            return x - self.means[rounds]
        return (x - self.means[rounds]) / self.dim

    def mean_loss(self, x: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """F_t(x_i) for paired rows."""
        c = self.means[rounds]
        if self.family == "linear":
            return np.einsum("nd,nd->n", c, x)
        if self.family == "quadratic":
            return 0.5 * np.sum((x - c) ** 2, axis=1) + self.noise_offset
        return np.sum((x - c) ** 2, axis=1) / (2 * self.dim) + self.noise_offset


def make_stream(family: str, T: int, d: int, rng: np.random.Generator, *, rho: float = 0.5,
                s0: float = 1.0, A0: float = 1.0, m: float = 0.0, path: str = "alternating",
                block: int = 64, omega: float = 0.01, radius: float = 1.0,
                tau: float = 0.1) -> SEAStream:
    """Draw a SEA stream of family G1 ("linear"), G2 ("quadratic") or G3 ("square").

    Parameters
    ----------
    family, T, d
        Family, horizon, dimension.
    rng
        The only source of randomness.
    rho
        Mixing in [0, 1]: noise s = (1 − ρ)s₀, mean path amplitude ρA₀.
    s0, A0, m
        Noise scale, path amplitude and constant mean offset (along e₁).
    path, block, omega
        Mean path kind and its block length / angular speed (see :func:`mean_path`).
    radius
        R, the radius of the feasible ball.
    tau
        Response noise of G3.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {rho}")
    for name, value in (("s0", s0), ("A0", A0), ("tau", tau)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if radius <= 0:
        raise ValueError(f"radius must be > 0, got {radius}")
    if T < 1 or d < 2:
        raise ValueError(f"need T >= 1 and d >= 2, got T={T}, d={d}")
    s = (1.0 - rho) * s0
    z = mean_path(path, T, d, rng, block=block, omega=omega)
    means = rho * A0 * z
    means[:, 0] += m
    mean_norm = np.linalg.norm(means, axis=1)
    step2 = np.sum(np.diff(means, axis=0) ** 2, axis=1)
    R = float(radius)
    if family == "square":
        a = sphere(rng, T, d)
        eps = rng.uniform(-tau * math.sqrt(3), tau * math.sqrt(3), size=T)
        b = np.einsum("td,td->t", a, means) + eps
        sigma2 = (R + mean_norm) ** 2 * (d - 1) / d**2 + tau**2
        Sigma2 = np.concatenate([[(R + mean_norm[0]) ** 2 / d**2], step2 / d**2])
        bound = R + float(mean_norm.max()) + tau * math.sqrt(3)
        return SEAStream(family, LossSequence("square", a, b), means, R, sigma2, Sigma2,
                         G=bound, L=1.0 / d, lam=1.0 / d, alpha=1.0 / bound**2,
                         noise_offset=tau**2 / 2)
    xi = sphere(rng, T, d, s) if s > 0 else np.zeros((T, d))
    sigma2 = np.full(T, s * s)
    if family == "linear":
        Sigma2 = np.concatenate([[mean_norm[0] ** 2], step2])
        return SEAStream(family, LossSequence("linear", means + xi), means, R, sigma2, Sigma2,
                         G=float(mean_norm.max()) + s, L=0.0, lam=0.0, alpha=0.0,
                         noise_offset=0.0)
    Sigma2 = np.concatenate([[(R + mean_norm[0]) ** 2], step2])
    return SEAStream(family, LossSequence("quadratic", means + xi), means, R, sigma2, Sigma2,
                     G=R + float(mean_norm.max()) + s, L=1.0, lam=1.0, alpha=0.0,
                     noise_offset=s * s / 2)
