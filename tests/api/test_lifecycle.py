"""A run's life after the 202, on SQLite and on PostgreSQL: deletion, retention, signed webhooks
from the outbox with retries, quotas, and the queue's order (priority, then acceptance)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import db, states, webhooks
from api.config import Settings
from api.main import create_app
from api.problems import HTTPProblem
from api.quotas import SubmissionGate
from tests.api.conftest import demo_body, tiny, wait
from tests.api.test_postgres import REASON as PG_DOWN
from tests.api.test_postgres import URL as PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "postgresql":
        if PG_DOWN:
            pytest.skip(PG_DOWN)
        return PG_URL
    return f"sqlite:///{tmp_path}/runs.db"


def service(url, **over):
    tenant = f"t-{uuid.uuid4().hex[:8]}"  # isolates this test's rows in a shared PostgreSQL database
    settings = Settings(database_url=url, api_keys=f"{tenant}:key-{tenant}", heartbeat_seconds=0.5, stale_seconds=5, kill_grace_seconds=10, **over)
    client = TestClient(create_app(settings))
    client.headers["X-API-Key"] = f"key-{tenant}"
    return client, tenant, settings


def test_delete_a_finished_run_and_refuse_a_running_one(url):
    c, tenant, _ = service(url)
    with c:
        done = c.post("/v1/runs", json=tiny(tags=["gone"])).json()
        wait(c, done["id"])
        slow = c.post("/v1/runs", json=demo_body()).json()
        wait(c, slow["id"], until=("running",))
        r = c.delete(f"/v1/runs/{slow['id']}")
        assert r.status_code == 409 and "cancel it first" in r.json()["detail"]
        assert c.delete(f"/v1/runs/{done['id']}").status_code == 204
        assert c.get(f"/v1/runs/{done['id']}").status_code == 404
        assert c.delete(f"/v1/runs/{done['id']}").status_code == 404
        assert c.get("/v1/runs?tag=gone").json()["total"] == 0
        c.post(f"/v1/runs/{slow['id']}/cancel")
        wait(c, slow["id"])
    with db.session(url) as s:
        assert s.get(db.Run, done["id"]) is None
        assert not s.scalars(select(db.RunTag).where(db.RunTag.run_id == done["id"])).all()


def test_retention_deletes_runs_finished_longer_ago_than_it_keeps(url):
    c, tenant, settings = service(url)
    with c:
        ids = [c.post("/v1/runs", json=tiny(tags=[tenant])).json()["id"] for _ in range(3)]
        for run_id in ids:
            wait(c, run_id)
    with db.session(url) as s:  # one finished 91 days ago, one 89 days ago
        for run_id, days in zip(ids, (91, 89)):
            s.get(db.Run, run_id).finished_at = db.utcnow() - dt.timedelta(days=days)
        s.commit()
    assert states.purge_expired(url, settings.retention_days) == 1
    with db.session(url) as s:
        assert [s.get(db.Run, i) is not None for i in ids] == [False, True, True]
        assert not s.scalars(select(db.RunTag).where(db.RunTag.run_id == ids[0])).all()


class Receiver:
    """A webhook receiver on loopback that fails its first ``failures`` calls (503)."""

    def __init__(self, failures: int):
        self.calls: list[tuple[dict, bytes, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers), body, time.monotonic()))
                self.send_response(503 if len(outer.calls) <= failures else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/planner"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, calls: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.calls) >= calls, self.calls


def deliveries(url, run_id):
    with db.session(url) as s:
        return s.scalars(select(db.Delivery).where(db.Delivery.run_id == run_id)).all()


def test_a_signed_webhook_is_retried_with_backoff_until_it_is_answered(url):
    hook = Receiver(failures=2)
    c, tenant, _ = service(url, webhook_secret="service-key", webhook_allow=hook.url.rsplit("/", 2)[0] + "/", webhook_backoff_seconds=0.3)
    try:
        with c:
            run = c.post("/v1/runs", json=tiny(webhook={"url": hook.url}, name="hooked")).json()
            done = wait(c, run["id"])
            assert len(deliveries(url, run["id"])) == 1  # written with the final state
            hook.wait(3)
            time.sleep(0.3)
            secret = c.get("/v1/webhooks/secret").json()["secret"]
        (h1, b1, t1), (h2, _, t2), (h3, b3, t3) = hook.calls[:3]
        assert h1["Planner-Delivery"] == h3["Planner-Delivery"] and b1 == b3  # the same delivery, tried again
        assert t2 - t1 >= 0.3 * 0.8 and t3 - t2 >= 0.6 * 0.8  # doubling backoff (with its jitter)
        assert webhooks.verify(secret, h3["Planner-Signature"], b3)
        assert not webhooks.verify(webhooks.tenant_secret("service-key", "another-tenant"), h3["Planner-Signature"], b3)
        assert not webhooks.verify(secret, h3["Planner-Signature"], b3.replace(b"succeeded", b"failed"))
        event = json.loads(b3)
        assert event["event"] == "run.finished" and event["run"]["id"] == run["id"] and event["run"]["status"] == done["status"] == "succeeded"
        assert event["run"]["profit"] == pytest.approx(done["profit"])
        [d] = deliveries(url, run["id"])
        assert d.status == "delivered" and d.attempts == 3 and len(hook.calls) == 3
    finally:
        hook.server.shutdown()


def test_a_webhook_that_never_answers_is_marked_failed_after_its_attempts(url):
    hook = Receiver(failures=100)
    c, _, _ = service(url, webhook_secret="k", webhook_allow=hook.url, webhook_backoff_seconds=0.1, webhook_max_attempts=3)
    try:
        with c:
            run = c.post("/v1/runs", json=tiny(webhook={"url": hook.url})).json()
            wait(c, run["id"])
            hook.wait(3)
            deadline = time.monotonic() + 10
            while deliveries(url, run["id"])[0].status == "pending" and time.monotonic() < deadline:
                time.sleep(0.1)
        [d] = deliveries(url, run["id"])
        assert d.status == "failed" and d.attempts == 3 and d.last_error == "answered 503"
    finally:
        hook.server.shutdown()


def test_a_webhook_must_point_where_the_operator_allows(tmp_path):
    url = f"sqlite:///{tmp_path}/runs.db"
    c, _, _ = service(url, webhook_secret="k", webhook_allow="https://erp.example.com/hooks/")
    with c:
        for target in ("http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data", "https://erp.example.com.evil.net/hooks/"):
            r = c.post("/v1/runs", json=tiny(webhook={"url": target}))
            assert r.status_code == 422 and r.json()["errors"][0]["column"] == "webhook.url", r.text
        assert c.post("/v1/runs", json=tiny(webhook={"url": "file:///etc/passwd"})).status_code == 422
    c, _, _ = service(url)  # webhooks off
    with c:
        r = c.post("/v1/runs", json=tiny(webhook={"url": "https://erp.example.com/hooks/"}))
        assert r.status_code == 422 and "not enabled" in r.json()["errors"][0]["message"]
        assert c.get("/v1/webhooks/secret").status_code == 409


def test_quotas_answer_429_with_retry_after(tmp_path):
    url = f"sqlite:///{tmp_path}/runs.db"
    c, _, _ = service(url, max_runs_per_minute=2)
    with c:
        ok = [c.post("/v1/runs", json=tiny(), headers={"Idempotency-Key": f"k{i}"}) for i in range(2)]
        assert [r.status_code for r in ok] == [202, 202]
        r = c.post("/v1/runs", json=tiny())
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60 and r.headers["content-type"].startswith("application/problem+json")
        assert c.post("/v1/runs", json=tiny(), headers={"Idempotency-Key": "k0"}).status_code == 200  # a repeat is no new run
    c, _, _ = service(url, max_active_runs=1)
    with c:
        slow = c.post("/v1/runs", json=demo_body()).json()
        r = c.post("/v1/runs", json=tiny())
        assert r.status_code == 429 and "at most 1 at once" in r.json()["detail"] and r.headers["Retry-After"]
        c.post(f"/v1/runs/{slow['id']}/cancel")
        wait(c, slow["id"])
        assert c.post("/v1/runs", json=tiny()).status_code == 202
    c, _, _ = service(url, requests_per_second=2)
    with c:
        codes = [c.get("/v1/runs").status_code for _ in range(6)]
        assert codes[:4] == [200] * 4 and 429 in codes[4:]
        time.sleep(1.1)
        assert c.get("/v1/runs").status_code == 200


def test_the_queue_runs_higher_priority_first_then_the_oldest_accepted(tmp_path):
    """One solve slot, held by a long run; then a run accepted now, one with priority 9, and one
    accepted an hour ago and resubmitted (as after a crash): they start 9, the old one, the new one."""
    url = f"sqlite:///{tmp_path}/runs.db"
    c, tenant, _ = service(url)
    with c:
        blocker = c.post("/v1/runs", json=demo_body(time_limit=6)).json()
        wait(c, blocker["id"], until=("running",))
        new = c.post("/v1/runs", json=tiny()).json()
        urgent = c.post("/v1/runs", json=tiny(priority=9)).json()
        with db.session(url) as s:
            old = states.create(s, tenant=tenant, request_hash="x", instance=c.get(f"/v1/runs/{new['id']}/input").json()["instance"],
                                options={**tiny()["options"], "time_limit": 30})
            old.created_at = db.utcnow() - dt.timedelta(hours=1)
            s.commit()
            old_id = old.id
        c.app.state.executor.submit(old_id)
        started = {}
        for run_id in (new["id"], urgent["id"], old_id):
            started[run_id] = wait(c, run_id, timeout=180)["started_at"]
        assert sorted(started, key=started.get) == [urgent["id"], old_id, new["id"]], started


def test_submissions_wait_their_turn_and_are_told_to_retry_when_none_comes():
    gate = SubmissionGate(limit=1, wait=0.2)

    async def scenario():
        async with gate.turn():  # one submission being checked
            with pytest.raises(HTTPProblem) as busy:
                async with gate.turn():
                    pass
        async with gate.turn():  # its turn came back
            pass
        return busy.value

    busy = asyncio.run(scenario())
    assert busy.status == 503 and busy.headers["Retry-After"] == "2"


def test_solves_run_at_a_lower_priority_than_the_service(tmp_path):
    c, _, _ = service(f"sqlite:///{tmp_path}/runs.db")
    with c:
        run = c.post("/v1/runs", json=demo_body(time_limit=20)).json()
        wait(c, run["id"], until=("running",))
        pid = None
        for _ in range(100):
            log = c.get(f"/v1/runs/{run['id']}/log").text
            if "solve process pid" in log:
                pid = int(log.split("solve process pid ")[1].split()[0])
                break
            time.sleep(0.1)
        nice = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])
        c.post(f"/v1/runs/{run['id']}/cancel")
        wait(c, run["id"])
    assert nice == 10 and os.getpriority(os.PRIO_PROCESS, 0) == 0
