"""Tests of sims.convex_relu.data: shapes, bias, labels, stratified split, train-only scaling, seeding, no network."""

from __future__ import annotations

import inspect
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.convex_relu import data as cd

SETTINGS = {"deadline": None, "derandomize": True}

CASES = [
    ("spiral2d", {"n": 40}, 3),
    ("teacher", {"n": 50, "d": 4, "width": 3, "test_fraction": 0.2}, 4),
    ("gaussian_mixture", {"n": 30, "d": 5, "test_fraction": 0.3}, 5),
    ("moons", {"n": 31}, 3),
    ("circles", {"n": 30, "test_fraction": 0.5}, 3),
    ("breast_cancer", {}, 31),
    ("iris_pair", {}, 5),
    ("digits_pair", {"a": 1, "b": 7}, 65),
    ("wine_pair", {"scaling": "minmax"}, 14),
]


def check_dataset(ds: cd.Dataset, d: int) -> None:
    assert ds.d == d and ds.X_test.shape == (ds.n_test, d) and ds.y_train.shape == (ds.n,)
    assert ds.y_test.shape == (ds.n_test,)
    assert np.all(ds.X_train[:, -1] == 1.0) and np.all(ds.X_test[:, -1] == 1.0)
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.y_train))
    assert not ds.X_train.flags.writeable and not ds.y_test.flags.writeable
    assert sorted(np.concatenate([ds.train_index, ds.test_index]).tolist()) == list(range(ds.n + ds.n_test))
    if ds.task == "classification":
        assert set(np.unique(ds.y_train)) == {-1.0, 1.0}
        assert set(np.unique(ds.y_test)) <= {-1.0, 1.0}


@pytest.mark.parametrize(("name", "kw", "d"), CASES)
def test_datasets_shapes_labels_and_seeding(name: str, kw: dict, d: int) -> None:
    ds = cd.load(name, 7, **kw)
    check_dataset(ds, d)
    assert ds.name == name
    again = cd.load(name, np.random.default_rng(7), **kw)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(ds, field), getattr(again, field)), field
    other = cd.load(name, 8, **kw)
    assert not np.array_equal(other.X_train, ds.X_train)


def test_bundled_sizes_and_tasks() -> None:
    bc = cd.breast_cancer(0)
    assert bc.n + bc.n_test == 569 and bc.n_test == round(0.3 * 212) + round(0.3 * 357)
    assert np.sum(bc.y_train == 1) + np.sum(bc.y_test == 1) == 357  # benign → +1
    ir = cd.iris_pair(0, test_fraction=0.2)
    assert ir.n + ir.n_test == 100 and np.sum(ir.y_test == 1) == np.sum(ir.y_test == -1) == 10
    dg = cd.digits_pair(0, scaling="none")
    X = dg.X_train[:, :-1]
    assert X.min() >= 0 and X.max() <= 1 and dg.X_train.shape[1] == 65  # pixels/16
    assert cd.teacher(20, 3, 2, 0).task == "regression"
    assert cd.spiral2d(20, 0).task == "classification"


@settings(max_examples=15, **SETTINGS)
@given(n_pos=st.integers(2, 60), n_neg=st.integers(2, 60), frac=st.floats(0.0, 0.9), seed=st.integers(0, 2**31))
def test_stratified_split_is_balanced(n_pos: int, n_neg: int, frac: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.ones(n_pos), -np.ones(n_neg)])[rng.permutation(n_pos + n_neg)]
    X = rng.standard_normal((y.size, 2))
    ds = cd.split_and_scale(X, y, seed, frac, "none")
    for label, count in ((1.0, n_pos), (-1.0, n_neg)):
        k = np.sum(ds.y_test == label)
        assert k == min(round(frac * count), count - 1)
        assert np.sum(ds.y_train == label) == count - k >= 1
    np.testing.assert_array_equal(ds.X_train[:, :-1], X[ds.train_index])
    np.testing.assert_array_equal(ds.y_test, y[ds.test_index])


@pytest.mark.parametrize("scaling", ["standard", "minmax"])
def test_scaling_uses_training_statistics_only(scaling: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -3.0]
    X[:, 2] = 4.0  # a constant feature keeps scale 1
    y = rng.standard_normal(80)
    ds = cd.split_and_scale(X, y, 3, 0.25, scaling)
    assert ds.task == "regression" and ds.n_test == 20
    raw_tr, raw_te = X[ds.train_index], X[ds.test_index]
    if scaling == "standard":
        np.testing.assert_allclose(ds.shift, raw_tr.mean(axis=0))
        np.testing.assert_allclose(ds.scale[:2], raw_tr[:, :2].std(axis=0))
        np.testing.assert_allclose(ds.X_train[:, :2].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(ds.X_train[:, :2].std(axis=0), 1, rtol=1e-12)
        all_rows = cd.split_and_scale(X, y, 3, 0.0, scaling)  # statistics of all rows differ: no test leak
        assert not np.allclose(all_rows.shift[:2], ds.shift[:2])
    else:
        np.testing.assert_allclose(ds.shift, raw_tr.min(axis=0))
        np.testing.assert_allclose(ds.X_train[:, :2].min(axis=0), 0, atol=1e-15)
        np.testing.assert_allclose(ds.X_train[:, :2].max(axis=0), 1, rtol=1e-15)
    assert ds.scale[2] == 1.0 and np.all(ds.X_train[:, 2] == 0.0)
    np.testing.assert_allclose(ds.X_test[:, :-1], (raw_te - ds.shift) / ds.scale, rtol=1e-14)


def test_minmax_test_not_clipped_unless_asked() -> None:
    X = np.arange(20, dtype=float)[:, None]
    y = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    ds = cd.split_and_scale(X, y, 0, 0.3, "minmax")
    clipped = cd.split_and_scale(X, y, 0, 0.3, "minmax", clip_test=True)
    assert np.array_equal(ds.test_index, clipped.test_index)
    assert np.all((clipped.X_test[:, 0] >= 0) & (clipped.X_test[:, 0] <= 1))
    np.testing.assert_array_equal(np.clip(ds.X_test, 0, 1), clipped.X_test)


def test_no_network_access(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("breast_cancer", "iris_pair", "digits_pair", "wine_pair"):
        check_dataset(cd.load(name, 0), cd.load(name, 0).d)
    assert "fetch_" not in inspect.getsource(cd).replace("``fetch_*``", "")


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="name must be one of"):
        cd.load("mnist", 0)
    with pytest.raises(ValueError, match="n must be >= 4"):
        cd.spiral2d(3, 0)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        cd.breast_cancer(0, test_fraction=1.0)
    with pytest.raises(ValueError, match="scaling must be one of"):
        cd.iris_pair(0, scaling="robust")
    with pytest.raises(ValueError, match="a must be one of the classes"):
        cd.digits_pair(0, a=11)
    with pytest.raises(ValueError, match="different classes"):
        cd.digits_pair(0, a=3, b=3)
    with pytest.raises(ValueError, match="y must have shape"):
        cd.split_and_scale(np.ones((5, 2)), np.ones(4), 0)
    with pytest.raises(ValueError, match="both labels"):
        cd.split_and_scale(np.ones((5, 2)), np.ones(5), 0, task="classification")
    with pytest.raises(ValueError, match="clip_test"):
        cd.split_and_scale(np.ones((5, 2)), np.arange(5.0), 0, clip_test=True)
    with pytest.raises(TypeError, match="rng must be"):
        cd.spiral2d(10, "seed")
    with pytest.raises(ValueError, match="d must be >= 2"):
        cd.teacher(10, 1, 2, 0)
