"""Execute every notebook (jupytext percent-format ``notebooks/*.py``) at the small scale.

Each notebook runs top to bottom in a fresh ``python3`` kernel of *this* interpreter, with
``BOUNDLAB_NOTEBOOK_SCALE=small`` and the repository root as working directory; any cell error fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
NOTEBOOKS = [p for p in NOTEBOOKS if p.name != "__init__.py"]


@pytest.fixture
def python3_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``python3`` kernelspec that runs this interpreter, found before any other.

    JUPYTER_PATH is searched before the user and system data directories, so a ``python3``
    kernelspec installed elsewhere (another Python) cannot shadow it.
    """
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (boundlab tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    from jupyter_client.kernelspec import KernelSpecManager

    resolved = KernelSpecManager().get_kernel_spec("python3")
    assert resolved.argv[0] == sys.executable
    return "python3"


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/*.py not found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, python3_kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNDLAB_NOTEBOOK_SCALE", "small")
    nb = jupytext.read(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    client = nbclient.NotebookClient(nb, kernel_name=python3_kernel, timeout=120,
                                     resources={"metadata": {"path": str(ROOT)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell failed\n{err}")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
