"""Workbooks are written a column at a time (planner.contract.results.write_workbook) and read
back as the tables they were made from."""

from __future__ import annotations

import math

import pandas as pd

from planner.contract.results import write_workbook


def test_a_workbook_reads_back_as_its_tables(tmp_path):
    tables = {
        "orders": pd.DataFrame({"supplier": ["S1", "S2", None], "quantity": [1.5, float("nan"), 3.0], "count": [1, 2, 3],
                                "frozen": [True, False, True]}),
        "a sheet with a name longer than thirty-one characters": pd.DataFrame({"x": ["a"]}),
        "empty": pd.DataFrame(columns=["a", "b"]),
    }
    write_workbook(tmp_path / "t.xlsx", tables)
    back = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert list(back) == ["orders", "a sheet with a name longer than", "empty"]
    orders = back["orders"]
    assert orders["supplier"].tolist()[:2] == ["S1", "S2"] and math.isnan(orders["supplier"][2])  # None: an empty cell
    assert orders["quantity"][0] == 1.5 and math.isnan(orders["quantity"][1]) and orders["count"].tolist() == [1, 2, 3]
    assert orders["frozen"].tolist() == [True, False, True]
    assert list(back["empty"].columns) == ["a", "b"] and back["empty"].empty
