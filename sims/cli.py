"""The ``boundlab`` command: list, verify, run, sweep, figures, bench.

Exit status: 0 on success (``verify``: every claim that ran holds), 1 when a claim fails, a run diverges
or ``--backend cupy`` cannot run here (CuPy or a GPU missing), 2 on bad usage (unknown topic, claim,
experiment or parameter), with one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sims.backend import BACKENDS, BackendUnavailable

__all__ = ["main"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: reported as one line, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_backend(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help=f"array backend {what}; cupy needs CuPy and a CUDA GPU (pip install -e \".[gpu]\")")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boundlab", description="Executable theorems: run, check and plot the claims.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = sub.add_parser("list", help="every claim: id, kind, source, statement")
    listing.add_argument("--experiments", action="store_true",
                         help="list the experiments instead, marking those with a GPU path (--backend cupy)")

    verify = sub.add_parser("verify", help="check the claims and print their verdicts")
    verify.add_argument("--scale", choices=("quick", "full"), default="quick")
    verify.add_argument("--topic", action="append", default=[], metavar="T")
    verify.add_argument("--claim", action="append", default=[], metavar="ID")
    verify.add_argument("--jobs", type=_positive_int, default=1, metavar="N")
    verify.add_argument("--seed", type=int, default=0, metavar="S", help="base seed")
    verify.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default ./boundlab-results)")
    verify.add_argument("--force", action="store_true", help="recompute cached experiments")
    verify.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_backend(verify, "of every experiment that has a GPU path (the others run on numpy)")

    run = sub.add_parser("run", help="run one experiment and write its table to parquet")
    run.add_argument("topic")
    run.add_argument("experiment")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")
    run.add_argument("--seeds", type=_positive_int, default=1, metavar="N")
    run.add_argument("--jobs", type=_positive_int, default=1, metavar="N")
    run.add_argument("--seed", type=int, default=0, metavar="S", help="base seed")
    run.add_argument("--out", type=Path, default=None, metavar="FILE")
    run.add_argument("--force", action="store_true", help="recompute even if stored")
    _add_backend(run, "if the experiment has a GPU path (--set backend=... wins)")

    figures = sub.add_parser("figures", help="regenerate the paper figures")
    figures.add_argument("topics", nargs="*", metavar="TOPIC")
    figures.add_argument("--scale", choices=("quick", "full"), default="quick")
    figures.add_argument("--format", default="html", metavar="FMT[,FMT]",
                         help="comma-separated: html, pdf, png (default html)")
    figures.add_argument("--out", type=Path, default=Path("paper_figs/out"), metavar="DIR")
    figures.add_argument("--jobs", type=_positive_int, default=1, metavar="N")
    figures.add_argument("--seed", type=int, default=0, metavar="S", help="base seed")

    sweep = sub.add_parser("sweep", help="a resumable grid x seeds sweep on joblib, Dask or SLURM")
    sweep.add_argument("topic")
    sweep.add_argument("experiment")
    sweep.add_argument("--grid", default=None, metavar="FILE.yaml")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2,...", dest="sets")
    sweep.add_argument("--seeds", type=_positive_int, default=None, metavar="N")
    sweep.add_argument("--seed", type=int, default=None, metavar="S", help="base seed")
    sweep.add_argument("--out", type=Path, default=None, metavar="DIR")
    sweep.add_argument("--jobs", type=_positive_int, default=1, metavar="N")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS")
    sweep.add_argument("--cluster", choices=("local", "slurm"), default=None)
    sweep.add_argument("--resume", action="store_true")
    sweep.add_argument("--no-progress", action="store_true")
    _add_backend(sweep, "of every config if the experiment has a GPU path (a grid value of backend wins)")

    bench = sub.add_parser("bench", help="time each solver against its reference")
    bench.add_argument("topics", nargs="*", metavar="TOPIC")
    bench.add_argument("--repeats", type=_positive_int, default=None, metavar="N")
    _add_backend(bench, "of the benchmarks to run: numpy (CPU, default) or cupy (GPU candidate vs CPU reference)")
    return parser


def _list_experiments() -> int:
    from sims.runner import experiments

    rows = experiments()
    width = max(len(f"{e.topic} {e.name}") for e in rows)
    for e in rows:
        flag = "GPU path" if e.has_gpu_path else ""
        print(f"{e.topic + ' ' + e.name:<{width}}  {flag:<8}  {e.description}")
    n_gpu = sum(e.has_gpu_path for e in rows)
    print(f"\n{n_gpu}/{len(rows)} experiments have a GPU path (--backend cupy); the others run on numpy")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from theory import claims

    if args.experiments:
        return _list_experiments()

    for c in claims():
        flag = " (reconstructed)" if c.reconstructed else ""
        print(f"{c.id:<30} {c.kind!s:<21} {c.source}{flag}\n{'':<30} {c.statement}")
        if c.known_failure:
            print(f"{'':<30} fails at the paper's constants (documented): {c.known_failure}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sims import __version__
    from sims.backend import check_backend, device_name
    from sims.checks import CheckContext
    from sims.report import write_report
    from sims.store import provenance, save_table
    from sims.verify import backend_summary, default_out_dir, format_table, select_claims, verdict_table, verify

    try:
        selected = select_claims(args.topic, args.claim)
    except KeyError as err:
        raise UsageError(err.args[0]) from None
    if args.backend is not None:
        check_backend(args.backend)  # one line and exit 1 before any check where it cannot run
    out = args.out or default_out_dir()
    ctx = CheckContext(args.scale, args.seed, args.jobs, out / "cache", args.force)

    def progress(items):
        bar = tqdm(items, desc="verify", unit="claim", disable=args.no_progress, file=sys.stderr)
        for item in bar:
            bar.set_postfix_str(item.id)
            yield item

    result = verify(selected, ctx, progress, backend=args.backend)
    table = verdict_table(result)
    print(format_table(table))
    n_fail = int((table["verdict"] != "holds").sum())
    documented = table[(table["expected"] == "fails") & (table["verdict"] != "holds")]
    print(f"\n{len(table) - n_fail}/{len(table)} claims hold at scale {args.scale!r} "
          f"in {result.seconds:.1f}s" + (f"; {len(documented)} fail as documented (*)" if len(documented) else ""))
    for r in table[table["verdict"] != "holds"].itertuples():
        if r.expected == "fails":
            print(f"FAILS (documented) {r.claim}: {r.known_failure}\n    measured: {r.detail}")
        else:
            print(f"FAILS {r.claim}: {r.detail}")
    for r in table[(table["expected"] == "fails") & (table["verdict"] == "holds")].itertuples():
        print(f"UNEXPECTED {r.claim} holds although documented to fail ({r.known_failure}): {r.detail}")
    summary = backend_summary(result)
    if summary:
        print(summary)
    backend = args.backend or "numpy"
    meta = provenance(command="verify", scale=args.scale, base_seed=args.seed, jobs=args.jobs,
                      claims=[c.id for c in selected], wall_time_s=result.seconds, backend=backend,
                      device=device_name(backend),
                      runs=sorted({f"{r.topic}.{r.experiment}:{r.backend}" for r in result.runs}))
    save_table(table, out / "verify.parquet", meta)
    for claim, verdict in zip(selected, result.verdicts, strict=True):
        save_table(verdict.data, out / "data" / f"{claim.id}.parquet", {**meta, "claim": claim.id})
    write_report(table, out / "report.html", title=f"boundlab {__version__}: verify "
                 f"(scale {args.scale})", meta=meta)
    print(f"wrote {out / 'verify.parquet'}, {out / 'report.html'} and the data behind each "
          f"verdict in {out / 'data'}")
    return EXIT_OK if result.ok else EXIT_FAIL


def _cmd_run(args: argparse.Namespace) -> int:
    from sims.backend import check_backend, device_name
    from sims.runner import get_experiment, parse_overrides, run_sweep
    from sims.store import provenance, save_table

    try:
        exp = get_experiment(args.topic, args.experiment)
        overrides = parse_overrides(args.overrides)
        if args.backend is not None and exp.has_gpu_path:
            overrides.setdefault("backend", args.backend)  # an explicit --set backend=... wins
        config = exp.config(overrides)
        backend = check_backend(config["backend"]) if exp.has_gpu_path else "numpy"
    except (KeyError, ValueError) as err:
        raise UsageError(err.args[0]) from None
    if args.backend is not None:
        check_backend(args.backend)  # asked for: one line and exit 1 where it cannot run, GPU path or not
    out = args.out or Path("boundlab-results") / f"{args.topic}-{args.experiment}.parquet"
    start = time.perf_counter()
    try:
        df = run_sweep(exp, [config], seeds=args.seeds, base_seed=args.seed, jobs=args.jobs,
                       cache_dir=out.parent / "cache", force=args.force,
                       backend=backend if exp.has_gpu_path else None)
    except (ValueError, TypeError) as err:  # a bad parameter value, named by the solver
        raise UsageError(f"{args.topic} {args.experiment}: {err}") from None
    except (RuntimeError, FloatingPointError) as err:  # a diverging run, or no GPU for backend=cupy
        print(f"boundlab run: {args.topic} {args.experiment}: {err}", file=sys.stderr)
        return EXIT_FAIL
    save_table(df, out, provenance(topic=args.topic, experiment=args.experiment, config=config,
                                   seeds=args.seeds, base_seed=args.seed, backend=backend,
                                   device=device_name(backend), wall_time_s=time.perf_counter() - start))
    print(f"{len(df)} rows x {df.shape[1]} columns -> {out}")
    if args.backend not in (None, "numpy") and not exp.has_gpu_path:
        print(f"note: {args.topic} {args.experiment} has no GPU path; it ran on numpy")
    return EXIT_OK


def _cmd_figures(args: argparse.Namespace) -> int:
    from paper_figs.export import write_figures

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    try:
        report = write_figures(args.topics or None, scale=args.scale, formats=formats,
                               out_dir=args.out, base_seed=args.seed, jobs=args.jobs,
                               cache_dir=Path("boundlab-results") / "cache")
    except (KeyError, ValueError) as err:
        raise UsageError(err.args[0]) from None
    print(report)
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    import datetime

    from sims import TOPICS
    from sims.backend import check_backend, describe_device, use_backend
    from sims.bench import benchmarks, run_benchmarks

    for t in args.topics:
        if t not in TOPICS:
            raise UsageError(f"unknown topic {t!r}; known topics: {', '.join(TOPICS)}")
    backend = check_backend(args.backend or "numpy")  # one line and exit 1 where cupy cannot run
    with use_backend(backend):  # factories may read sims.backend.current_backend()
        selected = benchmarks(args.topics or None, backend)
        print(f"boundlab bench --backend {backend}: {describe_device(backend)}, "
              f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        if not selected:
            print(f"no {backend} benchmarks are registered" + (f" for {', '.join(args.topics)}" if args.topics else ""))
            return EXIT_OK
        table = run_benchmarks(selected, repeats=args.repeats)
    for r in table.itertuples():
        if r.skipped:
            print(f"{r.topic}/{r.benchmark}: skipped ({r.skipped})")
            continue
        verdict = "" if r.met is None else f" (target {r.target:g}x: {'met' if r.met else 'NOT MET'})"
        print(f"{r.topic}/{r.benchmark}: {r.candidate} median {r.candidate_median_s * 1e3:.2f} ms "
              f"(min {r.candidate_min_s * 1e3:.2f}) vs {r.reference} median "
              f"{r.reference_median_s * 1e3:.2f} ms (min {r.reference_min_s * 1e3:.2f}): "
              f"{r.speedup:.2f}x{verdict}")
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sims.backend import check_backend
    from sims.runner import get_experiment
    from sims.sweep import SweepError, plan_sweep, run_plan

    try:
        plan = plan_sweep(args.topic, args.experiment, grid_file=args.grid, sets=args.sets, seeds=args.seeds,
                          base_seed=args.seed, backend=args.backend)
        if args.backend is not None and args.scheduler is None and args.cluster in (None, "local"):
            check_backend(args.backend)  # local workers: one line and exit 1 where it cannot run
        if args.backend not in (None, "numpy") and not get_experiment(args.topic, args.experiment).has_gpu_path:
            print(f"note: {args.topic} {args.experiment} has no GPU path; it runs on numpy", file=sys.stderr)
        out = args.out or Path("boundlab-results") / f"sweep-{args.topic}-{args.experiment}"
        result = run_plan(plan, out, jobs=args.jobs, scheduler=args.scheduler, cluster=args.cluster,
                          resume=args.resume, progress=not args.no_progress)
    except SweepError as err:
        raise UsageError(str(err)) from None
    total = len(plan.configs) * plan.seeds
    print(f"{total - len(result.failures)}/{total} tasks done ({result.ran} run now, {result.skipped} found), "
          f"{len(result.table)} rows in {result.seconds:.1f} s -> {result.out}")
    if result.failures:
        print(f"{len(result.failures)} task(s) failed (rerun with --resume after a fix):", file=sys.stderr)
        for failure in result.failures:
            print(f"  {failure}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


COMMANDS = {"list": _cmd_list, "sweep": _cmd_sweep, "verify": _cmd_verify, "run": _cmd_run, "figures": _cmd_figures,
            "bench": _cmd_bench}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``boundlab`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as err:
        print(f"boundlab {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BackendUnavailable as err:  # --backend cupy where CuPy or a GPU is missing
        print(f"boundlab {args.command}: {err}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
