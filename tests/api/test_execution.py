"""Execution: solve slots, a crashing solve process, and an external Dask cluster."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from api.worker import Child
from tests.verify.test_self_checks import REJECTS_EVERY_PLAN
from tests.api.conftest import demo_body, make_client, tiny, wait


def test_never_more_solves_at_once_than_slots(client):
    ids = [client.post("/v1/runs", json=tiny()).json()["id"] for _ in range(4)]
    most = 0
    while True:
        runs = client.get("/v1/runs").json()["items"]
        most = max(most, sum(r["status"] == "running" for r in runs))
        if all(r["status"] in ("succeeded", "failed", "cancelled") for r in runs):
            break
        time.sleep(0.05)
    assert most == 1  # the default: one solve slot
    assert all(wait(client, i)["status"] == "succeeded" for i in ids)


def test_a_crashing_solve_fails_its_run_and_not_the_service(client):
    rid = client.post("/v1/runs", json=demo_body(time_limit=60)).json()["id"]
    pid = None
    for _ in range(300):
        m = re.search(r"solve process pid (\d+)", client.get(f"/v1/runs/{rid}/log").text)
        if m:
            pid = int(m.group(1))
            break
        time.sleep(0.1)
    assert pid
    time.sleep(1)
    os.kill(pid, signal.SIGKILL)
    done = wait(client, rid)
    assert done["status"] == "failed" and done["reason"] == "solver_crashed"
    assert "exit code -9" in done["detail"]
    # the service goes on: the next run is solved
    assert wait(client, client.post("/v1/runs", json=tiny()).json()["id"])["status"] == "succeeded"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_on_an_external_dask_cluster(tmp_path):
    port = _free_port()
    bindir = Path(sys.executable).parent
    log = open(tmp_path / "dask.log", "wb")
    sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [str(bindir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1", "--nthreads", "2", "--resources", "solve=1", "--no-dashboard", "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        settings = Settings(database_url=f"sqlite:///{tmp_path}/runs.db", dask_scheduler=f"tcp://127.0.0.1:{port}", heartbeat_seconds=0.5)
        deadline = time.monotonic() + 60
        while True:
            try:
                with TestClient(create_app(settings)) as c:
                    ready = c.get("/ready").json()
                    if ready["workers"] < 1:
                        raise OSError("no worker yet")
                    ids = [c.post("/v1/runs", json=tiny()).json()["id"] for _ in range(2)]
                    for i in ids:
                        assert wait(c, i)["status"] == "succeeded"
                    log_text = c.get(f"/v1/runs/{ids[0]}/log").text
                    ran_on = int(re.search(r"solving .* on pid (\d+)", log_text).group(1))
                    assert ran_on != os.getpid()  # executed by the cluster's worker, not in this process
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
    finally:
        worker.terminate()
        sched.terminate()
        worker.wait(20)
        sched.wait(20)


def test_a_cancel_is_noticed_while_progress_flows(tmp_path):
    """Progress lines arrive more often than the heartbeat: each is a heartbeat that also looks for a cancel."""
    with make_client(tmp_path, heartbeat_seconds=5) as c:
        rid = c.post("/v1/runs", json=demo_body(time_limit=120)).json()["id"]
        for _ in range(600):
            if (c.get(f"/v1/runs/{rid}").json().get("progress") or {}).get("incumbent") is not None:
                break
            time.sleep(0.1)
        asked = time.monotonic()
        assert c.post(f"/v1/runs/{rid}/cancel").status_code == 202
        done = wait(c, rid, timeout=60)
        assert done["status"] == "cancelled" and done["plan_status"] in ("feasible", "optimal")
        assert time.monotonic() - asked < 20  # not at the end of the 120 s limit


HANGING_FAMILY = '''
import time
NAME = "hangs"
SUMMARY = "builds for a minute: a solve that never looks at its clock"
KEEPS_ORDER_BOUND = True
def build(m, inst, params):
    time.sleep(60)
'''


def test_a_solve_that_overruns_its_time_limit_is_stopped_then_killed(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "hangs.py").write_text(HANGING_FAMILY)
    with make_client(tmp_path, models_path=str(models), kill_grace_seconds=2, startup_seconds=2) as c:
        started = time.monotonic()
        rid = c.post("/v1/runs", json=tiny(time_limit=1, constraints={"hangs": {}})).json()["id"]
        done = wait(c, rid, timeout=60)
        assert done["status"] == "failed" and done["reason"] == "time_limit", done
        assert time.monotonic() - started < 30  # stopped at its limit, start-up and grace set above, not after the family's minute
        log = c.get(f"/v1/runs/{rid}/log").text
        assert "time limit overrun" in log and "process killed" in log


def test_a_plan_the_verifier_rejects_fails_its_run_and_is_not_served(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "rejects.py").write_text(REJECTS_EVERY_PLAN)
    with make_client(tmp_path, models_path=str(models)) as c:
        rid = c.post("/v1/runs", json=tiny(constraints={"rejects": {}})).json()["id"]
        done = wait(c, rid)
        assert (done["status"], done["reason"], done["plan_status"]) == ("failed", "error", "error")
        assert "this family rejects every plan" in done["detail"]
        for fmt in ("json", "csv", "xlsx"):
            assert c.get(f"/v1/runs/{rid}/plan?format={fmt}").status_code == 409


class SlowChild(Child):
    """A solve process that takes 3 s to start (its imports, on a busy machine) before it reads
    its payload, then says how long that payload was."""
    command = (sys.executable, "-c", "import json, sys, time; time.sleep(3); "
               "print(json.dumps({'outcome': len(sys.stdin.readline())}), flush=True)")


def test_a_solve_process_slow_to_start_does_not_hold_up_its_heartbeat():
    """The payload (a 1,000-product instance is megabytes; the pipe holds 64 kB) is written while
    the supervisor already beats the heart: a run whose solve is still importing is not taken for
    lost and resubmitted (the service's stale limit is seconds)."""
    payload = {"instance": "x" * 1_000_000}
    t = time.monotonic()
    child = SlowChild(payload)
    started = time.monotonic() - t
    first = None
    while (msg := child.next()) is not None:
        first = first or (msg or None)
    assert child.close() == 0
    assert started < 1.0  # it did not wait for the child to read its input
    assert first == {"outcome": len(json.dumps(payload)) + 1}  # all of it arrived, and once

