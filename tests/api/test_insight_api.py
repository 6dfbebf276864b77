"""Insight over the API: the same code as the CLI, as runs and as views of a stored plan."""

import pytest

from tests.api.conftest import tiny, wait


def test_report_profitability_manifest_and_diff(client):
    a = client.post("/v1/runs", json=tiny()).json()["id"]
    wait(client, a)
    r = client.get(f"/v1/runs/{a}/report")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "577.76" in r.text and "data:image/png;base64," in r.text
    prof = client.get(f"/v1/runs/{a}/profitability").json()["segments"]
    assert sum(p["profit"] for p in prof) == pytest.approx(577.757319, abs=1e-4)
    man = client.get(f"/v1/runs/{a}/manifest").json()
    assert man["status"] == "optimal" and len(man["input_hash"]) == 64
    b = client.post("/v1/runs", json=tiny(constraints={"fixed_tiers": {"policy": "lowest"}})).json()["id"]
    wait(client, b)
    d = client.post(f"/v1/plans/diff?base={a}&other={b}").json()
    assert d["tiers"] == [{"segment": "Key", "tier_base": "gold", "tier_other": "basic"}]
    kp = {row["kpi"]: row for row in d["kpis"]}
    assert kp["profit"]["delta"] == pytest.approx(560 - 577.757319, abs=1e-4)
    assert client.get(f"/v1/runs/{a}/analysis").status_code == 409


def test_analysis_runs(client):
    v = client.post("/v1/runs", json=tiny(analysis={"kind": "value_of_integration"})).json()["id"]
    s = client.post("/v1/runs", json=tiny(analysis={"kind": "scenario", "changes": [{"type": "supplier_down", "supplier": "Slow", "periods": ["W1"]}]})).json()["id"]
    e = client.post("/v1/runs", json=tiny(analysis={"kind": "explain"})).json()["id"]
    for rid in (v, s, e):
        assert wait(client, rid)["status"] == "succeeded", client.get(f"/v1/runs/{rid}/log").text
    voi = {row["kpi"]: row for row in client.get(f"/v1/runs/{v}/analysis").json()["tables"]["value_of_integration"]}
    assert voi["profit"]["integrated_vs_scm_led"] == pytest.approx(17.757319, abs=1e-4)
    assert voi["status"]["crm_led"] == "optimal"  # this example has no Retail upgrade: CRM-led is the integrated plan
    assert voi["profit"]["integrated_vs_crm_led"] == pytest.approx(0, abs=1e-6)
    sc = client.get(f"/v1/runs/{s}/analysis").json()["tables"]
    assert sc["diff_tiers"] == [{"segment": "Key", "tier_base": "gold", "tier_other": "basic"}]
    ex = client.get(f"/v1/runs/{e}/analysis").json()["tables"]
    assert ex["shadow_prices"][0]["supplier"] == "Fast" and ex["shadow_prices"][0]["value_per_unit"] == pytest.approx(3)
    assert "tier value" in client.get(f"/v1/runs/{e}/report").text.lower()
    for analysis in ({"kind": "astrology"}, {"kind": "frontier", "floors": [0.9, 1.5]}, {"kind": "scenario", "changes": [{"type": "rain"}]},
                     {"kind": "scenario", "changes": [{"type": "supplier_down", "supplier": "Nobody", "periods": ["W1"]}]}):
        bad = client.post("/v1/runs", json=tiny(analysis=analysis))
        assert bad.status_code == 422, analysis
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert "unknown type 'rain'" in client.post("/v1/runs", json=tiny(analysis={"kind": "scenario", "changes": [{"type": "rain"}]})).text
