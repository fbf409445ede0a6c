"""Importing this module registers the benchmarks of every topic (see :mod:`sims.bench`)."""

from sims.alf_lb import bench_online, bench_routing  # noqa: F401
from sims.omd import bench  # noqa: F401
