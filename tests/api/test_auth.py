"""API keys, scopes and tenant isolation."""

import hashlib
import json

from tests.api.conftest import make_client, tiny, wait

KEYS = "acme:acme-key,acme:acme-reader:read,globex:globex-key"


def test_keys_scopes_and_tenants(tmp_path, caplog):
    with make_client(tmp_path, api_keys=KEYS) as c:
        assert c.get("/health").status_code == 200  # open
        r = c.get("/v1/runs")
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
        assert c.get("/v1/runs", headers={"X-API-Key": "wrong"}).status_code == 401
        acme = {"X-API-Key": "acme-key"}
        run = c.post("/v1/runs", json=tiny(), headers=acme)
        assert run.status_code == 202
        rid = run.json()["id"]
        wait(c, rid, headers=acme)
        reader = {"Authorization": "Bearer acme-reader"}
        assert c.get(f"/v1/runs/{rid}", headers=reader).status_code == 200
        r = c.post("/v1/runs", json=tiny(), headers=reader)
        assert r.status_code == 403 and "write" in r.json()["detail"]
        assert c.post(f"/v1/runs/{rid}/cancel", headers=reader).status_code == 403
        globex = {"X-API-Key": "globex-key"}
        for path in (f"/v1/runs/{rid}", f"/v1/runs/{rid}/plan", f"/v1/runs/{rid}/input"):
            assert c.get(path, headers=globex).status_code == 404
        assert c.post(f"/v1/runs/{rid}/cancel", headers=globex).status_code == 404
        assert c.get("/v1/runs", headers=globex).json()["total"] == 0
        assert c.get("/v1/runs", headers=acme).json()["total"] == 1
        # idempotency keys are per tenant
        a = c.post("/v1/runs", json=tiny(), headers={**acme, "Idempotency-Key": "k"}).json()["id"]
        b = c.post("/v1/runs", json=tiny(), headers={**globex, "Idempotency-Key": "k"}).json()["id"]
        assert a != b
        wait(c, a, headers=acme)
        wait(c, b, headers=globex)
    assert "acme-key" not in caplog.text and "globex-key" not in caplog.text


def test_hashed_keys_file(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps([{"tenant": "initech", "key_sha256": hashlib.sha256(b"tps-report").hexdigest(), "scopes": ["read"]}]))
    with make_client(tmp_path, api_keys_file=str(keys)) as c:
        assert c.get("/v1/runs", headers={"X-API-Key": "tps-report"}).status_code == 200
        assert c.post("/v1/runs", json=tiny(), headers={"X-API-Key": "tps-report"}).status_code == 403
        assert c.get("/v1/runs").status_code == 401
