"""A run sent as the CRM's and the supply side's exports: the service derives the instance as
`planner prepare` does, stores it with the run, and plans it (issue 16, part 6)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from instances.order_history import DEMO_RATES, generate_for_instance
from planner import jobs
from planner.contract.crm import SCM_TABLES, ServeRates, crm_from_rows
from planner.contract.loading import read_tables, tables_from_mapping
from tests.api.conftest import wait
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def exports():
    history = generate_for_instance(DEMO, customers=120, seed=5)
    crm = {"order_lines": json.loads(history["order_lines"].to_json(orient="records")),
           "customers": json.loads(history["customers"].to_json(orient="records")), "rates": DEMO_RATES}
    scm = {name: rows for name, rows in read_tables(DEMO).items() if name in SCM_TABLES}
    return {"crm": crm, "scm": scm}


def body(exports, **crm):
    return {"crm": {**exports["crm"], **crm}, "scm": exports["scm"], "options": {"time_limit": 30, "mip_gap": 0.01, "name": "from exports"}}


def test_a_run_sent_as_exports_is_planned_and_keeps_the_instance_derived_from_them(client, exports):
    r = client.post("/v1/runs", json=body(exports))
    assert r.status_code == 202, r.text
    run = wait(client, r.json()["id"])
    assert run["status"] == "succeeded" and run["plan_status"] in ("optimal", "feasible")
    stored = client.get(f"/v1/runs/{run['id']}/input").json()
    assert stored["exports"] == {"crm": exports["crm"], "scm": exports["scm"]}  # nothing lost: what was sent, as sent
    # the instance stored is the one `planner prepare` derives from the same exports
    rows = tables_from_mapping({"order_lines": exports["crm"]["order_lines"], "customers": exports["crm"]["customers"]})
    same = jobs.run(jobs.JobRequest(kind="prepare", crm=crm_from_rows(rows["order_lines"], rows["customers"]), rates=ServeRates(**DEMO_RATES),
                                    scm=exports["scm"]))
    for table in ("segments", "service_tiers", "customers", "demand", "periods"):
        assert pd.DataFrame(stored["instance"][table]).equals(same.tables[f"instance/{table}"].reset_index(drop=True)), table
    assert {"customer_profitability", "whale_curve", "demand_forecasts", "tier_values"} <= set(stored["derivation"])
    plan = client.get(f"/v1/runs/{run['id']}/plan").json()
    assert {s["segment"] for s in plan["segments"]} == {s["segment"] for s in stored["instance"]["segments"]}


def test_bad_exports_are_refused_with_their_place_in_the_request_and_nothing_is_stored(client, exports):
    lines = [dict(r) for r in exports["crm"]["order_lines"]]
    lines[2]["net_unit_price"] = -4
    lines[5]["customer"] = "Nobody"
    lines[7]["product"] = "NOPE"
    lines[9]["order_date"] = "yesterday"
    scm = {**exports["scm"], "suppliers": [{**exports["scm"]["suppliers"][0], "lead_time": -1}, *exports["scm"]["suppliers"][1:]]}
    r = client.post("/v1/runs", json={"crm": {**exports["crm"], "order_lines": lines}, "scm": scm})
    assert r.status_code == 422, r.text
    errors = {(e["table"], e["row"], e["column"]) for e in r.json()["errors"]}
    assert {("crm.order_lines", 3, "net_unit_price"), ("crm.order_lines", 6, "customer"), ("crm.order_lines", 10, "order_date"),
            ("scm.suppliers", 1, "lead_time")} <= errors
    r = client.post("/v1/runs", json=body(exports, order_lines=lines[6:9]))  # only the unknown product is wrong here
    assert r.status_code == 422 and ("crm.order_lines", 2, "product") in {(e["table"], e["row"], e["column"]) for e in r.json()["errors"]}
    assert client.get("/v1/runs").json()["total"] == 0


@pytest.mark.parametrize("mapping", ["/etc/passwd", "../instances/demo/mapping.json", "online_retail.json"])
def test_a_mapping_is_a_preset_or_an_object_never_a_file_of_the_server(client, exports, mapping):
    r = client.post("/v1/runs", json=body(exports, mapping=mapping))
    assert r.status_code == 422 and r.json()["errors"][0]["column"].startswith("crm.mapping")
    assert "/etc" not in r.text.replace(f'"{mapping}"', "") and "No such file" not in r.text


def test_exports_in_a_presets_layout_and_with_given_segments_and_options(client, exports):
    layout = {"order_id": "InvoiceNo", "product": "StockCode", "quantity": "Quantity", "order_date": "InvoiceDate",
              "net_unit_price": "UnitPrice", "customer": "CustomerID", "ship_to": "Country"}
    lines = [{layout.get(k, k): v for k, v in r.items()} for r in exports["crm"]["order_lines"]]
    customers = [{"CustomerID": c["customer"], "Country": c["region"]} for c in exports["crm"]["customers"]]
    segments = [{"customer": c["customer"], "segment": "key" if i % 3 == 0 else "other"} for i, c in enumerate(exports["crm"]["customers"])]
    r = client.post("/v1/validate", json=body(exports, order_lines=lines, customers=customers, mapping="online_retail", segments=segments,
                                              weeks=6, start="2026-W49"))
    assert r.status_code == 200 and r.json()["valid"], r.text
    r = client.post("/v1/validate", json=body(exports, segments=segments[1:]))
    assert not r.json()["valid"] and r.json()["errors"][0]["table"] == "crm.segments"
    r = client.post("/v1/validate", json=body(exports, forecaster="statsforecast", weeks=4))  # the optional engine, installed with the tests
    assert r.status_code == 200 and r.json()["valid"], r.text
    r = client.post("/v1/validate", json=body(exports, forecaster="prophet"))
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "crm.forecaster"
    r = client.post("/v1/validate", json=body(exports, start="2026-W60"))
    assert not r.json()["valid"] and r.json()["errors"][0]["column"] == "start"


def test_a_body_is_an_instance_or_exports_not_both(client, exports):
    r = client.post("/v1/runs", json={"instance": {}, **exports})
    assert r.status_code == 422 and {e["column"] for e in r.json()["errors"]} == {"crm", "scm"}
    r = client.post("/v1/runs", json={"crm": exports["crm"]})
    assert r.status_code == 422 and r.json()["errors"] == [{"table": None, "row": None, "column": "scm", "message": "Field required"}]
