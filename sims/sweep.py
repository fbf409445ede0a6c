"""Sweeps that outgrow one machine: one task per (config, seed), on joblib, a Dask cluster or SLURM.

A sweep is a grid of an experiment's parameters times a number of seeds. Every task writes its own
result, atomically (write to a temporary name, then rename), into a hive-partitioned parquet dataset

    OUT/manifest.json                       topic, experiment, configs, seeds, base seed, code fingerprint
    OUT/data/config=<hash>/seed=<i>.parquet one task's rows, with provenance in the parquet metadata
    OUT/failures/<hash>-<i>.json            a task that raised: its config, seed, error and traceback

so a crash or a ``kill -9`` at any moment loses at most the tasks in flight, and ``resume=True`` runs
only the tasks whose result is missing (failed ones included). Seeds derive from the base seed and the
config only (:func:`sims.runner.derive_seed`), and :func:`load_sweep` orders the rows by config (in grid
order) then seed, so the table is the same, row for row, whichever executor ran the tasks, in whatever
order, and however many times the sweep was interrupted: the same table as
:func:`sims.runner.run_sweep` gives for the same configs and seeds.

Executors: joblib processes on the local cores (default); an existing ``dask.distributed`` scheduler
(``scheduler="tcp://host:port"``); a ``LocalCluster`` (``cluster="local"``); or SLURM through
dask-jobqueue (``cluster="slurm"``, options from the grid file's ``slurm:`` section). Each worker runs
one task at a time with BLAS and numba limited to ``threads`` threads, so processes × threads never
exceeds the cores.

Backends: an experiment with a GPU path takes ``backend="cupy"`` like any parameter (``--set
backend=cupy``, or ``--backend cupy`` for every such experiment); the backend is part of each config, so it
reaches every worker, names its own partitions, and a sweep never mixes the two. On local executors a
backend that cannot run here is refused before any task starts; on a Dask scheduler or SLURM the workers'
machines decide, and a task without a GPU fails with the reason.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sims.backend import check_backend, check_backend_name, device_name
from sims.runner import Experiment, get_experiment, run_one
from sims.store import code_fingerprint, config_hash, jsonable, load_table, provenance, save_table

__all__ = ["SweepError", "SweepPlan", "SweepResult", "TaskFailure", "load_sweep", "plan_sweep", "run_plan",
           "sweep"]

MANIFEST = "manifest.json"


class SweepError(ValueError):
    """A sweep that cannot run as asked (bad grid, mismatched resume, missing engine): one line."""


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep runs: full configs of one experiment, in grid order, times ``seeds`` seeds."""

    topic: str
    experiment: str
    configs: list[dict[str, Any]] = field(repr=False)
    seeds: int
    base_seed: int = 0
    cluster_options: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def tasks(self) -> list[tuple[str, dict[str, Any], int]]:
        """(config hash, config, seed index) of every task, in table order."""
        return [(task_key(self, c), c, i) for c in self.configs for i in range(self.seeds)]

    def manifest(self) -> dict[str, Any]:
        return {"topic": self.topic, "experiment": self.experiment, "configs": jsonable(self.configs),
                "seeds": self.seeds, "base_seed": self.base_seed, "code": code_fingerprint()}


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised."""

    key: str
    seed: int
    config: dict[str, Any]
    error: str

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"config={self.key} seed={self.seed}: {self.error} [{shown}]"


@dataclass(frozen=True)
class SweepResult:
    """The table of every finished task, the failures, and what this call did."""

    table: pd.DataFrame
    failures: list[TaskFailure]
    out: Path
    ran: int
    skipped: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


def task_key(plan: SweepPlan, config: Mapping[str, Any]) -> str:
    """The partition name of a config: a hash of topic, experiment, config and base seed."""
    return config_hash(topic=plan.topic, name=plan.experiment, config=dict(config), base_seed=plan.base_seed)


# ---------------------------------------------------------------------------------------------- grid
def _load_grid_file(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise SweepError(f"grid file {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise SweepError(f"grid file {path} is not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("grid"), dict):
        raise SweepError(f"grid file {path} must be a mapping with a 'grid:' mapping of parameter: [values]")
    unknown = sorted(set(data) - {"grid", "seeds", "base_seed", "slurm"})
    if unknown:
        raise SweepError(f"grid file {path}: unknown section(s) {unknown}; known: grid, seeds, base_seed, slurm")
    return data


def _parse_set(item: str) -> tuple[str, list[Any]]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise SweepError(f"--set expects key=v1,v2,..., got {item!r}")
    try:  # a JSON list or scalar as a whole (e.g. sizes=[512,1024] is one value)
        whole = json.loads(raw)
        return key.strip(), [whole]
    except json.JSONDecodeError:
        pass
    values = []
    for part in raw.split(","):
        try:
            values.append(json.loads(part))
        except json.JSONDecodeError:
            values.append(part)
    return key.strip(), values


def _number(value: Any) -> Any:
    """A YAML 1.1 string such as '1e-2' read as the number it spells (else unchanged)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _coerce(exp: Experiment, key: str, value: Any) -> Any:
    """``value`` in the type of the parameter's default (int, float, bool, str, list), or SweepError."""
    default = exp.defaults[key]
    if default is None or value is None:
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        value = _number(value)
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int | float) and float(value).is_integer()
        value = int(value) if ok else value
    elif isinstance(default, float):
        ok = isinstance(value, int | float)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise SweepError(f"{exp.topic}.{exp.name}: parameter {key!r} takes {type(default).__name__} values "
                         f"(default {default!r}), got {value!r}")
    return value


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweepError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def plan_sweep(topic: str, experiment: str, *, grid: Mapping[str, Any] | None = None,
               grid_file: str | Path | None = None, sets: Sequence[str] = (), seeds: int | None = None,
               base_seed: int | None = None, backend: str | None = None) -> SweepPlan:
    """The plan of a sweep: the cartesian product of the grid's values over the experiment's defaults.

    Parameters
    ----------
    topic, experiment
        A registered experiment (``boundlab run`` names).
    grid
        {parameter: value or list of values}; merged with the file's ``grid:`` and with ``sets``
        (later ones win).
    grid_file
        YAML with ``grid:`` (required), and optionally ``seeds:``, ``base_seed:`` and ``slurm:``
        (dask-jobqueue ``SLURMCluster`` options).
    sets
        ``key=v1,v2,...`` strings (values read as JSON where possible).
    seeds, base_seed
        Override the file's (default 1 seed, base seed 0).
    backend
        ``"numpy"`` or ``"cupy"`` for every config, if the experiment declares a ``backend`` parameter and
        the grid does not set it (an explicit grid value wins); ignored by experiments without a GPU path.

    Raises
    ------
    SweepError
        Unknown experiment, parameter or backend name, an empty grid or value list, values of the wrong
        type.
    """
    try:
        exp = get_experiment(topic, experiment)
    except KeyError as err:
        raise SweepError(err.args[0]) from None
    data: dict[str, Any] = _load_grid_file(grid_file) if grid_file is not None else {"grid": {}}
    axes: dict[str, list[Any]] = {}
    for source in (data["grid"], grid or {}):
        for key, values in source.items():
            axes[key] = list(values) if isinstance(values, list | tuple) else [values]
    for item in sets:
        key, values = _parse_set(item)
        axes[key] = values
    if not axes:
        raise SweepError("the grid is empty: give --grid FILE.yaml or --set key=v1,v2,...")
    for key, values in axes.items():
        if key not in exp.defaults:
            raise SweepError(f"{topic}.{experiment} has no parameter {key!r}; known parameters: "
                             + ", ".join(sorted(exp.defaults)))
        if not values:
            raise SweepError(f"parameter {key!r} has an empty list of values")
        axes[key] = [_coerce(exp, key, value) for value in values]
    seeds = _count("seeds", data.get("seeds", 1) if seeds is None else seeds, 1)
    base_seed = _count("base_seed", data.get("base_seed", 0) if base_seed is None else base_seed, 0)
    configs = [exp.config(dict(zip(axes, combo, strict=True))) for combo in itertools.product(*axes.values())]
    try:
        if backend is not None:
            check_backend_name(backend)
        if exp.has_gpu_path:
            if backend is not None and "backend" not in axes:
                configs = [{**c, "backend": backend} for c in configs]
            for c in configs:
                check_backend_name(c["backend"])
    except ValueError as err:
        raise SweepError(f"{topic}.{experiment}: {err}") from None
    slurm = data.get("slurm") or {}
    if not isinstance(slurm, dict):
        raise SweepError("the grid file's 'slurm:' section must be a mapping of SLURMCluster options")
    return SweepPlan(topic, experiment, configs, seeds, base_seed, dict(slurm))


# ---------------------------------------------------------------------------------------------- tasks
def _limit_threads(threads: int) -> None:
    """BLAS and numba threads of this worker process (set before the task's numerical work)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    try:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except (ImportError, ValueError):
        pass


def _atomic_write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=1, default=str))
    os.replace(tmp, path)


def run_task(topic: str, experiment: str, config: dict[str, Any], seed: int, base_seed: int, key: str,
             out: str, threads: int) -> tuple[str, int, str | None]:
    """Run one (config, seed) and write its rows atomically; returns (key, seed, error or None).

    A task that raises writes ``failures/<key>-<seed>.json`` instead and reports the error; it never
    raises, so the sweep goes on.
    """
    _limit_threads(threads)
    root = Path(out)
    part = root / "data" / f"config={key}"
    fail = root / "failures" / f"{key}-{seed}.json"
    start = time.perf_counter()
    try:
        exp = get_experiment(topic, experiment)
        df = run_one(exp, config, base_seed, seed)
    except Exception as err:  # the sweep records any failure of one task and goes on
        fail.parent.mkdir(parents=True, exist_ok=True)
        message = f"{type(err).__name__}: {err}"
        _atomic_write_json(fail, {"key": key, "seed": seed, "config": config, "error": message,
                                  "traceback": traceback.format_exc()})
        return key, seed, message
    part.mkdir(parents=True, exist_ok=True)
    final = part / f"seed={seed}.parquet"
    tmp = part / f".seed={seed}.{os.getpid()}.tmp"
    backend = config.get("backend", "numpy")
    save_table(df, tmp, provenance(topic=topic, experiment=experiment, config=config, seed=seed,
                                   base_seed=base_seed, backend=backend, device=device_name(backend),
                                   wall_time_s=time.perf_counter() - start))
    os.replace(tmp, final)
    fail.unlink(missing_ok=True)
    return key, seed, None


def _done(out: Path, key: str, seed: int) -> bool:
    return (out / "data" / f"config={key}" / f"seed={seed}.parquet").exists()


# ---------------------------------------------------------------------------------------------- run
def _prepare_out(plan: SweepPlan, out: Path, resume: bool) -> None:
    manifest = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} is a file, not a directory")
    if manifest.exists():
        stored = _read_manifest(manifest)
        if not resume:
            raise SweepError(f"{out} already holds a sweep; pass --resume to complete it, or choose another --out")
        mine = plan.manifest()
        for field_name in ("topic", "experiment", "configs", "seeds", "base_seed"):
            if stored.get(field_name) != mine[field_name]:
                raise SweepError(f"--resume: the sweep in {out} has another {field_name}; "
                                 "resume it with its own grid and seeds, or choose another --out")
        if stored.get("code") != mine["code"]:
            raise SweepError(f"--resume: the sweep in {out} was run by other code (fingerprint "
                             f"{stored.get('code')} vs {mine['code']}); its rows would mix two versions")
        for stale in [*(out / "data").glob("config=*/.*.tmp"), *(out / "failures").glob(".*.tmp")]:
            stale.unlink(missing_ok=True)  # writes cut short by a kill
        return
    if out.exists() and any(out.iterdir()):
        raise SweepError(f"{out} exists and is not a sweep directory; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_json(manifest, plan.manifest())


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        stored = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SweepError(f"{path} cannot be read as a sweep manifest ({err})") from None
    if not isinstance(stored, dict) or not {"topic", "experiment", "configs", "seeds", "base_seed"} <= set(stored):
        raise SweepError(f"{path} is not a sweep manifest")
    return stored


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="task", desc="sweep", dynamic_ncols=True)


def _run_joblib(calls: list[tuple], jobs: int, bar, failed: list[str]) -> None:
    from joblib import Parallel, delayed

    runner = Parallel(n_jobs=jobs, return_as="generator_unordered") if jobs > 1 else None
    results = (runner(delayed(run_task)(*c) for c in calls) if runner is not None
               else (run_task(*c) for c in calls))
    for _, _, error in results:
        if error is not None:
            failed.append(error)
        bar.update(1)
        bar.set_postfix(failed=len(failed))


def _dask_client(plan: SweepPlan, jobs: int, scheduler: str | None, cluster: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("a Dask scheduler or cluster needs dask.distributed: pip install 'boundlab[dist]'") from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as err:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    if cluster == "local":
        local = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(local), local
    if cluster == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise SweepError("--cluster slurm needs dask-jobqueue: pip install 'boundlab[dist]'") from None
        options = {"cores": 1, "processes": 1, "memory": "4GB", **plan.cluster_options}
        slurm = SLURMCluster(**options)
        slurm.scale(jobs=jobs)
        return Client(slurm), slurm
    raise SweepError(f"cluster must be 'local' or 'slurm', got {cluster!r}")


def _run_dask(plan: SweepPlan, calls: list[tuple], jobs: int, scheduler: str | None, cluster: str | None,
              bar, failed: list[str]) -> None:
    from dask.distributed import as_completed

    client, owned = _dask_client(plan, jobs, scheduler, cluster)
    try:
        futures = [client.submit(run_task, *c, key=f"boundlab-{c[5]}-{c[3]}", pure=False) for c in calls]
        for future in as_completed(futures):
            _, _, error = future.result()
            if error is not None:
                failed.append(error)
            bar.update(1)
            bar.set_postfix(failed=len(failed))
    finally:
        client.close()
        if owned is not None:
            owned.close()


def run_plan(plan: SweepPlan, out: str | Path, *, jobs: int = 1, scheduler: str | None = None,
             cluster: str | None = None, resume: bool = False, progress: bool = True) -> SweepResult:
    """Run the missing tasks of ``plan`` into ``out`` and return the whole table.

    Parameters
    ----------
    plan
        From :func:`plan_sweep`.
    out
        The sweep directory (created; an existing sweep there needs ``resume=True``).
    jobs
        Local processes (joblib or ``cluster="local"``), or SLURM jobs; each runs one task at a time.
    scheduler
        Address of a running ``dask.distributed`` scheduler (``tcp://host:port``).
    cluster
        ``"local"`` (a ``LocalCluster`` of ``jobs`` workers) or ``"slurm"`` (dask-jobqueue).
    resume
        Complete the sweep already in ``out``: only tasks without a result run.
    progress
        Show a progress bar (done / total, failed, ETA).

    Raises
    ------
    SweepError
        Bad arguments, or an output directory that holds something else.
    sims.backend.BackendUnavailable
        A config asks for ``"cupy"`` on a local executor where CuPy or a GPU is missing (before any task).
    """
    if jobs < 1:
        raise SweepError(f"jobs must be >= 1, got {jobs}")
    if scheduler is not None and cluster is not None:
        raise SweepError("give either --scheduler or --cluster, not both")
    if scheduler is None and cluster in (None, "local"):  # remote workers have their own GPUs, or none
        for name in dict.fromkeys(c.get("backend", "numpy") for c in plan.configs):
            try:
                check_backend(name)
            except ValueError as err:
                raise SweepError(str(err)) from None
    out = Path(out)
    start = time.perf_counter()
    _prepare_out(plan, out, resume)
    tasks = plan.tasks
    todo = [(k, c, i) for k, c, i in tasks if not _done(out, k, i)]
    workers = jobs if scheduler is None and cluster in (None, "local") else 1
    threads = max(1, _cores() // max(workers, 1))
    calls = [(plan.topic, plan.experiment, c, i, plan.base_seed, k, str(out), threads) for k, c, i in todo]
    failed: list[str] = []
    with _progress(len(tasks), progress) as bar:
        bar.update(len(tasks) - len(todo))
        if calls:
            if scheduler is None and cluster is None:
                _run_joblib(calls, jobs, bar, failed)
            else:
                _run_dask(plan, calls, jobs, scheduler, cluster, bar, failed)
    failures = _failures(out, tasks)
    return SweepResult(load_sweep(out), failures, out, len(calls), len(tasks) - len(todo),
                       time.perf_counter() - start)


def _failures(out: Path, tasks: Iterable[tuple[str, dict[str, Any], int]]) -> list[TaskFailure]:
    found = []
    for key, config, seed in tasks:
        path = out / "failures" / f"{key}-{seed}.json"
        if path.exists() and not _done(out, key, seed):
            record = json.loads(path.read_text())
            found.append(TaskFailure(key, seed, config, record["error"]))
    return found


def load_sweep(out: str | Path) -> pd.DataFrame:
    """The table of a sweep directory: every finished task's rows, by config (grid order) then seed.

    Figures and notebooks read a sweep with this (``pd.read_parquet(OUT / "data")`` also works, as a
    hive-partitioned dataset, without the canonical order).
    """
    out = Path(out)
    manifest = out / MANIFEST
    if not manifest.exists():
        raise SweepError(f"{out} is not a sweep directory (no {MANIFEST})")
    stored = _read_manifest(manifest)
    plan = SweepPlan(stored["topic"], stored["experiment"], stored["configs"], stored["seeds"],
                     stored["base_seed"])
    parts = [load_table(path)[0] for key, _, seed in plan.tasks
             if (path := out / "data" / f"config={key}" / f"seed={seed}.parquet").exists()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sweep(topic: str, experiment: str, grid: Mapping[str, Any], *, out: str | Path, seeds: int = 1,
          base_seed: int = 0, jobs: int = 1, scheduler: str | None = None, cluster: str | None = None,
          cluster_options: Mapping[str, Any] | None = None, resume: bool = False,
          progress: bool = False, backend: str | None = None) -> SweepResult:
    """Plan and run a sweep from Python (a notebook): ``sweep("omd", "regret", {"rho": [0, 1]}, out=...)``."""
    plan = plan_sweep(topic, experiment, grid=grid, seeds=seeds, base_seed=base_seed, backend=backend)
    if cluster_options:
        plan = SweepPlan(plan.topic, plan.experiment, plan.configs, plan.seeds, plan.base_seed,
                         dict(cluster_options))
    return run_plan(plan, out, jobs=jobs, scheduler=scheduler, cluster=cluster, resume=resume,
                    progress=progress)
