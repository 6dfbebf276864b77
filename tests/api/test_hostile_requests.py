"""Every malformed request is a 4xx problem+json, answered before the 202: the cases an
attacker and an ERP integrator tried (issue 15), one test each."""

from __future__ import annotations

import copy
import json

import pytest

from api.config import Settings
from api.main import create_app
from api.schemas import TINY_EXAMPLE
from tests.api.conftest import make_client, tiny

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def c(tmp_path_factory):
    with make_client(tmp_path_factory.mktemp("hostile")) as client:
        yield client


def instance(**tables):
    inst = copy.deepcopy(TINY_EXAMPLE)
    inst.update(tables)
    return inst


def refused(r, status=422):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return r.json()


def located(body, table, row, column):
    assert any(e["table"] == table and e["row"] == row and e["column"] == column for e in body["errors"]), body["errors"]


def count_runs(c):
    return c.get("/v1/runs").json()["total"]


@pytest.mark.parametrize("path", ["/v1/runs", "/v1/validate", "/v1/solve"])
def test_json_nested_100000_deep_is_a_400_not_a_recursion_error(c, path):
    r = c.post(path, content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"})
    body = refused(r, 400)
    assert "100000 levels deep" in body["detail"]
    deep_option = b'{"instance": {}, "options": {"constraints": {"x": ' + b"[" * 100 + b"]" * 100 + b"}}}"
    assert refused(c.post(path, content=deep_option, headers={"content-type": "application/json"}), 400)["detail"].startswith("the body nests")


def test_deep_options_in_a_multipart_field_are_a_422(c):
    files = [("files", ("products.csv", b"product,holding_cost\nP,1\n", "text/csv"))]
    body = refused(c.post("/v1/runs/upload", files=files, data={"options": "[" * 100_000}))
    located(body, None, None, "options")


def test_duplicate_keys_nan_and_overflowing_numbers_are_malformed_json(c):
    for text, says in [('{"instance": {}, "instance": {}}', "'instance' appears twice"),
                       ('{"instance": {"demand": [{"quantity": 1e400}]}}', "too large"),
                       ('{"instance": {"demand": [{"quantity": NaN}]}}', "NaN"),
                       ('{"instance": {}, "options": {"time_limit": 5, "time_limit": 500}}', "'time_limit' appears twice")]:
        body = refused(c.post("/v1/runs", content=text, headers={"content-type": "application/json"}), 400)
        assert says in body["detail"], body


@pytest.mark.parametrize("table, row, column, value", [
    ("suppliers", 1, "lead_time", 10**400),
    ("suppliers", 1, "lead_time", 1001),
    ("demand", 2, "quantity", 1e308),
    ("demand", 3, "price", 1e308),
    ("supplier_products", 1, "unit_cost", 1e10),
    ("products", 1, "holding_cost", True),
    ("demand", 1, "quantity", True),
    ("demand", 1, "product", "P\x00"),
    ("segments", 2, "segment", "Re\ntail"),
    ("products", 1, "product", "P" * 101),
])
def test_numbers_out_of_range_booleans_and_control_characters_are_located_422s(c, table, row, column, value):
    inst = instance()
    inst[table][row - 1][column] = value
    before = count_runs(c)
    body = refused(c.post("/v1/runs", json={"instance": inst}))
    located(body, table, row, column)
    assert count_runs(c) == before  # nothing was stored


def test_nul_and_control_characters_in_the_run_name_and_tags_are_refused(c):
    for options in ({"name": "plan\x00"}, {"tags": ["a\x00"]}, {"tags": [""]}, {"name": "x" * 201}):
        body = refused(c.post("/v1/runs", json=tiny(**options)))
        assert body["errors"][0]["column"].startswith("options.")


def test_strict_option_types(c):
    for options, column in [({"time_limit": True}, "options.time_limit"), ({"mip_gap": "0.1"}, "options.mip_gap"),
                            ({"analysis": {"kind": "frontier", "floors": [True]}}, "options.analysis.floors.0")]:
        body = refused(c.post("/v1/runs", json=tiny(**options)))
        assert body["errors"][0]["column"] == column, body


def test_family_parameters_take_no_booleans_and_no_huge_numbers(c):
    body = refused(c.post("/v1/runs", json=tiny(constraints={"max_supplier_share": {"share": True}})))
    located(body, "options", None, "constraints.max_supplier_share.share")
    body = refused(c.post("/v1/runs", json=tiny(constraints={"frozen_periods": {"periods": 1, "change_penalty": 1e300, "previous_orders": []}})))
    located(body, "options", None, "constraints.frozen_periods.change_penalty")
    orders = [{"supplier": "Fast", "product": "P", "period": "W1", "quantity": True}]
    body = refused(c.post("/v1/runs", json=tiny(constraints={"frozen_periods": {"periods": 1, "previous_orders": orders}})))
    located(body, "options", None, "constraints.frozen_periods.previous_orders.0.quantity")


def test_a_frozen_previous_order_naming_an_unknown_supplier_is_refused_before_the_solve(c):
    orders = [{"supplier": "Fast", "product": "P", "period": "W1", "quantity": 5},
              {"supplier": "Nobody", "product": "P", "period": "W1", "quantity": 5},
              {"supplier": "Fast", "product": "Q", "period": "W1", "quantity": 5},
              {"supplier": "Nobody", "product": "P", "period": "W2", "quantity": 5}]  # not frozen: dropped at the change penalty
    before = count_runs(c)
    body = refused(c.post("/v1/runs", json=tiny(constraints={"frozen_periods": {"periods": 1, "previous_orders": orders}})))
    assert [e["column"] for e in body["errors"]] == ["constraints.frozen_periods.previous_orders.1.supplier",
                                                     "constraints.frozen_periods.previous_orders.2.product"]
    assert "Nobody" in body["errors"][0]["message"] and count_runs(c) == before


def test_a_csv_row_with_more_fields_than_the_header_is_refused_with_its_row(c):
    files = [("files", ("products.csv", b"product,unit_volume,holding_cost\nP,1,1\nQ,1,1,0,9,9,9\n", "text/csv"))]
    body = refused(c.post("/v1/runs/upload", files=files))
    assert body["errors"][0]["table"] == "products" and body["errors"][0]["row"] == 2
    assert "7 fields" in body["errors"][0]["message"]


def test_an_idempotency_key_the_database_cannot_hold_is_a_400(c):
    refused(c.post("/v1/runs", json=tiny(), headers={"Idempotency-Key": "k" * 201}), 400)
    refused(c.post("/v1/runs", json=tiny(), headers={"Idempotency-Key": "two words"}), 400)


def test_the_service_will_not_start_on_a_model_folder_that_does_not_load(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/runs.db", models_path=str(tmp_path / "missing"))
    from fastapi.testclient import TestClient

    with pytest.raises(RuntimeError, match="PLANNER_MODELS_PATH"):
        with TestClient(create_app(settings)):
            pass


def test_option_errors_name_a_user_family_by_its_file_not_its_folder(tmp_path):
    folder = tmp_path / "secret-server-folder"
    folder.mkdir()
    (folder / "cap.py").write_text(
        "from pydantic import BaseModel, Field\nNAME = 'cap'\nSUMMARY = 'x'\n"
        "class Params(BaseModel):\n    limit: float = Field(ge=0)\n\ndef build(m, inst, params):\n    pass\n")
    with make_client(tmp_path, models_path=str(folder)) as client:
        body = refused(client.post("/v1/runs", json=tiny(constraints={"cap": {"limit": -1}})))
    text = json.dumps(body)
    assert "cap.py" in text and "secret-server-folder" not in text and str(tmp_path) not in text
