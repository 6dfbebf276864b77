"""The families' values are read by a plain recursion over the expressions (models/values.py),
not Pyomo's general evaluator: it must give what Pyomo gives, for every expression of every family."""

import random

import pyomo.environ as pyo
import pytest

from models import build_model, select
from models.values import value, values
from tests.solve.test_improve import gen

OPTIONAL = {"constraints": {"max_supplier_share": {"share": 0.6}, "single_sourcing": {}, "inventory_cover": {"min_periods": 0.5},
                            "service_level_floor": {"fill_rate": 0.9}, "reliable_supply_for_tier": {}, "budget": {}}}


@pytest.mark.parametrize("options", [None, OPTIONAL])
def test_the_plain_evaluator_gives_what_pyomo_gives(options):
    inst = gen(5, products=6, segments=3, suppliers=4, periods=5)
    m = build_model(inst, select(options))
    rng = random.Random(1)
    for v in m.component_data_objects(pyo.Var):
        v.set_value(rng.choice([0.0, 1.0]) if v.is_integer() else rng.uniform(0, 500), skip_validation=True)
    checked = 0
    for e in m.component_data_objects(pyo.Expression):
        assert value(e) == pytest.approx(pyo.value(e), rel=1e-12, abs=1e-9), e.name
        checked += 1
    for c in m.component_data_objects(pyo.Constraint):
        assert value(c.body) == pytest.approx(pyo.value(c.body), rel=1e-12, abs=1e-9), c.name
        checked += 1
    for _, expr in m.profit_terms.values():
        assert value(expr) == pytest.approx(pyo.value(expr), rel=1e-12)
    assert checked > 300  # the loops ran over the model


def test_an_unset_variable_reads_as_none_and_zero_in_a_table():
    inst = gen(5, products=3, segments=2, suppliers=2, periods=3)
    m = build_model(inst, select())
    for v in m.component_data_objects(pyo.Var):
        v.set_value(1.0, skip_validation=True)
    revenue = m.profit_terms["revenue"][1]
    assert value(revenue) == pytest.approx(pyo.value(revenue)) and value(revenue) > 0
    next(iter(m.component_data_objects(pyo.Var))).set_value(None)
    assert pyo.value(m.profit, exception=False) is None and value(m.profit.expr) is None
    assert all(x is not None for x in values(m.revenue).values())
