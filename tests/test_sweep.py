"""``boundlab sweep`` and :mod:`sims.sweep`: executors agree, kill -9 and resume, failing tasks, bad usage."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sims import runner
from sims.cli import main
from sims.runner import Experiment, get_experiment, run_sweep
from sims.sweep import SweepError, load_sweep, plan_sweep, run_plan, sweep

# 4 configs of a cheap experiment (a few hundredths of a second per task)
SETS = ["n=128,256", "u=0.01,0.1", "iters=100"]
SET_ARGS = [a for s in SETS for a in ("--set", s)]
ITERS = 100
SUMMARY = re.compile(r"(\d+)/(\d+) tasks done \((\d+) run now, (\d+) found\)")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sims.cli", "sweep", *args, "--no-progress"], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=120)


def _summary(stdout: str) -> tuple[int, int, int, int]:
    """(done, total, run now, found) from the summary line."""
    match = SUMMARY.search(stdout)
    assert match, stdout
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def _parquets(out: Path) -> list[Path]:
    return sorted((out / "data").glob("config=*/seed=*.parquet"))


def _one_line_usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse
        status = exit_.code
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


# ------------------------------------------------------------------------------------- executors
def test_joblib_and_local_dask_cluster_give_the_run_sweep_table(tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    plan = plan_sweep("alf_lb", "fixed_batch", sets=SETS, seeds=2)
    assert len(plan.tasks) == 8
    joblib = run_plan(plan, tmp_path / "joblib", jobs=2, progress=False)
    dask = run_plan(plan, tmp_path / "dask", cluster="local", jobs=2, progress=False)
    expected = run_sweep(get_experiment("alf_lb", "fixed_batch"), plan.configs, seeds=2, base_seed=0)
    assert len(expected) == 8 * ITERS
    for result in (joblib, dask):
        assert result.ok and result.ran == 8 and result.skipped == 0
        pd.testing.assert_frame_equal(result.table, expected)
        pd.testing.assert_frame_equal(load_sweep(result.out), expected)
    assert len(_parquets(tmp_path / "joblib")) == len(_parquets(tmp_path / "dask")) == 8


def test_existing_dask_scheduler_gives_the_same_table(tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    plan = plan_sweep("alf_lb", "fixed_batch", sets=["n=128", "u=0.01,0.1", "iters=50"], seeds=2)
    serial = run_plan(plan, tmp_path / "serial", progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = run_plan(plan, tmp_path / "remote", scheduler=cluster.scheduler_address, progress=False)
    assert remote.ok and remote.ran == 4
    pd.testing.assert_frame_equal(remote.table, serial.table)


def test_slurm_cluster_is_built_from_the_grid_files_slurm_section(tmp_path, monkeypatch) -> None:
    jobqueue = pytest.importorskip("dask_jobqueue")
    import sims.sweep as sw

    scaled: list[dict] = []

    class NoSubmitSLURMCluster(jobqueue.SLURMCluster):
        def scale(self, n=None, jobs=0, memory=None, cores=None):  # record instead of calling sbatch
            scaled.append({"n": n, "jobs": jobs})

    monkeypatch.setattr(jobqueue, "SLURMCluster", NoSubmitSLURMCluster)
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  n: [128, 256]\nseeds: 3\nslurm:\n  queue: short\n  walltime: '00:10:00'\n"
                    "  memory: 2GB\n  job_extra_directives: ['--qos=low']\n")
    plan = plan_sweep("alf_lb", "fixed_batch", grid_file=grid)
    assert plan.seeds == 3 and len(plan.tasks) == 6
    assert plan.cluster_options["queue"] == "short"
    client, cluster = sw._dask_client(plan, 3, None, "slurm")
    try:
        assert isinstance(cluster, NoSubmitSLURMCluster)
        assert scaled == [{"n": None, "jobs": 3}]
        script = cluster.job_script()
        for line in ("#SBATCH -p short", "#SBATCH -t 00:10:00", "#SBATCH --mem=2G", "#SBATCH --qos=low",
                     "#SBATCH --cpus-per-task=1", "--nthreads 1"):
            assert line in script, script
    finally:
        client.close()
        cluster.close()


# -------------------------------------------------------------------------------- kill and resume
def test_kill_9_then_resume_gives_the_uninterrupted_table(tmp_path) -> None:
    seeds = 10  # 40 tasks
    plan = plan_sweep("alf_lb", "fixed_batch", sets=SETS, seeds=seeds)
    clean = run_plan(plan, tmp_path / "clean", progress=False).table
    assert len(clean) == 40 * ITERS

    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "sims.cli", "sweep", "alf_lb", "fixed_batch", *SET_ARGS, "--seeds", str(seeds),
            "--out", str(out), "--jobs", "1", "--no-progress"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_parquets(out)) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep wrote no results"
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    finished = _parquets(out)
    assert 3 <= len(finished) < 40
    for path in finished:  # every result under its final name is complete
        assert pq.read_table(path).num_rows == ITERS
    # a write cut short by the kill leaves only a hidden temporary, which nothing counts
    part = finished[0].parent
    (part / f".seed={seeds - 1}.123456.tmp").write_bytes(b"PAR1 partial")
    partial = load_sweep(out)
    assert len(partial) == len(finished) * ITERS
    assert len(pd.read_parquet(out / "data")) == len(finished) * ITERS

    result = _cli("alf_lb", "fixed_batch", *SET_ARGS, "--seeds", str(seeds), "--out", str(out), "--jobs", "1",
                  "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _summary(result.stdout) == (40, 40, 40 - len(finished), len(finished))

    table = load_sweep(out)
    pd.testing.assert_frame_equal(table, clean)
    per_task = table.groupby(["n", "u", "seed"]).size()
    assert len(per_task) == 40 and (per_task == ITERS).all()
    dataset = pd.read_parquet(out / "data")
    per_key = dataset.groupby(["config", "seed"]).size()
    assert len(per_key) == 40 and (per_key == ITERS).all()
    assert len(_parquets(out)) == 40


def test_resume_of_a_finished_sweep_runs_nothing(tmp_path) -> None:
    plan = plan_sweep("alf_lb", "fixed_batch", sets=["n=128", "iters=20"], seeds=3)
    first = run_plan(plan, tmp_path / "s", progress=False)
    mtimes = [p.stat().st_mtime_ns for p in _parquets(tmp_path / "s")]
    again = run_plan(plan, tmp_path / "s", resume=True, progress=False)
    assert (again.ran, again.skipped) == (0, 3)
    assert [p.stat().st_mtime_ns for p in _parquets(tmp_path / "s")] == mtimes
    pd.testing.assert_frame_equal(again.table, first.table)


# ---------------------------------------------------------------------------------- failing tasks
def test_a_failing_task_is_reported_and_the_others_finish(tmp_path) -> None:
    out = tmp_path / "s"
    # n=100: K·n/E = 2·100/16 is no integer; the config is valid, the solver raises at run time
    args = ("alf_lb", "fixed_batch", "--set", "n=128,100", "--set", "iters=50", "--seeds", "2", "--out", str(out))
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert _summary(result.stdout) == (2, 4, 4, 0)
    assert "Traceback" not in result.stderr
    assert "2 task(s) failed" in result.stderr
    lines = [line for line in result.stderr.splitlines() if "seed=" in line]
    assert len(lines) == 2
    for line in lines:
        assert "n=100" in line and "ValueError" in line and "capacity" in line and "config=" in line

    table = load_sweep(out)
    assert len(table) == 2 * 50 and (table["n"] == 128).all() and set(table["seed"]) == {0, 1}
    failures = sorted((out / "failures").glob("*.json"))
    assert len(failures) == 2
    for path in failures:
        record = json.loads(path.read_text())
        assert record["config"]["n"] == 100 and record["seed"] in (0, 1)
        assert record["error"].startswith("ValueError") and "capacity" in record["error"]
        assert "Traceback" in record["traceback"] and "capacity" in record["traceback"]

    done = {p: p.stat().st_mtime_ns for p in _parquets(out)}
    failed = {p: p.stat().st_mtime_ns for p in failures}
    time.sleep(0.01)
    again = _cli(*args, "--resume", cwd=tmp_path)
    assert again.returncode == 1
    assert _summary(again.stdout) == (2, 4, 2, 2)  # the failed tasks re-run, the finished ones do not
    assert "2 task(s) failed" in again.stderr and "Traceback" not in again.stderr
    assert {p: p.stat().st_mtime_ns for p in _parquets(out)} == done
    assert all(p.stat().st_mtime_ns != m for p, m in failed.items())
    pd.testing.assert_frame_equal(load_sweep(out), table)


def test_resume_after_a_fix_completes_the_sweep_and_clears_the_failures(tmp_path, monkeypatch) -> None:
    real = get_experiment("alf_lb", "fixed_batch")
    broken = {"yes": True}

    def flaky(config, rng):
        if broken["yes"] and config["n"] == 256:
            raise RuntimeError("not fixed yet")
        return real.func(config, rng)

    monkeypatch.setitem(runner._EXPERIMENTS, ("alf_lb", "fixed_batch"),
                        Experiment("alf_lb", "fixed_batch", flaky, real.defaults))
    plan = plan_sweep("alf_lb", "fixed_batch", sets=["n=128,256", "iters=50"], seeds=2)
    first = run_plan(plan, tmp_path / "s", progress=False)
    assert not first.ok and len(first.failures) == 2 and len(first.table) == 2 * 50
    assert {f.config["n"] for f in first.failures} == {256}
    assert all("RuntimeError: not fixed yet" in str(f) for f in first.failures)

    broken["yes"] = False
    fixed = run_plan(plan, tmp_path / "s", resume=True, progress=False)
    assert fixed.ok and (fixed.ran, fixed.skipped) == (2, 2)
    assert not list((tmp_path / "s" / "failures").glob("*.json"))
    expected = run_sweep(real, plan.configs, seeds=2)
    pd.testing.assert_frame_equal(fixed.table, expected)


# -------------------------------------------------------------------------------------- bad usage
GRID_FILES = {
    "unknown_parameter": ("grid:\n  n: [128]\n  foo: [1]\n", "no parameter 'foo'"),
    "empty_grid": ("grid: {}\n", "the grid is empty"),
    "empty_values": ("grid:\n  n: []\n", "empty list of values"),
    "str_for_int": ("grid:\n  n: [abc]\n", "parameter 'n' takes int"),
    "str_for_float": ("grid:\n  u: ['x']\n", "parameter 'u' takes float"),
    "bool_for_int": ("grid:\n  K: [true]\n", "parameter 'K' takes int"),
    "fraction_for_int": ("grid:\n  n: [128.5]\n", "parameter 'n' takes int"),
    "int_for_str": ("grid:\n  rule: [1]\n", "parameter 'rule' takes str"),
    "not_yaml": ("grid: {n: [128\n", "is not valid YAML"),
    "not_a_mapping": ("- 1\n- 2\n", "must be a mapping"),
    "empty_file": ("", "must be a mapping"),
    "no_grid_section": ("seeds: 2\n", "must be a mapping with a 'grid:'"),
    "grid_not_a_mapping": ("grid: [1, 2]\n", "must be a mapping with a 'grid:'"),
    "unknown_section": ("grid:\n  n: [128]\nextra: 1\n", "unknown section(s) ['extra']"),
    "zero_seeds": ("grid:\n  n: [128]\nseeds: 0\n", "seeds must be an integer >= 1"),
    "slurm_not_a_mapping": ("grid:\n  n: [128]\nslurm: [1]\n", "'slurm:' section must be a mapping"),
}


@pytest.mark.parametrize("name", list(GRID_FILES))
def test_bad_grid_file_is_one_line_and_exit_2(name, tmp_path, capsys) -> None:
    text, message = GRID_FILES[name]
    grid = tmp_path / "grid.yaml"
    grid.write_text(text)
    out = tmp_path / "out"
    err = _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", "--grid", str(grid), "--out", str(out),
                                         "--no-progress"])
    assert message in err and err.startswith("boundlab sweep: error: ")
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--set", "foo=1"], "no parameter 'foo'"),
    (["--set", "n=128", "--set", "foo=1,2"], "no parameter 'foo'"),
    ([], "the grid is empty"),
    (["--set", "n=abc"], "parameter 'n' takes int"),
    (["--set", "n=128,abc"], "parameter 'n' takes int"),
    (["--set", "u=x"], "parameter 'u' takes float"),
    (["--set", "novalue"], "key=v1,v2"),
    (["--set", "=1"], "key=v1,v2"),
    (["--grid", "missing.yaml"], "No such file or directory"),
    (["--grid", "."], "grid file"),
])
def test_bad_sweep_usage_is_one_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    err = _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", *argv, "--out", "out", "--no-progress"])
    assert message in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("topic, experiment, message", [
    ("nope", "regret", "unknown topic 'nope'"),
    ("omd", "nope", "unknown experiment 'nope'"),
])
def test_unknown_experiment_is_one_line_and_exit_2(topic, experiment, message, tmp_path, capsys) -> None:
    err = _one_line_usage_error(capsys, ["sweep", topic, experiment, "--set", "T=256", "--out",
                                         str(tmp_path / "out")])
    assert message in err


@pytest.mark.parametrize("argv, message", [
    (["--set", "n=128,256"], "has another configs"),
    (["--set", "n=128", "--set", "iters=11"], "has another configs"),
    (["--seeds", "3"], "has another seeds"),
    (["--seed", "7"], "has another base_seed"),
])
def test_resume_with_another_grid_is_one_line_and_exit_2(argv, message, tmp_path, capsys) -> None:
    out = tmp_path / "s"
    base = ["sweep", "alf_lb", "fixed_batch", "--out", str(out), "--no-progress"]
    assert main([*base, "--set", "n=128", "--set", "iters=10", "--seeds", "2"]) == 0
    capsys.readouterr()
    manifest = (out / "manifest.json").read_text()
    files = _parquets(out)
    defaults = ["--set", "n=128", "--set", "iters=10", "--seeds", "2"]
    # later --set / --seeds win over the ones of the first run
    err = _one_line_usage_error(capsys, [*base, *defaults, *argv, "--resume"])
    assert message in err and "--resume" in err
    assert (out / "manifest.json").read_text() == manifest and _parquets(out) == files


def test_existing_sweep_needs_resume(tmp_path, capsys) -> None:
    argv = ["sweep", "alf_lb", "fixed_batch", "--set", "n=128", "--set", "iters=10", "--out", str(tmp_path / "s"),
            "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    err = _one_line_usage_error(capsys, argv)
    assert "already holds a sweep" in err and "--resume" in err
    assert main([*argv, "--resume"]) == 0


def test_non_sweep_directory_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    err = _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", "--set", "n=128", "--out",
                                         str(tmp_path / "other"), "--no-progress"])
    assert "is not a sweep directory" in err
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]


def test_scheduler_and_cluster_together_are_refused(tmp_path) -> None:
    plan = plan_sweep("alf_lb", "fixed_batch", sets=["n=128"])
    with pytest.raises(SweepError, match="not both"):
        run_plan(plan, tmp_path / "out", scheduler="tcp://127.0.0.1:1", cluster="local", progress=False)
    assert not (tmp_path / "out").exists()


def test_scheduler_and_cluster_together_are_one_line(tmp_path, capsys) -> None:
    _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", "--set", "n=128", "--scheduler",
                                   "tcp://127.0.0.1:1", "--cluster", "local", "--out", str(tmp_path / "out")])


@pytest.mark.parametrize("text", ["grid:\n  n: [128]\nseeds: abc\n", "grid:\n  n: [128]\nbase_seed: [1]\n"],
                         ids=["seeds_abc", "base_seed_list"])
def test_bad_seeds_in_grid_file_is_one_line_and_exit_2(text, tmp_path, capsys) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(text)
    _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", "--grid", str(grid), "--out",
                                   str(tmp_path / "out"), "--no-progress"])


def test_out_that_is_a_file_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    (tmp_path / "afile").write_text("mine")
    _one_line_usage_error(capsys, ["sweep", "alf_lb", "fixed_batch", "--set", "n=128", "--out",
                                   str(tmp_path / "afile"), "--no-progress"])


def test_integral_float_for_an_int_parameter_is_converted_or_refused(tmp_path, capsys) -> None:
    status = main(["sweep", "alf_lb", "fixed_batch", "--set", "n=128.0", "--set", "iters=10", "--out",
                   str(tmp_path / "s"), "--no-progress"])
    captured = capsys.readouterr()
    assert status in (0, 2), captured.err
    if status == 0:
        assert (load_sweep(tmp_path / "s")["n"] == 128).all()


# -------------------------------------------------------------------------------------- Python API
def test_python_api_returns_the_stored_table(tmp_path) -> None:
    out = tmp_path / "s"
    grid = {"T": 256, "method": ["ogd", "oftrl"], "rho": [0.0, 1.0]}
    result = sweep("omd", "regret", grid, out=out, seeds=2)
    assert result.ok and result.ran == 8 and result.skipped == 0 and result.out == out
    table = load_sweep(out)
    assert len(table) > 0
    pd.testing.assert_frame_equal(result.table, table)
    assert list(table.drop_duplicates(["method", "rho", "seed"])[["method", "rho", "seed"]].itertuples(
        index=False, name=None)) == [(m, r, s) for m in ("ogd", "oftrl") for r in (0.0, 1.0) for s in (0, 1)]
    dataset = pd.read_parquet(out / "data")
    assert len(dataset) == len(table)
    assert dataset["config"].nunique() == 4 and set(dataset["seed"]) == {0, 1}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["topic"] == "omd" and manifest["experiment"] == "regret" and manifest["seeds"] == 2
    assert len(manifest["configs"]) == 4
    expected = run_sweep(get_experiment("omd", "regret"), plan_sweep("omd", "regret", grid=grid).configs, seeds=2)
    pd.testing.assert_frame_equal(table, expected)


def test_load_sweep_of_a_non_sweep_directory_raises(tmp_path) -> None:
    with pytest.raises(SweepError, match="not a sweep directory"):
        load_sweep(tmp_path)


def test_yaml_numbers_are_read_in_the_parameters_types(tmp_path) -> None:
    """YAML 1.1 reads 1e-2 as a string; an int given as 128.0 is an int: both take the default's type."""
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  u: [1e-2, 0.1]\n  n: [128.0]\n")
    plan = plan_sweep("alf_lb", "fixed_batch", grid_file=grid)
    assert [c["u"] for c in plan.configs] == [0.01, 0.1]
    assert all(type(c["n"]) is int and c["n"] == 128 for c in plan.configs)
