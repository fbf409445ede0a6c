r"""Datasets for convex two-layer ReLU training (spec ``convex_relu.md`` §5), generated or bundled, never downloaded.

Every dataset is a :class:`Dataset`: a train and a test part with the bias column of ones appended last
(so ``d`` counts the bias, as in the spec), real targets (``task="regression"``) or labels ±1
(``task="classification"``), and the record of its preprocessing. Everything random comes from the passed
``np.random.Generator`` (or an int seed turned into one): the same seed gives the same bits.

Generated: :func:`spiral2d` (two interleaved spirals), :func:`teacher` (a random ReLU network's targets),
:func:`gaussian_mixture`, :func:`moons`, :func:`circles` (scikit-learn's ``make_moons``/``make_circles``
with a ``random_state`` drawn from the generator). Bundled with scikit-learn (its ``load_*`` functions read
files shipped inside the package; ``fetch_*`` is never used): :func:`breast_cancer` (569×30),
:func:`iris_pair` (versicolor against virginica, 100×4), :func:`digits_pair` (two digits, pixel values/16),
:func:`wine_pair` (two cultivars). :func:`load` finds any of them by name.

Preprocessing (:func:`split_and_scale`):

- *Split.* Classification: stratified, each class sends round(test_fraction·n_c) of its n_c points to the
  test set (at least one stays in training), chosen by a seeded permutation; regression: a seeded
  permutation sends round(test_fraction·n) points to the test set. Both parts are then shuffled.
- *Scaling, with training statistics only.* ``"standard"``: (x − mean)/std per feature (a constant
  feature keeps scale 1); ``"minmax"``: (x − min)/(max − min) per feature, so the training features lie in
  [0, 1] and ε of an ℓ∞ attack is in input units; ``"none"``: features as they are. Test points are *not*
  clipped to [0, 1] under ``"minmax"``: clipping would move test points, and the threat model of the
  adversarial claims is the ℓ∞ ball alone (no box); a test value outside [0, 1] is an honest sign of a
  train/test shift. ``clip_test=True`` clips on request.
- *Bias.* A column of ones appended last, never scaled.

The generated datasets default to ``scaling="none"`` (their features are already of unit scale and
2-D geometry is kept for pattern enumeration), the bundled ones to ``"standard"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import datasets as skd

from solvers._checks import check_int, check_positive, check_rng

__all__ = [
    "DATASETS",
    "SCALINGS",
    "TASKS",
    "Dataset",
    "breast_cancer",
    "circles",
    "digits_pair",
    "gaussian_mixture",
    "iris_pair",
    "load",
    "moons",
    "spiral2d",
    "split_and_scale",
    "teacher",
    "wine_pair",
]

SCALINGS: tuple[str, ...] = ("standard", "minmax", "none")
TASKS: tuple[str, ...] = ("regression", "classification")




def _frozen(a: np.ndarray, dtype: Any = float) -> np.ndarray:
    a = np.array(a, dtype=dtype, copy=True)
    a.setflags(write=False)
    return a


def _random_state(rng: np.random.Generator) -> int:
    """An integer seed for scikit-learn's generators, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test pair with the bias column last, and the record of its preprocessing.

    Attributes
    ----------
    name
        The dataset's name (as in :data:`DATASETS`).
    X_train, y_train, X_test, y_test
        (n, d) and (n,) arrays (read-only); the last column of X is all ones; y is real
        (regression) or ±1 (classification).
    task
        ``"regression"`` or ``"classification"``.
    scaling
        ``"standard"``, ``"minmax"`` or ``"none"``.
    shift, scale
        (d − 1,) feature transform x ↦ (x − shift)/scale, computed on the training part only.
    train_index, test_index
        Rows of the source data (before the split) that form each part, in their order here.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    scaling: str
    shift: np.ndarray
    scale: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray

    @property
    def n(self) -> int:
        """Training points."""
        return int(self.X_train.shape[0])

    @property
    def d(self) -> int:
        """Columns of X, the bias included."""
        return int(self.X_train.shape[1])

    @property
    def n_test(self) -> int:
        """Test points."""
        return int(self.X_test.shape[0])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, task={self.task!r}, scaling={self.scaling!r}, n={self.n}, "
                f"n_test={self.n_test}, d={self.d})")


# ---------------------------------------------------------------- validation
def _check_fraction(test_fraction: float) -> float:
    f = check_positive("test_fraction", test_fraction, allow_zero=True)
    if f >= 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    return f


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    Xa = np.asarray(X, dtype=float)
    ya = np.asarray(y, dtype=float)
    if Xa.ndim != 2 or Xa.shape[0] < 2 or Xa.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array with at least 2 rows and 1 feature column, got shape {Xa.shape}")
    if ya.shape != (Xa.shape[0],):
        raise ValueError(f"y must have shape ({Xa.shape[0]},), got {ya.shape}")
    if not (np.all(np.isfinite(Xa)) and np.all(np.isfinite(ya))):
        raise ValueError("X and y must be finite")
    return Xa, ya


# ---------------------------------------------------------------- split and scale
def _split(y: np.ndarray, rng: np.random.Generator, test_fraction: float,
           stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    if stratify:
        test_parts, train_parts = [], []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            k = min(round(test_fraction * members.size), members.size - 1)
            members = members[rng.permutation(members.size)]
            test_parts.append(members[:k])
            train_parts.append(members[k:])
        test, train = np.concatenate(test_parts), np.concatenate(train_parts)
    else:
        perm = rng.permutation(y.size)
        k = min(round(test_fraction * y.size), y.size - 1)
        test, train = perm[:k], perm[k:]
    return train[rng.permutation(train.size)], test[rng.permutation(test.size)]


def split_and_scale(X: Any, y: Any, rng: np.random.Generator | int, test_fraction: float = 0.3,
                    scaling: str = "standard", *, task: str | None = None, name: str = "custom",
                    clip_test: bool = False) -> Dataset:
    r"""Seeded (stratified) split, scaling with training statistics, bias column appended.

    Parameters
    ----------
    X
        (n, f) features, without a bias column.
    y
        (n,) targets, or labels ±1.
    rng
        Generator (or int seed) for the split.
    test_fraction
        In [0, 1); per class for classification (module docstring). 0 gives an empty test part.
    scaling
        ``"standard"``, ``"minmax"`` or ``"none"``.
    task
        ``"classification"`` (labels must be ±1, stratified split) or ``"regression"``; None infers
        classification exactly when every label is ±1.
    name
        Stored in the :class:`Dataset`.
    clip_test
        Clip the scaled test features to [0, 1] (``"minmax"`` only).

    Returns
    -------
    Dataset
    """
    Xa, ya = _check_xy(X, y)
    gen = check_rng(rng)
    f = _check_fraction(test_fraction)
    _check_choice("scaling", scaling, SCALINGS)
    binary = bool(np.all(np.abs(ya) == 1))
    if task is None:
        task = "classification" if binary else "regression"
    _check_choice("task", task, TASKS)
    if task == "classification":
        if not binary:
            raise ValueError("y must contain only labels ±1 for task='classification'")
        if np.unique(ya).size != 2:
            raise ValueError("y must contain both labels +1 and −1 for task='classification'")
    if clip_test and scaling != "minmax":
        raise ValueError(f"clip_test applies to scaling='minmax' only, got scaling={scaling!r}")
    train, test = _split(ya, gen, f, stratify=task == "classification")
    Xtr = Xa[train]
    if scaling == "standard":
        shift, scale = Xtr.mean(axis=0), Xtr.std(axis=0)
    elif scaling == "minmax":
        shift, scale = Xtr.min(axis=0), Xtr.max(axis=0) - Xtr.min(axis=0)
    else:
        shift, scale = np.zeros(Xa.shape[1]), np.ones(Xa.shape[1])
    scale = np.where(scale > 0, scale, 1.0)  # a constant feature is shifted, not divided by 0

    def transform(rows: np.ndarray, clip: bool) -> np.ndarray:
        Z = (Xa[rows] - shift) / scale
        if clip:
            Z = np.clip(Z, 0.0, 1.0)
        return np.hstack([Z, np.ones((rows.size, 1))])

    return Dataset(name=name, X_train=_frozen(transform(train, False)), y_train=_frozen(ya[train]),
                   X_test=_frozen(transform(test, clip_test)), y_test=_frozen(ya[test]), task=task,
                   scaling=scaling, shift=_frozen(shift), scale=_frozen(scale),
                   train_index=_frozen(train, np.int64), test_index=_frozen(test, np.int64))


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """⌈n/2⌉ labels +1 and ⌊n/2⌋ labels −1 in a random order."""
    y = np.where(np.arange(n) < (n + 1) // 2, 1.0, -1.0)
    return y[rng.permutation(n)]


# ---------------------------------------------------------------- generated
def spiral2d(n: int, rng: np.random.Generator | int, *, noise: float = 0.05, turns: float = 1.0,
             test_fraction: float = 0.0, scaling: str = "none") -> Dataset:
    r"""Two interleaved spirals in the plane, labels ±1 (d = 3 with the bias).

    Point k has radius t_k ~ U(0.05, 1) and angle 2π·turns·t_k, the −1 spiral rotated by π:
    x_k = y_k·t_k(cos 2π·turns·t_k, sin 2π·turns·t_k) + noise·N(0, I₂). ⌈n/2⌉ points are labelled +1.

    Parameters
    ----------
    n
        Points in all (≥ 4), before the split.
    rng
        Generator or int seed.
    noise
        Standard deviation (≥ 0) of the added Gaussian noise.
    turns
        Turns of each spiral (> 0).
    test_fraction, scaling
        See :func:`split_and_scale`.
    """
    n = check_int("n", n, 4)
    noise = check_positive("noise", noise, allow_zero=True)
    turns = check_positive("turns", turns)
    gen = check_rng(rng)
    y = _balanced_labels(n, gen)
    t = gen.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * turns * t
    X = (y * t)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]) + noise * gen.standard_normal((n, 2))
    return split_and_scale(X, y, gen, test_fraction, scaling, task="classification", name="spiral2d")


def teacher(n: int, d: int, width: int, rng: np.random.Generator | int, *, noise: float = 0.0,
            test_fraction: float = 0.0, scaling: str = "none") -> Dataset:
    r"""Targets of a random two-layer ReLU teacher, y = Σ_j α_j(u_jᵀx)_+ + noise·N(0, 1).

    Features x^f ~ N(0, I_{d−1}) with the bias appended; teacher weights u_j ~ N(0, I_d/d) (bias weight
    included, so some neurons are active on part of the data only) and α_j ~ N(0, 1/width).

    Parameters
    ----------
    n
        Points in all (≥ 2), before the split.
    d
        Columns of X *including* the bias (≥ 2), as in the spec.
    width
        Teacher neurons (≥ 1).
    rng
        Generator or int seed.
    noise
        Standard deviation (≥ 0) of the target noise.
    test_fraction, scaling
        See :func:`split_and_scale`.
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 2)
    width = check_int("width", width, 1)
    noise = check_positive("noise", noise, allow_zero=True)
    gen = check_rng(rng)
    Xf = gen.standard_normal((n, d - 1))
    U = gen.standard_normal((width, d)) / np.sqrt(d)
    alpha = gen.standard_normal(width) / np.sqrt(width)
    Xb = np.hstack([Xf, np.ones((n, 1))])
    y = np.maximum(Xb @ U.T, 0.0) @ alpha + noise * gen.standard_normal(n)
    return split_and_scale(Xf, y, gen, test_fraction, scaling, task="regression", name="teacher")


def gaussian_mixture(n: int, rng: np.random.Generator | int, *, d: int = 3, separation: float = 2.0,
                     test_fraction: float = 0.0, scaling: str = "none") -> Dataset:
    r"""Two Gaussian classes N(±(separation/2)·e, I_{d−1}) along a random unit direction e, labels ±1.

    Parameters
    ----------
    n
        Points in all (≥ 4); ⌈n/2⌉ are labelled +1.
    rng
        Generator or int seed.
    d
        Columns of X including the bias (≥ 2).
    separation
        Distance ≥ 0 between the class means.
    test_fraction, scaling
        See :func:`split_and_scale`.
    """
    n = check_int("n", n, 4)
    d = check_int("d", d, 2)
    separation = check_positive("separation", separation, allow_zero=True)
    gen = check_rng(rng)
    y = _balanced_labels(n, gen)
    e = gen.standard_normal(d - 1)
    e /= np.linalg.norm(e)
    X = gen.standard_normal((n, d - 1)) + (0.5 * separation * y)[:, None] * e
    return split_and_scale(X, y, gen, test_fraction, scaling, task="classification", name="gaussian_mixture")


def moons(n: int, rng: np.random.Generator | int, *, noise: float = 0.1, test_fraction: float = 0.0,
          scaling: str = "none") -> Dataset:
    """scikit-learn's two half-moons (``make_moons``), labels ±1 (class 1 → +1), d = 3 with the bias."""
    n = check_int("n", n, 4)
    noise = check_positive("noise", noise, allow_zero=True)
    gen = check_rng(rng)
    X, t = skd.make_moons(n_samples=n, noise=noise, random_state=_random_state(gen))
    return split_and_scale(X, 2.0 * t - 1.0, gen, test_fraction, scaling, task="classification", name="moons")


def circles(n: int, rng: np.random.Generator | int, *, noise: float = 0.05, factor: float = 0.5,
            test_fraction: float = 0.0, scaling: str = "none") -> Dataset:
    """scikit-learn's concentric circles (``make_circles``), inner circle → +1, d = 3 with the bias.

    ``factor`` ∈ (0, 1) is the ratio of the radii.
    """
    n = check_int("n", n, 4)
    noise = check_positive("noise", noise, allow_zero=True)
    factor = check_positive("factor", factor)
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    gen = check_rng(rng)
    X, t = skd.make_circles(n_samples=n, noise=noise, factor=factor, random_state=_random_state(gen))
    return split_and_scale(X, 2.0 * t - 1.0, gen, test_fraction, scaling, task="classification", name="circles")


# ---------------------------------------------------------------- bundled with scikit-learn
def _pair(X: np.ndarray, t: np.ndarray, a: int, b: int, argname: tuple[str, str],
          classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    for label, value in zip(argname, (a, b), strict=True):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value not in classes:
            raise ValueError(f"{label} must be one of the classes {classes.tolist()}, got {value!r}")
    if a == b:
        raise ValueError(f"a and b must be different classes, got a = b = {a!r}")
    keep = (t == a) | (t == b)
    return X[keep], np.where(t[keep] == a, 1.0, -1.0)


def breast_cancer(rng: np.random.Generator | int, *, test_fraction: float = 0.3,
                  scaling: str = "standard") -> Dataset:
    """Wisconsin breast cancer (569×30, ``load_breast_cancer``): benign → +1, malignant → −1, d = 31."""
    X, t = skd.load_breast_cancer(return_X_y=True)
    return split_and_scale(X, 2.0 * t - 1.0, rng, test_fraction, scaling, task="classification",
                           name="breast_cancer")


def iris_pair(rng: np.random.Generator | int, *, test_fraction: float = 0.3, scaling: str = "standard") -> Dataset:
    """Iris versicolor (+1) against virginica (−1) (100×4, ``load_iris``), d = 5; not linearly separable."""
    X, t = skd.load_iris(return_X_y=True)
    Xp, y = _pair(X, t, 1, 2, ("a", "b"), np.unique(t))
    return split_and_scale(Xp, y, rng, test_fraction, scaling, task="classification", name="iris_pair")


def digits_pair(rng: np.random.Generator | int, *, a: int = 3, b: int = 8, test_fraction: float = 0.3,
                scaling: str = "standard") -> Dataset:
    """Two digits of ``load_digits`` (8×8 images, pixels/16 ∈ [0, 1]): digit a → +1, b → −1, d = 65.

    Pixels that are constant on the training part (e.g. the blank border) keep scale 1 under scaling.
    """
    X, t = skd.load_digits(return_X_y=True)
    Xp, y = _pair(X / 16.0, t, a, b, ("a", "b"), np.unique(t))
    return split_and_scale(Xp, y, rng, test_fraction, scaling, task="classification", name="digits_pair")


def wine_pair(rng: np.random.Generator | int, *, a: int = 0, b: int = 1, test_fraction: float = 0.3,
              scaling: str = "standard") -> Dataset:
    """Two cultivars of ``load_wine`` (13 features): class a → +1, b → −1, d = 14."""
    X, t = skd.load_wine(return_X_y=True)
    Xp, y = _pair(X, t, a, b, ("a", "b"), np.unique(t))
    return split_and_scale(Xp, y, rng, test_fraction, scaling, task="classification", name="wine_pair")


#: Every dataset by name; generated ones need their sizes as keywords (e.g. ``n=``).
DATASETS: dict[str, Callable[..., Dataset]] = {
    "spiral2d": spiral2d,
    "teacher": teacher,
    "gaussian_mixture": gaussian_mixture,
    "moons": moons,
    "circles": circles,
    "breast_cancer": breast_cancer,
    "iris_pair": iris_pair,
    "digits_pair": digits_pair,
    "wine_pair": wine_pair,
}


def load(name: str, rng: np.random.Generator | int, **kw: Any) -> Dataset:
    """The dataset ``name`` of :data:`DATASETS`, built with ``rng`` and the keywords ``kw``.

    Example: ``load("spiral2d", 0, n=40)``, ``load("digits_pair", rng, a=1, b=7, scaling="minmax")``.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {sorted(DATASETS)}, got {name!r}")
    return DATASETS[name](rng=rng, **kw)
