"""The tiny instance reaches the optimum derived by hand in instances/tiny/README.md."""

import json

import pandas as pd
import pytest

from planner.contract.loading import read_tables
from tests.conftest import TINY, instance_of, solve_raw

Z95 = 1.6448536269514722  # Phi^-1(0.95)
HAND_OPTIMUM = 560.0 + 100.0 - 5 * 10 * Z95  # see instances/tiny/README.md


def test_tiny_reaches_hand_derived_optimum(tiny_raw):
    plan = solve_raw(tiny_raw)
    assert plan.status == "optimal"
    assert plan.kpis["profit"] == pytest.approx(HAND_OPTIMUM, abs=1e-6)
    assert plan.kpis["profit"] == pytest.approx(577.7573186524264, abs=1e-6)


def test_tiny_plan_is_the_hand_derived_plan(tiny_raw):
    plan = solve_raw(tiny_raw)
    orders = plan.tables["orders"].sort_values("supplier").reset_index(drop=True)
    expected = pd.DataFrame(
        {
            "supplier": ["Fast", "Slow"],
            "product": ["P", "P"],
            "period": ["W1", "W1"],
            "quantity": [25.0, 30 + 10 * Z95],
            "arrival_period": ["W1", "W2"],
        }
    )
    pd.testing.assert_frame_equal(orders, expected, atol=1e-5, check_dtype=False)
    tiers = dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"]))
    assert tiers == {"Key": "gold", "Retail": "basic"}
    served = plan.tables["service"].set_index(["segment", "period"])["served"]
    assert served[("Retail", "W1")] == pytest.approx(15)
    inv = plan.tables["inventory"].set_index("period")
    assert inv.at["W2", "on_hand"] == pytest.approx(10 * Z95, abs=1e-5)
    assert inv.at["W2", "safety_stock"] == pytest.approx(10 * Z95, abs=1e-5)


def test_tiny_gold_is_worth_its_safety_stock_only_when_valued(tiny_raw):
    # Lower gold's value below its safety-stock cost (5 per unit of 16.45 units = 82.24): basic wins.
    for row in tiny_raw["service_tiers"]:
        if row["tier"] == "gold":
            row["tier_value"] = 80
    plan = solve_raw(tiny_raw)
    tiers = dict(zip(plan.tables["segments"]["segment"], plan.tables["segments"]["tier"]))
    assert tiers["Key"] == "basic"
    assert plan.kpis["profit"] == pytest.approx(560.0, abs=1e-6)


def test_tiny_loads_the_same_from_csv_xlsx_and_json(tiny_raw, tmp_path):
    inst_csv = instance_of(read_tables(TINY))
    with pd.ExcelWriter(tmp_path / "tiny.xlsx") as xw:
        for f in sorted(TINY.glob("*.csv")):
            pd.read_csv(f).to_excel(xw, sheet_name=f.stem, index=False)
    (tmp_path / "tiny.json").write_text(json.dumps(inst_csv.to_json_dict()))
    inst_xlsx = instance_of(read_tables(tmp_path / "tiny.xlsx"))
    inst_json = instance_of(read_tables(tmp_path / "tiny.json"))
    assert inst_csv.input_hash == inst_xlsx.input_hash == inst_json.input_hash
    assert inst_xlsx.periods == ["W1", "W2"]
