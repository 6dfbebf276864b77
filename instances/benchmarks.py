"""Published special cases of the planning model, as planner instances.

Each reader turns a benchmark file into the raw tables of the data contract, so
the benchmark is solved by the same load -> validate -> build -> solve -> verify
path as any planning run. The objective of the benchmark is a cost; the
planner maximises profit, so with prices of 0 the planner's profit is minus the
benchmark's cost.

- Capacitated facility location (OR-Library cap): facilities are suppliers
  (capacity, fixed_cost), customers are products with one period of demand that
  must be met in full (one segment, one tier with fill_rate 1), and the cost of
  serving customer j from facility i, c_ij for all of d_j, is the unit cost
  c_ij / d_j. Split deliveries are allowed, as in the published model.
- Wagner–Whitin lot sizing: one product, one segment that must be served in
  full, and one supplier per period that can only ship in that period (its
  capacity is 0 elsewhere), so the setup cost K_t can differ by period while the
  data contract keeps one order_cost per supplier and product.
"""

from __future__ import annotations

from pathlib import Path

from planner.contract.loading import RawTables


def _tokens(path: str | Path) -> list[float]:
    return [float(x) for x in Path(path).read_text().split()]


def _must_serve_all(periods: list[str], products: list[str], demand: dict[tuple[str, str], float], holding: float = 0.0) -> RawTables:
    return {
        "products": [{"product": p, "holding_cost": holding, "unit_volume": 0, "initial_inventory": 0} for p in products],
        "segments": [{"segment": "all", "lost_sale_penalty": 0, "cost_to_serve": 0}],
        "service_tiers": [{"segment": "all", "tier": "full", "fill_rate": 1.0, "cycle_service_level": 0.5}],
        "demand": [
            {"segment": "all", "product": p, "period": t, "quantity": q, "std": 0, "price": 0}
            for (p, t), q in demand.items()
        ],
        "periods": [{"period": t, "order": i} for i, t in enumerate(periods)],
    }


def read_cap(path: str | Path) -> RawTables:
    """OR-Library capacitated facility location (cap41..cap134) as planner tables."""
    tok = _tokens(path)
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    facilities = []
    for i in range(m):
        facilities.append((tok[pos], tok[pos + 1]))
        pos += 2
    customers = []
    for j in range(n):
        d = tok[pos]
        costs = tok[pos + 1 : pos + 1 + m]
        pos += 1 + m
        customers.append((d, costs))
    products = [f"c{j + 1}" for j in range(n)]
    tables = _must_serve_all(["1"], products, {(p, "1"): d for p, (d, _) in zip(products, customers)})
    tables["suppliers"] = [
        {"supplier": f"f{i + 1}", "lead_time": 0, "fixed_cost": f, "capacity": s} for i, (s, f) in enumerate(facilities)
    ]
    tables["supplier_products"] = [
        {"supplier": f"f{i + 1}", "product": p, "unit_cost": costs[i] / d, "order_cost": 0, "moq": 0}
        for p, (d, costs) in zip(products, customers)
        if d > 0
        for i in range(m)
    ]
    return tables


def read_wagner_whitin(path: str | Path) -> RawTables:
    """A Wagner–Whitin instance (T, demands, setup costs, holding costs) as planner tables."""
    tok = _tokens(path)
    T = int(tok[0])
    d, K, h = tok[1 : 1 + T], tok[1 + T : 1 + 2 * T], tok[1 + 2 * T : 1 + 3 * T]
    if len(set(h)) != 1:
        raise ValueError(f"{path}: period-dependent holding costs are not part of the data contract")
    periods = [str(t + 1) for t in range(T)]
    tables = _must_serve_all(periods, ["item"], {("item", t): q for t, q in zip(periods, d)}, holding=h[0])
    total = sum(d)
    tables["suppliers"] = [{"supplier": f"setup{t}", "lead_time": 0, "fixed_cost": 0, "capacity": total} for t in periods]
    tables["supplier_capacity"] = [
        {"supplier": f"setup{t}", "period": u, "capacity": 0} for t in periods for u in periods if u != t
    ]
    tables["supplier_products"] = [
        {"supplier": f"setup{t}", "product": "item", "unit_cost": 0, "order_cost": k, "moq": 0} for t, k in zip(periods, K)
    ]
    return tables


def read_holmberg(path: str | Path) -> RawTables:
    """Holmberg et al. single-source capacitated facility location (p1..p71) as planner tables.

    Solve it with the ``single_sourcing`` constraint family switched on."""
    tok = _tokens(path)
    J, I = int(tok[0]), int(tok[1])
    pos = 2
    facilities = [(tok[pos + 2 * j], tok[pos + 2 * j + 1]) for j in range(J)]
    pos += 2 * J
    demand = tok[pos : pos + I]
    pos += I
    cost = [tok[pos + j * I : pos + (j + 1) * I] for j in range(J)]
    products = [f"c{i + 1}" for i in range(I)]
    tables = _must_serve_all(["1"], products, {(p, "1"): d for p, d in zip(products, demand)})
    tables["suppliers"] = [{"supplier": f"f{j + 1}", "lead_time": 0, "fixed_cost": f, "capacity": s} for j, (s, f) in enumerate(facilities)]
    tables["supplier_products"] = [
        {"supplier": f"f{j + 1}", "product": p, "unit_cost": cost[j][i] / demand[i], "order_cost": 0, "moq": 0}
        for i, p in enumerate(products)
        if demand[i] > 0
        for j in range(J)
    ]
    return tables
