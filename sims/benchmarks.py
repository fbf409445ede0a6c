"""Importing this module registers the benchmarks of every topic (see :mod:`sims.bench`)."""

from sims.alf_lb import bench_gpu, bench_online, bench_routing  # noqa: F401
from sims.convex_relu import bench as cr_bench  # noqa: F401
from sims.convex_relu import bench_gpu as cr_bench_gpu  # noqa: F401
from sims.ef21 import bench  # noqa: F401
from sims.ef21 import bench_gpu as ef21_bench_gpu  # noqa: F401
from sims.matrix_completion import bench as mc_bench  # noqa: F401
from sims.matrix_completion import bench_gpu as mc_bench_gpu  # noqa: F401
from sims.omd import bench as omd_bench  # noqa: F401
from sims.sor_bandit import bench_bandit, bench_sweep  # noqa: F401
