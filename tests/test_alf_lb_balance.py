"""Tests of the ALF-LB balance simulations: streams, arms, metrics, experiments and the batch-floor check.

Spec ``alf_lb.md`` §5 (domain-clustered streams, F2, F4–F6), §7 (a bias that is never updated,
MaxText #2494) and claim 11 (``alf_lb.batch_floor``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sims.alf_lb import balance as bal
from sims.alf_lb.checks_balance import BAND, check_batch_floor
from sims.alf_lb.metrics import maxvio
from sims.alf_lb.streams import domain_clustered, popularity_path, preferred_experts
from sims.checks import CheckContext
from solvers.alf_lb import aux_balance_loss, route, run_online, sign_rule

#: Small configs: every experiment runs in well under a second on them.
SMALL = {"E": 8, "K": 2, "batch": 256, "steps": 60, "held_out": 4096, "lp_tokens": 64, "lp_batches": 1,
         "eval_points": 4, "quality_points": 2}
SMALL_DOMAIN = {"stream": "domain", "D": 4, "E": 8, "K": 2, "seq_len": 32, "seqs_per_micro": 2, "micros": 4,
                "spread": 0.5, "held_out": 4096, "lp_tokens": 64, "lp_batches": 2}


# ---------------------------------------------------------------------------------------------
# streams


def test_domain_clustered_shapes_domains_and_micro_batches() -> None:
    rng = np.random.default_rng(0)
    a = np.linspace(-1, 1, 8)
    d = domain_clustered(3, rng, D=4, E=8, K=2, seq_len=16, seqs_per_micro=2, micros=3, boost=5.0, a=a)
    m = 3 * 2 * 16
    assert d.scores.shape == (3, m, 8) and d.domain.shape == (3, m) and d.micro.shape == (m,)
    assert np.array_equal(d.micro, np.repeat(np.arange(3), 32))
    seqs = d.domain.reshape(3, 6, 16)
    assert np.all(seqs == seqs[:, :, :1])  # one domain per sequence
    assert d.domain.min() >= 0 and d.domain.max() < 4
    assert np.array_equal(d.preferred, preferred_experts(4, 8)) and d.preferred.sum(axis=1).tolist() == [2] * 4
    noise = d.scores - a - 5.0 * d.preferred[d.domain]
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"D": 3}, "D must divide E"), ({"K": 9}, "K must satisfy"), ({"boost": -1.0}, "boost"),
    ({"a": np.zeros(3)}, "a must be"), ({"seq_len": 0}, "seq_len"), ({"noise": "cauchy"}, "noise"),
])
def test_domain_clustered_rejects_bad_input(kwargs: dict, match: str) -> None:
    args = {"D": 4, "E": 8, "K": 2, "seq_len": 4, "seqs_per_micro": 1, "micros": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        domain_clustered(1, np.random.default_rng(0), **args)


def test_popularity_path_continues_a_walk() -> None:
    a0 = np.arange(4.0)
    assert np.array_equal(popularity_path(a0, 3, np.random.default_rng(0)), np.tile(a0, (3, 1)))
    whole = popularity_path(a0, 6, np.random.default_rng(1), tau=0.1)
    rng = np.random.default_rng(1)
    first = popularity_path(a0, 3, rng, tau=0.1)
    assert np.allclose(np.concatenate([first, popularity_path(first[-1], 3, rng, tau=0.1)]), whole)
    with pytest.raises(ValueError, match="tau"):
        popularity_path(a0, 3, rng, tau=-1.0)


def test_stream_chunks_are_reproducible_and_domain_scores_match() -> None:
    stream = bal.make_stream(bal.STREAM_DEFAULTS | SMALL_DOMAIN | {"steps": 5}, np.random.default_rng(3))
    parts = list(stream.chunks(max_entries=2 * stream.n * stream.E))
    assert [t0 for t0, _, _ in parts] == [0, 2, 4]
    scores = np.concatenate([p[1] for p in parts])
    domains = np.concatenate([p[2] for p in parts])
    again = list(stream.chunks(max_entries=2 * stream.n * stream.E))
    assert np.array_equal(scores, np.concatenate([p[1] for p in again]))
    noise = scores - stream.popularity[:, None, :] - stream.offsets[domains]
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05


# ---------------------------------------------------------------------------------------------
# arms


def _small_stream(seed: int = 0, **kw) -> bal.ScoreStream:
    return bal.popularity_stream(8, 2, 256, kw.pop("steps", 40), np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("arm", [
    bal.ArmConfig("vanilla"), bal.ArmConfig("alf_lb"), bal.ArmConfig("alf_lb", counting="micro"),
    bal.ArmConfig("alf_lb", rule="gradient", eta=0.5), bal.ArmConfig("alf_lb", rule="gradient", eta=5.0,
                                                                       schedule="inverse_t"),
    bal.ArmConfig("aux", alpha=1e-2),
    bal.ArmConfig("aux", alpha=1e-2, counting="micro"),
])
def test_arms_conserve_tokens_and_are_reproducible(arm: bal.ArmConfig) -> None:
    stream = _small_stream(micros=4)
    run = bal.simulate(stream, arm)
    assert run.loads.shape == (40, 8) and run.micro_loads.shape == (40, 4, 8)
    assert np.all(run.loads.sum(axis=1) == 2 * 256) and np.all(run.micro_loads.sum(axis=2) == 2 * 64)
    assert np.array_equal(run.micro_loads.sum(axis=1), run.loads)
    again = bal.simulate(_small_stream(micros=4), arm)
    assert np.array_equal(run.loads, again.loads) and np.array_equal(run.offsets, again.offsets)
    other = bal.simulate(_small_stream(seed=1, micros=4), arm)
    assert not np.array_equal(run.loads, other.loads)


def test_alf_lb_matches_run_online_and_routes_with_the_previous_bias() -> None:
    stream = _small_stream(steps=10)
    run = bal.simulate(stream, bal.ArmConfig("alf_lb", u=1e-2))
    scores = np.concatenate([c[1] for c in stream.chunks()])
    ref = run_online(sign_rule(8, 1e-2), scores, 2)
    assert np.array_equal(run.loads, ref.loads)
    assert np.array_equal(run.offsets[:-1, 0], ref.biases[1:])  # the offset after step t routes step t + 1
    assert np.array_equal(run.offsets[-1, 0], ref.state.bias)


def test_the_bias_moves_after_an_imbalanced_step() -> None:
    """MaxText #2494: a bias declared but never updated. One skewed step must move it against the load."""
    stream = _small_stream(steps=1, spread=2.0)
    for arm in (bal.ArmConfig("alf_lb", u=1e-3), bal.ArmConfig("alf_lb", counting="micro"),
                bal.ArmConfig("alf_lb", rule="gradient"), bal.ArmConfig("aux", alpha=1e-2, lr=1e-2)):
        run = bal.simulate(stream, arm)
        assert maxvio(run.loads[0], 2) > 0.5
        offset = run.offsets[0].mean(axis=0)
        assert np.any(offset != 0), arm.label
        hot, cold = int(np.argmax(run.loads[0])), int(np.argmin(run.loads[0]))
        assert offset[hot] < 0 < offset[cold] or offset[hot] < offset[cold], arm.label


def test_aux_without_the_loss_is_vanilla() -> None:
    stream = _small_stream()
    aux = bal.simulate(stream, bal.ArmConfig("aux", alpha=0.0))
    vanilla = bal.simulate(stream, bal.ArmConfig("vanilla"))
    assert np.array_equal(aux.loads, vanilla.loads) and not np.any(aux.offsets)


def test_aux_objective_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    n, E, D, K = 48, 6, 3, 2
    scores = rng.standard_normal((n, E))
    theta = 0.3 * rng.standard_normal((D, E))
    domain = rng.integers(0, D, n)
    micro = np.repeat(np.arange(4), n // 4)
    experts = route(scores + theta[domain], K).experts
    for counting in ("micro", "global"):
        value, grad = bal.aux_objective(scores, theta, domain, experts, micro, 0.1, 0.05, counting)
        fd = np.empty_like(theta)
        h = 1e-6
        for d in range(D):
            for i in range(E):
                step = np.zeros_like(theta)
                step[d, i] = h
                fd[d, i] = (bal.aux_objective(scores, theta + step, domain, experts, micro, 0.1, 0.05, counting)[0]
                            - bal.aux_objective(scores, theta - step, domain, experts, micro, 0.1, 0.05,
                                                counting)[0]) / (2 * h)
        assert np.allclose(grad, fd, rtol=1e-5, atol=1e-9)
        bal_only = aux_balance_loss(scores + theta[domain], experts, 0.1, groups=micro, counting=counting).value
        assert value >= bal_only  # the KL term is non-negative


def test_arm_config_and_stream_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="arm must be"):
        bal.ArmConfig("expert_choice")
    with pytest.raises(ValueError, match="counting"):
        bal.ArmConfig(counting="rank")
    with pytest.raises(ValueError, match="alpha"):
        bal.ArmConfig(alpha=-1.0)
    with pytest.raises(ValueError, match="schedule"):
        bal.ArmConfig(schedule="cosine")
    with pytest.raises(ValueError, match="noise"):
        bal.popularity_stream(8, 2, 100, 5, np.random.default_rng(0), noise="cauchy")
    with pytest.raises(ValueError, match="micros must divide"):
        bal.popularity_stream(8, 2, 100, 5, np.random.default_rng(0), micros=3)
    with pytest.raises(ValueError, match="stream must be"):
        bal.make_stream(bal.STREAM_DEFAULTS | {"stream": "zipf", "steps": 3}, np.random.default_rng(0))
    with pytest.raises(TypeError, match="ArmConfig"):
        bal.simulate(_small_stream(), "alf_lb")
    with pytest.raises(ValueError, match="lp_tokens"):
        bal.stream_balance_experiment(bal.STREAM_BALANCE_DEFAULTS | SMALL | {"lp_tokens": 63},
                                      np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------
# metrics and experiments


def test_eval_steps_quality_and_entropy() -> None:
    cps = bal.eval_steps(100, 4)
    assert cps[0] == 1 and cps[-1] == 100 and 50 in cps and np.all(np.diff(cps) > 0)
    assert np.isclose(bal.usage_entropy(np.ones(8)), math.log(8)) and bal.usage_entropy([0, 5, 0]) == 0
    stream = _small_stream(steps=2)
    held = bal.held_out(stream, 128, np.random.default_rng(0))
    zero = np.zeros((2, 1, 8))
    assert np.allclose(bal.quality(stream, held, [0, 1], zero, batch=64), 1.0)
    # the LP's own bias reaches the LP value up to its ties: quality ≈ 0
    lp = bal.solve_assignment_lp(stream.popularity[0] + held.noise[:64], 2)
    q = bal.quality(stream, bal.HeldOut(held.noise[:64], held.domain[:64]), [0], lp.bias[None, None, :])
    assert abs(q[0]) < 0.2


def test_stream_balance_alf_lb_lowers_maxvio_global_on_a_skewed_stream() -> None:
    config = bal.STREAM_BALANCE_DEFAULTS | SMALL | {"steps": 150, "u": 2e-2, "spread": 1.5}
    rng = np.random.default_rng
    alf = bal.stream_balance_experiment(config, rng(7))
    vanilla = bal.stream_balance_experiment(config | {"arm": "vanilla"}, rng(7))
    assert list(alf.columns[:3]) == ["label", "n_tokens", "step"]
    assert alf["step"].iloc[-1] == 150 and alf["window"].sum() == 150
    assert vanilla["maxvio_global"].iloc[-1] > 1.0
    assert alf["maxvio_global"].iloc[-1] < 0.25 * vanilla["maxvio_global"].iloc[-1]
    assert alf["maxvio_batch"].iloc[-1] < vanilla["maxvio_batch"].iloc[-1]
    assert alf["quality"].notna().sum() == 2 and np.isclose(vanilla["quality"].dropna(), 1.0).all()
    pd.testing.assert_frame_equal(alf, bal.stream_balance_experiment(config, rng(7)))


def test_batch_size_alf_lb_keeps_falling_while_aux_plateaus() -> None:
    config = bal.BATCH_SIZE_DEFAULTS | {"E": 8, "batch": 1024, "steps": 150, "rule": "gradient", "eta": 0.2,
                                        "lr": 2e-2, "sizes": [512, 2048, 8192, 32768], "pool": 2**16}
    df = bal.batch_size_experiment(config, np.random.default_rng(0))
    alf, aux = (df[df["arm"] == a].set_index("n_tokens") for a in ("alf_lb", "aux"))
    assert list(alf.index) == [512, 2048, 8192, 32768] and alf["batches"].tolist() == [128, 32, 8, 2]
    assert np.all(np.diff(alf["maxvio"]) < 0)
    # at the sampling floor while it dominates the bias error of a short run (wider than the check's band)
    ratio = alf["maxvio"] / alf["floor"]
    assert ratio.loc[:8192].between(0.6, 1.6).all()
    assert aux.loc[32768, "maxvio"] > 0.6 * aux.loc[512, "maxvio"]  # aux: a plateau at its global imbalance
    assert alf.loc[32768, "maxvio"] < 0.5 * aux.loc[32768, "maxvio"]


def test_tradeoff_rows() -> None:
    config = bal.TRADEOFF_DEFAULTS | SMALL | {"steps": 80, "alphas": [0.0, 1e-1], "us": [1e-2]}
    df = bal.tradeoff_experiment(config, np.random.default_rng(0))
    assert df[["arm", "param", "value"]].values.tolist() == [["aux", "alpha", 0.0], ["aux", "alpha", 0.1],
                                                             ["alf_lb", "u", 0.01]]
    assert df["quality"].iloc[0] == 1.0
    assert (df["maxvio_global"].iloc[1:] < df["maxvio_global"].iloc[0]).all()


def test_global_counting_specialises_more_than_micro_for_the_aux_loss() -> None:
    """Qiu et al.: the aux loss counted per micro-batch undoes domain specialisation more than global counting.

    ALF-LB's bias is shared by all domains: its specialisation is the vanilla one under both countings.
    """
    config = bal.SPECIALISATION_DEFAULTS | SMALL_DOMAIN | {"steps": 250, "lr": 1e-2, "u": 1e-2}
    df = bal.specialisation_experiment(config, np.random.default_rng(0))
    runs = df.groupby(["arm", "counting"]).first()
    assert len(df) == 5 * 4 * 8 and np.allclose(df.groupby(["arm", "counting", "domain"])["share"].sum(), 1.0)
    aux_g, aux_m = runs.loc[("aux", "global")], runs.loc[("aux", "micro")]
    vanilla = runs.loc[("vanilla", "none")]
    assert aux_g["entropy_mean"] < aux_m["entropy_mean"] - 0.03
    # at similar balance: both far below vanilla's global imbalance, within a factor 2 of each other
    both = np.array([aux_g["maxvio_global"], aux_m["maxvio_global"]])
    assert both.max() < 0.5 * vanilla["maxvio_global"] and both.max() < 2 * both.min()
    for counting in ("global", "micro"):
        assert abs(runs.loc[("alf_lb", counting), "entropy_mean"] - vanilla["entropy_mean"]) < 0.05
    assert runs.loc[("alf_lb", "global"), "maxvio_global"] < 0.5 * vanilla["maxvio_global"]


# ---------------------------------------------------------------------------------------------
# the check of claim 11


def test_batch_floor_check_holds_at_quick_scale() -> None:
    verdict = check_batch_floor(CheckContext(scale="quick"))
    assert verdict.claim_id == "alf_lb.batch_floor"
    assert verdict.holds, verdict.detail
    assert verdict.bound == 1.0 and 0 < verdict.measured <= 1.0
    summary = verdict.data
    assert summary["ratio"].between(*BAND).all() and (summary["global_ratio"] <= 0.5).all()
    assert len(summary) == 6 and (summary["seeds"] == 2).all()
