"""Every derived bound and pruning keeps the optimum: the planner's build against a naive one.

The naive build (``OrderBounds(naive=True)``, tests only) keeps every order slot and gives every
order the same generous big-M (``Instance.naive_order_bound``): no bound derived from capacity,
budget, warehouse or what can still be used, no slot pruned. On instances generated over the whole
data contract — unit volumes other than 1, binding warehouse and budget, capacity use per unit and
per order, capacity overrides above and below the base, open orders, initial stock, MOQs, min_tier,
zero std, cycle service levels below 50 %, lead times from 0 to beyond the horizon, suppliers that
are late, the optional families — both builds are solved to a zero gap and must reach the same
profit, or both find no plan.

``pytest --slow`` also runs the long version (3,000 instances).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from planner.contract.instance import OrderBounds
from planner.contract.problems import ProblemsError
from planner.contract.validation import validate
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from tests.conftest import instance_of, minimal_raw

# integrality held tight: the naive build's big-Ms are large, and a 1e-6 slack on an order
# indicator would let it order a little for free
EXACT = SolveOptions(mip_gap=0, highs_options={"mip_feasibility_tolerance": 1e-9})

money = st.integers(0, 30).map(float)


@st.composite
def instances(draw):
    """Raw tables of a small instance and run options, drawn over the whole contract."""
    T = draw(st.integers(2, 4))
    periods = [f"W{t + 1}" for t in range(T)]
    P = [f"P{i}" for i in range(draw(st.integers(1, 2)))]
    S = [f"S{i}" for i in range(draw(st.integers(1, 2)))]
    K = [f"K{i}" for i in range(draw(st.integers(1, 3)))]
    raw: dict = {
        "products": [{"product": p, "unit_volume": draw(st.sampled_from([0, 0.5, 1, 2, 3])), "holding_cost": draw(st.sampled_from([0, 0.05, 0.5, 2])),
                      "initial_inventory": draw(st.sampled_from([0, 0, 5, 20]))} for p in P],
        "segments": [], "service_tiers": [], "demand": [], "suppliers": [], "supplier_products": [],
    }
    for s in S:
        tiers = draw(st.lists(st.tuples(st.sampled_from([0, 0, 0.5, 0.8, 1.0]), st.sampled_from([0.3, 0.5, 0.8, 0.95]), money, money), min_size=1, max_size=3))
        names = [f"t{j}" for j in range(len(tiers))]
        raw["service_tiers"] += [{"segment": s, "tier": n, "fill_rate": fr, "cycle_service_level": csl, "tier_value": 3 * v, "tier_cost": c}
                                 for n, (fr, csl, v, c) in zip(names, tiers)]
        raw["segments"].append({"segment": s, "lost_sale_penalty": draw(money) / 3, "cost_to_serve": draw(st.sampled_from([0, 0.5, 2])),
                                "min_tier": draw(st.sampled_from([None] + names))})
        for p in P:
            price = draw(st.integers(4, 30))
            for t in periods:
                if draw(st.booleans()) or draw(st.booleans()):
                    raw["demand"].append({"segment": s, "product": p, "period": t, "quantity": draw(st.sampled_from([0, 3, 10, 25, 40])),
                                          "std": draw(st.sampled_from([0, 0, 2, 6])), "price": price})
    if not raw["demand"]:
        raw["demand"].append({"segment": S[0], "product": P[0], "period": periods[0], "quantity": 10, "std": 0, "price": 10})
    # limits drawn against the demand they have to carry, so that they bind in some runs and not in others
    per_period = max(1.0, sum(d["quantity"] for d in raw["demand"]) / T)
    volume = max((p["unit_volume"] for p in raw["products"]), default=1) or 1
    for k in K:
        raw["suppliers"].append({"supplier": k, "lead_time": draw(st.integers(0, T)), "fixed_cost": draw(money),
                                 "capacity": round(draw(st.sampled_from([0, 1, 2, 4])) * per_period, 1),
                                 "on_time_rate": draw(st.sampled_from([1.0, 1.0, 0.95, 0.8, 0.5]))})
        for p in P:
            if draw(st.booleans()) or draw(st.booleans()):
                raw["supplier_products"].append({"supplier": k, "product": p, "unit_cost": draw(st.integers(1, 10)), "order_cost": draw(st.sampled_from([0, 5, 30, 100])),
                                                 "moq": draw(st.sampled_from([0, 0, 5, 20])), "capacity_use": draw(st.sampled_from([0, 0.5, 1, 2])),
                                                 "order_capacity_use": draw(st.sampled_from([0, 0, 5]))})
    if not raw["supplier_products"]:
        raw["supplier_products"].append({"supplier": K[0], "product": P[0], "unit_cost": 2})
    raw["periods"] = [{"period": t, "order": i} for i, t in enumerate(periods)]
    wh, budget = draw(st.sampled_from([None, 0.5, 1, 2])), draw(st.sampled_from([None, 3, 8, 20]))
    raw["settings"] = [{"warehouse_capacity": None if wh is None else round(wh * per_period * volume, 1),
                        "budget": None if budget is None else round(budget * per_period, 1)}]
    overrides = {(draw(st.sampled_from(K)), draw(st.sampled_from(periods))): round(draw(st.sampled_from([0, 0.5, 3])) * per_period, 1)
                 for _ in range(draw(st.integers(0, 2)))}
    raw["supplier_capacity"] = [{"supplier": k, "period": t, "capacity": c} for (k, t), c in overrides.items()]
    opened = {(draw(st.sampled_from(K)), draw(st.sampled_from(P)), draw(st.sampled_from(periods))): draw(st.sampled_from([5, 15])) for _ in range(draw(st.integers(0, 2)))}
    raw["open_orders"] = [{"supplier": k, "product": p, "arrival_period": t, "quantity": q} for (k, p, t), q in opened.items()]
    return raw, draw(options(raw, periods))


@st.composite
def options(draw, raw, periods):
    """Run options: core families switched off now and then, optional ones on with drawn parameters."""
    c: dict = {}
    for name in ("budget", "warehouse_capacity", "safety_stock", "punctuality", "fill_rate", "supplier_capacity"):
        if draw(st.integers(0, 5)) == 0:
            c[name] = False
    products = sorted({r["product"] for r in raw["supplier_products"]})  # products someone supplies
    prev = [{"supplier": r["supplier"], "product": r["product"], "period": draw(st.sampled_from(periods)), "quantity": draw(st.sampled_from([5, 30]))}
            for r in raw["supplier_products"][: draw(st.integers(0, 2))]]
    menu = {
        "max_supplier_share": lambda: {"share": draw(st.sampled_from([0.5, 0.7, 1.0])), "basis": draw(st.sampled_from(["spend", "volume"]))},
        "min_suppliers_per_product": lambda: {"products": products[:1], "min_suppliers": 1, "min_share": draw(st.sampled_from([0, 0.2]))},
        "single_sourcing": lambda: {},
        "reliable_supply_for_tier": lambda: {"min_fill_rate": 0.8, "min_on_time_rate": 0.9},
        "service_level_floor": lambda: {"fill_rate": draw(st.sampled_from([0.3, 0.7]))},
        "inventory_cover": lambda: draw(st.sampled_from([{"min_periods": 0.5}, {"max_periods": 3.0}, {"min_periods": 0.5, "max_periods": 3.0}])),
        "fixed_tiers": lambda: {"policy": draw(st.sampled_from(["highest", "lowest"]))},
        "frozen_periods": lambda: {"periods": draw(st.integers(0, 2)), "previous_orders": prev, "change_penalty": draw(st.sampled_from([0, 1]))},
    }
    for name, params in menu.items():  # each optional family on in about one run in five
        if draw(st.integers(0, 4)) == 0:
            c[name] = params()
    return {"constraints": c} if c else None


def outcome(inst, model_options) -> tuple[str, float | None]:
    """("plan", profit), or ("none", None) when there is no plan: infeasible, or a family that
    cannot apply (a frozen order no slot can hold, a product without a supplier to source it)."""
    try:
        plan = plan_instance(inst, EXACT, model_options, explain=False)
    except ProblemsError:
        event("no plan: a family cannot apply")
        return "none", None
    assert plan.status in ("optimal", "infeasible"), (plan.status, plan.messages)
    event("a plan" if plan.status == "optimal" else "no plan: infeasible")  # the split, in --hypothesis-show-statistics
    return ("plan", plan.kpis["profit"]) if plan.status == "optimal" else ("none", None)


def check_against_the_naive_build(case) -> None:
    raw, model_options = case
    report = validate(raw)
    assume(report.ok)  # the generator draws valid instances; a refused one would say nothing here
    inst = report.instance
    tight = outcome(inst, model_options)
    naive = outcome(dataclasses.replace(inst, bounds=OrderBounds(naive=True)), model_options)
    assert tight[0] == naive[0], (tight, naive)
    if tight[0] == "plan":
        assert abs(tight[1] - naive[1]) <= 1e-6 * max(1.0, abs(tight[1]), abs(naive[1])), (tight, naive)


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much], database=None)


@settings(max_examples=300, derandomize=True, **COMMON)
@given(instances())
def test_the_planner_reaches_the_naive_builds_optimum(case):
    check_against_the_naive_build(case)


@pytest.mark.slow
@settings(max_examples=3000, **COMMON)
@given(instances())
def test_the_planner_reaches_the_naive_builds_optimum_3000_times(case):
    check_against_the_naive_build(case)


# ---- cases found by hand ----------------------------------------------------------------

def warehouse_case(**over):
    """The issue's case: two weeks of 50, one order of 100 fits the warehouse exactly (volume 2 x 50 kept)."""
    raw = minimal_raw(
        products=[{"product": "P", "unit_volume": 2, "holding_cost": 0.005, "initial_inventory": 0}],
        demand=[{"segment": "A", "product": "P", "period": w, "quantity": 50, "std": 0, "price": 10} for w in ("1", "2")],
        settings=[{"warehouse_capacity": 100}],
        suppliers=[{"supplier": "S", "lead_time": 0, "fixed_cost": 0, "capacity": 1000, "on_time_rate": 1}],
        supplier_products=[{"supplier": "S", "product": "P", "unit_cost": 1, "order_cost": 100, "moq": 0, "capacity_use": 1, "order_capacity_use": 0}],
    )
    raw.update(over)
    return raw


def test_one_order_that_fills_the_warehouse_is_optimal():
    plan = plan_instance(instance_of(warehouse_case()), EXACT)
    assert plan.status == "optimal" and plan.kpis["profit"] == pytest.approx(799.75, abs=1e-6)
    assert plan.tables["orders"]["quantity"].tolist() == [100.0]


def test_a_limit_switched_off_does_not_bound_the_orders():
    """With the warehouse family off, its capacity must not cap an order (nor a budget that is off)."""
    raw = warehouse_case(settings=[{"warehouse_capacity": 20, "budget": 30}])
    plan = plan_instance(instance_of(raw), EXACT, {"constraints": {"warehouse_capacity": False, "budget": False}})
    assert plan.status == "optimal" and plan.tables["orders"]["quantity"].tolist() == [100.0]


def test_a_family_that_does_not_keep_the_usable_bound_switches_it_off():
    """max_supplier_share can make an order nobody can use worth placing: 10 units of Q (no demand)
    from Trash at 0.001 let Cheap carry all of P's 10 units within a 50 % share of the volume,
    instead of buying half from Dear at 10 a unit."""
    raw = minimal_raw(
        products=[{"product": "P", "holding_cost": 0}, {"product": "Q", "holding_cost": 0}],
        demand=[{"segment": "A", "product": "P", "period": "1", "quantity": 10, "price": 100}],
        service_tiers=[{"segment": "A", "tier": "all", "fill_rate": 1.0, "cycle_service_level": 0.5}],
        suppliers=[{"supplier": k, "lead_time": 0, "capacity": 1000} for k in ("Cheap", "Dear", "Trash")],
        supplier_products=[{"supplier": "Cheap", "product": "P", "unit_cost": 1}, {"supplier": "Dear", "product": "P", "unit_cost": 10},
                           {"supplier": "Trash", "product": "Q", "unit_cost": 0.001}],
    )
    share = {"constraints": {"max_supplier_share": {"share": 0.5, "basis": "volume"}}}
    plan = plan_instance(instance_of(raw), EXACT, share)
    volume = plan.tables["orders"].groupby("supplier")["quantity"].sum()
    assert volume.to_dict() == pytest.approx({"Cheap": 10, "Trash": 10})
    assert plan.kpis["profit"] == pytest.approx(1000 - 10 - 0.01, abs=1e-6)


def test_a_previous_order_above_what_can_be_used_is_kept_when_frozen():
    prev = [{"supplier": "S", "product": "P", "period": "1", "quantity": 150}]
    plan = plan_instance(instance_of(warehouse_case(settings=[])), EXACT, {"constraints": {"frozen_periods": {"periods": 1, "previous_orders": prev}}})
    assert plan.status == "optimal" and plan.tables["orders"]["quantity"].tolist() == [150.0]
