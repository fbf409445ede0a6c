"""``sims.backend`` and the ``--backend`` option: names, messages, the process default, injection into
experiment configs, cache keys, GPU timings, and the ``gpu`` marker's skip.

CuPy is absent here (and in CI), so the GPU side is exercised through a stand-in ``cupy`` module put in
``sys.modules`` (numpy arrays, a fake device whose ``synchronize`` finishes queued "work"): it drives the
same code paths as a real GPU without one. Tests marked ``gpu`` run the real CuPy where a GPU exists.
"""

from __future__ import annotations

import sys
import time
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims import backend as bk
from sims import bench, checks, runner
from sims.backend import (
    BACKENDS,
    BackendUnavailable,
    array_module,
    backend_override,
    check_backend,
    current_backend,
    describe_device,
    device_name,
    gpu_available,
    synchronize,
    to_device,
    to_host,
    unavailable_reason,
    use_backend,
)
from sims.bench import Benchmark, register_benchmark, run_benchmarks
from sims.checks import Verdict
from sims.cli import main
from sims.runner import Experiment, cache_key, derive_seed, get_experiment, record_backends, run_sweep
from sims.store import load_table
from sims.sweep import SweepError, load_sweep, plan_sweep

FAKE_GPU = "FakeGPU 9000"


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _fresh_probe():
    """Every test probes CuPy afresh, and leaves no cached answer (real or faked) behind."""
    bk._cupy_problem.cache_clear()
    yield
    bk._cupy_problem.cache_clear()


def _make_fake_cupy(devices: int = 1, count_error: Exception | None = None) -> types.ModuleType:
    """A stand-in ``cupy``: numpy arrays, ``devices`` CUDA devices, and a ``synchronize`` that waits for
    the "work" queued by a candidate (``state.pending`` seconds), as a real GPU stream would."""
    state = types.SimpleNamespace(syncs=0, pending=0.0)

    class Device:
        id = 0
        compute_capability = "90"

        def synchronize(self) -> None:
            state.syncs += 1
            time.sleep(state.pending)
            state.pending = 0.0

    def get_device_count() -> int:
        if count_error is not None:
            raise count_error
        return devices

    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(Device=Device, runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count,
        getDeviceProperties=lambda i: {"name": FAKE_GPU.encode(), "totalGlobalMem": 80 * 2**30}))
    module.arange, module.asarray = np.arange, np.asarray
    module.state = state
    return module


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = _make_fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def _tiny(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """A few normal draws, and the backend the config asked for ("-" when it has none)."""
    return pd.DataFrame({"x": rng.standard_normal(int(config["n"])), "ran_on": config.get("backend", "-")})


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> tuple[Experiment, Experiment]:
    """Two tiny experiments registered under topic omd: one with a GPU path, one without."""
    get_experiment("omd", "regret")  # load the topic first, so its import does not run after the patch
    gpu = Experiment("omd", "_tiny_gpu", _tiny, {"n": 3, "backend": "numpy"}, "tiny, with a GPU path")
    cpu = Experiment("omd", "_tiny_cpu", _tiny, {"n": 3}, "tiny, numpy only")
    monkeypatch.setitem(runner._EXPERIMENTS, ("omd", "_tiny_gpu"), gpu)
    monkeypatch.setitem(runner._EXPERIMENTS, ("omd", "_tiny_cpu"), cpu)
    return gpu, cpu


def _one_line(err: str) -> None:
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


# ---------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("call", [
    lambda: check_backend("jax"),
    lambda: array_module("torch"),
    lambda: device_name("tpu"),
    lambda: to_device(np.ones(2), "gpu"),
    lambda: synchronize("CUPY"),
    lambda: unavailable_reason("numba"),
    lambda: use_backend("cuda").__enter__(),
    lambda: check_backend(None),
    lambda: register_benchmark("omd", "_bad", candidate="c", reference="r", backend="jax"),
    lambda: runner.register_experiment("omd", "_bad", {"backend": "jax"}),
])
def test_unknown_backend_names_are_rejected_naming_backend(call) -> None:
    with pytest.raises(ValueError, match=r"backend must be one of 'numpy', 'cupy'"):
        call()
    assert backend_override() is None


def test_unknown_backend_is_rejected_by_sweeps_and_runs(tiny) -> None:
    gpu, _ = tiny
    with pytest.raises(SweepError, match="backend"):
        plan_sweep("omd", "_tiny_gpu", sets=["n=2"], backend="jax")
    with pytest.raises(SweepError, match="backend"):
        plan_sweep("omd", "_tiny_gpu", sets=["backend=numpy,jax"])
    with pytest.raises(ValueError, match="backend"):
        run_sweep(gpu, [gpu.config()], seeds=1, backend="jax")
    with pytest.raises(ValueError, match="backend"):
        run_sweep(gpu, [gpu.config({"backend": "jax"})], seeds=1)


@pytest.mark.parametrize("command", ["run omd regret", "sweep omd regret", "verify", "bench"])
def test_cli_rejects_an_unknown_backend_with_exit_2(command, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command.split(), "--backend", "jax"])
    assert info.value.code == 2
    assert "--backend" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- numpy
@settings(deadline=None, derandomize=True, max_examples=10)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_numpy_backend_round_trips_arrays(shape, seed) -> None:
    x = np.random.default_rng(seed).standard_normal(shape)
    y = to_device(x, "numpy")
    assert isinstance(y, np.ndarray) and y.shape == x.shape
    np.testing.assert_array_equal(to_host(y), x)
    np.testing.assert_array_equal(to_device(x.tolist(), "numpy"), x)


def test_numpy_backend_needs_no_gpu() -> None:
    assert BACKENDS == ("numpy", "cupy") and check_backend("numpy") == "numpy"
    assert array_module("numpy") is np and unavailable_reason("numpy") is None
    assert device_name("numpy") == "cpu" and describe_device("numpy").startswith("cpu (")
    assert "cores" in describe_device("numpy")
    assert synchronize("numpy") is None and synchronize() is None
    assert to_host([1, 2]).tolist() == [1, 2]


def test_use_backend_nests_and_restores_even_on_error(fake_cupy) -> None:
    assert current_backend() == "numpy" and backend_override() is None
    with use_backend("cupy"):
        assert current_backend() == backend_override() == "cupy" and device_name() == FAKE_GPU
        with use_backend("numpy"):
            assert current_backend() == "numpy" and device_name() == "cpu"
        assert current_backend() == "cupy"
        with pytest.raises(ZeroDivisionError), use_backend("numpy"):
            raise ZeroDivisionError
        assert current_backend() == "cupy"
    assert current_backend() == "numpy" and backend_override() is None


# ---------------------------------------------------------------------------------------------- messages
def test_missing_cupy_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ModuleNotFoundError
    assert not gpu_available() and unavailable_reason() == unavailable_reason("cupy")
    for call in (lambda: check_backend("cupy"), lambda: array_module("cupy"), lambda: device_name("cupy"),
                 lambda: to_device([1.0], "cupy"), lambda: synchronize("cupy"),
                 lambda: use_backend("cupy").__enter__()):
        with pytest.raises(BackendUnavailable) as info:
            call()
        message = str(info.value)
        assert "CuPy" in message and 'pip install -e ".[gpu]"' in message and "--backend numpy" in message
        _one_line(message)
    assert isinstance(info.value, RuntimeError) and backend_override() is None


@pytest.mark.parametrize("devices, error, says", [
    (0, None, "finds no CUDA device"),
    (1, RuntimeError("cudaErrorInsufficientDriver:\nCUDA driver version is insufficient"), "no CUDA device is usable"),
])
def test_cupy_without_a_usable_gpu_says_so(monkeypatch, devices, error, says) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _make_fake_cupy(devices, error))
    assert not gpu_available()
    with pytest.raises(BackendUnavailable, match=says) as info:
        check_backend("cupy")
    assert "CuPy is installed" in str(info.value)
    _one_line(str(info.value))


def test_the_probe_runs_once_and_never_raises(monkeypatch) -> None:
    calls = []
    fake = _make_fake_cupy()
    fake.cuda.runtime.getDeviceCount = lambda: calls.append(1) or 1
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert gpu_available() and gpu_available() and check_backend("cupy") == "cupy"
    assert len(calls) == 1
    bk._cupy_problem.cache_clear()
    fake.arange = None  # a device that is listed but cannot run a kernel
    assert gpu_available() is False
    assert "cannot run on it" in unavailable_reason("cupy")


def test_fake_gpu_device_helpers(fake_cupy) -> None:
    assert gpu_available() and array_module("cupy") is fake_cupy
    assert device_name("cupy") == FAKE_GPU
    assert describe_device("cupy") == f"{FAKE_GPU} (CUDA device 0, 80.0 GiB, compute capability 9.0)"
    synchronize("cupy")
    assert fake_cupy.state.syncs == 1


# ---------------------------------------------------------------------------------------------- runner
def test_seeds_ignore_the_backend_but_cache_keys_do_not(tiny) -> None:
    gpu, _ = tiny
    on_cpu, on_gpu = gpu.config(), gpu.config({"backend": "cupy"})
    def state(config: dict[str, Any]) -> list[int]:
        return derive_seed(0, config, 2).generate_state(4).tolist()

    assert state(on_cpu) == state(on_gpu) and state(on_cpu) != state({**on_cpu, "n": 4})
    assert cache_key(gpu, [on_cpu], seeds=2) != cache_key(gpu, [on_gpu], seeds=2)
    assert cache_key(gpu, [on_cpu], seeds=2) == cache_key(gpu, [dict(on_cpu)], seeds=2)


def test_run_sweep_sets_the_backend_only_where_declared(tiny, fake_cupy, tmp_path) -> None:
    gpu, cpu = tiny
    plain = run_sweep(gpu, [gpu.config()], seeds=2, cache_dir=tmp_path)
    with record_backends() as log, use_backend("cupy"):
        on_gpu = run_sweep(gpu, [gpu.config()], seeds=2, cache_dir=tmp_path)
        on_cpu = run_sweep(cpu, [cpu.config()], seeds=2, cache_dir=tmp_path)
        forced = run_sweep(gpu, [gpu.config()], seeds=1, backend="numpy")
    assert set(plain["backend"]) == set(plain["ran_on"]) == {"numpy"}
    assert set(on_gpu["backend"]) == set(on_gpu["ran_on"]) == {"cupy"}
    assert "backend" not in on_cpu and set(on_cpu["ran_on"]) == {"-"}
    assert set(forced["ran_on"]) == {"numpy"}  # an explicit backend= beats the process default
    np.testing.assert_array_equal(plain["x"], on_gpu["x"])  # same seeds on both backends
    assert log == [("omd", "_tiny_gpu", "cupy", True), ("omd", "_tiny_cpu", "numpy", False),
                   ("omd", "_tiny_gpu", "numpy", True)]
    stored = sorted(tmp_path.glob("omd-_tiny_gpu-*.parquet"))
    assert len(stored) == 2  # one table per backend: cached results never mix
    metas = {load_table(p)[1]["backend"]: load_table(p)[1]["device"] for p in stored}
    assert metas == {"numpy": "cpu", "cupy": FAKE_GPU}


def test_run_sweep_refuses_cupy_before_any_work_without_a_gpu(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)
    ran = []

    def counting(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
        ran.append(config.get("backend"))
        return _tiny(config, rng)

    gpu = Experiment("omd", "_counting", counting, {"n": 2, "backend": "numpy"})
    cpu = Experiment("omd", "_counting_cpu", counting, {"n": 2})
    with pytest.raises(BackendUnavailable, match="CuPy"):  # the numpy config first: not run either
        run_sweep(gpu, [gpu.config(), gpu.config({"backend": "cupy"})], seeds=1)
    with pytest.raises(BackendUnavailable, match="CuPy"):
        run_sweep(gpu, [gpu.config()], seeds=1, backend="cupy")
    assert ran == []
    assert set(run_sweep(cpu, [cpu.config()], seeds=1, backend="cupy")["ran_on"]) == {"-"}
    assert ran == [None]


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_run_injects_the_backend_and_an_explicit_set_wins(tiny, fake_cupy, tmp_path, capsys) -> None:
    out = tmp_path / "t.parquet"
    assert main(["run", "omd", "_tiny_gpu", "--backend", "cupy", "--seeds", "2", "--out", str(out)]) == 0
    df, meta = load_table(out)
    assert set(df["ran_on"]) == {"cupy"} and meta["backend"] == "cupy" and meta["device"] == FAKE_GPU
    assert main(["run", "omd", "_tiny_gpu", "--backend", "cupy", "--set", "backend=numpy", "--out", str(out)]) == 0
    df, meta = load_table(out)
    assert set(df["ran_on"]) == {"numpy"} and meta["backend"] == "numpy" and meta["device"] == "cpu"
    capsys.readouterr()
    assert main(["run", "omd", "_tiny_cpu", "--backend", "cupy", "--out", str(out)]) == 0
    assert "_tiny_cpu has no GPU path; it ran on numpy" in capsys.readouterr().out
    assert set(load_table(out)[0]["ran_on"]) == {"-"}


def test_cli_sweep_injects_the_backend(tiny, fake_cupy, tmp_path, capsys) -> None:
    argv = ["sweep", "omd", "_tiny_gpu", "--set", "n=2,3", "--no-progress", "--backend", "cupy"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    table = load_sweep(tmp_path / "a")
    assert len(table) == 5 and set(table["ran_on"]) == {"cupy"}
    assert main([*argv, "--set", "backend=numpy", "--out", str(tmp_path / "b")]) == 0
    assert set(load_sweep(tmp_path / "b")["ran_on"]) == {"numpy"}
    assert main(["sweep", "omd", "_tiny_cpu", "--set", "n=2", "--no-progress", "--backend", "cupy",
                 "--out", str(tmp_path / "c")]) == 0
    assert "has no GPU path" in capsys.readouterr().err
    plan = plan_sweep("omd", "_tiny_gpu", sets=["n=2"], backend="cupy")
    assert [c["backend"] for c in plan.configs] == ["cupy"]


def test_cli_verify_runs_declaring_experiments_on_the_backend_and_says_which_not(tiny, fake_cupy, tmp_path,
                                                                                  monkeypatch, capsys) -> None:
    gpu, cpu = tiny
    checks.get_check("omd.regimes")  # import the topic's checks before replacing one

    def check(ctx: checks.CheckContext) -> Verdict:
        df = pd.concat([run_sweep(e, [e.config()], seeds=1, cache_dir=ctx.cache_dir) for e in (gpu, cpu)])
        return Verdict("omd.regimes", 1.0, 2.0, True, "stand-in", df[["ran_on", "x"]].reset_index(drop=True))

    monkeypatch.setitem(checks._CHECKS, "omd.regimes", check)
    argv = ["verify", "--claim", "omd.regimes", "--out", str(tmp_path), "--no-progress"]
    assert main([*argv, "--backend", "cupy"]) == 0
    out = capsys.readouterr().out
    assert ("backend cupy: 1 experiment ran on cupy (omd._tiny_gpu); 1 experiment has no GPU path and ran on "
            "numpy") in out
    data, meta = load_table(tmp_path / "data" / "omd.regimes.parquet")
    assert list(data["ran_on"]) == ["cupy"] * 3 + ["-"] * 3 and meta["backend"] == "cupy" and meta["device"] == FAKE_GPU
    assert main(argv) == 0  # without --backend: the configs' own backend, and no summary line
    assert "backend cupy" not in capsys.readouterr().out
    assert list(load_table(tmp_path / "data" / "omd.regimes.parquet")[0]["ran_on"]) == ["numpy"] * 3 + ["-"] * 3


# ---------------------------------------------------------------------------------------------- bench
def _async_pair(fake: types.ModuleType, work: float):
    """A candidate that only queues ``work`` seconds of "GPU" work (returns at once), and a CPU reference."""
    def candidate() -> None:
        fake.state.pending = work

    return lambda: (candidate, lambda: time.sleep(work))


def test_gpu_timings_stop_the_clock_after_synchronize(fake_cupy) -> None:
    work = 0.02
    table = run_benchmarks([Benchmark("omd", "queued", "gpu", "cpu", _async_pair(fake_cupy, work), 3,
                                      target=None, backend="cupy")])
    row = table.iloc[0]
    assert row["skipped"] is None and row["backend"] == "cupy" and row["device"] == FAKE_GPU
    assert row["candidate_min_s"] >= 0.9 * work  # the queued work is inside the timing
    assert 0.5 < row["speedup"] < 2.0  # same work on both sides
    assert fake_cupy.state.syncs >= 2 * 3


def test_cupy_benchmarks_are_skipped_with_the_reason_without_a_gpu(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)
    fake = _make_fake_cupy()
    table = run_benchmarks([Benchmark("omd", "queued", "gpu", "cpu", _async_pair(fake, 0.0), 1, backend="cupy"),
                            Benchmark("omd", "plain", "c", "r", lambda: (lambda: None, lambda: None), 1)])
    assert "CuPy" in table.loc[0, "skipped"] and np.isnan(table.loc[0, "speedup"])
    assert table.loc[1, "skipped"] is None and table.loc[1, "device"] == "cpu"


def test_cli_bench_runs_the_backend_s_benchmarks_and_names_the_device(fake_cupy, monkeypatch, capsys) -> None:
    bench.benchmarks()  # import the real ones now, then set them aside: they would run on the stand-in
    plain = Benchmark("omd", "_plain", "c", "r", lambda: (lambda: None, lambda: None), 1)
    queued = Benchmark("omd", "_queued", "gpu kernel", "cpu loop", _async_pair(fake_cupy, 0.001), 2, backend="cupy")
    monkeypatch.setattr(bench, "_BENCHMARKS", {("omd", "_plain"): plain, ("omd", "_queued"): queued})
    assert bench.benchmarks(["omd"], "cupy") == [queued] and bench.benchmarks(["omd"]) == [plain]
    with use_backend("cupy"):  # the default backend of the selection is the process-wide one
        assert bench.benchmarks() == [queued]
    assert main(["bench", "omd", "--backend", "cupy", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    header, *rows = out.strip().splitlines()
    assert header.startswith("boundlab bench --backend cupy: " + FAKE_GPU)
    assert len(rows) == 1 and rows[0].startswith("omd/_queued: gpu kernel median")
    assert main(["bench", "sor_bandit", "--backend", "cupy"]) == 0
    assert "no cupy benchmarks are registered for sor_bandit" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- gpu marker
GPU_TEST = """
import numpy as np
import pytest

@pytest.mark.gpu
def test_needs_a_gpu():
    import cupy  # fails, not skips, if the marker's skip did not happen
    assert cupy.cuda.runtime.getDeviceCount() > 0

def test_plain():
    assert np.ones(1).sum() == 1
"""


def test_gpu_marked_tests_skip_cleanly_with_the_reason(pytester: pytest.Pytester, monkeypatch) -> None:
    from pathlib import Path

    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text().replace(
        'pytest_plugins = ["pytester"]', ""))
    pytester.makeini("[pytest]\naddopts = --strict-markers\nmarkers =\n    gpu: needs CuPy and a CUDA device\n")
    pytester.makepyfile(GPU_TEST)
    monkeypatch.setitem(sys.modules, "cupy", None)
    result = pytester.runpytest_inprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*gpu test: backend 'cupy' needs CuPy*"])


@pytest.mark.gpu
def test_cupy_and_numpy_agree_on_the_same_arrays() -> None:
    """Runs only with a GPU (skipped by the marker elsewhere): CuPy and numpy on the same data, to 1e-12."""
    cupy = array_module("cupy")
    x = np.random.default_rng(0).standard_normal((64, 32))
    on_gpu = to_device(x, "cupy")
    assert isinstance(on_gpu, cupy.ndarray) and device_name("cupy") != "cpu"
    result = to_host(on_gpu.T @ on_gpu + cupy.tanh(on_gpu).sum(axis=0))
    synchronize("cupy")
    np.testing.assert_allclose(result, x.T @ x + np.tanh(x).sum(axis=0), rtol=1e-12, atol=1e-12)
