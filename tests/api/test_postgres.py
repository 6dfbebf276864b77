"""The same service on PostgreSQL (PLANNER_DATABASE_URL), where a server answers on 127.0.0.1:5432."""

import os
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from tests.api.conftest import tiny, wait

URL = os.environ.get("PLANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _reachable() -> str | None:
    try:
        with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # no server here (a laptop): say why we skip
        return f"PostgreSQL not reachable at {URL.split('@')[-1]}: {type(exc).__name__}: {exc}"


REASON = _reachable()


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_runs_on_postgresql():
    tenant = f"pg-{uuid.uuid4().hex[:8]}"  # isolates this test's rows in a shared database
    settings = Settings(database_url=URL, api_keys=f"{tenant}:secret-{tenant}", heartbeat_seconds=0.5)
    h = {"X-API-Key": f"secret-{tenant}"}
    with TestClient(create_app(settings)) as c:
        assert c.get("/ready", headers=h).json()["database"] == "ok"
        a = c.post("/v1/runs", json=tiny(tags=[tenant]), headers={**h, "Idempotency-Key": "pg-1"})
        b = c.post("/v1/runs", json=tiny(tags=[tenant]), headers={**h, "Idempotency-Key": "pg-1"})
        assert a.status_code == 202 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
        done = wait(c, a.json()["id"], headers=h)
        assert done["status"] == "succeeded"
        assert done["profit"] == pytest.approx(577.757319, abs=1e-5)
        assert c.get(f"/v1/runs?tag={tenant}", headers=h).json()["total"] == 1
        assert c.get(f"/v1/runs/{a.json()['id']}/input", headers=h).json()["instance"]["products"][0]["product"] == "P"


@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_nul_characters_are_refused_before_postgresql_sees_them():
    """PostgreSQL stores no NUL in a text column: it once made a run name a 500. Now every text a
    request sends is checked first, and the answer is a located 422 with nothing stored."""
    tenant = f"pg-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=URL, api_keys=f"{tenant}:secret-{tenant}")
    h = {"X-API-Key": f"secret-{tenant}"}
    with TestClient(create_app(settings)) as c:
        for options in ({"name": "plan\x00"}, {"tags": ["t\x00"]}):
            r = c.post("/v1/runs", json=tiny(**options), headers=h)
            assert r.status_code == 422 and r.json()["errors"][0]["column"].startswith("options."), r.text
        body = tiny()
        body["instance"] = {**body["instance"], "products": [{"product": "P\x00", "holding_cost": 1}]}
        r = c.post("/v1/runs", json=body, headers=h)
        assert r.status_code == 422 and any(e["table"] == "products" and e["column"] == "product" for e in r.json()["errors"])
        assert c.get("/v1/runs", headers=h).json()["total"] == 0
