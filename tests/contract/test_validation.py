"""Bad data gets a clear message naming table, row and column — every problem at once, no traceback."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.contract.loading import LoadError, read_tables
from planner.contract.validation import validate
from tests.conftest import TINY, minimal_raw


def errors(raw):
    report = validate(raw)
    assert not report.ok
    return [(p.table, p.row, p.column, p.message) for p in report.errors]


def find(errs, table, row, column, text):
    hits = [e for e in errs if e[0] == table and e[1] == row and e[2] == column and text in e[3]]
    assert hits, f"no error {table}/{row}/{column} containing {text!r} in {errs}"


def test_the_examples_are_valid():
    assert validate(read_tables(TINY)).ok
    assert validate(minimal_raw()).ok


def test_negative_capacity():
    raw = minimal_raw(suppliers=[{"supplier": "K", "lead_time": 0, "capacity": -5}])
    find(errors(raw), "suppliers", 1, "capacity", "greater than or equal to 0")


def test_unknown_product_in_demand():
    raw = minimal_raw()
    raw["demand"][1]["product"] = "Z9"
    find(errors(raw), "demand", 2, "product", "unknown product 'Z9'")


def test_fill_rate_above_one():
    raw = minimal_raw(service_tiers=[{"segment": "A", "tier": "t", "fill_rate": 1.2, "cycle_service_level": 0.5}])
    find(errors(raw), "service_tiers", 1, "fill_rate", "less than or equal to 1")


def test_cycle_service_level_of_one_has_no_finite_safety_stock():
    raw = minimal_raw(service_tiers=[{"segment": "A", "tier": "t", "fill_rate": 1, "cycle_service_level": 1.0}])
    find(errors(raw), "service_tiers", 1, "cycle_service_level", "less than 1")


def test_duplicate_keys():
    raw = minimal_raw()
    raw["demand"].append(dict(raw["demand"][0]))
    find(errors(raw), "demand", 3, "period", "duplicate key")


def test_segment_with_no_tier():
    raw = minimal_raw(segments=[{"segment": "A"}, {"segment": "B"}])
    find(errors(raw), "segments", 2, "segment", "has no service tier")


def test_min_tier_that_is_not_a_tier_of_the_segment():
    raw = minimal_raw(segments=[{"segment": "A", "min_tier": "platinum"}])
    find(errors(raw), "segments", 1, "min_tier", "'platinum' is not a tier of segment 'A'")


def test_missing_required_column():
    raw = minimal_raw(products=[{"product": "P"}])
    find(errors(raw), "products", None, "holding_cost", "required column is missing")


def test_blank_required_cell():
    raw = minimal_raw()
    raw["demand"][0]["price"] = None
    find(errors(raw), "demand", 1, "price", "missing value")


def test_text_where_a_number_belongs():
    raw = minimal_raw()
    raw["demand"][0]["quantity"] = "ten"
    find(errors(raw), "demand", 1, "quantity", "valid number")


def test_fractional_lead_time():
    raw = minimal_raw(suppliers=[{"supplier": "K", "lead_time": 1.5, "capacity": 10}])
    find(errors(raw), "suppliers", 1, "lead_time", "valid integer")


def test_infinite_and_nan_numbers():
    raw = minimal_raw(suppliers=[{"supplier": "K", "lead_time": 0, "capacity": math.inf}])
    raw["products"][0]["holding_cost"] = "nan"
    errs = errors(raw)
    find(errs, "suppliers", 1, "capacity", "finite")
    find(errs, "products", 1, "holding_cost", "finite")


def test_settings_with_two_rows():
    raw = minimal_raw(settings=[{"budget": 1}, {"budget": 2}])
    find(errors(raw), "settings", 2, None, "exactly one row")


def test_open_order_arriving_outside_the_horizon():
    raw = minimal_raw(open_orders=[{"supplier": "K", "product": "P", "arrival_period": "9", "quantity": 5}])
    find(errors(raw), "open_orders", 1, "arrival_period", "not a period of the horizon")


def test_missing_and_empty_tables():
    raw = minimal_raw()
    del raw["suppliers"]
    raw["segments"] = []
    errs = errors(raw)
    find(errs, "suppliers", None, None, "required table is missing")
    find(errs, "segments", None, None, "required table has no rows")


def test_every_problem_is_reported_at_once():
    raw = minimal_raw(suppliers=[{"supplier": "K", "lead_time": -1, "capacity": -5}])
    raw["demand"][0]["product"] = "Z"
    raw["service_tiers"][0]["fill_rate"] = 3
    errs = errors(raw)
    assert {(e[0], e[2]) for e in errs} >= {("suppliers", "lead_time"), ("suppliers", "capacity"), ("service_tiers", "fill_rate")}


def test_unknown_columns_and_tables_are_warnings():
    raw = minimal_raw()
    raw["products"][0]["colour"] = "red"
    raw["notes"] = [{"text": "hello"}]
    report = validate(raw)
    assert report.ok
    found = {(w.table, w.column) for w in report.warnings}
    assert ("products", "colour") in found and ("notes", None) in found


def test_blank_lines_keep_row_numbers_true():
    raw = minimal_raw()
    raw["demand"].insert(0, {"segment": None, "product": None})
    raw["demand"][2]["quantity"] = -1
    find(errors(raw), "demand", 3, "quantity", "greater than or equal to 0")


def test_unreadable_inputs_are_load_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "bad.json", tmp_path / "bad.xlsx", tmp_path / "empty", tmp_path / "missing", tmp_path / "x.txt"):
        with pytest.raises(LoadError) as exc:
            read_tables(path)
        assert exc.value.problems and str(exc.value.problems[0]).startswith("error")


def test_json_with_the_wrong_shape(tmp_path):
    (tmp_path / "i.json").write_text(json.dumps({"products": {"product": "P"}, "demand": [1, 2]}))
    with pytest.raises(LoadError) as exc:
        read_tables(tmp_path / "i.json")
    assert {p.table for p in exc.value.problems} == {"products", "demand"}


cell = st.one_of(st.none(), st.integers(-10, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_cell_value_gives_a_report_never_an_exception(data):
    raw = minimal_raw(
        settings=[{"warehouse_capacity": 100, "budget": None}],
        open_orders=[{"supplier": "K", "product": "P", "arrival_period": "1", "quantity": 1}],
    )
    table = data.draw(st.sampled_from(sorted(raw)))
    row = data.draw(st.integers(0, len(raw[table]) - 1))
    column = data.draw(st.sampled_from(sorted(raw[table][row])))
    raw[table][row][column] = data.draw(cell)
    report = validate(raw)
    for p in report.errors:
        assert p.table and p.message
    assert report.ok == (not report.errors)
