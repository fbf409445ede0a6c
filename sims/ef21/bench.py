r"""Benchmarks of the EF21 round (``boundlab bench --topic ef21``); n = 1000 clients, d = 1000, Top1.

- ``round_update_n1000_d1000_top1``: the fused EF21 update (compression and state update for every
  client, everything but the gradient oracle: one numba pass over the (n, d) rows) against
  ``update_per_client``, the per-client Python loop, on the same gradients. Target: speed-up ≥ 20.
- ``round_full_n1000_d1000_N20_top1``: one whole EF21 round on a :class:`LogisticProblem` with N_i = 20
  samples per client (server step, ``problem.client_grads`` at the new point, fused update) against
  ``problem.client_grads`` alone, the batched matrix products that any round must do (the floor).
  Target: the round costs at most twice the gradients, i.e. speed-up (reference/candidate) ≥ 0.5.

The framework reports speed-up = reference median / candidate median against each target.
"""

from __future__ import annotations

import numpy as np

import solvers.ef21 as se
from sims.bench import Pair, register_benchmark
from sims.ef21.problems import LogisticProblem, synthetic_classification

__all__ = ["DIM", "N_CLIENTS", "N_SAMPLES", "bench_problem", "full_round_pair", "update_pair"]

N_CLIENTS, DIM, N_SAMPLES = 1000, 1000, 20


def bench_problem(n: int = N_CLIENTS, d: int = DIM, N: int = N_SAMPLES, seed: int = 0,
                  lam: float = 0.1) -> LogisticProblem:
    """A synthetic :class:`LogisticProblem` with n equal clients of N rows each.

    Built directly from the padded arrays: L_i = λ_max(A_iA_iᵀ)/(4N) + 2λ from the N × N Gram matrices
    (the same eigenvalue as λ_max(A_iᵀA_i), without n d × d matrices: 8 GB at n = d = 1000) and
    L = λ_max(AᵀA)/(4nN) + 2λ from the stacked rows.
    """
    rng = np.random.default_rng(seed)
    X, y = synthetic_classification(n * N, d, rng)
    A = X.reshape(n, N, d)
    gram = np.linalg.eigvalsh(np.matmul(A, A.transpose(0, 2, 1)))[:, -1]
    L_i = gram / (4.0 * N) + 2.0 * lam
    L = float(np.linalg.eigvalsh(X.T @ X)[-1] / (4.0 * n * N) + 2.0 * lam)
    return LogisticProblem(A=A, y=y.reshape(n, N), weights=np.full((n, N), 1.0 / N), lam=lam, smoothness=L_i,
                           L=L, counts=np.full(n, N, dtype=np.int64))


def _theory_gamma(problem: LogisticProblem, k: int) -> float:
    from theory import ef21 as th

    return float(th.step_qm(problem.L, problem.L_QM, k / problem.dim))


def update_pair(n: int = N_CLIENTS, d: int = DIM, k: int = 1, seed: int = 0) -> tuple[Pair, dict]:
    """(candidate, reference) each advancing its own copy of one EF21 state with the same gradients, and
    the mutable states {"fused", "loop"} so a test can compare them after equal numbers of calls."""
    rng = np.random.default_rng(seed)
    method = se.ef21(se.TopK(k))
    state = method.init(rng.standard_normal((n, d)))
    grads = rng.standard_normal((n, d))
    box = {"fused": se.copy_state(state), "loop": se.copy_state(state)}

    def fused() -> None:
        box["fused"] = method.update(box["fused"], grads)

    def loop() -> None:
        box["loop"] = method.update_per_client(box["loop"], grads)

    return (fused, loop), box


def full_round_pair(problem: LogisticProblem, k: int = 1, seed: int = 0) -> tuple[Pair, dict]:
    """(candidate, reference): one EF21 round at γ_QM from x^t (server step, client gradients at x^{t+1},
    fused update; x^t ← x^{t+1}), and ``problem.client_grads`` at the current x alone. Returns the pair
    and the mutable round state {"x", "state"}."""
    rng = np.random.default_rng(seed)
    method = se.ef21(se.TopK(k))
    gamma = _theory_gamma(problem, k)
    x = rng.standard_normal(problem.dim)
    box = {"x": x, "state": method.init(problem.client_grads(x))}

    def one_round() -> None:
        x_new = box["x"] - method.direction(box["state"], gamma)
        box["state"] = method.update(box["state"], problem.client_grads(x_new))
        box["x"] = x_new

    return (one_round, lambda: problem.client_grads(box["x"])), box


@register_benchmark("ef21", "round_update_n1000_d1000_top1", candidate="fused EF21 update (numba, all clients)",
                    reference="update_per_client, the per-client Python loop", target=20)
def _update() -> Pair:
    return update_pair()[0]


@register_benchmark("ef21", "round_full_n1000_d1000_N20_top1",
                    candidate="one EF21 round: server step + client_grads + fused update",
                    reference="problem.client_grads alone, the floor (speed-up ≥ 0.5: within 2x)", target=0.5)
def _full_round() -> Pair:
    return full_round_pair(bench_problem())[0]
