"""Generated instances are valid, always have a plan, and every plan passes the verifier."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instances.generator import generate
from planner.contract.loading import tables_from_mapping
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.verify import verify_plan
from planner.contract.validation import validate


def instance(**kw):
    tables = generate(**kw)
    raw = tables_from_mapping({name: df.to_dict(orient="records") for name, df in tables.items()})
    report = validate(raw)
    assert report.ok, [str(p) for p in report.errors]
    return report.instance


@settings(max_examples=12, deadline=None)
@given(
    products=st.integers(1, 12),
    segments=st.integers(1, 5),
    suppliers=st.integers(2, 6),
    periods=st.integers(2, 8),
    seed=st.integers(0, 10_000),
)
def test_every_generated_instance_has_a_verified_plan(products, segments, suppliers, periods, seed):
    inst = instance(products=products, segments=segments, suppliers=suppliers, periods=periods, seed=seed)
    plan = plan_instance(inst, SolveOptions(time_limit=20, mip_gap=1e-3))
    assert plan.status in ("optimal", "feasible"), plan.messages
    check = verify_plan(inst, plan.tables, plan.kpis)
    assert check.ok, [str(v) for v in check.violations]


def test_generator_shape():
    inst = instance(products=30, segments=4, suppliers=8, periods=13, seed=1)
    per_product = inst.supplier_products.groupby("product").size()
    assert per_product.between(2, 4).all()  # sparse eligibility
    assert inst.periods[0] == "2026-W48" and inst.periods[-1] == "2027-W07"  # 2026 has 53 ISO weeks
    assert sorted(inst.tiers["tier"].unique()) == ["bronze", "gold", "silver"]
    assert inst.segments.at[0, "min_tier"] == "silver"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_medium_generated_instances_verify(seed):
    inst = instance(products=25, segments=4, suppliers=6, periods=13, seed=seed)
    plan = plan_instance(inst, SolveOptions(time_limit=20, mip_gap=5e-3))
    assert plan.status in ("optimal", "feasible"), plan.messages
    assert verify_plan(inst, plan.tables, plan.kpis).ok
