"""The array backend of experiments and benchmarks: numpy on the CPU, or CuPy on a CUDA GPU.

One name, ``"numpy"`` or ``"cupy"``, chooses the array namespace ``xp`` of a run (the solvers then follow
their inputs, :mod:`solvers._xp`). CuPy is optional: nothing here imports it until a caller asks for
the ``"cupy"`` backend, and where it is missing, or present without a usable CUDA device,
:class:`BackendUnavailable` says so in one line with what to do.

An experiment with a GPU path declares ``"backend": "numpy"`` in its registered defaults and builds its
arrays with ``array_module(config["backend"])``; ``boundlab run|sweep|verify --backend cupy`` sets that key
(:func:`use_backend` is the process-wide choice that ``verify`` and ``bench`` pass to checks and
benchmark factories). Because the backend is part of the config, cached results of the two backends
never mix, while the seed of a run does not depend on it (:func:`sims.runner.derive_seed`), so the
numpy and CuPy runs of one config and seed start from the same instance.

GPU work is asynchronous: time it between two :func:`synchronize` calls.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from solvers._xp import to_numpy as to_host  # a numpy array of any array: CuPy copied to the host

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "array_module",
    "backend_override",
    "check_backend",
    "check_backend_name",
    "current_backend",
    "describe_device",
    "device_name",
    "gpu_available",
    "synchronize",
    "to_device",
    "to_host",
    "unavailable_reason",
    "use_backend",
]

#: The backend names, the CPU one first.
BACKENDS: tuple[str, ...] = ("numpy", "cupy")

_INSTALL = 'pip install -e ".[gpu]"'
_OR_NUMPY = "or use the numpy backend (--backend numpy)"


class BackendUnavailable(RuntimeError):
    """A backend that cannot run here (CuPy missing, or no usable CUDA device); the message is one line."""


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@functools.cache
def _cupy_problem() -> str | None:
    """Why CuPy cannot run here, or None when it can (probed once per process, never raises)."""
    try:
        import cupy
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] == "cupy":
            return (f"backend 'cupy' needs CuPy, which is not installed here: {_INSTALL} on a machine with an "
                    f"NVIDIA GPU and CUDA 12, {_OR_NUMPY}")
        return f"backend 'cupy': CuPy is installed but cannot be imported ({_one_line(err)}); {_OR_NUMPY}"
    except Exception as err:  # a broken install or CUDA libraries missing: CuPy raises its own error types
        return f"backend 'cupy': CuPy is installed but cannot be imported ({_one_line(err)}); {_OR_NUMPY}"
    try:
        devices = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as err:  # no driver, or a driver older than the CUDA runtime CuPy was built for
        return f"backend 'cupy': CuPy is installed but no CUDA device is usable ({_one_line(err)}); {_OR_NUMPY}"
    if devices < 1:
        return f"backend 'cupy': CuPy is installed but finds no CUDA device on this machine; {_OR_NUMPY}"
    try:  # one allocation and one compiled kernel: a device that is listed but cannot run is unusable too
        float((cupy.arange(2) + 1).sum().item())
    except Exception as err:
        return f"backend 'cupy': CuPy sees a CUDA device but cannot run on it ({_one_line(err)}); {_OR_NUMPY}"
    return None


def check_backend_name(name: object) -> str:
    """``name`` if it is one of :data:`BACKENDS`; ``ValueError`` naming ``backend`` otherwise (no probing)."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {name!r}")
    return name


def unavailable_reason(name: str = "cupy") -> str | None:
    """Why backend ``name`` cannot run here (the one-line message), or None when it can; never probes twice."""
    check_backend_name(name)
    return None if name == "numpy" else _cupy_problem()


def check_backend(name: object) -> str:
    """The backend ``name``, checked: known, and usable on this machine.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`BACKENDS` (the message names ``backend``).
    BackendUnavailable
        ``"cupy"`` where CuPy is not installed, cannot be imported, or finds no usable CUDA device.
    """
    name = check_backend_name(name)
    reason = unavailable_reason(name)
    if reason is not None:
        raise BackendUnavailable(reason)
    return name


def gpu_available() -> bool:
    """True when the ``"cupy"`` backend can run here (CuPy imports and a CUDA device works); never raises."""
    return _cupy_problem() is None


def array_module(name: str) -> ModuleType:
    """The array namespace of backend ``name``: ``numpy``, or ``cupy`` (checked by :func:`check_backend`)."""
    if check_backend(name) == "numpy":
        return np
    import cupy

    return cupy


# ---------------------------------------------------------------------------------------------- default
_OVERRIDE: str | None = None


def backend_override() -> str | None:
    """The backend chosen by an active :func:`use_backend`, or None when none is active."""
    return _OVERRIDE


def current_backend() -> str:
    """The process-wide backend: the one of the innermost active :func:`use_backend`, else ``"numpy"``.

    It lives in this process only: worker processes of a parallel run see ``"numpy"``, so an experiment
    reads its backend from its config (which travels with the task), never from here.
    """
    return _OVERRIDE or "numpy"


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Make ``name`` the process-wide backend inside the ``with`` block (checked first; restored on exit).

    ``boundlab verify --backend cupy`` runs the checks inside ``use_backend("cupy")``:
    :func:`sims.runner.run_sweep` then sets ``backend`` in the config of every experiment that declares it.

    Raises
    ------
    ValueError, BackendUnavailable
        As :func:`check_backend`, before the block runs.
    """
    global _OVERRIDE
    previous, _OVERRIDE = _OVERRIDE, check_backend(name)
    try:
        yield name
    finally:
        _OVERRIDE = previous


def _resolve(name: str | None) -> str:
    return current_backend() if name is None else check_backend_name(name)


# ---------------------------------------------------------------------------------------------- devices
def device_name(name: str | None = None) -> str:
    """The device backend ``name`` (default :func:`current_backend`) runs on: ``"cpu"``, or the CUDA
    device's name (e.g. ``"NVIDIA H200"``).

    Raises
    ------
    BackendUnavailable
        ``"cupy"`` where it cannot run.
    """
    cupy = array_module(_resolve(name))
    if cupy is np:
        return "cpu"
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    raw = props["name"]
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_device(name: str | None = None) -> str:
    """A longer label for reports: ``"cpu (<model>, <n> cores)"``, or the GPU's name, memory and
    compute capability, e.g. ``"NVIDIA H200 (CUDA device 0, 139.8 GiB, compute capability 9.0)"``."""
    backend = _resolve(name)
    cupy = array_module(backend)
    if cupy is np:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return f"cpu ({_cpu_model()}, {cores} cores)"
    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    cc = str(device.compute_capability)
    memory = props.get("totalGlobalMem", 0) / 2**30
    return f"{device_name(backend)} (CUDA device {device.id}, {memory:.1f} GiB, compute capability {cc[:-1]}.{cc[-1]})"


def to_device(a: Any, name: str | None = None) -> Any:
    """``a`` as an array of backend ``name`` (default :func:`current_backend`): a numpy array for
    ``"numpy"`` (copied from the GPU if it lives there), a CuPy array for ``"cupy"`` (copied to the GPU if
    it does not already live there)."""
    xp = array_module(_resolve(name))
    return to_host(a) if xp is np else xp.asarray(a)


def synchronize(name: str | None = None) -> None:
    """Wait for the GPU work queued so far (backend ``"cupy"``); a no-op for ``"numpy"``.

    Timings of GPU code stop the clock only after this: kernels run asynchronously, so without it a
    timer measures the launch, not the work.
    """
    if _resolve(name) == "numpy":
        return
    array_module("cupy").cuda.Device().synchronize()
