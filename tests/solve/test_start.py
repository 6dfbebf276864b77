"""The construction heuristic: a feasible plan at once, kept as the fallback when HiGHS finds nothing in time."""

import pyomo.environ as pyo
import pytest

from instances.generator import generate
from models import build_model, select
from planner.contract.loading import read_tables, tables_from_mapping
from planner.solve.extract import extract, plan_kpis
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.solve.start import construct_start
from planner.solve.standard_form import compile_model, objective_at_values
from planner.verify import verify_plan
from tests.conftest import DEMO, instance_of


def gen(seed, **kw):
    t = generate(seed=seed, **kw)
    return instance_of(tables_from_mapping({k: v.to_dict(orient="records") for k, v in t.items()}))


@pytest.mark.parametrize("seed", range(5))
def test_the_heuristic_plan_itself_passes_the_verifier(seed):
    inst = gen(seed, products=15, segments=3, suppliers=5, periods=8)
    m = build_model(inst, select())
    assert construct_start(m, inst).feasible
    tables = extract(m, inst, select())
    kpis = plan_kpis(m, inst, tables)
    check = verify_plan(inst, tables, kpis)
    assert check.ok, [str(v) for v in check.violations[:5]]
    assert kpis["profit"] == pytest.approx(pyo.value(m.profit), rel=1e-6)


@pytest.mark.parametrize("seed,options", [(0, {}), (1, {"constraints": {"single_sourcing": {}, "max_supplier_share": {"share": 0.6}}})])
def test_the_plans_are_valued_by_the_compiled_costs_as_by_the_objective(seed, options):
    """The heuristic compares its variants by the compiled costs (a dot product): the same
    profit as Pyomo's evaluation of the objective, and the same plan chosen."""
    inst = gen(seed, products=12, segments=3, suppliers=4, periods=6)
    m = build_model(inst, select(options))
    sf, form, sign = compile_model(m)
    value = objective_at_values(sf.columns, form, sign)
    assert value() is None  # no plan yet: the costed variables have no values
    fast = construct_start(m, inst, value)
    assert fast.profit == pytest.approx(pyo.value(m.profit), rel=1e-9)
    chosen = [v.value for v in sf.columns]
    slow = construct_start(m, inst)
    assert slow.feasible == fast.feasible and slow.profit == pytest.approx(fast.profit, rel=1e-12)
    assert [v.value for v in sf.columns] == chosen


def test_a_run_stopped_before_highs_finds_a_plan_returns_the_heuristic_plan():
    inst = instance_of(read_tables(DEMO))
    plan = plan_instance(inst, SolveOptions(time_limit=0.01))
    assert plan.status == "feasible"
    assert plan.kpis["heuristic_plan_used"]
    assert "heuristic plan is returned" in " ".join(plan.messages)
    assert plan.kpis["profit"] >= plan.kpis["start_profit"] - 1e-6  # the LP over the heuristic's decisions only improves it
    assert verify_plan(inst, plan.tables, plan.kpis).ok
    without = plan_instance(inst, SolveOptions(time_limit=0.01, start=False))
    assert without.status == "no_solution_found"


def test_the_optimum_does_not_depend_on_the_heuristic(tiny_raw):
    a = plan_instance(instance_of(tiny_raw), SolveOptions(mip_gap=0))
    b = plan_instance(instance_of(tiny_raw), SolveOptions(mip_gap=0, start=False))
    assert a.kpis["profit"] == pytest.approx(b.kpis["profit"]) == pytest.approx(577.757319, abs=1e-5)
    assert a.kpis["start_profit"] <= a.kpis["profit"] + 1e-9


def test_without_a_heuristic_plan_a_run_stopped_early_has_no_plan():
    """The heuristic knows the core model only: a family with integer decisions of its own
    (single sourcing) leaves it without a plan, and a run stopped before HiGHS finds one has none."""
    inst = instance_of(read_tables(DEMO))
    plan = plan_instance(inst, SolveOptions(time_limit=0.01), {"constraints": {"single_sourcing": {}}})
    assert plan.status == "no_solution_found"
    assert plan.kpis.get("start_profit") is None and not plan.tables
