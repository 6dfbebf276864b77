"""Run storage: lists read only the page they return; an older database is brought up to date."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.config import Settings
from api import db, states
from tests.api.conftest import make_client


def _store(url: str, n: int, tenant: str = "default") -> None:
    big = {"status": "optimal", "kpis": {"profit": 1.0}, "orders": [{"supplier": "S", "product": "P", "period": "1", "quantity": 1.0}] * 200}
    start = db.utcnow()
    with db.session(url) as s:
        for i in range(n):
            run = states.create(s, tenant=tenant, request_hash=str(i), instance={"products": [{"product": "P"}] * 50}, options={"time_limit": 1},
                                tags=["even" if i % 2 == 0 else "odd"])
            run.status, run.result, run.plan_status, run.profit = "succeeded", big, "optimal", float(i)
            run.created_at = start + dt.timedelta(seconds=i)  # one a second: the newest is the last
        s.commit()


def test_listing_2000_runs_reads_only_the_page(tmp_path):
    with make_client(tmp_path) as c:
        url = c.app.state.settings.database_url
        _store(url, 2000)
        loaded: list[object] = []
        statements: list[str] = []

        def on_load(session, instance):
            loaded.append(instance)

        def on_sql(conn, cursor, statement, params, context, executemany):
            statements.append(statement)

        event.listen(Session, "loaded_as_persistent", on_load)
        event.listen(db.engine_for(url), "before_cursor_execute", on_sql)
        try:
            page = c.get("/v1/runs?limit=20").json()
            tagged = c.get("/v1/runs?limit=20&offset=40&tag=odd").json()
        finally:
            event.remove(Session, "loaded_as_persistent", on_load)
            event.remove(db.engine_for(url), "before_cursor_execute", on_sql)
    assert page["total"] == 2000 and len(page["items"]) == 20
    assert tagged["total"] == 1000 and len(tagged["items"]) == 20 and all(r["tags"] == ["odd"] for r in tagged["items"])
    assert [r["profit"] for r in page["items"]] == [float(i) for i in range(1999, 1979, -1)]  # newest first, from the summary columns
    assert len(loaded) == 40  # two pages of 20 runs, nothing else
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and not any("runs.result" in s or "runs.instance" in s or "runs.log" in s for s in selects)


def test_a_database_of_the_previous_version_is_brought_up_to_date(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)  # the runs table as the previous version made it: no summary columns, no tag table
    con.execute("""CREATE TABLE runs (id VARCHAR(36) PRIMARY KEY, tenant VARCHAR(100), name VARCHAR(200), tags JSON, status VARCHAR(20),
        reason VARCHAR(40), detail TEXT, idempotency_key VARCHAR(200), request_hash VARCHAR(64), instance JSON, options JSON, result JSON,
        progress JSON, log TEXT, attempts INTEGER, cancel_requested BOOLEAN, sync BOOLEAN, created_at DATETIME, started_at DATETIME,
        finished_at DATETIME, heartbeat_at DATETIME, solve_seconds FLOAT)""")
    con.execute("""INSERT INTO runs VALUES ('r1', 'default', 'old', '["weekly"]', 'succeeded', NULL, 'plan optimal', NULL, 'h', '{}', '{"time_limit": 5}',
        '{"status": "optimal", "kpis": {"profit": 42.5, "mip_gap": 0.0}}', NULL, '', 1, 0, 0, '2026-11-01 10:00:00', NULL, NULL, NULL, 1.0)""")
    con.commit()
    con.close()
    with make_client(tmp_path, database_url=f"sqlite:///{path}") as c:
        run = c.get("/v1/runs/r1").json()
        assert run["plan_status"] == "optimal" and run["profit"] == 42.5 and run["mip_gap"] == 0.0
        assert c.get("/v1/runs?tag=weekly").json()["total"] == 1


def test_a_run_interrupted_too_often_fails_with_the_reason(tmp_path):
    url = f"sqlite:///{tmp_path}/states.db"
    with db.session(url) as s:
        ids = [states.create(s, tenant="t", request_hash=str(i), instance={}, options={"time_limit": 1}).id for i in range(3)]
        s.commit()
    for rid in ids:
        assert states.claim(url, rid) and not states.claim(url, rid)  # one worker wins
    assert Settings.model_fields["max_attempts"].default == 3  # the README's "after 3 attempts"
    assert states.requeue_or_fail(url, ids[0], max_attempts=2)  # first interruption: queued again
    assert not states.requeue_or_fail(url, ids[1], max_attempts=1)
    with db.session(url) as s:
        s.get(db.Run, ids[2]).cancel_requested = True
        s.commit()
    assert not states.requeue_or_fail(url, ids[2], max_attempts=3)
    with db.session(url) as s:
        runs = {rid: s.get(db.Run, rid) for rid in ids}
        assert runs[ids[0]].status == "queued" and "resubmitted" in runs[ids[0]].log
        assert (runs[ids[1]].status, runs[ids[1]].reason) == ("failed", "interrupted") and "interrupted 1 times" in runs[ids[1]].detail
        assert (runs[ids[2]].status, runs[ids[2]].reason) == ("cancelled", "cancelled")
        with pytest.raises(states.TransitionError, match="run is failed"):
            states.cancel(s, runs[ids[1]])
