"""Random seeded single-item cases against dynamic programs written independently of the model.

- Wagner-Whitin with a lead time and initial inventory (uncapacitated, O(T^2)).
- Capacitated lot sizing with a minimum order quantity, by DP over integer
  inventory levels (with integral data, fixing the order indicators leaves a
  network flow, so an integral optimum exists and the integer DP is exact).
"""

import math
import random

import pytest

from tests.conftest import solve_raw


def one_item(T, demand, order_cost, unit_cost, holding, lead, capacity, moq=0.0, initial=0.0):
    periods = [str(t + 1) for t in range(T)]
    return {
        "products": [{"product": "X", "holding_cost": holding, "initial_inventory": initial}],
        "segments": [{"segment": "all", "lost_sale_penalty": 1000, "cost_to_serve": 0}],
        "service_tiers": [{"segment": "all", "tier": "full", "fill_rate": 1.0, "cycle_service_level": 0.5}],
        "demand": [{"segment": "all", "product": "X", "period": p, "quantity": d, "price": 0} for p, d in zip(periods, demand)],
        "suppliers": [{"supplier": "K", "lead_time": lead, "capacity": capacity}],
        "supplier_products": [{"supplier": "K", "product": "X", "unit_cost": unit_cost, "order_cost": order_cost, "moq": moq}],
        "periods": [{"period": p, "order": i} for i, p in enumerate(periods)],
    }


def ww_with_lead_time(demand, K, c, h, L, initial):
    """Min cost to meet all demand from period L on, initial stock used first (FIFO is optimal here).

    Periods before L are served from initial stock only; what is left of it
    covers later demand first, the rest is net demand for orders placed L earlier."""
    T = len(demand)
    stock = initial
    holding = 0.0
    net = []
    for t, d in enumerate(demand):
        use = min(stock, d)
        stock -= use
        net.append(d - use)
        holding += h * stock
    # holding above counts the initial stock carried; orders then cover net demand (zero-inventory property)
    INF = math.inf
    best = [INF] * (T + 1)
    best[T] = 0.0
    for a in range(T - 1, -1, -1):  # a = arrival period of an order covering a..b-1
        if net[a] == 0:
            best[a] = best[a + 1]
            continue
        if a < L:
            continue  # nothing can arrive before L
        for b in range(a + 1, T + 1):
            q = sum(net[a:b])
            carry = sum(h * sum(net[u + 1 : b]) for u in range(a, b))
            best[a] = min(best[a], K + c * q + carry + best[b])
    return best[0] + holding


def capacitated_dp(demand, K, c, h, cap, moq, initial):
    T = len(demand)
    top = int(sum(demand) + moq + initial)
    V = {I: 0.0 for I in range(top + 1)}
    for t in range(T - 1, -1, -1):
        W = {}
        for I in range(top + 1):
            best = math.inf
            for x in [0] + list(range(int(max(moq, 1)), int(cap) + 1)):
                nxt = I + x - demand[t]
                if nxt < 0 or nxt > top:
                    continue
                best = min(best, (K if x > 0 else 0) + c * x + h * nxt + V[nxt])
            W[I] = best
        V = W
    return V[int(initial)]


@pytest.mark.parametrize("seed", range(12))
def test_lead_time_lot_sizing_matches_dp(seed):
    rng = random.Random(seed)
    T = rng.randint(4, 9)
    L = rng.randint(0, 2)
    demand = [rng.choice([0, rng.randint(1, 40)]) for _ in range(T)]
    initial = sum(demand[:L]) + rng.randint(0, 20)
    K, c, h = rng.randint(10, 120), rng.randint(1, 5), rng.choice([0.5, 1, 2])
    expected = ww_with_lead_time(demand, K, c, h, L, initial)
    plan = solve_raw(one_item(T, demand, K, c, h, L, capacity=10_000, initial=initial))
    assert plan.status == "optimal"
    assert -plan.kpis["profit"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_capacitated_lot_sizing_with_moq_matches_dp(seed):
    rng = random.Random(100 + seed)
    T = rng.randint(3, 7)
    demand = [rng.randint(0, 12) for _ in range(T)]
    cap = rng.randint(8, 20)
    moq = rng.choice([0, 3, 6])
    initial = rng.randint(0, 6)
    K, c, h = rng.randint(5, 40), rng.randint(1, 4), rng.choice([1, 2, 3])
    expected = capacitated_dp(demand, K, c, h, cap, moq, initial)
    raw = one_item(T, demand, K, c, h, 0, capacity=cap, moq=moq, initial=initial)
    if math.isinf(expected):
        assert solve_raw(raw).status == "infeasible"
        return
    plan = solve_raw(raw)
    assert plan.status == "optimal"
    assert -plan.kpis["profit"] == pytest.approx(expected, abs=1e-6)
