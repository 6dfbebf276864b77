"""The readers take no liberties: a CSV line is read only when its fields match the header, and a
JSON text only when it is unambiguous (one value per key, finite numbers, bounded depth)."""

import io

import pytest

from planner.contract.loading import MAX_JSON_DEPTH, json_depth, parse_json, read_csv, read_tables
from planner.contract.problems import LoadError


def test_a_csv_line_with_the_wrong_number_of_fields_names_its_row():
    text = b"product,unit_volume,holding_cost\nA,1,1\nP,1,1,0,9,9,9\nQ,1\n"
    with pytest.raises(LoadError) as exc:
        read_csv(io.BytesIO(text), "products.csv")
    assert [(p.table, p.row) for p in exc.value.problems] == [("products", 2), ("products", 3)]
    assert "7 fields where the first line names 3 columns" in exc.value.problems[0].message


def test_a_csv_file_is_read_as_its_header_says():
    text = "\ufeffProduct, Holding_Cost,\n\"A, the first\",1,\n\nB,2\n".encode()  # BOM, spaces, a trailing comma, a blank line
    assert read_csv(io.BytesIO(text), "products.csv") == [{"product": "A, the first", "holding_cost": "1"}, {"product": "B", "holding_cost": "2"}]
    assert read_csv(io.BytesIO(b"\n\n"), "settings.csv") == []  # an empty table
    for bad, says in [(b"a,a\n1,2\n", "appears twice"), (b"a,,b\n1,2,3\n", "has no name"), (b"a\n\xff\n", "not UTF-8")]:
        with pytest.raises(LoadError, match=says):
            read_csv(io.BytesIO(bad), "t.csv")


def test_json_depth_is_counted_without_decoding_and_strings_do_not_count():
    assert json_depth(b'{"a": [1, {"b": "[[[{{{"}]}') == 3
    assert json_depth(b'["\\"[[[", "\\\\"]') == 1
    assert json_depth(b"[" * 50_000 + b"]" * 50_000) == 50_000
    with pytest.raises(LoadError, match=f"at most {MAX_JSON_DEPTH}"):
        parse_json(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None


@pytest.mark.parametrize("text, says", [('{"a": 1, "a": 2}', "'a' appears twice"), ('[1e999]', "too large"), ('[-Infinity]', "Infinity"),
                                        ("[" + "9" * 5000 + "]", "digits"), ('{"a": }', "Expecting value")])
def test_ambiguous_or_unbounded_json_is_refused(text, says):
    with pytest.raises(LoadError, match=says):
        parse_json(text)


def test_a_json_instance_file_is_read_strictly(tmp_path):
    path = tmp_path / "inst.json"
    path.write_text('{"products": [{"product": "A"}], "products": []}')
    with pytest.raises(LoadError, match="appears twice"):
        read_tables(path)
