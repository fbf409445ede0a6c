"""Experiments, deterministic seeds, parallel sweeps, and the cache of stored results.

An experiment is a function ``(config, rng) -> pandas.DataFrame`` registered under
``(topic, name)`` with its default config. A sweep runs it over a list of configs and a number of
seeds; the generator of each (config, seed index) is derived from the base seed and a hash of the
config alone, so the table is identical whatever the number of parallel jobs.

An experiment with a GPU path declares a ``backend`` parameter (``"numpy"`` by default, see
:mod:`sims.backend`). The backend is part of the config, hence of the cache key, but not of the seed: the
numpy and CuPy runs of one config and seed index draw the same instance.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sims.backend import backend_override, check_backend, check_backend_name, device_name
from sims.store import config_hash, jsonable, load_table, provenance, save_table

__all__ = [
    "BackendUse",
    "Experiment",
    "apply_scale",
    "cache_key",
    "checkpoints",
    "derive_seed",
    "experiments",
    "get_experiment",
    "parse_overrides",
    "record_backends",
    "register_experiment",
    "run_one",
    "run_sweep",
]

ExperimentFn = Callable[[dict[str, Any], np.random.Generator], pd.DataFrame]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: what it computes and with which defaults."""

    topic: str
    name: str
    func: ExperimentFn = field(compare=False)
    defaults: Mapping[str, Any] = field(compare=False)
    description: str = ""

    def config(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated by ``overrides``; unknown keys raise ``KeyError`` naming them."""
        config = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in config:
                known = ", ".join(sorted(config))
                raise KeyError(f"{self.topic}.{self.name} has no parameter {key!r}; "
                               f"known parameters: {known}")
            config[key] = value
        return config

    @property
    def has_gpu_path(self) -> bool:
        """True when the experiment declares a ``backend`` parameter (it runs on CuPy with ``"cupy"``)."""
        return "backend" in self.defaults


_EXPERIMENTS: dict[tuple[str, str], Experiment] = {}


def register_experiment(topic: str, name: str, defaults: Mapping[str, Any],
                        description: str = "") -> Callable[[ExperimentFn], ExperimentFn]:
    """Decorator registering ``func(config, rng) -> DataFrame`` as experiment ``topic name``.

    An experiment with a GPU path declares ``"backend": "numpy"`` in ``defaults`` and builds its arrays
    with :func:`sims.backend.array_module` of ``config["backend"]``.
    """
    if "backend" in defaults:
        check_backend_name(defaults["backend"])

    def wrap(func: ExperimentFn) -> ExperimentFn:
        doc = description or (func.__doc__ or "").strip().splitlines()[0]
        _EXPERIMENTS[(topic, name)] = Experiment(topic, name, func, dict(defaults), doc)
        return func

    return wrap


def _load_topic(topic: str) -> None:
    import importlib

    from sims import TOPICS

    if topic not in TOPICS:
        raise KeyError(f"unknown topic {topic!r}; known topics: {', '.join(TOPICS)}")
    importlib.import_module(f"sims.{topic}")


def experiments(topic: str | None = None) -> list[Experiment]:
    """Registered experiments, optionally of one topic."""
    from sims import TOPICS

    for t in TOPICS if topic is None else (topic,):
        _load_topic(t)
    return [e for e in _EXPERIMENTS.values() if topic is None or e.topic == topic]


def get_experiment(topic: str, name: str) -> Experiment:
    """The experiment ``name`` of ``topic``; ``KeyError`` naming the known ones otherwise."""
    _load_topic(topic)
    try:
        return _EXPERIMENTS[(topic, name)]
    except KeyError:
        known = ", ".join(sorted(n for t, n in _EXPERIMENTS if t == topic))
        raise KeyError(f"unknown experiment {name!r} of topic {topic!r}; known: {known}") from None


def apply_scale(config: Mapping[str, Any], scales: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``config`` with every None value of a key that ``config["scale"]`` presets replaced by the preset's.

    The practical experiments' ``scale`` keys (quick | gpu) name size presets; an explicit value wins.
    ValueError naming ``scale`` for an unknown preset.
    """
    scale = config["scale"]
    if scale not in scales:
        raise ValueError(f"scale must be one of {sorted(scales)}, got {scale!r}")
    return {**config, **{key: value for key, value in scales[scale].items() if config[key] is None}}


def checkpoints(T: int, first: int = 1) -> np.ndarray:
    """The checkpoints of a run of horizon T: the powers of two from ``first`` up to T, and T itself."""
    if isinstance(T, bool) or not isinstance(T, int | np.integer) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    pts = [1 << k for k in range(63) if first <= (1 << k) <= T]
    if not pts or pts[-1] != T:
        pts.append(int(T))
    return np.asarray(pts, dtype=np.int64)


def derive_seed(base_seed: int, config: Mapping[str, Any], index: int) -> np.random.SeedSequence:
    """The seed of repetition ``index`` of ``config``: a function of base seed, config and index only.

    The ``backend`` key is left out: the numpy and the CuPy run of one config draw the same instance.
    """
    instance = {k: v for k, v in config.items() if k != "backend"}
    payload = json.dumps(jsonable(instance), sort_keys=True, default=str).encode()
    words = np.frombuffer(hashlib.sha256(payload).digest()[:16], dtype=np.uint32)
    return np.random.SeedSequence([int(base_seed), *map(int, words), int(index)])


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are read as JSON where possible (numbers, lists, bools)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {pair!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def run_one(exp: Experiment, config: dict[str, Any], base_seed: int, index: int) -> pd.DataFrame:
    """One task: ``exp`` on ``config`` with seed index ``index``, the seed and config as leading columns."""
    rng = np.random.default_rng(derive_seed(base_seed, config, index))
    df = exp.func(config, rng)
    df.insert(0, "seed", index)
    for key in reversed(list(config)):
        value = config[key]
        if isinstance(value, list | tuple | dict):
            value = json.dumps(value)
        df.insert(0, key, value)
    return df


class BackendUse(NamedTuple):
    """One :func:`run_sweep` call seen by :func:`record_backends`: which experiment ran on which backend."""

    topic: str
    experiment: str
    backend: str
    gpu_path: bool


_RECORDS: list[list[BackendUse]] = []


@contextlib.contextmanager
def record_backends() -> Iterator[list[BackendUse]]:
    """Collect a :class:`BackendUse` for every :func:`run_sweep` call inside the block (cached ones too).

    ``boundlab verify --backend cupy`` uses it to say which experiments had no GPU path and ran on numpy.
    """
    log: list[BackendUse] = []
    _RECORDS.append(log)
    try:
        yield log
    finally:
        _RECORDS.remove(log)


def _with_backend(exp: Experiment, configs: list[dict[str, Any]], backend: str | None) -> list[dict[str, Any]]:
    """``configs`` with ``backend`` set where the experiment declares it (unchanged where it does not)."""
    if backend is not None:
        check_backend_name(backend)
    if backend is None or not exp.has_gpu_path:
        return configs
    return [{**c, "backend": backend} for c in configs]


def _backends(exp: Experiment, configs: list[dict[str, Any]]) -> list[str]:
    """The backends the configs run on, in order of first use: numpy for an experiment without a GPU path."""
    if not exp.has_gpu_path:
        return ["numpy"]
    return list(dict.fromkeys(c.get("backend", exp.defaults["backend"]) for c in configs))


def cache_key(exp: Experiment, configs: list[dict[str, Any]], *, seeds: int, base_seed: int = 0) -> str:
    """The hash under which :func:`run_sweep` stores a table: experiment, configs (backend included),
    seeds, base seed and the code fingerprint."""
    return config_hash(topic=exp.topic, name=exp.name, configs=configs, seeds=seeds, base_seed=base_seed)


def run_sweep(exp: Experiment, configs: list[dict[str, Any]], *, seeds: int, base_seed: int = 0,
              jobs: int = 1, cache_dir: str | Path | None = None, force: bool = False,
              backend: str | None = None) -> pd.DataFrame:
    """Run ``exp`` on every config for ``seeds`` seeds; returns one tidy table.

    Parameters
    ----------
    exp
        The experiment.
    configs
        Full configs (see :meth:`Experiment.config`).
    seeds
        Number of repetitions per config (seed indices 0..seeds-1).
    base_seed
        Base of the deterministic seed derivation.
    jobs
        joblib workers; the table does not depend on it.
    cache_dir
        If given, the table is stored there as parquet with provenance, keyed by a hash of the
        experiment, configs, seeds, base seed and code; a stored table is reused unless ``force``.
    backend
        For an experiment that declares a ``backend`` parameter: replaces the configs' value. None: the
        backend of an active :func:`sims.backend.use_backend` (``boundlab verify --backend``), else the
        configs' own. Ignored by experiments without a GPU path, which run on numpy.

    Raises
    ------
    ValueError
        An unknown backend name, or ``seeds`` or ``jobs`` below 1.
    sims.backend.BackendUnavailable
        A config asks for ``"cupy"`` where CuPy or a GPU is missing (before any work).
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    configs = _with_backend(exp, configs, backend if backend is not None else backend_override())
    backends = [check_backend(b) for b in _backends(exp, configs)]
    for log in _RECORDS:
        log.extend(BackendUse(exp.topic, exp.name, b, exp.has_gpu_path) for b in backends)
    key = cache_key(exp, configs, seeds=seeds, base_seed=base_seed)
    path = None if cache_dir is None else Path(cache_dir) / f"{exp.topic}-{exp.name}-{key}.parquet"
    if path is not None and path.exists() and not force:
        return load_table(path)[0]
    start = time.perf_counter()
    tasks = [(c, i) for c in configs for i in range(seeds)]
    if jobs == 1 or len(tasks) == 1:
        parts = [run_one(exp, c, base_seed, i) for c, i in tasks]
    else:
        parts = Parallel(n_jobs=jobs)(delayed(run_one)(exp, c, base_seed, i) for c, i in tasks)
    df = pd.concat(parts, ignore_index=True)
    if path is not None:
        save_table(df, path, provenance(topic=exp.topic, experiment=exp.name, configs=configs,
                                        seeds=seeds, base_seed=base_seed, backend=",".join(backends),
                                        device=",".join(device_name(b) for b in backends),
                                        wall_time_s=time.perf_counter() - start))
    return df
