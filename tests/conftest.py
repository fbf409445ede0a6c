"""Shared test configuration: a test marked ``gpu`` runs only where CuPy has a usable CUDA device.

Elsewhere (CI, a laptop) it is skipped with the one-line reason of :func:`sims.backend.unavailable_reason`
(CuPy not installed, or no GPU), before its body runs, so it needs no ``importorskip`` of its own.
"""

from __future__ import annotations

import pytest

from sims.backend import gpu_available, unavailable_reason

pytest_plugins = ["pytester"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is not None and not gpu_available():
        pytest.skip(f"gpu test: {unavailable_reason('cupy')}")
