"""Safety stock values match the normal-distribution reference table (tests/data/service_levels)."""

import pandas as pd
import pytest

from planner.contract.instance import safety_factor
from tests.conftest import DATA, minimal_raw, solve_raw

REF = pd.read_csv(DATA / "service_levels" / "cycle_service_level_z.csv")
ALPHA_Z = list(zip(REF["alpha"], REF["z=Phi^-1(alpha)"]))


@pytest.mark.parametrize("alpha,z", ALPHA_Z)
def test_safety_factor_is_inverse_normal(alpha, z):
    assert safety_factor(alpha) == pytest.approx(max(0.0, z), abs=1e-9)


@pytest.mark.parametrize("alpha,z", [(a, z) for a, z in ALPHA_Z if a >= 0.5])
def test_planned_safety_stock_is_z_times_sigma(alpha, z):
    sigma = 7.5
    raw = minimal_raw(
        service_tiers=[{"segment": "A", "tier": "t", "fill_rate": 1.0, "cycle_service_level": alpha}],
        demand=[
            {"segment": "A", "product": "P", "period": "1", "quantity": 10, "std": sigma, "price": 20},
            {"segment": "A", "product": "P", "period": "2", "quantity": 10, "std": sigma, "price": 20},
        ],
    )
    plan = solve_raw(raw)
    assert plan.status == "optimal"
    inv = plan.tables["inventory"]
    assert inv["safety_stock"].tolist() == pytest.approx([z * sigma] * 2, abs=1e-5)
    # holding costs money, so the plan holds exactly the safety stock
    assert inv["on_hand"].tolist() == pytest.approx([z * sigma] * 2, abs=1e-5)


def test_safety_stock_adds_across_segments():
    raw = minimal_raw(
        segments=[{"segment": "A"}, {"segment": "B"}],
        service_tiers=[
            {"segment": "A", "tier": "t", "fill_rate": 1.0, "cycle_service_level": 0.95},
            {"segment": "B", "tier": "t", "fill_rate": 1.0, "cycle_service_level": 0.99},
        ],
        demand=[
            {"segment": s, "product": "P", "period": p, "quantity": 10, "std": sd, "price": 20}
            for s, sd in (("A", 4.0), ("B", 3.0))
            for p in ("1", "2")
        ],
    )
    plan = solve_raw(raw)
    expected = safety_factor(0.95) * 4.0 + safety_factor(0.99) * 3.0
    assert plan.tables["inventory"]["safety_stock"].tolist() == pytest.approx([expected] * 2, abs=1e-6)
