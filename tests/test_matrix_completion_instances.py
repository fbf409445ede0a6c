"""Tests of sims.matrix_completion.instances: the generators, the Bernoulli sampler and the noise."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sims.matrix_completion import instances as mi
from theory import matrix_completion as th

SETTINGS = {"deadline": None, "derandomize": True}


def check_factors(inst: mi.Instance) -> None:
    m, n = inst.shape
    k = inst.k
    np.testing.assert_allclose(inst.U_star.T @ inst.U_star, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(inst.V_star.T @ inst.V_star, np.eye(k), atol=1e-12)
    assert np.all(np.diff(inst.sigma) <= 0) and np.all(inst.sigma > 0)
    assert inst.mu == pytest.approx(max(th.incoherence(inst.U_star), th.incoherence(inst.V_star)), rel=1e-14)
    assert 1 - 1e-12 <= inst.mu <= math.sqrt(max(m, n) / k) + 1e-12
    assert inst.kappa == pytest.approx(inst.sigma[0] / inst.sigma[-1])


# ---------------------------------------------------------------------------------------------
# generators


@settings(max_examples=15, **SETTINGS)
@given(m=st.integers(2, 70), n=st.integers(2, 70), k=st.integers(1, 6), kappa=st.floats(1, 100),
       spectrum=st.sampled_from(["linear", "geometric"]), basis=st.sampled_from(["gaussian", "hadamard", "fourier"]),
       seed=st.integers(0, 2**31))
def test_incoherent_instances(m: int, n: int, k: int, kappa: float, spectrum: str, basis: str, seed: int) -> None:
    k = min(k, m, n)
    if basis != "gaussian":
        k = min(k, 2 * ((min(m, n) - 1) // 2) + 1)
    inst = mi.incoherent(m, n, k, kappa, spectrum, basis, rng=seed)
    check_factors(inst)
    if k > 1:
        assert inst.kappa == pytest.approx(kappa)
        assert inst.sigma[0] == pytest.approx(kappa) and inst.sigma[-1] == pytest.approx(1.0)
    if basis != "gaussian":
        assert inst.mu == pytest.approx(1.0, abs=1e-12)
    again = mi.incoherent(m, n, k, kappa, spectrum, basis, rng=np.random.default_rng(seed))
    assert np.array_equal(again.U_star, inst.U_star) and np.array_equal(again.V_star, inst.V_star)


def test_default_instance_and_flat_bases() -> None:
    inst = mi.incoherent(rng=0)
    assert inst.shape == (400, 500) and inst.k == 5 and inst.kappa == pytest.approx(3.0)
    np.testing.assert_allclose(inst.sigma, [3.0, 2.5, 2.0, 1.5, 1.0])
    assert 1.3 < inst.mu < 3.5  # Gaussian bases: μ of order √log n, far from both ends of [1, 10]
    np.testing.assert_allclose(mi.incoherent(8, 8, 3, 4.0, "geometric", rng=0).sigma, [4.0, 2.0, 1.0])
    for shape in [(256, 512), (400, 500), (7, 9)]:
        flat = mi.incoherent(*shape, 3, basis="hadamard", rng=1)
        row_norms = np.linalg.norm(flat.U_star, axis=1)
        np.testing.assert_allclose(row_norms, math.sqrt(3 / shape[0]), rtol=1e-12)  # every row, not only the max
        assert flat.mu == pytest.approx(1.0, abs=1e-13)
    assert mi.incoherent(5, 6, 1, 7.0, rng=0).kappa == 1.0  # rank 1 has κ = 1


def test_generator_errors() -> None:
    with pytest.raises(ValueError, match="k must be ≤ min"):
        mi.incoherent(4, 5, 6, rng=0)
    with pytest.raises(ValueError, match="kappa must be ≥ 1"):
        mi.incoherent(rng=0, kappa=0.5)
    with pytest.raises(ValueError, match="spectrum"):
        mi.incoherent(rng=0, spectrum="flat")
    with pytest.raises(ValueError, match="basis"):
        mi.incoherent(rng=0, basis="dct")
    with pytest.raises(ValueError, match="flat basis"):
        mi.incoherent(6, 6, 6, basis="fourier", rng=0)
    with pytest.raises(TypeError, match="rng"):
        mi.incoherent(rng=None)
    with pytest.raises(ValueError, match="s must be ≤"):
        mi.coherence_dial(10, 12, 2, 1.0, 11, rng=0)


@pytest.mark.parametrize(("m", "n", "k", "spike"), [(40, 50, 3, 2.0), (50, 40, 4, 0.5), (30, 30, 1, 1.0)])
def test_spiky(m: int, n: int, k: int, spike: float) -> None:
    inst = mi.spiky(m, n, k, spike, rng=3)
    check_factors(inst)
    assert inst.mu == pytest.approx(math.sqrt(max(m, n) / k))
    assert th.incoherence(inst.U_star) == pytest.approx(math.sqrt(m / k))
    assert th.incoherence(inst.V_star) == pytest.approx(math.sqrt(n / k))
    M = inst.dense()
    M2 = M.copy()
    M2[0, 0] -= spike
    diff = np.argwhere(np.abs(M - M2) > 1e-14)
    assert diff.tolist() == [[0, 0]]  # M and M − σe₁e₁ᵀ differ only at (1, 1)
    assert np.abs(M[0, 1:]).max(initial=0) < 1e-15 and np.abs(M[1:, 0]).max(initial=0) < 1e-15
    assert np.linalg.matrix_rank(M2) == k - 1


def test_coherence_dial_tunes_mu() -> None:
    base = mi.coherence_dial(200, 300, 4, 0.0, 3, rng=5)
    ref = mi.incoherent(200, 300, 4, rng=5)
    assert np.array_equal(base.U_star, ref.U_star) and base.mu == ref.mu  # α = 0 is the Gaussian instance
    mus = [mi.coherence_dial(200, 300, 4, a, 3, rng=5).mu for a in (0.0, 3.0, 30.0, 300.0)]
    assert all(b > a for a, b in itertools.pairwise(mus))
    assert mus[-1] > 0.9 * math.sqrt(300 / 4)  # s = 3 < k rows: e₁, e₂, e₃ nearly inside the column space
    check_factors(mi.coherence_dial(200, 300, 4, 30.0, 3, rng=5))


def test_entries_equal_dense() -> None:
    inst = mi.incoherent(30, 40, 3, rng=2)
    M = inst.dense()
    rows, cols = mi.sample(inst.shape, 4, p=0.3)
    np.testing.assert_allclose(inst.entries(rows, cols), M[rows, cols], rtol=1e-13, atol=1e-15)
    assert inst.norm_fro == pytest.approx(np.linalg.norm(M))
    assert inst.entries(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).shape == (0,)
    with pytest.raises(ValueError, match="rows must lie"):
        inst.entries(np.array([30]), np.array([0]))
    with pytest.raises(TypeError, match="integer"):
        inst.entries(np.array([0.0]), np.array([0]))
    with pytest.raises(ValueError):
        inst.U_star[0, 0] = 1.0  # read-only
    e1 = np.zeros((6000, 1))
    e1[0] = 1.0
    big = mi.Instance.from_factors(e1, np.ones(1), e1)
    with pytest.raises(ValueError, match="DENSE_LIMIT"):
        big.dense()


# ---------------------------------------------------------------------------------------------
# sampling


@pytest.mark.parametrize(("shape", "p"), [((40, 50), 0.1), ((40, 50), 0.7), ((7, 3), 0.5)])
def test_sample_is_bernoulli(shape: tuple[int, int], p: float) -> None:
    m, n = shape
    N, seeds = m * n, 400
    counts = np.zeros(N)
    sizes = []
    for seed in range(seeds):
        rows, cols = mi.sample(shape, seed, p=p)
        lin = rows * n + cols
        assert rows.dtype == np.int64 and cols.dtype == np.int64
        assert np.all(np.diff(lin) > 0)  # sorted by row then column, distinct
        assert rows.min(initial=0) >= 0 and rows.max(initial=0) < m and cols.max(initial=0) < n
        counts[lin] += 1
        sizes.append(rows.size)
    sizes = np.array(sizes)
    # |Ω| ~ Binomial(mn, p): mean and variance within 5 standard errors
    assert abs(sizes.mean() - N * p) < 5 * math.sqrt(N * p * (1 - p) / seeds)
    assert sizes.var(ddof=1) == pytest.approx(N * p * (1 - p), rel=5 * math.sqrt(2 / seeds))
    # every position is included with probability p (binomial margin, Bonferroni over positions)
    z = stats.norm.isf(0.001 / N)
    assert np.all(np.abs(counts - seeds * p) < z * math.sqrt(seeds * p * (1 - p)))


def test_sample_ratio_large_and_edges() -> None:
    rows, _ = mi.sample((400, 500), 0, ratio=8, k=5)
    expected = 8 * 5 * 895
    assert abs(rows.size - expected) < 5 * math.sqrt(expected)
    big = mi.sample((100_000, 200_000), 1, p=2e-6)  # 2·10¹⁰ positions: no dense mask
    lin = big.rows * 200_000 + big.cols
    assert abs(big.rows.size - 40_000) < 5 * 200 and np.all(np.diff(lin) > 0)
    assert mi.sample((5, 6), 0, p=0.0).rows.size == 0
    full = mi.sample((5, 6), 0, p=1.0)
    assert full.rows.size == 30 and np.array_equal(full.rows * 6 + full.cols, np.arange(30))
    a, b = mi.sample((50, 60), 7, p=0.2), mi.sample((50, 60), np.random.default_rng(7), p=0.2)
    assert np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols)
    with pytest.raises(ValueError, match="exactly one"):
        mi.sample((5, 6), 0)
    with pytest.raises(ValueError, match="exactly one"):
        mi.sample((5, 6), 0, p=0.1, ratio=1.0, k=1)
    with pytest.raises(ValueError, match="k is required"):
        mi.sample((5, 6), 0, ratio=1.0)
    with pytest.raises(ValueError, match="p = r·k"):
        mi.sample((5, 6), 0, ratio=5.0, k=2)
    with pytest.raises(ValueError, match="p must be ≤ 1"):
        mi.sample((5, 6), 0, p=1.5)
    with pytest.raises(TypeError, match="shape"):
        mi.sample((5.0, 6), 0, p=0.1)


def test_add_noise() -> None:
    v = np.linspace(-1, 1, 20_000)
    noisy = mi.add_noise(v, 0.1, 3)
    assert np.std(noisy - v) == pytest.approx(0.1, rel=0.05) and abs(np.mean(noisy - v)) < 0.005
    assert np.array_equal(noisy, mi.add_noise(v, 0.1, np.random.default_rng(3)))
    same = mi.add_noise(v, 0.0, 3)
    assert np.array_equal(same, v) and same is not v
    with pytest.raises(ValueError, match="sigma"):
        mi.add_noise(v, -1.0, 0)
