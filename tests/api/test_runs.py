"""The runs API in-process (TestClient, real SQLite file, real Dask LocalCluster, real solve processes)."""

import io
import json
import threading
import time
import zipfile

import pandas as pd
import pytest

from api.routes.plans import XLSX
from api.schemas import TINY_EXAMPLE
from planner.contract.inputs import TABLES
from planner.contract.outputs import PLAN_TABLES
from planner.contract.loading import tables_from_mapping
from planner.contract.validation import validate
from tests.api.conftest import demo_body, make_client, tiny, wait
from tests.conftest import TINY

PROBLEM = "application/problem+json"


def test_submit_poll_and_fetch_the_plan(client):
    r = client.post("/v1/runs", json=tiny(name="tiny", tags=["weekly", "demo"]))
    assert r.status_code == 202
    run = r.json()
    assert run["status"] == "queued"
    assert r.headers["Location"].endswith(f"/v1/runs/{run['id']}")
    assert int(r.headers["Retry-After"]) > 0
    done = wait(client, run["id"])
    assert done["status"] == "succeeded" and done["plan_status"] == "optimal"
    assert done["profit"] == pytest.approx(577.757319, abs=1e-5)
    assert done["started_at"] and done["finished_at"] and done["attempts"] == 1
    assert done["progress"]["incumbent"] == done["profit"] and done["progress"]["gap"] == done["mip_gap"]  # the final figures
    plan = client.get(f"/v1/runs/{run['id']}/plan").json()
    assert plan["kpis"]["profit"] == pytest.approx(577.757319, abs=1e-5)
    assert {o["supplier"] for o in plan["orders"]} == {"Fast", "Slow"}
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/v1/runs/{run['id']}/plan?format=csv").content))
    assert set(z.namelist()) == {"orders.csv", "inventory.csv", "service.csv", "segments.csv", "suppliers.csv", "kpis.csv"}
    xl = pd.read_excel(io.BytesIO(client.get(f"/v1/runs/{run['id']}/plan?format=xlsx").content), sheet_name=None)
    assert len(xl["orders"]) == 2
    inp = client.get(f"/v1/runs/{run['id']}/input").json()
    assert validate(tables_from_mapping(inp["instance"])).instance.input_hash == validate(tables_from_mapping(TINY_EXAMPLE)).instance.input_hash
    assert inp["options"]["name"] == "tiny"
    assert "finished: succeeded" in client.get(f"/v1/runs/{run['id']}/log").text


def test_a_run_can_ask_for_the_decomposed_route(client):
    """route=decompose: the run's blocks go to a Dask cluster of the solve's own (one worker
    process, PLANNER_DECOMPOSE_WORKERS) and the plan says so, with the route's figures."""
    r = client.post("/v1/runs", json=demo_body(route="decompose", time_limit=10))
    assert r.status_code == 202
    done = wait(client, r.json()["id"], timeout=120)
    assert done["status"] == "succeeded" and done["plan_status"] in ("optimal", "feasible")
    plan = client.get(f"/v1/runs/{done['id']}/plan").json()
    assert plan["kpis"]["decomposition_blocks"] == 40 and plan["kpis"]["decomposition_workers"] == 1
    assert any("decomposed into 40 blocks on 1 Dask worker(s)" in m for m in plan["messages"])
    assert plan["kpis"]["best_bound"] >= plan["kpis"]["profit"]
    bad = client.post("/v1/runs", json=demo_body(route="sideways"))
    assert bad.status_code == 422 and "route" in bad.text


def test_list_filters_and_paginates_newest_first(client):
    ids = [client.post("/v1/runs", json=tiny(tags=["t" + str(i % 2)])).json()["id"] for i in range(5)]
    for i in ids:
        wait(client, i)
    page = client.get("/v1/runs?limit=2").json()
    assert page["total"] == 5 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    assert page["next"] and "offset=2" in page["next"]
    rest = client.get(page["next"]).json()
    assert [r["id"] for r in rest["items"]] == ids[::-1][2:4]
    assert client.get("/v1/runs?tag=t0").json()["total"] == 3
    assert client.get("/v1/runs?status=succeeded").json()["total"] == 5
    assert client.get("/v1/runs?status=queued").json()["total"] == 0
    assert client.get("/v1/runs?status=bogus").status_code == 422


def test_idempotency_key(client):
    h = {"Idempotency-Key": "order-42"}
    a = client.post("/v1/runs", json=tiny(), headers=h)
    b = client.post("/v1/runs", json=tiny(), headers=h)
    assert a.status_code == 202 and b.status_code == 200
    assert a.json()["id"] == b.json()["id"]
    c = client.post("/v1/runs", json=tiny(name="different"), headers=h)
    assert c.status_code == 422 and c.headers["content-type"].startswith(PROBLEM)
    assert "Idempotency-Key" in c.json()["title"]
    wait(client, a.json()["id"])
    assert client.get("/v1/runs").json()["total"] == 1


def test_concurrent_submissions_with_one_key_make_one_run(client):
    results = []

    def go():
        results.append(client.post("/v1/runs", json=tiny(), headers={"Idempotency-Key": "same"}))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and {r.status_code for r in results} <= {200, 202}
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(r.status_code == 202 for r in results) == 1
    wait(client, results[0].json()["id"])
    runs = client.get("/v1/runs").json()
    assert runs["total"] == 1 and runs["items"][0]["attempts"] == 1


def test_cancel_queued_and_running_and_finished(client):
    long = client.post("/v1/runs", json=demo_body()).json()  # takes the only solve slot
    queued = client.post("/v1/runs", json=tiny()).json()
    wait(client, long["id"], until=("running",))
    r = client.post(f"/v1/runs/{queued['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # wait for a first plan, then cancel: the run stops and keeps its best plan
    for _ in range(600):
        st = client.get(f"/v1/runs/{long['id']}").json()
        if (st.get("progress") or {}).get("incumbent") is not None:
            break
        time.sleep(0.1)
    r = client.post(f"/v1/runs/{long['id']}/cancel")
    assert r.status_code == 202 and r.json()["cancel_requested"]
    done = wait(client, long["id"])
    assert done["status"] == "cancelled" and done["plan_status"] in ("feasible", "optimal")
    plan = client.get(f"/v1/runs/{long['id']}/plan").json()
    assert plan["run_status"] == "cancelled" and "best plan found before it stopped" in plan["note"]
    assert len(plan["orders"]) > 0
    r = client.post(f"/v1/runs/{long['id']}/cancel")
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"/v1/runs/{queued['id']}/plan").status_code == 409
    assert wait(client, queued["id"])["status"] == "cancelled"  # and it never ran
    assert client.get(f"/v1/runs/{queued['id']}").json()["attempts"] == 0


def test_infeasible_run_fails_with_an_explanation(client):
    inst = json.loads(json.dumps(TINY_EXAMPLE))
    inst["segments"][0]["min_tier"] = "gold"
    inst["service_tiers"].append({"segment": "Retail", "tier": "plus", "fill_rate": 0.9, "cycle_service_level": 0.5})
    inst["segments"][1]["min_tier"] = "plus"
    run = client.post("/v1/runs", json={"instance": inst}).json()
    done = wait(client, run["id"])
    assert done["status"] == "failed" and done["reason"] == "infeasible"
    rel = done["explanation"]["relaxations"]
    assert rel and {r["requirement"] for r in rel} <= {"supplier_capacity", "fill_rate_floor", "min_tier", "budget", "safety_stock", "warehouse_capacity"}
    assert any(r.get("period") == "W1" for r in rel)
    assert "short by" in done["detail"] or "min_tier" in done["detail"]


def test_synchronous_solve(client):
    r = client.post("/v1/solve", json=tiny())
    assert r.status_code == 200
    assert r.json()["run"]["status"] == "succeeded"
    assert r.json()["plan"]["kpis"]["profit"] == pytest.approx(577.757319, abs=1e-5)
    assert client.get("/v1/runs").json()["total"] == 1  # stored like any run


def test_the_synchronous_solve_holds_to_its_hard_limit(tmp_path):
    """A run asking for two minutes through /v1/solve gets the service's hard limit instead."""
    with make_client(tmp_path, sync_time_limit=2) as c:
        r = c.post("/v1/solve", json=demo_body())
        assert r.status_code == 200, r.text
        run = r.json()["run"]
        assert run["options"]["time_limit"] == 2 and run["plan_status"] == "feasible"


def test_validate_endpoint_gives_the_cli_messages(client):
    bad = json.loads(json.dumps(TINY_EXAMPLE))
    bad["suppliers"][0]["capacity"] = -1
    bad["demand"][2]["product"] = "NOPE"
    r = client.post("/v1/validate", json={"instance": bad})
    assert r.status_code == 200
    body = r.json()
    assert not body["valid"]
    got = {(e["table"], e["row"], e["column"]) for e in body["errors"]}
    assert got == {("suppliers", 1, "capacity"), ("demand", 3, "product")}
    assert any("unknown product 'NOPE'" in e["message"] for e in body["errors"])
    assert client.post("/v1/validate", json={"instance": TINY_EXAMPLE}).json()["valid"]


def test_malformed_requests_get_problem_details_never_500(client):
    cases = [
        (client.post("/v1/runs", content=b"{not json", headers={"content-type": "application/json"}), 400),
        (client.post("/v1/runs", json={"options": {}}), 422),
        (client.post("/v1/runs", json={"instance": TINY_EXAMPLE, "options": {"time_limit": -1}}), 422),
        (client.post("/v1/runs", json={"instance": TINY_EXAMPLE, "options": {"time_limit": 10**6}}), 422),
        (client.post("/v1/runs", json={"instance": TINY_EXAMPLE, "options": {"constraints": {"nope": {}}}}), 422),
        (client.post("/v1/runs", json={"instance": {"products": "x"}}), 422),
        (client.post("/v1/runs", json=[1, 2]), 422),
        (client.get("/v1/runs/does-not-exist"), 404),
        (client.get("/v1/nothing-here"), 404),
        (client.delete("/v1/runs"), 405),
    ]
    for r, status in cases:
        assert r.status_code == status, (r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), r.text
        body = r.json()
        assert body["status"] == status and body["title"]
        assert "Traceback" not in r.text
    bad = json.loads(json.dumps(TINY_EXAMPLE))
    bad["service_tiers"][0]["fill_rate"] = 1.5
    r = client.post("/v1/runs", json={"instance": bad})
    assert r.status_code == 422
    assert {"table": "service_tiers", "row": 1, "column": "fill_rate"}.items() <= r.json()["errors"][0].items()
    assert client.get("/v1/runs").json()["total"] == 0  # nothing invalid was stored or solved


def test_body_limit_413(tmp_path):
    with make_client(tmp_path, max_body_bytes=1000) as c:
        r = c.post("/v1/runs", json=tiny())
        assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)

        def chunks():
            for _ in range(100):
                yield b" " * 100

        r = c.post("/v1/runs", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_multipart_upload_of_csv_files_and_of_a_workbook(client, tmp_path):
    files = [("files", (f.name, f.read_bytes(), "text/csv")) for f in sorted(TINY.glob("*.csv"))]
    r = client.post("/v1/runs/upload", files=files, data={"options": json.dumps({"mip_gap": 0, "name": "upload"})})
    assert r.status_code == 202, r.text
    assert wait(client, r.json()["id"])["profit"] == pytest.approx(577.757319, abs=1e-5)
    book = tmp_path / "tiny.xlsx"
    with pd.ExcelWriter(book) as xw:
        for f in sorted(TINY.glob("*.csv")):
            pd.read_csv(f).to_excel(xw, sheet_name=f.stem, index=False)
    r = client.post("/v1/runs/upload", files=[("files", ("tiny.xlsx", book.read_bytes(), "application/octet-stream"))])
    assert r.status_code == 202
    assert wait(client, r.json()["id"])["profit"] == pytest.approx(577.757319, abs=1e-3)
    r = client.post("/v1/runs/upload", files=[("files", ("notes.txt", b"hello", "text/plain"))])
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    r = client.post("/v1/runs/upload", files=files, data={"options": "{oops"})
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "options"
    # each operation takes one media type, and says where the other goes
    r = client.post("/v1/runs", files=files)
    assert r.status_code == 415 and "/v1/runs/upload" in r.json()["detail"]
    r = client.post("/v1/runs/upload", json=tiny())
    assert r.status_code == 415 and r.headers["content-type"].startswith(PROBLEM)


def test_health_ready_and_openapi(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["workers"] >= 1
    spec = client.get("/openapi.json").json()
    for path in ("/v1/runs", "/v1/runs/{run_id}", "/v1/runs/{run_id}/plan", "/v1/runs/{run_id}/input", "/v1/runs/{run_id}/cancel", "/v1/solve", "/v1/validate", "/health", "/ready"):
        assert path in spec["paths"], path
    assert list(spec["paths"]["/v1/runs"]["post"]["requestBody"]["content"]) == ["application/json"]
    assert list(spec["paths"]["/v1/runs/upload"]["post"]["requestBody"]["content"]) == ["multipart/form-data"]
    schemas = spec["components"]["schemas"]
    assert schemas["SubmitRun"]["examples"]


def test_openapi_types_the_instance_and_the_plan_from_the_contract(client):
    """A client generated from /openapi.json knows every table, column, type and unit."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["SubmitRun"]["properties"]["instance"]["$ref"].endswith("/InstanceIn")
    instance = schemas["InstanceIn"]
    assert set(instance["required"]) == {name for name, t in TABLES.items() if t.required}
    assert set(instance["properties"]) == set(TABLES)
    assert instance["properties"]["products"]["items"]["$ref"].endswith("/Product")
    holding = schemas["Product"]["properties"]["holding_cost"]
    assert holding["type"] == "number" and holding["minimum"] == 0 and holding["unit"] == "money / unit / period"
    plan = spec["paths"]["/v1/runs/{run_id}/plan"]["get"]["responses"]["200"]["content"]
    assert plan["application/json"]["schema"]["$ref"].endswith("/PlanOut") and {"application/zip", XLSX} <= set(plan)
    for name, table in PLAN_TABLES.items():
        ref = schemas["PlanOut"]["properties"][name]["items"]["$ref"].rsplit("/", 1)[1]
        assert ref == table.row.__name__ and set(schemas[ref]["properties"]) == set(table.columns)
    assert schemas["OrderLine"]["properties"]["quantity"]["unit"] == "unit"
    assert {"APIKeyHeader", "HTTPBearer"} <= set(spec["components"]["securitySchemes"])
    assert spec["paths"]["/v1/runs"]["post"]["security"]
    missing = spec["paths"]["/v1/runs/{run_id}"]["get"]["responses"]["404"]["content"]
    assert missing["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")
