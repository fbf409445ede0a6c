"""Which row a per-run verdict reports: violations first, then the largest ratio over positive bounds."""

from __future__ import annotations

import pandas as pd

from sims.checks import per_run_verdict


def test_negative_bounds_do_not_distort_tightness() -> None:
    df = pd.DataFrame({"m": [-152.0, 3.0, 1.0], "b": [-121.4, 5.0, 4.0]})
    verdict = per_run_verdict("x.y", df, "m", "b")
    assert verdict.holds
    assert (verdict.measured, verdict.bound) == (3.0, 5.0)
    assert verdict.tightness == 0.6


def test_a_violating_row_is_reported() -> None:
    df = pd.DataFrame({"m": [-100.0, 3.0, 1.0], "b": [-121.4, 5.0, 4.0]})
    verdict = per_run_verdict("x.y", df, "m", "b")
    assert not verdict.holds
    assert (verdict.measured, verdict.bound) == (-100.0, -121.4)
    assert "1/3 rows exceed" in verdict.detail
