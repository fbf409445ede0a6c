"""Simulators, experiments and the checks of every claim; the ``boundlab`` command lives here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boundlab")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

#: Topics with a simulator module ``sims/<topic>.py`` (in the order of the README table).
TOPICS: tuple[str, ...] = ("omd",)
