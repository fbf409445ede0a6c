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


def test_verify_ok_means_every_claim_behaves_as_documented() -> None:
    """A documented failure keeps verify ok; an undocumented failure, or a documented one that holds, does not."""
    from sims.checks import Verdict
    from sims.verify import VerifyResult, verdict_table
    from theory.registry import Claim, ClaimKind

    plain = Claim("x.plain", "s", "src", ClaimKind.PER_RUN)
    known = Claim("x.known", "s", "src", ClaimKind.PER_RUN, known_failure="fails at the paper's constant")
    empty = pd.DataFrame()

    def result(plain_holds: bool, known_holds: bool) -> VerifyResult:
        return VerifyResult([Verdict("x.plain", 1, 2, plain_holds, "", empty),
                             Verdict("x.known", 3, 2, known_holds, "", empty)], [plain, known], 0.0)

    assert result(True, False).ok
    assert not result(False, False).ok and not result(True, True).ok
    table = verdict_table(result(True, False)).set_index("claim")
    assert table.loc["x.known", "expected"] == "fails" and table.loc["x.known", "as_documented"]
    assert table.loc["x.plain", "expected"] == "holds"
