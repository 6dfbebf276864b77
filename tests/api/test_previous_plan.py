"""A previous plan reaches the service as rows or as a run of the tenant's; nothing a request sends is a path."""

import json
import os

import pytest

from tests.api.conftest import make_client, tiny, wait

KEYS = "acme:acme-key,globex:globex-key"
ACME, GLOBEX = {"X-API-Key": "acme-key"}, {"X-API-Key": "globex-key"}


def frozen(**params):
    return tiny(constraints={"frozen_periods": {"periods": 2, **params}})


@pytest.fixture
def server_files(tmp_path):
    """What a request might try to make the server read: system files, a folder, a FIFO that
    would hang a reader, and an orders.csv lying on the server (it must not end up in a plan)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    planted = tmp_path / "orders.csv"
    planted.write_text("supplier,product,period,quantity\nFast,P,W1,999\n")
    return ["/etc/passwd", "/etc/shadow", "/etc", "/etc/no-such-file", str(fifo), str(planted), str(tmp_path), "orders.csv", ""]


def test_a_path_is_refused_unread_and_every_answer_is_the_same(tmp_path, server_files):
    with make_client(tmp_path) as c:
        answers = set()
        for path in server_files:
            v = c.post("/v1/validate", json=frozen(previous_orders=path))
            assert v.status_code == 200 and not v.json()["valid"]
            r = c.post("/v1/runs", json=frozen(previous_orders=path))
            assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
            for body in (v.text, r.text):
                assert "/etc" not in body and str(tmp_path) not in body and "tokenizing" not in body
            for errors in (v.json()["errors"], r.json()["errors"]):
                answers.add(json.dumps([(e["table"], e["row"], e["column"], e["message"]) for e in errors]))
        assert len(answers) == 1  # one answer, whatever the path names, from the validator and the submission alike
        ((table, row, column, message),) = json.loads(answers.pop())
        assert (table, row, column) == ("options", None, "options.constraints.frozen_periods.previous_orders")
        assert "reads no files" in message
        assert c.get("/v1/runs").json()["total"] == 0  # nothing was accepted


def test_previous_run_freezes_the_orders_of_a_run_of_the_same_tenant(tmp_path):
    with make_client(tmp_path, api_keys=KEYS) as c:
        first = c.post("/v1/runs", json=tiny(), headers=ACME).json()["id"]
        wait(c, first, headers=ACME)
        orders = c.get(f"/v1/runs/{first}/plan", headers=ACME).json()["orders"]
        again = c.post("/v1/runs", json=frozen(previous_run=first), headers=ACME)
        assert again.status_code == 202, again.text
        rid = again.json()["id"]
        assert wait(c, rid, headers=ACME)["plan_status"] == "optimal"
        assert c.get(f"/v1/runs/{rid}/plan", headers=ACME).json()["orders"] == orders
        # the stored input is self-contained: the previous orders as rows
        stored = c.get(f"/v1/runs/{rid}/input", headers=ACME).json()["options"]["constraints"]["frozen_periods"]
        assert "previous_run" not in stored and len(stored["previous_orders"]) == len(orders)
        # another tenant's run is not found, exactly as a run that does not exist
        theirs = c.post("/v1/validate", json=frozen(previous_run=first), headers=GLOBEX).json()["errors"]
        nowhere = c.post("/v1/validate", json=frozen(previous_run="no-such-run"), headers=GLOBEX).json()["errors"]
        assert [e["message"].replace(first, "ID") for e in theirs] == [e["message"].replace("no-such-run", "ID") for e in nowhere]
        assert "no run" in theirs[0]["message"] and "among your runs" in theirs[0]["message"]
        r = c.post("/v1/runs", json=frozen(previous_run=first), headers=GLOBEX)
        assert r.status_code == 422
        both = c.post("/v1/runs", json=frozen(previous_run=first, previous_orders=orders), headers=ACME)
        assert both.status_code == 422 and "not both" in both.text
