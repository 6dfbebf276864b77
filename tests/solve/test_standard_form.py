"""The LP with the integer decisions fixed (the heuristic plan's completion and the final polish)
is checked against the model's own rows: HiGHS's word that it is optimal is not enough."""

import highspy
import numpy as np
import pytest

from models import build_model, select
from planner.solve import standard_form
from planner.solve.standard_form import compile_model
from planner.solve.start import construct_start
from tests.solve.test_improve import gen


@pytest.fixture(scope="module")
def fixed_case():
    inst = gen(11, products=12, segments=3, suppliers=4, periods=6)
    m = build_model(inst, select())
    assert construct_start(m, inst).feasible
    sf, form, sign = compile_model(m)
    ints = np.array([round(v.value) for v, i in zip(sf.columns, form.is_int) if i])
    return form, ints


def inaccurate(when):
    """A HiGHS whose LP answers are a tenth off in every column while ``when(h)`` holds."""
    class Inaccurate(highspy.Highs):
        def getSolution(self):
            sol = super().getSolution()
            if when(self):
                sol.col_value = list(np.asarray(sol.col_value) + 0.1)
            return sol
    return Inaccurate


def test_an_lp_answer_that_breaks_a_row_is_solved_again_without_presolve(fixed_case, monkeypatch):
    form, ints = fixed_case
    clean = form.fixed_lp(ints)
    monkeypatch.setattr(standard_form, "new_highs", lambda: inaccurate(lambda h: h.getOptionValue("presolve")[1] != "off")())
    y, obj, h = form.fixed_lp(ints)
    assert h.getOptionValue("presolve")[1] == "off"
    assert form.holds(y) and obj == pytest.approx(clean[1], rel=1e-9)


def test_an_lp_answer_that_still_breaks_a_row_gives_no_plan(fixed_case, monkeypatch):
    form, ints = fixed_case
    monkeypatch.setattr(standard_form, "new_highs", lambda: inaccurate(lambda h: True)())
    assert form.fixed_lp(ints) is None


def test_the_fixed_lp_holds_only_the_continuous_columns_and_solves_the_whole_lp(fixed_case):
    form, ints = fixed_case
    y, obj, h = form.fixed_lp(ints)
    assert h.getNumCol() == int((~form.is_int).sum()) and h.getNumRow() == form.A.shape[0]
    # the whole LP, the fixed columns in it, solved apart
    lo, up = form.col_lower.copy(), form.col_upper.copy()
    lo[form.is_int] = up[form.is_int] = ints
    whole = highspy.Highs()
    whole.setOptionValue("output_flag", False)
    whole.passModel(form.highs_lp(lo, up, integer=False))
    whole.run()
    assert obj == pytest.approx(whole.getInfo().objective_function_value, rel=1e-9)
    assert obj == pytest.approx(form.c @ y + form.offset, rel=1e-9)
    assert form.holds(y, lo, up) and np.array_equal(y[form.is_int], ints)
    # the same rows, so the same row duals (what the decomposed route's multipliers start from)
    assert np.allclose(h.getSolution().row_dual, whole.getSolution().row_dual, rtol=1e-7, atol=1e-7)


def test_holds_is_the_model_s_rows_and_bounds(fixed_case):
    form, ints = fixed_case
    y = form.fixed_lp(ints)[0]
    assert form.holds(y)
    assert not form.holds(y + 0.1)
    below = y.copy()
    below[np.argmax(form.col_lower > -np.inf)] -= 1.0
    assert not form.holds(below)
