"""Column-at-a-time checking gives exactly what the row models give (planner.contract.bulk)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.contract.bulk import validate_rows
from planner.contract.crm import CustomerRecord, OrderLine
from planner.contract.loading import read_csv, read_csv_frame
from planner.contract.problems import LoadError

TEXT = ["A", "  B  ", "", " ", "x" * 100, "x" * 101, " " + "y" * 100 + " ", "a\tb", "a\x00b", "a\x7f", 123, -7, 1.5, True, "ü€", "12346"]
NUMBER = ["5", "-3", "0", "1e3", "1E-2", "1.5", " 5", "+5", ".5", "5.", "abc", "nan", "inf", "-inf", "1_000", "0x10", "",
          5, -5, 0, 1.5, -0.0, True, False, float("nan"), float("inf"), 1e10, -1e10, 1e9, -1e9, 10**30, "9" * 400]
DATE = ["2026-03-01", "2026-3-1", "2026-02-30", "2026-13-01", "12/1/2010 8:26", "12/1/2010", "13/1/2010", "2/29/2024", "2/29/2023",
        "1.12.2010", "1.12.2010 08:26", "31.4.2010", "2010-12-01 08:26:00", "2010-12-01T08:26:00", "2010-12-01 08:26",
        "2010-12-01 25:00:00", "12/1/2010 24:00", " 2026-03-01 ", "0001-01-01", "9999-12-31", "1500-01-01", "", "soon", 20260301,
        dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 5), pd.Timestamp("2026-01-01 06:00"), 1.5, True]
POOLS = {"text": TEXT, "number": NUMBER, "date": DATE}
KIND = {"order_id": "text", "customer": "text", "product": "text", "order_date": "date", "quantity": "number", "net_unit_price": "number",
        "requested_date": "date", "delivered_quantity": "number", "returned_quantity": "number", "ship_to": "text",
        "name": "text", "customer_class": "text", "region": "text", "channel": "text"}
MISSING = object()


VALID = {"text": ["A", "C-17", "12346"], "number": ["5", "0", 2, "12.5"], "date": ["2026-03-01", "12/1/2010 8:26", "1.12.2010"]}


def rows_of(model):
    """Rows valid but for one or two cells drawn from the pools (a blank or a missing column among
    them): a row with many odd cells is refused whichever cell decides."""
    names = list(model.model_fields)
    valid = st.fixed_dictionaries({n: st.sampled_from(VALID[KIND[n]]) for n in names})
    odd = st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), st.one_of(st.sampled_from(POOLS[KIND[n]]), st.just(None), st.just(MISSING))))
    row = st.tuples(valid, st.lists(odd, min_size=1, max_size=2)).map(lambda t: {**t[0], **dict(t[1])})
    return st.lists(row, min_size=1, max_size=25)


def by_model(model, row: dict):
    data = {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}
    try:
        return model.model_validate(data).model_dump()
    except ValidationError:
        return None


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def check(model, rows: list[dict]) -> None:
    """Every row: valid with the same values, or an error at the same row, whether it took the
    column path or the row path."""
    rows = [{k: v for k, v in r.items() if v is not MISSING} for r in rows]
    frame = pd.DataFrame(rows, dtype=object, columns=list(model.model_fields))
    frame = frame[[c for c in frame.columns if any(c in r for r in rows)]]
    frame.index = range(1, len(frame) + 1)
    good, errors = validate_rows(model, frame)
    failed = {position for position, _ in errors}
    for position, row in enumerate(rows):
        expected = by_model(model, row)
        if expected is None:
            assert position in failed and position + 1 not in good.index, row
        else:
            assert position not in failed, row
            got = good.loc[position + 1].to_dict()
            assert all(same(expected[k], got[k]) for k in expected), (row, expected, got)


@pytest.mark.parametrize("model", [OrderLine, CustomerRecord])
def test_every_odd_cell_alone_is_judged_as_the_row_model_judges_it(model):
    """Each value of the pools (and a blank, and a missing column) in each column of an otherwise
    valid row, all in one frame."""
    base = {n: VALID[KIND[n]][0] for n in model.model_fields}
    rows = [{**base, name: value} for name in model.model_fields for value in [*POOLS[KIND[name]], None, MISSING]]
    check(model, rows)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([OrderLine, CustomerRecord]).flatmap(lambda m: st.tuples(st.just(m), rows_of(m))))
def test_rows_with_two_odd_cells_are_judged_as_the_row_model_judges_them(case):
    check(*case)


def test_plain_rows_never_reach_the_row_model(monkeypatch):
    """The point of it: a plain export's rows are checked a column at a time."""
    calls = []
    original = OrderLine.model_validate
    monkeypatch.setattr(OrderLine, "model_validate", classmethod(lambda cls, data: calls.append(data) or original(data)))
    frame = pd.DataFrame([{"order_id": f"O{i}", "customer": "C1", "product": "P", "order_date": "2026-03-01", "quantity": str(i - 5),
                           "net_unit_price": "12.50", "ship_to": None} for i in range(1000)] + [
                          {"order_id": "O-odd", "customer": "C1", "product": "P", "order_date": "1 March 2026", "quantity": "1",
                           "net_unit_price": "1", "ship_to": None}], dtype=object)
    frame.index = range(1, len(frame) + 1)
    good, errors = validate_rows(OrderLine, frame)
    assert len(good) == 1000 and len(calls) == 1 and errors[0][0] == 1000
    assert good["quantity"].tolist()[:3] == [-5.0, -4.0, -3.0] and good["order_date"].iloc[0] == dt.date(2026, 3, 1)


CSV_FILES = {
    "plain": b"Order_ID, Customer ,product\nO1,C1,P\nO2, C2 ,P \n",
    "bom and blank lines": b"\xef\xbb\xbforder_id,customer\nO1,C1\n\n , \nO2,C2\n",
    "space before a quote": b'order_id,customer\nO1, "C1, Ltd"\n',
    "quoted line break": b'order_id,customer\nO1,"C1\nsecond line"\n',
    "blank cells": b"order_id,customer,ship_to\nO1,C1,\nO2,,S\n",
    "trailing separator": b"order_id,customer\nO1,C1,\n",
}


@pytest.mark.parametrize("name", CSV_FILES)
def test_the_column_reader_reads_a_csv_as_the_row_reader_does(tmp_path, name):
    path = tmp_path / "order_lines.csv"
    path.write_bytes(CSV_FILES[name])
    frame = read_csv_frame(path, path.name)
    rows = [{k: (None if v is pd.NA else v) for k, v in r.items()} for r in frame.to_dict("records")]
    assert rows == read_csv(path, path.name) and list(frame.index) == list(range(1, len(rows) + 1))


def test_a_short_line_is_the_row_readers_located_error(tmp_path):
    path = tmp_path / "order_lines.csv"
    path.write_bytes(b"order_id,customer,product\nO1,C1,P\nO2,C2\n")
    with pytest.raises(LoadError) as err:
        read_csv_frame(path, path.name)
    assert err.value.problems[0].row == 2 and "2 fields" in err.value.problems[0].message


@pytest.mark.parametrize("model", [OrderLine, CustomerRecord])
def test_text_columns_read_by_arrow_are_judged_as_the_row_model_judges_them(tmp_path, model):
    """The CSV path: every cell is text, held as Arrow strings; the text values of the pools, each
    alone in a valid row, through a CSV file."""
    base = {n: str(VALID[KIND[n]][0]) for n in model.model_fields}
    rows = [{**base, name: value} for name in model.model_fields for value in [*POOLS[KIND[name]], None]
            if value is None or isinstance(value, str) and "\x00" not in value]
    path = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    frame = read_csv_frame(path, path.name)
    assert all(isinstance(d, pd.ArrowDtype) for d in frame.dtypes)  # the column path, not the fallback
    good, errors = validate_rows(model, frame)
    failed = {position for position, _ in errors}
    for position, row in enumerate(read_csv(path, path.name)):
        expected = by_model(model, row)
        assert (expected is None) == (position in failed), row
        if expected is not None:
            got = good.loc[position + 1].to_dict()
            assert all(same(expected[k], got[k]) for k in expected), (row, expected, got)
