"""Special cases of the planning model reach published optima (data and sources: tests/data/README.md)."""

import pandas as pd
import pytest

from instances.benchmarks import read_cap, read_wagner_whitin
from tests.conftest import DATA, solve_raw

CAP = pd.read_csv(DATA / "orlib_cap" / "optima.csv")
WW = pd.read_csv(DATA / "wagner_whitin" / "optima.csv")


@pytest.mark.parametrize("name,file,optimum", list(zip(CAP["instance"], CAP["file"], CAP["optimum"])))
def test_orlib_capacitated_facility_location(name, file, optimum):
    plan = solve_raw(read_cap(DATA / "orlib_cap" / file), mip_gap=1e-9)
    assert plan.status == "optimal", plan.messages
    # profit = -(fixed costs + assignment costs); published optima have 3 decimals
    assert -plan.kpis["profit"] == pytest.approx(optimum, abs=1e-3)


@pytest.mark.parametrize("name,optimum", list(zip(WW["instance"], WW["optimum"])))
def test_wagner_whitin(name, optimum):
    plan = solve_raw(read_wagner_whitin(DATA / "wagner_whitin" / f"{name}.txt"))
    assert plan.status == "optimal", plan.messages
    assert -plan.kpis["profit"] == pytest.approx(optimum, abs=1e-6)
    # every order covers whole periods of demand (the zero-inventory property of Wagner-Whitin)
    inv = plan.tables["inventory"]
    orders = plan.tables["orders"]
    arrival = set(orders["arrival_period"])
    for period, on_hand in zip(inv["period"], inv["on_hand"]):
        nxt = str(int(period) + 1)
        if nxt in arrival:
            assert on_hand == pytest.approx(0, abs=1e-6)


def test_wagner_whitin_1958_plan_is_the_published_one():
    plan = solve_raw(read_wagner_whitin(DATA / "wagner_whitin" / "ww1958_12.txt"))
    published = [float(x) for x in WW.set_index("instance").at["ww1958_12", "optimal_order_plan"].split()]
    got = plan.tables["orders"].set_index("period")["quantity"].reindex([str(t + 1) for t in range(12)]).fillna(0.0)
    assert got.tolist() == pytest.approx(published)
