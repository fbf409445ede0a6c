"""The rate checks can fail: they reject a method whose regret grows faster than the claimed rate."""

from __future__ import annotations

from sims.checks import CheckContext, run_check
from sims.omd.checks import exp_concave_growth
from sims.runner import get_experiment, run_sweep


def _sweep(method: str):
    exp = get_experiment("omd", "regret")
    config = exp.config({"family": "square", "method": method, "rho": 0.0, "d": 2, "tau": 0.5,
                         "delta": 0.1, "T": 4096})
    return run_sweep(exp, [config], seeds=6)


def test_exp_concave_check_separates_newton_from_gradient_descent() -> None:
    assert exp_concave_growth(_sweep("optimistic_ons")) <= 0.15
    # OGD's regret is O(√T): its regret per unit of d·ln(σ²+Σ²) grows like T^{1/2}.
    assert exp_concave_growth(_sweep("ogd")) > 0.3


def test_rate_claims_hold_at_quick_scale() -> None:
    ctx = CheckContext("quick")
    for claim in ("omd.chen_exp_concave", "omd.chen_dynamic"):
        verdict = run_check(claim, ctx)
        assert verdict.holds, verdict.detail
        assert verdict.measured <= verdict.bound
