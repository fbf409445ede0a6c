r"""Contextual learners for a scalar context c ∈ [low, low + width]: binned Tsallis-INF and ChebCB.

**Tsallis-INF-CB** (Algorithm 5). Split the context interval into m bins with centres
low + width(j − ½)/m, j = 1..m, and run an independent learner (anytime Tsallis-INF by default) in
each; c_t plays the learner of the nearest centre (contexts outside the interval are clipped). With d, m
∝ T^{1/4} its regret against the instance-optimal policy is O(T^{3/4}) (Theorem B.4).

**ChebCB** (Algorithms 3 and 7): SquareCB with Chebyshev regression. Features
φ(c) = (P_0(z), …, P_m(z)), z = 2(c − low)/width − 1 clipped to [−1, 1], P_j the Chebyshev polynomials of
the first kind (P_0 = 1, P_1 = z, P_{j+1} = 2zP_j − P_{j−1}). Each arm i keeps θ_i, the box-constrained
least-squares fit to its observed pairs (φ(c_s), ℓ_s/(KN)):

    θ_i = argmin { Σ_{s: i_s = i} (⟨θ, φ(c_s)⟩ − ℓ_s/(KN))² : |θ_0| ≤ 1/N, |θ_j| ≤ 2·width·L_c/(KNj) },
    N = 2 + (4·width·L_c/K)·H,   H = 1 + log m  (m ≥ 1),  H = 0  (m = 0).

The boxes encode the Chebyshev coefficients of an L_c-Lipschitz cost; since Σ_{j=1}^m 1/j ≤ 1 + log m,
they bound |⟨θ, φ⟩| ≤ (1 + (2·width·L_c/K)H)/N = ½, while targets lie in [0, 1/N] ⊂ [0, ½]. (The spec's
N uses 1 + log m for every m; at m = 0 that is −∞, and the sum it bounds is empty, so H = 0 there.)
With ŝ_i = ⟨θ_i, φ(c_t)⟩ and i* = argmin_i ŝ_i, the inverse-gap weighting

    p_i = 1/(d + η(ŝ_i − ŝ_{i*}))  (i ≠ i*),   p_{i*} = 1 − Σ_{i≠i*} p_i ≥ 1/d.

*Refits.* Instead of refitting on all past data, each arm keeps G_i = ΦᵀΦ and b_i = Φᵀy. With
G_i + λI = RᵀR (Cholesky, λ a tiny ridge), ‖Rθ − R⁻ᵀb_i‖² = ‖Φθ − y‖² + λ‖θ‖² − ‖y‖² + const, so the box
problem is solved as a (m+1)×(m+1) least-squares problem; when the unconstrained solution already lies
in the box it is the answer and `scipy.optimize.lsq_linear` is not called. Only the arm just played is
refitted.

*Learning rate.* Theorem C.4: η = 2√(dT/(R_T + 2α_m²T)) with R_T the regret of the online regression
oracle and α_m the approximation error of degree-m Chebyshev regression (in the 1/(KN) units); used
when ``oracle_regret`` (and ``horizon``) are given. Otherwise the authors' code's schedule
(``learners/ChebCB.m``): η_1 = 0 and η_{t+1} = 2t·√(dt/(R̂_t + 2α_m²t)), growing about linearly in t,
where R̂_t = Σ_{s≤t}(ŝ_{i_s}(c_s) − ℓ_s/(KN))² is the squared error of the predictions made for the
arms played, and α_m = (π + (2/π)log(2m + 1))·width·L_c/(2KN(m+1)) is the code's expression (there m
counts the features, m + 1 here; we use the degree, as in the spec's N). Unlike the
code we keep K and L_c fixed (given), not the running maximum cost and a running Lipschitz estimate,
and we drop its subtraction of the last ``lsqlin`` residual norm from R̂_t.

References
----------
Khodak, Chow, Balcan, Talwalkar, "Learning to Relax", ICLR 2024, arXiv:2310.02246, Algorithms 3, 5, 7,
Theorems B.4, C.4, 3.2. D. Foster, A. Rakhlin, "Beyond UCB", ICML 2020, arXiv:2002.04926 (SquareCB).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np
from scipy.optimize import lsq_linear

from solvers._checks import check_int, check_positive, check_real
from solvers.bandits._common import Learner, as_generator, check_context
from solvers.bandits.tsallis import TsallisINF

__all__ = ["BinnedContextual", "ChebCB", "box_least_squares", "chebyshev_features"]


class BinnedContextual:
    r"""Tsallis-INF-CB (Algorithm 5): one bandit learner per context bin.

    Parameters
    ----------
    n_bins
        Number of bins m >= 1 on [low, low + width]; bin j (0-based) has centre low + width(j + ½)/m.
    low, width
        The context interval [low, low + width], width > 0. Contexts outside are clipped to it.
    make_learner
        ``make_learner(rng) -> learner``: builds the learner of one bin from a Generator; every learner
        must have the same ``n_arms`` and ``K``. Default: anytime :class:`TsallisINF` (needs ``n_arms``
        and ``K``).
    n_arms, K
        Arms and loss range of the default learners (checked against ``make_learner``'s when given).
    rng
        Generator or seed from which one independent stream per bin is spawned.

    Notes
    -----
    A context exactly midway between two centres goes to the lower bin, as ``min(abs(centres − c))``
    does in the authors' code.

    References
    ----------
    Khodak et al., ICLR 2024, arXiv:2310.02246, Algorithm 5 and Theorem B.4.
    """

    contextual = True

    def __init__(self, n_bins: int, low: float, width: float, make_learner: Callable | None = None, *,
                 n_arms: int | None = None, K: float | None = None,
                 rng: np.random.Generator | int | None = None) -> None:
        self.n_bins = check_int("n_bins", n_bins, 1)
        self.low = check_real("low", low)
        self.width = check_positive("width", width)
        if n_arms is not None:
            n_arms = check_int("n_arms", n_arms, 1)
        if K is not None:
            K = check_positive("K", K)
        if make_learner is None:
            if n_arms is None or K is None:
                raise ValueError("n_arms and K are required when make_learner is None (default: anytime TsallisINF)")
            make_learner = _AnytimeTsallis(n_arms, K)
        elif not callable(make_learner):
            raise TypeError(f"make_learner must be callable (rng -> learner), got {type(make_learner).__name__}")
        self.make_learner = make_learner
        self._expected = (n_arms, K)
        self.centers = self.low + self.width * (np.arange(self.n_bins) + 0.5) / self.n_bins
        self._build(as_generator(rng))

    def _build(self, rng: np.random.Generator) -> None:
        self.learners = [self.make_learner(g) for g in rng.spawn(self.n_bins)]
        arms = {int(lr.n_arms) for lr in self.learners}
        ks = {float(lr.K) for lr in self.learners}
        if len(arms) != 1 or len(ks) != 1:
            raise ValueError(f"make_learner must build learners with one n_arms and one K, got {arms} and {ks}")
        self.n_arms, self.K = arms.pop(), ks.pop()
        n_arms, K = self._expected
        if n_arms is not None and n_arms != self.n_arms:
            raise ValueError(f"n_arms = {n_arms} but make_learner builds learners with {self.n_arms} arms")
        if K is not None and K != self.K:
            raise ValueError(f"K = {K} but make_learner builds learners with K = {self.K}")
        self.t = 1
        self.last_arm: int | None = None
        self.last_bin: int | None = None
        self.last_probabilities: np.ndarray | None = None
        self.last_context: float | None = None

    def reset(self, rng: np.random.Generator | int | None = None) -> None:
        """Reset every bin's learner (to its construction-time stream, or new streams spawned from ``rng``)."""
        if rng is not None:
            self._build(as_generator(rng))
            return
        for learner in self.learners:
            learner.reset()
        self._build_counters()

    def _build_counters(self) -> None:
        self.t, self.last_arm, self.last_bin, self.last_probabilities, self.last_context = 1, None, None, None, None

    def bin_of(self, context):
        """The bin index (0-based) of the nearest centre to each context; an int for a scalar."""
        u = (np.asarray(context, dtype=float) - self.low) * (self.n_bins / self.width)
        j = np.clip(np.ceil(u) - 1, 0, self.n_bins - 1).astype(np.int64)
        return int(j) if j.ndim == 0 else j

    def select(self, context: float | None = None) -> int:
        """Play the learner of the context's bin."""
        context = check_context(context, required=True)
        j = self.bin_of(context)
        learner = self.learners[j]
        arm = int(learner.select())
        self.last_bin, self.last_arm, self.last_context = j, arm, context
        self.last_probabilities = learner.last_probabilities
        return arm

    def update(self, arm: int, loss: float, context: float | None = None) -> None:
        """Update the learner of the bin chosen by the last :meth:`select`."""
        if self.last_bin is None:
            raise RuntimeError("update must follow a select (one update per select): no pending draw")
        self.learners[self.last_bin].update(arm, loss)
        self.last_bin = None
        self.t += 1

    def probabilities(self, context: float | None = None) -> np.ndarray:
        """The distribution of the learner of ``context``'s bin."""
        return self.learners[self.bin_of(check_context(context, required=True))].probabilities()

    def __repr__(self) -> str:
        return (f"BinnedContextual(n_bins={self.n_bins}, low={self.low}, width={self.width}, "
                f"learner={self.learners[0]!r})")


class _AnytimeTsallis:
    """The default bin learner (a picklable factory, unlike a lambda)."""

    def __init__(self, n_arms: int, K: float) -> None:
        self.n_arms, self.K = n_arms, K

    def __call__(self, rng: np.random.Generator) -> TsallisINF:
        return TsallisINF(self.n_arms, self.K, rng=rng)


@numba.njit(cache=True)
def _cheb_kernel(z, out):
    out[0] = 1.0
    if out.shape[0] > 1:
        out[1] = z
    for j in range(2, out.shape[0]):
        out[j] = 2.0 * z * out[j - 1] - out[j - 2]


def chebyshev_features(context: float, degree: int, low: float, width: float) -> np.ndarray:
    """φ(c) = (P_0(z), …, P_m(z)) with z = 2(c − low)/width − 1 clipped to [−1, 1] (first-kind Chebyshev)."""
    degree = check_int("degree", degree, 0)
    width = check_positive("width", width)
    c = check_context(context, required=True)
    z = min(max(2.0 * (c - check_real("low", low)) / width - 1.0, -1.0), 1.0)
    out = np.empty(degree + 1)
    _cheb_kernel(z, out)
    return out


def box_least_squares(gram: np.ndarray, rhs: np.ndarray, bound: np.ndarray, *,
                      ridge: float | None = None) -> np.ndarray:
    r"""argmin_{|θ| ≤ bound} ‖Φθ − y‖² + λ‖θ‖², from G = ΦᵀΦ and b = Φᵀy only.

    With G + λI = RᵀR, the objective is ‖Rθ − R⁻ᵀb‖² up to a constant, a square problem. If the
    unconstrained minimiser (G + λI)⁻¹b lies in the box it is returned; otherwise
    ``scipy.optimize.lsq_linear`` solves the square problem (coordinates with bound 0 are fixed at 0).

    Parameters
    ----------
    gram
        G = ΦᵀΦ, shape (p, p), symmetric positive semi-definite.
    rhs
        b = Φᵀy, shape (p,).
    bound
        Box half-widths, shape (p,), >= 0.
    ridge
        λ > 0; default 1e-10·(1 + tr G/p), small enough not to move a well-posed fit and large enough to
        make G + λI factorable when an arm has fewer observations than features.
    """
    p = rhs.shape[0]
    lam = 1e-10 * (1.0 + np.trace(gram) / p) if ridge is None else ridge
    chol = np.linalg.cholesky(gram + lam * np.eye(p))  # lower: G + λI = chol cholᵀ, R = cholᵀ
    z = np.linalg.solve(chol, rhs)  # R⁻ᵀ b
    theta = np.linalg.solve(chol.T, z)
    if np.all(np.abs(theta) <= bound):
        return theta
    free = bound > 0
    theta = np.zeros(p)
    if np.any(free):
        R = chol.T[:, free]
        res = lsq_linear(R, z, bounds=(-bound[free], bound[free]), method="bvls", tol=1e-12)
        theta[free] = np.clip(res.x, -bound[free], bound[free])
    return theta


class ChebCB(Learner):
    r"""ChebCB: SquareCB with box-constrained Chebyshev regression per arm (Algorithms 3 and 7).

    Parameters
    ----------
    n_arms
        Number of arms d >= 1.
    degree
        Chebyshev degree m >= 0 (m + 1 features).
    low, width
        Context interval [low, low + width], width > 0; contexts outside are clipped.
    K
        Losses lie in [0, K], K > 0.
    lipschitz
        L_c >= 0, the Lipschitz constant of each arm's loss in the context (sets N and the boxes).
    eta
        A fixed inverse-gap rate η > 0 (excludes ``oracle_regret``).
    horizon, oracle_regret, approx_error
        Theorem C.4's η = 2√(dT/(R_T + 2α_m²T)) from T = ``horizon``, R_T = ``oracle_regret`` >= 0 and
        α_m = ``approx_error`` >= 0 (default: the code's expression, module docstring). ``horizon`` is
        only used with ``oracle_regret``. With neither ``eta`` nor ``oracle_regret``: the code's growing
        η_t.
    rng
        Generator or integer seed of the arm draws.

    References
    ----------
    Khodak et al., ICLR 2024, arXiv:2310.02246, Algorithms 3, 7 and Theorem C.4; Foster & Rakhlin,
    arXiv:2002.04926.
    """

    contextual = True

    def __init__(self, n_arms: int, degree: int, low: float, width: float, K: float, *, lipschitz: float,
                 eta: float | None = None, horizon: int | None = None, oracle_regret: float | None = None,
                 approx_error: float | None = None, rng: np.random.Generator | int | None = None) -> None:
        n_arms = check_int("n_arms", n_arms, 1)
        self.degree = check_int("degree", degree, 0)
        self.low = check_real("low", low)
        self.width = check_positive("width", width)
        K = check_positive("K", K)
        self.lipschitz = check_positive("lipschitz", lipschitz, allow_zero=True)
        m, scale = self.degree, self.width * self.lipschitz / K
        self.N = 2.0 + 4.0 * scale * ((1.0 + math.log(m)) if m >= 1 else 0.0)
        self.bound = np.concatenate(([1.0 / self.N], 2.0 * scale / (self.N * np.arange(1, m + 1))))
        self.approx_error = ((math.pi + 2.0 / math.pi * math.log(2 * m + 1)) * scale / (2.0 * self.N * (m + 1))
                             if approx_error is None else check_positive("approx_error", approx_error, allow_zero=True))
        self.horizon = None if horizon is None else check_int("horizon", horizon, 1)
        self.oracle_regret = None if oracle_regret is None else check_positive("oracle_regret", oracle_regret,
                                                                                allow_zero=True)
        if (self.horizon is None) != (self.oracle_regret is None):
            missing = "horizon" if self.horizon is None else "oracle_regret"
            raise ValueError(f"{missing} is required: horizon and oracle_regret set Theorem C.4's η together "
                             "(give both or neither)")
        if eta is not None:
            if oracle_regret is not None:
                raise ValueError("eta must be None when oracle_regret is given (Theorem C.4 sets η)")
            self.schedule, self._eta = "fixed", check_positive("eta", eta)
        elif self.oracle_regret is not None:
            self.schedule = "theorem C.4"
            self._eta = self._inverse_gap_rate(n_arms, self.horizon, self.oracle_regret)
        else:
            self.schedule, self._eta = "code", 0.0
        super().__init__(n_arms, K, rng)

    def _inverse_gap_rate(self, d: int, t: float, regret: float) -> float:
        denom = regret + 2.0 * self.approx_error ** 2 * t
        return 2.0 * math.sqrt(d * t / denom) if denom > 0 else math.inf

    @property
    def eta(self) -> float:
        """The inverse-gap rate η of the current round."""
        return self._eta

    def features(self, context: float) -> np.ndarray:
        """φ(c), shape (degree + 1,)."""
        z = min(max(2.0 * (context - self.low) / self.width - 1.0, -1.0), 1.0)
        out = np.empty(self.degree + 1)
        _cheb_kernel(z, out)
        return out

    def predict(self, context: float) -> np.ndarray:
        """Each arm's predicted loss at ``context``, K·N·⟨θ_i, φ(c)⟩ (in loss units), shape (n_arms,)."""
        c = check_context(context, required=True)
        return self.K * self.N * (self.theta @ self.features(c))

    def _reset_state(self) -> None:
        d, p = self.n_arms, self.degree + 1
        self.theta = np.zeros((d, p))
        self._gram = np.zeros((d, p, p))
        self._rhs = np.zeros((d, p))
        self.counts = np.zeros(d, dtype=np.int64)
        self.squared_error = 0.0  # R̂_t
        if self.schedule == "code":
            self._eta = 0.0

    def _distribution(self, context: float | None) -> np.ndarray:
        s_hat = self.theta @ self.features(context)
        d = self.n_arms
        best = int(np.argmin(s_hat))
        gap = s_hat - s_hat[best]
        with np.errstate(invalid="ignore"):  # η = ∞ with a zero gap: that arm gets 1/d below
            p = np.where(gap > 0, 1.0 / (d + self._eta * gap), 1.0 / d)
        p[best] = 0.0
        p[best] = 1.0 - p.sum()
        return p

    def _learn(self, arm: int, loss: float, p: np.ndarray) -> None:
        phi = self.features(self.last_context)
        y = loss / (self.K * self.N)
        self.squared_error += (self.theta[arm] @ phi - y) ** 2
        self._gram[arm] += np.outer(phi, phi)
        self._rhs[arm] += y * phi
        self.counts[arm] += 1
        self.theta[arm] = box_least_squares(self._gram[arm], self._rhs[arm], self.bound)
        if self.schedule == "code":
            t = self.t
            self._eta = t * self._inverse_gap_rate(self.n_arms, t, self.squared_error)

    def __repr__(self) -> str:
        return (f"ChebCB(n_arms={self.n_arms}, degree={self.degree}, low={self.low}, width={self.width}, "
                f"K={self.K}, lipschitz={self.lipschitz}, schedule={self.schedule!r})")
