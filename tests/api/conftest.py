from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from api.schemas import TINY_EXAMPLE
from planner.contract.loading import read_tables
from tests.conftest import DEMO

FINAL = ("succeeded", "failed", "cancelled")


def make_client(tmp_path, **over) -> TestClient:
    settings = Settings(**{"database_url": f"sqlite:///{tmp_path}/runs.db", "heartbeat_seconds": 0.5, "stale_seconds": 5, "kill_grace_seconds": 10, **over})
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path) as c:
        yield c


def wait(client, run_id, until=FINAL, timeout=120, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/v1/runs/{run_id}", headers=headers or {})
        assert r.status_code == 200, r.text
        if r.json()["status"] in until:
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {r.json()['status']} after {timeout}s")


def tiny(**options):
    return {"instance": TINY_EXAMPLE, "options": {"mip_gap": 0, **options}}


def demo_body(**options):
    """The demo instance, slow enough at gap 0 to be cancelled while it runs."""
    raw = read_tables(DEMO)
    return {"instance": raw, "options": {"mip_gap": 0, "time_limit": 120, **options}}
