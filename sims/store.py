"""Results on disk: parquet tables with provenance, and a cache keyed by a hash of the config."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["code_fingerprint", "config_hash", "jsonable", "load_table", "provenance", "save_table"]

_META_KEY = b"boundlab"
_PACKAGES = ("theory", "solvers", "sims")


def jsonable(value: Any) -> Any:
    """``value`` with dicts sorted by key and tuples as lists, so that its JSON is canonical."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


@cache
def code_fingerprint() -> str:
    """Hash of the source of the packages that produce results, so a code change invalidates caches."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def config_hash(**parts: Any) -> str:
    """Stable 16-hex-digit hash of a config (any JSON-able mapping) and the code fingerprint."""
    payload = json.dumps(jsonable(parts), sort_keys=True, default=str)
    return hashlib.sha256((payload + code_fingerprint()).encode()).hexdigest()[:16]


@cache
def _git_revision() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(**extra: Any) -> dict[str, Any]:
    """Versions, git revision and the caller's fields (seed, config, backend, wall time, ...)."""
    import numba
    import numpy as np

    from sims import __version__

    record = {
        "boundlab": __version__,
        "git_revision": _git_revision(),
        "code_fingerprint": code_fingerprint(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }
    record.update(jsonable(extra))
    return record


def save_table(df: pd.DataFrame, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``df`` to parquet at ``path`` with ``meta`` stored in the schema metadata.

    A column of mixed Python objects (say a config value that is a list in some rows and a number in
    others), which parquet cannot type, is stored as the JSON text of each value.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        df = df.copy()
        for col in [c for c in df.columns if df[c].dtype == object]:
            df[col] = [None if v is None else json.dumps(jsonable(v), default=str) for v in df[col]]
        table = pa.Table.from_pandas(df, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    merged[_META_KEY] = json.dumps(jsonable(meta), default=str).encode()
    pq.write_table(table.replace_schema_metadata(merged), path)
    return path


def load_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a table written by :func:`save_table`; returns the frame and its provenance."""
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(_META_KEY, b"{}")
    return table.to_pandas(), json.loads(raw)
