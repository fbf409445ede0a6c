"""Simulators, experiments and the checks of every claim; the ``boundlab`` command lives here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boundlab")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

from theory.registry import TOPIC_MODULES

#: Topics with a simulator module ``sims/<topic>``: the same list as the theory registry's.
TOPICS: tuple[str, ...] = TOPIC_MODULES
