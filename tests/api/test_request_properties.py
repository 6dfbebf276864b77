"""Property tests of the service's contract with its callers (hypothesis).

* 600 invalid documents: a valid instance drawn over the whole contract, then one thing made
  wrong — a cell of any column of any table (a number out of its range, a boolean, text in a
  number column, a structure, an empty, over-long or control-character label, a name no table
  declares), a required column or table left out, a row that is not an object, or one run
  option or family parameter. Every one is a 422 problem+json before anything is stored,
  and an error in it names the table, row and column (or the option) that was spoiled.
* Valid small documents, solved through ``POST /v1/solve``: a verified plan or an explained
  infeasibility, never a 5xx.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from planner.contract.inputs import MAX_LABEL, TABLES, columns
from tests.api.conftest import make_client
from tests.models.test_bounds import instances

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # the service's rate limit is tested in test_lifecycle; here it would only slow hypothesis down
    with make_client(tmp_path_factory.mktemp("properties"), sync_time_limit=20, requests_per_second=10_000) as c:
        yield c


def with_customers(raw: dict) -> dict:
    """Every optional table present, so that every column of the contract can be spoiled."""
    raw = copy.deepcopy(raw)
    raw["customers"] = [{"customer": f"C{i}", "segment": s["segment"], "share": 0.5} for i, s in enumerate(raw["segments"])]
    raw["supplier_capacity"] = raw.get("supplier_capacity") or [{"supplier": raw["suppliers"][0]["supplier"], "period": raw["periods"][0]["period"], "capacity": 5}]
    raw["open_orders"] = raw.get("open_orders") or [{"supplier": raw["suppliers"][0]["supplier"], "product": raw["products"][0]["product"],
                                                     "arrival_period": raw["periods"][0]["period"], "quantity": 1}]
    return raw


def bad_values(table: str, column: str):
    """Values no row of this column may hold."""
    f = columns(table)[column]
    label = f.annotation is str or "Label" in repr(f.metadata) or column in TABLES[table].key or column == "min_tier"
    structure = st.sampled_from([[1], {"a": 1}, [], {}])
    if label and f.annotation is not float and f.annotation is not int and "float" not in repr(f.annotation) and "int" not in repr(f.annotation):
        return st.one_of(
            structure, st.booleans(),
            st.sampled_from(["\x00", "a\x00b", "line\nbreak", "tab\there", "\x7f"]),
            st.text(min_size=1, max_size=3).map(lambda s: "x" * (MAX_LABEL + 1) + s),
        )
    lower = next((m.ge for m in f.metadata if getattr(m, "ge", None) is not None), None)
    lower = next((m.gt for m in f.metadata if getattr(m, "gt", None) is not None), lower)
    upper = next((m.le for m in f.metadata if getattr(m, "le", None) is not None), None)
    upper = next((m.lt for m in f.metadata if getattr(m, "lt", None) is not None), upper)
    choices = [structure, st.booleans(), st.sampled_from(["abc", "1,5", "ten", "--1", "1e999", "nan", "inf"])]
    if lower is not None:
        choices.append(st.floats(max_value=lower, exclude_max=True, allow_nan=False, allow_infinity=False).filter(lambda v: v < lower - 1e-9))
        choices.append(st.floats(max_value=lower, exclude_max=True, allow_nan=False, allow_infinity=False).filter(lambda v: v < lower - 1e-9).map(str))
    if upper is not None:
        choices.append(st.floats(min_value=upper * 1.001 + 1, max_value=1e300, allow_nan=False))
        choices.append(st.integers(min_value=int(upper) + 1, max_value=10**400))
    if f.annotation is int:
        choices.append(st.sampled_from([0.5, "1.5", 2.25]))
    return st.one_of(*choices)


@st.composite
def spoiled_cell(draw, raw):
    table = draw(st.sampled_from(sorted(t for t in raw if raw[t] and t in TABLES)))
    row = draw(st.integers(1, len(raw[table])))
    column = draw(st.sampled_from(list(columns(table))))
    value = draw(bad_values(table, column))
    raw[table][row - 1][column] = value
    return ("cell", table, row, column, value)


REFERENCES = {("demand", "segment"), ("demand", "product"), ("service_tiers", "segment"), ("supplier_products", "supplier"),
              ("supplier_products", "product"), ("supplier_capacity", "supplier"), ("open_orders", "supplier"), ("open_orders", "product"),
              ("customers", "segment"), ("open_orders", "arrival_period"), ("segments", "min_tier")}


@st.composite
def unknown_name(draw, raw):
    table, column = draw(st.sampled_from(sorted((t, c) for t, c in REFERENCES if raw.get(t))))
    row = draw(st.integers(1, len(raw[table])))
    raw[table][row - 1][column] = "NoSuch" + draw(st.text("xyz", min_size=1, max_size=3))
    return ("cell", table, row, column, None)


@st.composite
def missing_piece(draw, raw):
    required = [t for t, spec in TABLES.items() if spec.required]
    kind = draw(st.sampled_from(["table", "column", "row"]))
    table = draw(st.sampled_from(required))
    if kind == "table":
        del raw[table]
        return ("table", table, None, None, None)
    if kind == "column":
        column = draw(st.sampled_from([c for c, f in columns(table).items() if f.is_required()]))
        for r in raw[table]:
            r.pop(column, None)
        return ("table", table, None, column, None)
    row = draw(st.integers(1, len(raw[table])))
    raw[table][row - 1] = draw(st.sampled_from([1, "row", [1, 2], None]))
    return ("table", table, row, None, None)


FAMILY_PARAMS = {  # a parameter of each family and values it cannot take
    "max_supplier_share": ("share", [-0.1, 1.5, True, "half"]),
    "service_level_floor": ("fill_rate", [-1, 2, False]),
    "inventory_cover": ("min_periods", [-1, True, "x", 1e300]),
    "min_suppliers_per_product": ("min_suppliers", [-1, 0.5, True]),
    "frozen_periods": ("periods", [-1, 1.5, True, 10**20]),
    "fixed_tiers": ("policy", ["middle", 3, None]),
    "reliable_supply_for_tier": ("min_on_time_rate", [2, -1, True]),
}


@st.composite
def spoiled_option(draw, raw):
    choice = draw(st.sampled_from(["time_limit", "mip_gap", "name", "tags", "family", "unknown_family", "unknown_option", "analysis", "floors"]))
    opts: dict = {}
    if choice == "time_limit":
        opts["time_limit"] = draw(st.sampled_from([0, -5, True, "30", 10**6, [30]]))
        column = "options.time_limit"
    elif choice == "mip_gap":
        opts["mip_gap"] = draw(st.sampled_from([-0.1, 1.5, True, "0.01", None]))
        column = "options.mip_gap"
    elif choice == "name":
        opts["name"] = draw(st.sampled_from(["a\x00b", "x" * 201, 5, ["n"], "new\nline"]))
        column = "options.name"
    elif choice == "tags":
        opts["tags"] = draw(st.sampled_from([["ok", ""], ["\x00"], "tag", [1], ["t"] * 21]))
        column = "options.tags"
    elif choice == "family":
        family = draw(st.sampled_from(sorted(FAMILY_PARAMS)))
        param, values = FAMILY_PARAMS[family]
        base = {"frozen_periods": {"previous_orders": []}, "min_suppliers_per_product": {"products": []}}.get(family, {})
        opts["constraints"] = {family: {**base, param: draw(st.sampled_from(values))}}
        column = f"options.constraints.{family}.{param}"
    elif choice == "unknown_family":
        opts["constraints"] = {"no_such_family": {}}
        column = "options.constraints.no_such_family"
    elif choice == "unknown_option":
        opts["colour"] = "blue"
        column = "options.colour"
    elif choice == "analysis":
        opts["analysis"] = {"kind": draw(st.sampled_from(["everything", 1, None]))}
        column = "options.analysis.kind"
    else:
        opts["analysis"] = {"kind": "frontier", "floors": [0.5, draw(st.sampled_from([-0.5, 1.5, True, "0.9"]))]}
        column = "options.analysis.floors.1"
    return ("option", None, None, column, opts)


def names_it(errors: list[dict], spoiled) -> bool:
    kind, table, row, column, _ = spoiled
    if kind == "option":  # options arrive as "options.x" (the request) or table "options", column "constraints.x" (the families)
        return any(f"{e['table'] or ''}.{e['column']}".lstrip(".").startswith(column) or (e["column"] or "").startswith(column) for e in errors)
    return any(e["table"] == table and (row is None or e["row"] == row) and (column is None or e["column"] == column) for e in errors)


@st.composite
def invalid_documents(draw):
    raw, _ = draw(instances())
    raw = with_customers(raw)
    how = draw(st.sampled_from(["cell", "cell", "cell", "name", "missing", "option"]))
    strategy = {"cell": spoiled_cell, "name": unknown_name, "missing": missing_piece, "option": spoiled_option}[how]
    spoiled = draw(strategy(raw))
    event(f"spoiled: {how}")
    return {"instance": raw, "options": spoiled[4] if spoiled[0] == "option" else {}}, spoiled


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(case=invalid_documents())
def test_every_invalid_document_is_a_located_422_and_nothing_is_stored(client, case):
    body, spoiled = case
    before = client.get("/v1/runs").json()["total"]
    r = client.post("/v1/runs", json=body)
    assert r.status_code == 422, (spoiled, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith(PROBLEM)
    assert names_it(r.json()["errors"], spoiled), (spoiled, r.json()["errors"][:5])
    assert client.get("/v1/runs").json()["total"] == before


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=instances())
def test_every_valid_small_document_gets_a_verified_plan_or_an_explained_outcome(client, case):
    raw, model_options = case
    body = {"instance": raw, "options": {"mip_gap": 0, "time_limit": 10, **(model_options or {})}}
    r = client.post("/v1/solve", json=body)
    assert r.status_code < 500, r.text[:500]
    if r.status_code == 422:  # a frozen order this data cannot hold: refused, located, before the solve
        event("refused before the solve")
        assert all(e["column"] for e in r.json()["errors"]), r.json()
        return
    assert r.status_code == 200, r.text[:500]
    run, plan = r.json()["run"], r.json()["plan"]
    event(f"run {run['status']}: {run['reason'] or run['plan_status']}")
    if run["status"] == "succeeded":
        # a plan the verifier rejects, or whose figures fail the self-checks, has status error
        assert plan["status"] in ("optimal", "feasible") and plan["kpis"]["verify_seconds"] is not None, plan["messages"]
    else:
        assert run["status"] == "failed" and run["detail"], run
        assert run["reason"] in ("infeasible", "invalid_input"), run
        assert plan is None  # no plan: the run says why
        if run["reason"] == "infeasible":
            assert run["explanation"]["message"], run
