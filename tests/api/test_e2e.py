"""End to end against a real uvicorn process (`planner serve`), including a SIGKILL of the server mid-solve."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.schemas import TINY_EXAMPLE
from tests.api.conftest import demo_body
from tests.conftest import ROOT

FINAL = ("succeeded", "failed", "cancelled")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, port: int, **env: str):
        self.tmp, self.port, self.proc, self.env = tmp, port, None, env
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> "Server":
        exe = shutil.which("planner") or os.path.join(os.path.dirname(sys.executable), "planner")
        env = {
            **os.environ,
            "PLANNER_DATABASE_URL": f"sqlite:///{self.tmp}/service.db",
            "PLANNER_HEARTBEAT_SECONDS": "0.5",
            "PLANNER_STALE_SECONDS": "4",
            "PLANNER_SOLVE_SLOTS": "1",
            **self.env,
        }
        self.log = open(self.tmp / "server.log", "ab")
        self.proc = subprocess.Popen([exe, "serve", "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/health")[0] == 200:  # the lifespan (database, workers) has run once it answers
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready:\n" + (self.tmp / "server.log").read_text()[-3000:])

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the server and everything it started
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null"), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), {k.lower(): v for k, v in e.headers.items()}

    def get(self, path):
        return self.call("GET", path)[:2]


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path, free_port()).start()
    yield s
    s.stop()


def test_a_run_through_the_real_server(server):
    status, run, headers = server.call("POST", "/v1/runs", {"instance": TINY_EXAMPLE, "options": {"mip_gap": 0}})
    assert status == 202 and headers["location"].endswith(run["id"])
    for _ in range(300):
        status, run = server.get(f"/v1/runs/{run['id']}")
        if run["status"] in FINAL:
            break
        time.sleep(0.1)
    assert run["status"] == "succeeded"
    assert run["profit"] == pytest.approx(577.757319, abs=1e-5)
    status, body = server.get("/v1/runs/nope")
    assert status == 404 and body["status"] == 404


def test_every_accepted_run_survives_a_sigkill_of_the_server(tmp_path):
    port = free_port()
    server = Server(tmp_path, port).start()
    bodies = [demo_body(time_limit=15, name="long-0")] + [{"instance": TINY_EXAMPLE, "options": {"mip_gap": 0, "name": f"tiny-{i}"}} for i in range(3)]
    ids = []
    for b in bodies:
        status, run, _ = server.call("POST", "/v1/runs", b)
        assert status == 202
        ids.append(run["id"])
    # wait until the long run is solving (the others queue behind it: one solve slot)
    for _ in range(300):
        if server.get(f"/v1/runs/{ids[0]}")[1]["status"] == "running":
            break
        time.sleep(0.1)
    assert server.get(f"/v1/runs/{ids[0]}")[1]["status"] == "running"
    server.kill()
    time.sleep(1)
    server = Server(tmp_path, port).start()
    try:
        deadline = time.monotonic() + 240
        states = {}
        while time.monotonic() < deadline:
            states = {i: server.get(f"/v1/runs/{i}")[1] for i in ids}
            if all(s["status"] in FINAL for s in states.values()):
                break
            time.sleep(0.5)
        assert all(s["status"] in FINAL for s in states.values()), {i: s["status"] for i, s in states.items()}
        long = states[ids[0]]
        assert long["status"] == "succeeded" and long["attempts"] == 2  # resubmitted once after the crash
        for i, body in zip(ids, bodies):
            assert states[i]["status"] == "succeeded"
            inp = server.get(f"/v1/runs/{i}/input")[1]
            assert inp["instance"] == json.loads(json.dumps(body["instance"]))  # the input is intact
        log = urllib.request.urlopen(f"{server.base}/v1/runs/{ids[0]}/log").read().decode()
        assert "went silent" in log and "resubmitted" in log
    finally:
        server.stop()


def test_the_service_plans_with_the_families_of_planner_models_path(tmp_path):
    """PLANNER_MODELS_PATH is read once: the service loads each user family once and solves with it."""
    (tmp_path / "empty").mkdir()
    server = Server(tmp_path, free_port(), PLANNER_MODELS_PATH=os.pathsep.join([str(ROOT / "examples" / "models"), str(tmp_path / "empty")])).start()
    try:
        inst = {
            **TINY_EXAMPLE,
            "products": [{"product": p, "holding_cost": 3} for p in "XYZ"],
            "demand": [{"segment": "Retail", "product": p, "period": w, "quantity": 5, "price": 20} for p in "XYZ" for w in ("W1", "W2")],
            "supplier_products": [{"supplier": "Fast", "product": p, "unit_cost": 5, "order_cost": 1} for p in "XYZ"],
        }
        body = {"instance": inst, "options": {"mip_gap": 0, "constraints": {"max_orders_per_period": {"max_orders": 2}}}}
        status, run, _ = server.call("POST", "/v1/runs", body)
        assert status == 202, run
        for _ in range(300):
            status, run = server.get(f"/v1/runs/{run['id']}")
            if run["status"] in FINAL:
                break
            time.sleep(0.1)
        assert run["status"] == "succeeded" and run["plan_status"] == "optimal", run
        plan = server.get(f"/v1/runs/{run['id']}/plan")[1]
        per_period = {}
        for o in plan["orders"]:
            per_period[o["period"]] = per_period.get(o["period"], 0) + 1
        assert max(per_period.values()) <= 2 and "max_orders_per_period" in plan["options"]["families"]
        status, bad = server.call("POST", "/v1/runs", {"instance": inst, "options": {"constraints": {"max_orders_per_period": {"max_orders": -1}}}})[:2]
        assert status == 422 and bad["errors"][0]["column"] == "constraints.max_orders_per_period.max_orders"
    finally:
        server.stop()
