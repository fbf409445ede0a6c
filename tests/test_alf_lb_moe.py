"""The small MoE experiment of ALF-LB: hand-written gradients, bias handling, balance, reproducibility."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from sims.alf_lb.moe import (
    MOE_DEFAULTS,
    MoEParams,
    TrainSpec,
    array_module,
    init_params,
    init_state,
    loss_and_grad,
    make_data,
    make_spec,
    make_task,
    moe_experiment,
    predict,
    state_arrays,
    state_from_arrays,
    train,
    train_step,
)
from solvers.alf_lb import gradient_rule, inverse_t, sign_rule

HAS_CUPY = importlib.util.find_spec("cupy") is not None

#: A tiny configuration of the experiment (a few hundred milliseconds).
TINY = {**MOE_DEFAULTS, "steps": 12, "log_every": 4, "dim": 6, "domains": 4, "experts": 8, "hidden": 8,
        "teacher_hidden": 8, "seq_len": 8, "seqs_per_micro": 2, "micros": 2, "train_seqs": 16, "test_seqs": 8}


def _tiny_problem(seed: int = 0, n: int = 12, dim: int = 3, E: int = 4, hidden: int = 5):
    rng = np.random.default_rng(seed)
    params = init_params(rng, dim=dim, experts=E, hidden=hidden)
    # non-zero expert biases, so that their gradients are tested away from a special point
    params = params._replace(b1=0.3 * rng.standard_normal(params.b1.shape),
                             b2=0.3 * rng.standard_normal(params.b2.shape))
    x = rng.standard_normal((n, dim))
    y = rng.standard_normal((n, dim))
    return rng, params, x, y


def _finite_differences(params: MoEParams, loss, eps: float = 1e-5) -> MoEParams:
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            for sign in (1, -1):
                q = p.copy()
                q[idx] += sign * eps
                g[idx] += sign * loss(params._replace(**{params._fields[k]: q}))
            g[idx] /= 2 * eps
        grads.append(g)
    return MoEParams(*grads)


ARM_CASES = {
    "none": {},
    "none-relu": {"activation": "relu"},
    "aux-micro": {"alpha": 0.5, "counting": "micro"},
    "aux-global": {"alpha": 0.5, "counting": "global"},
    "alf_lb": {"bias": "random"},
}


@pytest.mark.parametrize("case", list(ARM_CASES))
def test_gradients_match_central_finite_differences(case: str) -> None:
    """Every parameter's hand-written gradient vs central differences, float64, relative error < 1e-6."""
    rng, params, x, y = _tiny_problem(seed=list(ARM_CASES).index(case))
    kw = dict(ARM_CASES[case])
    if kw.pop("bias", None) == "random":
        kw["bias"] = 0.5 * rng.standard_normal(params.router.shape[1])
    groups = np.repeat(np.arange(3), 4)
    K = 2
    base = loss_and_grad(params, x, y, K, groups=groups, **kw)

    def loss(p: MoEParams) -> float:
        out = loss_and_grad(p, x, y, K, groups=groups, **kw)
        # finite differences are meaningful only while the selection stays put
        assert np.array_equal(out.routing.experts, base.routing.experts)
        return float(out.loss)

    numeric = _finite_differences(params, loss)
    for name, g, fd in zip(MoEParams._fields, base.grads, numeric, strict=True):
        err = np.linalg.norm(g - fd) / np.linalg.norm(fd)
        assert err < 1e-6, f"{case}: gradient of {name} off by {err:.2e}"
    if "alpha" in kw:  # the aux gradient is really there
        plain = loss_and_grad(params, x, y, K, groups=groups, **{**kw, "alpha": 0.0})
        assert base.aux > 0
        assert not np.allclose(plain.grads.router, base.grads.router)
        np.testing.assert_array_equal(plain.grads.w1, base.grads.w1)


def test_bias_chooses_experts_but_never_enters_the_output_weights() -> None:
    rng, params, x, _ = _tiny_problem(seed=7, n=200, E=6)
    K = 2
    out0, r0 = predict(params, x, K)
    bias = 0.2 * rng.standard_normal(6)
    out1, r1 = predict(params, x, K, bias)
    same = np.all(np.sort(r0.experts, axis=1) == np.sort(r1.experts, axis=1), axis=1)
    assert 0 < same.sum() < len(same)  # the bias moves some tokens and leaves others
    np.testing.assert_array_equal(out0[same], out1[same])
    # gate weights are the unbiased sigmoid scores normalised over the chosen set
    s = 0.5 * (1 + np.tanh(0.5 * (x @ params.router)))
    chosen = np.take_along_axis(s, r1.experts, axis=1)
    np.testing.assert_allclose(r1.gate_weights(), chosen / chosen.sum(axis=1, keepdims=True), rtol=1e-14)
    # a constant shift of the bias changes nothing
    out2, r2 = predict(params, x, K, np.full(6, 3.0))
    np.testing.assert_array_equal(r2.experts, r0.experts)
    np.testing.assert_array_equal(out2, out0)


def _imbalanced_state(E: int = 4, dim: int = 3):
    """Tokens with positive coordinates and a router column of ones: everyone wants expert 0."""
    _, params, x, y = _tiny_problem(seed=11, n=32, dim=dim, E=E)
    router = np.array(params.router)
    router[:, 0] = 1.0
    return init_state(params._replace(router=router)), np.abs(x) + 1.0, y


@pytest.mark.parametrize("rule", ["sign", "gradient"])
@pytest.mark.parametrize("counting", ["global", "micro"])
def test_bias_moves_against_the_load_after_an_imbalanced_step(rule: str, counting: str) -> None:
    state, x, y = _imbalanced_state()
    E, K, n = 4, 2, x.shape[0]
    bias_rule = sign_rule(E, 1e-2) if rule == "sign" else gradient_rule(E, inverse_t(1.0, 0.25))
    spec = TrainSpec("alf_lb", K, micros=2, counting=counting, rule=bias_rule)
    new, log = train_step(state, spec, x, y)
    loads = log.micro_loads.sum(axis=0)
    assert log.micro_loads[0, 0] == n // 2  # an imbalanced step: all of micro-batch 0 chose expert 0
    assert not np.array_equal(new.bias.bias, state.bias.bias)
    assert new.bias.t == (2 if counting == "micro" else 1)
    if counting == "global":
        np.testing.assert_array_equal(np.sign(new.bias.bias), np.sign(K * n / E - loads))
    # the bias is no parameter: it gets no gradient and no Adam moment
    assert "bias" not in MoEParams._fields
    assert new.adam.t == 1
    # the other arms leave it at zero
    for arm, extra in (("none", {}), ("aux", {"alpha": 0.1})):
        other, _ = train_step(state, TrainSpec(arm, K, micros=2, **extra), x, y)
        np.testing.assert_array_equal(other.bias.bias, np.zeros(E))


def test_weight_decay_spares_the_bias() -> None:
    state, x, y = _imbalanced_state()
    rule = sign_rule(4, 1e-2)
    plain, _ = train_step(state, TrainSpec("alf_lb", 2, 2, rule=rule), x, y)
    decayed, _ = train_step(state, TrainSpec("alf_lb", 2, 2, rule=rule, weight_decay=0.5), x, y)
    np.testing.assert_array_equal(plain.bias.bias, decayed.bias.bias)
    assert not np.allclose(plain.params.w1, decayed.params.w1)


def _tiny_setup(config: dict, seed: int = 0):
    rng = np.random.default_rng(seed)
    task = make_task(rng, dim=config["dim"], domains=config["domains"], teacher_hidden=config["teacher_hidden"])
    data = make_data(task, rng, seq_len=config["seq_len"], train_seqs=config["train_seqs"],
                     test_seqs=config["test_seqs"], steps=config["steps"],
                     seqs_per_step=config["micros"] * config["seqs_per_micro"])
    params = init_params(rng, dim=config["dim"], experts=config["experts"], hidden=config["hidden"])
    return data, params


def test_checkpoint_holds_the_bias_and_resumes_bit_for_bit(tmp_path) -> None:
    config = dict(TINY)
    data, params = _tiny_setup(config)
    spec = make_spec(config, "alf_lb")
    straight, rows = train(init_state(params), spec, data, 12, log_every=4)
    half, _ = train(init_state(params), spec, data, 6, log_every=4)
    np.savez(tmp_path / "ckpt.npz", **state_arrays(half))
    with np.load(tmp_path / "ckpt.npz") as f:
        restored = state_from_arrays(dict(f))
    np.testing.assert_array_equal(restored.bias.bias, half.bias.bias)
    np.testing.assert_array_equal(restored.bias.steps, half.bias.steps)
    assert restored.bias.t == half.bias.t > 0 and restored.step == 6
    resumed, second = train(restored, spec, data, 12, log_every=4)
    for a, b in zip(straight.params, resumed.params, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(straight.bias.bias, resumed.bias.bias)
    pd.testing.assert_frame_equal(rows[rows.step == 12].reset_index(drop=True),
                                  second[second.step == 12].reset_index(drop=True))


def test_experiment_is_reproducible_by_seed_and_tidy() -> None:
    df1 = moe_experiment(dict(TINY), np.random.default_rng(5))
    df2 = moe_experiment(dict(TINY), np.random.default_rng(5))
    pd.testing.assert_frame_equal(df1, df2)
    df3 = moe_experiment(dict(TINY), np.random.default_rng(6))
    assert not np.allclose(df1.test_loss, df3.test_loss)
    assert list(df1.columns) == ["step", "arm", "train_loss", "aux_loss", "test_loss", "maxvio_global", "entropy",
                                 "maxvio_batch", "bias_spread"]
    assert list(df1.step.unique()) == [4, 8, 12] and list(df1.arm.unique()) == ["none", "aux", "alf_lb"]
    assert np.all(np.isfinite(df1.select_dtypes("number").to_numpy()))
    assert (df1.entropy <= np.log(TINY["experts"]) + 1e-12).all()
    assert (df1[df1.arm != "alf_lb"].bias_spread == 0).all()
    assert (df1[df1.arm != "aux"].aux_loss == 0).all() and (df1[df1.arm == "aux"].aux_loss > 0).all()


def test_alf_lb_lowers_global_maxvio_at_the_quick_scale() -> None:
    df = moe_experiment({**MOE_DEFAULTS, "arms": ["none", "alf_lb"]}, np.random.default_rng(0))
    last = df[df.step == MOE_DEFAULTS["steps"]].set_index("arm")
    assert last.loc["alf_lb", "maxvio_global"] < 0.5 * last.loc["none", "maxvio_global"]
    assert last.loc["alf_lb", "test_loss"] < 2 * last.loc["none", "test_loss"]


def test_bad_configs_are_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="arms"):
        moe_experiment({**TINY, "arms": ["none", "expert_choice"]}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="bias_rule"):
        moe_experiment({**TINY, "bias_rule": "multiplicative"}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="counting"):
        moe_experiment({**TINY, "counting": "rank"}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="backend"):
        moe_experiment({**TINY, "backend": "jax"}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="K"):
        moe_experiment({**TINY, "K": 9}, np.random.default_rng(0))


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed: the missing-CuPy error cannot be provoked")
def test_cupy_backend_without_cupy_says_so() -> None:
    with pytest.raises(RuntimeError, match="CuPy"):
        array_module("cupy")
    with pytest.raises(RuntimeError, match="CuPy"):
        moe_experiment({**TINY, "backend": "cupy"}, np.random.default_rng(0))


@pytest.mark.gpu
def test_cupy_backend_matches_numpy() -> None:
    cupy = pytest.importorskip("cupy")
    try:
        array_module("cupy")
    except RuntimeError as err:
        pytest.skip(str(err))
    assert cupy is not None
    config = {**TINY, "steps": 4, "log_every": 2}
    cpu = moe_experiment(config, np.random.default_rng(1))
    gpu = moe_experiment({**config, "backend": "cupy"}, np.random.default_rng(1))
    pd.testing.assert_frame_equal(cpu, gpu, rtol=1e-8)
