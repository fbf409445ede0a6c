"""The figure registry and its export to HTML (self-contained), PDF and PNG.

HTML embeds plotly.js (``include_plotlyjs=True``), so a file opens offline. PDF and PNG go through
kaleido ≥ 1, which drives a Chrome/Chromium over the DevTools pipe (through ``choreographer``). The
browser is looked up, in order, at ``$BROWSER_PATH``, ``/usr/bin/chromium``, then as ``chromium``,
``chromium-browser``, ``google-chrome``, ``google-chrome-stable``, ``chrome`` on ``PATH``, and last
at a Chrome that ``kaleido_get_chrome`` may already have put on disk. Nothing is ever downloaded:
where no browser exists the static formats are skipped and the report says how to get one.

Kaleido is called with the browser's path, ``mathjax=False`` (its default page would load MathJax
from a CDN; labels are Unicode, never LaTeX) and plotly.js from the installed plotly package, so
rendering stays offline. choreographer starts Chromium headless with ``--no-sandbox`` unless asked
otherwise (``enable_sandbox=False`` is its default), which is what lets it run as root in a container.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paper_figs import FigureSpec
from paper_figs import alf_lb as _alf_lb
from paper_figs import convex_relu as _convex_relu
from paper_figs import ef21 as _ef21
from paper_figs import matrix_completion as _matrix_completion
from paper_figs import omd as _omd
from paper_figs import sor_bandit as _sor_bandit

__all__ = ["FIGURES", "FORMATS", "ExportReport", "find_browser", "write_figures"]

#: Figures per topic, in the order they are written.
FIGURES: dict[str, list[FigureSpec]] = {"omd": list(_omd.FIGURES), "alf_lb": list(_alf_lb.FIGURES),
                                        "ef21": list(_ef21.FIGURES), "sor_bandit": list(_sor_bandit.FIGURES),
                                        "matrix_completion": list(_matrix_completion.FIGURES),
                                        "convex_relu": list(_convex_relu.FIGURES)}
FORMATS: tuple[str, ...] = ("html", "pdf", "png")
STATIC_FORMATS: tuple[str, ...] = ("pdf", "png")
NO_BROWSER = ("static export needs Chromium: apt-get install chromium, or set BROWSER_PATH to a "
              "Chrome/Chromium binary")
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Pixel size used for a static image when the figure sets none.
_DEFAULT_SIZE = (1100, 600)


@dataclass
class ExportReport:
    """What :func:`write_figures` did.

    Attributes
    ----------
    written
        Paths of the files written.
    skipped
        ``(name.format, reason)`` for every file not written.
    browser
        The Chrome/Chromium used for PDF/PNG, or None.
    messages
        Notes for the user (e.g. how to enable static export).
    seconds
        Wall time per figure (sweep and drawing) and, under ``"static export"``, of kaleido.
    """

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    browser: str | None = None
    messages: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every requested file was written."""
        return not self.skipped

    def __str__(self) -> str:
        lines = [f"wrote {len(self.written)} file(s)"]
        lines += [f"  {p}" for p in self.written]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s)")
            lines += [f"  {name}: {why}" for name, why in self.skipped]
        if self.seconds:
            lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        lines += self.messages
        return "\n".join(lines)


def _executable(path: str | os.PathLike[str] | None) -> bool:
    return bool(path) and Path(path).is_file() and os.access(path, os.X_OK)


def find_browser() -> str | None:
    """Path of a Chrome/Chromium for kaleido, or None; never downloads one.

    Order: ``$BROWSER_PATH`` (if it names an executable file), ``/usr/bin/chromium``, the usual names
    on ``PATH``, then choreographer's own search (which includes a Chrome that
    ``kaleido_get_chrome`` already downloaded, and typical install paths).
    """
    env = os.environ.get("BROWSER_PATH")
    if env and _executable(env):
        return str(env)
    if _executable("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found and _executable(found):
            return found
    try:
        from choreographer.browsers.chromium import Chromium

        found = Chromium.find_browser(skip_local=False)
    except Exception:  # a best-effort search: no browser is a normal outcome
        found = None
    return found if found and _executable(found) else None


def _static_size(fig: Any) -> tuple[int, int]:
    width = fig.layout.width or _DEFAULT_SIZE[0]
    height = fig.layout.height or _DEFAULT_SIZE[1]
    return int(width), int(height)


def _write_static(jobs: list[tuple[Any, Path, str]], browser: str) -> None:
    """Render every (figure, path, format) in one kaleido session on ``browser``."""
    import kaleido

    objects = []
    for fig, path, fmt in jobs:
        width, height = _static_size(fig)
        objects.append({"fig": fig, "path": path,
                        "opts": {"format": fmt, "width": width, "height": height, "scale": 1}})
    kaleido.write_fig_from_object_sync(objects, kopts={"path": browser, "mathjax": False})


def write_figures(topics: Sequence[str] | None = None, *, scale: str = "quick",
                  formats: Sequence[str] = ("html",), out_dir: str | Path = "paper_figs/out",
                  base_seed: int = 0, jobs: int = 1, cache_dir: str | Path | None = None,
                  ) -> ExportReport:
    """Build the figures of ``topics`` and write ``<out_dir>/<name>.<fmt>`` for each format.

    Parameters
    ----------
    topics
        Topics of :data:`FIGURES`; None means all.
    scale
        "quick" (seconds, small T and few seeds) or "full" (the spec's T and 20 seeds).
    formats
        Any of "html" (self-contained, plotly.js embedded), "pdf", "png".
    out_dir
        Output folder, created if needed.
    base_seed, jobs, cache_dir
        Passed to the sweeps (:func:`sims.runner.run_sweep`).

    Returns
    -------
    ExportReport
        Written paths, skipped files with the reason, the browser used and timings.

    Raises
    ------
    ValueError
        Unknown topic, format or scale (before any work).
    """
    names = list(FIGURES) if topics is None else list(topics)
    unknown = [t for t in names if t not in FIGURES]
    if unknown:
        raise ValueError(f"unknown topic(s) {unknown}; known topics: {', '.join(FIGURES)}")
    fmts = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {list(formats)}")
    if scale not in ("quick", "full"):
        raise ValueError(f"scale must be 'quick' or 'full', got {scale!r}")
    fmts = list(dict.fromkeys(fmts))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    static = [f for f in fmts if f in STATIC_FORMATS]
    if static:
        report.browser = find_browser()
        if report.browser is None:
            report.messages.append(NO_BROWSER)
    pending: list[tuple[Any, Path, str]] = []
    for topic in names:
        for spec in FIGURES[topic]:
            start = time.perf_counter()
            fig = spec.build(scale, base_seed, jobs, cache_dir)
            report.seconds[spec.name] = time.perf_counter() - start
            for fmt in fmts:
                path = out / f"{spec.name}.{fmt}"
                if fmt == "html":
                    fig.write_html(path, include_plotlyjs=True, full_html=True,
                                   config={"displaylogo": False})
                    report.written.append(path)
                elif report.browser is None:
                    report.skipped.append((path.name, NO_BROWSER))
                else:
                    pending.append((fig, path, fmt))
    if pending:
        start = time.perf_counter()
        try:
            _write_static(pending, report.browser)  # type: ignore[arg-type]
        except Exception as err:  # report the browser failure, keep the HTML
            reason = f"kaleido failed with {report.browser}: {type(err).__name__}: {err}"
            report.skipped += [(p.name, reason) for _, p, _ in pending]
            report.messages.append(reason)
        else:
            for _, path, _ in pending:
                if path.is_file() and path.stat().st_size > 0:
                    report.written.append(path)
                else:
                    report.skipped.append((path.name, "kaleido wrote no file"))
        report.seconds["static export"] = time.perf_counter() - start
    return report
