"""A construction heuristic: a feasible plan in a second or two, before HiGHS starts.

On a weekly run of 1,000 products HiGHS can spend a minute in presolve, the
root LP and root cuts before its own heuristics run, and return nothing. This
builds a plan first, so a run usually has one before HiGHS starts (not always:
see the end of this docstring): fix-and-optimise
(``planner/solve/improve.py``) improves it while HiGHS searches, and the better of
the two plans is returned.

1. **Tiers and suppliers**: three plans are built and the best one kept: every segment
   at its lowest allowed tier (the promise easiest to keep), once pricing suppliers'
   fixed costs into the choice of supplier and once not (as if every supplier were
   open: on the generated weekly runs this finds cheap suppliers the first plan never
   opens; a supplier left without orders is closed and its fixed cost saved); and every
   segment at the allowed tier whose net value (tier_value - tier_cost) best exceeds the
   holding cost of the safety stock it requires over the horizon.
2. **Orders**, period by period and, within a period, product by product (fewest
   suppliers first, then most demand), so early needs get capacity first: when the stock projected for the end of a period would fall below its
   safety stock (or below zero), an order is placed to arrive in that period. The lot
   covers the following periods too while that lowers the cost per period
   (Silver–Meal: order cost against holding cost), at least the MOQ. The supplier
   is the one with the lowest cost per unit (unit cost, plus order and not-yet-paid
   fixed cost spread over the lot) that still has capacity and budget in the
   period the order must be placed; what one supplier cannot carry goes to the next,
   and what no supplier can place in time is ordered earlier and carried.
3. **Sales**: each period's stock is served to segments in order of margin
   (price - cost to serve + lost-sale penalty), keeping the safety stock outside
   the frozen zone.

It reads the core model's variables (``m.order_qty``, ``m.order_placed``,
``m.supplier_used``, ``m.inventory``, ``m.served``, ``m.tier_chosen``) and sets
their values; :func:`planner.solve.highs.solve_model` re-solves the continuous
decisions for its integer ones (an LP) and keeps the result as the fallback
plan. If some requirement cannot be met this way (or a user family adds rows
the heuristic does not know, or integer decisions of its own), that LP is
infeasible or not attempted, and there is no fallback: the run has a plan only
if HiGHS finds one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from planner.contract.instance import Instance


def _tier_guess(inst: Instance) -> dict[str, str]:
    """Per segment: the allowed tier with the best tier net value less the holding cost of
    its safety stock over the horizon."""
    tiers = inst.tiers[inst.tiers["allowed"]]
    d = inst.demand_indexed
    hold = d["product"].map(dict(zip(inst.products["product"], inst.products["holding_cost"])))
    sigma_cost = (d["std"] * hold).groupby(d["segment"]).sum()
    best: dict[str, tuple[float, str]] = {}
    for s, j, k, v, c in zip(tiers["segment"], tiers["tier"], tiers["safety_factor"], tiers["tier_value"], tiers["tier_cost"]):
        score = v - c - k * float(sigma_cost.get(s, 0.0))
        if s not in best or score > best[s][0] + 1e-9:
            best[s] = (score, j)
    return {s: j for s, (_, j) in best.items()}


@dataclass(frozen=True)
class StartPlan:
    feasible: bool  # meets every fill-rate floor and safety stock the heuristic knows of
    profit: float | None  # the plan's profit; None when a family has variables the heuristic does not set


def construct_start(m: pyo.ConcreteModel, inst: Instance, profit: Callable[[], float | None] | None = None) -> StartPlan:
    """Set a heuristic plan as the values of ``m``'s variables (also when it falls short of
    some requirement: ``feasible`` says whether it does). ``profit``: the model's objective at
    the variables' values (``standard_form.objective_at_values``); by default, Pyomo evaluates
    the objective's expression."""
    with PauseGC():  # as in models.build_model: many objects, no garbage
        return _best_start(m, inst, profit or (lambda: pyo.value(m.profit, exception=False)))


def _best_start(m: pyo.ConcreteModel, inst: Instance, value: Callable[[], float | None]) -> StartPlan:
    low = inst.tiers[inst.tiers["allowed"]].sort_values("rank").groupby("segment", sort=False).first()["tier"].to_dict()
    guess = _tier_guess(inst)
    # the variant that wins most often last: the winner's values are then already set
    variants = [(low, 1.0)] + ([(guess, 0.0)] if guess != low else []) + [(low, 0.0)]
    best = None
    for tiers, fixed_weight in variants:
        ok = _construct(m, inst, tiers, fixed_weight)
        profit = value()
        rank = -math.inf if profit is None else profit
        if best is None or (ok, rank) > (best[0], best[1]):
            best = (ok, rank, profit, tiers, fixed_weight)
    if best[3:] != (tiers, fixed_weight):
        _construct(m, inst, best[3], best[4])
    return StartPlan(feasible=best[0], profit=best[2])


def _construct(m: pyo.ConcreteModel, inst: Instance, chosen: dict[str, str], fixed_weight: float = 1.0) -> bool:
    """Build one variant's plan into ``m``'s variables; True when it meets every requirement it knows."""
    c = _Construction(m, inst, chosen, fixed_weight)
    # period by period, so that early needs (the tightest) get supplier capacity first;
    # within a period, first every product's own shortfall, then the lots for later periods
    for t in range(inst.horizon):
        lots = {p: c.cover(p, t) for p in c.order if c.short(p, t)}
        for p, more in lots.items():
            if more > 1e-9:
                c.arrivals[(p, t)] += c.place(p, t, more)
        for p in c.order:
            c.serve(p, t)
    c.write()
    return c.ok


class _Construction:
    """The state of one heuristic plan while it is built: orders, stock, capacity and budget left."""

    def __init__(self, m: pyo.ConcreteModel, inst: Instance, chosen: dict[str, str], fixed_weight: float):
        self.m, self.inst, self.chosen, self.fixed_weight = m, inst, chosen, fixed_weight
        tiers = inst.tiers.set_index(["segment", "tier"])
        self.fr = {s: float(tiers.at[(s, j), "fill_rate"]) for s, j in chosen.items()}
        kf = {s: float(tiers.at[(s, j), "safety_factor"]) for s, j in chosen.items()}
        seg = inst.segments.set_index("segment")
        extra = (seg["lost_sale_penalty"] - seg["cost_to_serve"]).to_dict()
        d = inst.demand_indexed
        self.cells: dict[tuple[str, int], list[tuple[float, str, float]]] = defaultdict(list)  # (p,t) -> [(margin, s, qty)]
        self.ss: dict[tuple[str, int], float] = defaultdict(float)
        for s, p, t, q, sd, price in zip(d["segment"], d["product"], d["t"], d["quantity"], d["std"], d["price"]):
            if q > 0:
                self.cells[(p, int(t))].append((price + extra[s], s, float(q)))
            if sd > 0 and not inst.is_frozen(p, int(t)) and hasattr(m, "safety_stock"):
                self.ss[(p, int(t))] += kf.get(s, 0.0) * float(sd)
        self.need_t = {key: sum(q for _, _, q in v) for key, v in self.cells.items()}
        self.terms = {key: r for key, r in zip(inst.terms.index, inst.terms.to_dict(orient="records"))}
        self.hold = dict(zip(inst.products["product"], inst.products["holding_cost"]))
        self.fixed = dict(zip(inst.suppliers["supplier"], inst.suppliers["fixed_cost"]))
        self.cap_left = dict(inst.supplier_capacity_by_period) if hasattr(m, "supplier_capacity") else defaultdict(lambda: math.inf)
        self.budget_left = defaultdict(lambda: inst.budget if (inst.budget is not None and hasattr(m, "budget")) else math.inf)
        self.slots_by_arrival: dict[tuple[str, int], list[str]] = defaultdict(list)
        for k, p, t in m.ORDER_SLOTS:
            self.slots_by_arrival[(p, t + inst.lead_time[k])].append(k)
        n_suppliers: dict[str, int] = defaultdict(int)
        for _, p in self.terms:
            n_suppliers[p] += 1
        total: dict[str, float] = defaultdict(float)
        for (p, _), q in self.need_t.items():
            total[p] += q
        self.order = sorted(inst.product_ids, key=lambda p: (n_suppliers[p], -total[p]))
        self.x: dict[tuple[str, str, int], float] = defaultdict(float)
        self.used: set[str] = set()
        self.inventory: dict[tuple[str, int], float] = {}
        self.served: dict[tuple[str, str, int], float] = {}
        init = dict(zip(inst.products["product"], inst.products["initial_inventory"]))
        self.stock = {p: float(init[p]) for p in self.order}
        self.arrivals: dict[tuple[str, int], float] = defaultdict(float)
        for key, q in inst.open_arrivals.items():
            self.arrivals[key] += q
        # the late share of what arrives, when the model holds a buffer against it (models/punctuality.py)
        punctual = hasattr(m, "late_buffer")
        self.late_rate = {k: (1.0 - float(r)) if punctual else 0.0 for k, r in zip(inst.suppliers["supplier"], inst.suppliers["on_time_rate"])}
        self.late: dict[tuple[str, int], float] = defaultdict(float)
        for k, p, a, q in inst.open_orders[["supplier", "product", "arrival_period", "quantity"]].itertuples(index=False):
            self.late[(p, inst.period_index[a])] += self.late_rate[k] * float(q)
        self.ok = True

    def room(self, k: str, p: str, t0: int) -> float:
        """Units of p that supplier k can still take in placement period t0 (capacity, budget, big-M)."""
        r = self.terms[(k, p)]
        first = self.x[(k, p, t0)] == 0
        free = (self.cap_left[(k, t0)] - r["order_capacity_use"] * first) / r["capacity_use"] if r["capacity_use"] > 0 else math.inf
        if r["unit_cost"] > 0:
            free = min(free, (self.budget_left[t0] - r["order_cost"] * first) / r["unit_cost"])
        return min(free, self.m.order_max_qty[k, p, t0] - self.x[(k, p, t0)])

    def place(self, p: str, a: int, amount: float) -> float:
        """Order ``amount`` (at least) of p to arrive in period a, from the cheapest suppliers per
        unit that can still take it; returns what was placed."""
        placed = 0.0
        tried: set[str] = set()
        lead = self.inst.lead_time
        while amount - placed > 1e-9:
            best, best_cost, best_q = None, math.inf, 0.0
            for k in self.slots_by_arrival.get((p, a), []):
                if k in tried:
                    continue
                r = self.terms[(k, p)]
                first = self.x[(k, p, a - lead[k])] == 0
                q = min(max(amount - placed, r["moq"] if first else 0.0), self.room(k, p, a - lead[k]))
                if q <= 1e-9 or (first and q < r["moq"] - 1e-9):
                    continue
                cost = r["unit_cost"] + (r["order_cost"] * first + (0.0 if k in self.used else self.fixed_weight * self.fixed[k])) / q
                if cost < best_cost:
                    best, best_cost, best_q = k, cost, q
            if best is None:
                break
            tried.add(best)
            r = self.terms[(best, p)]
            t0 = a - lead[best]
            first = self.x[(best, p, t0)] == 0
            self.x[(best, p, t0)] += best_q
            self.cap_left[(best, t0)] -= r["capacity_use"] * best_q + (r["order_capacity_use"] if first else 0.0)
            self.budget_left[t0] -= r["unit_cost"] * best_q + (r["order_cost"] if first else 0.0)
            self.used.add(best)
            self.late[(p, a)] += self.late_rate[best] * best_q
            placed += best_q
        return placed

    def target(self, p: str, t: int) -> float:
        """Stock p needs in period t: its demand, safety stock and the late share of what arrives."""
        return self.need_t.get((p, t), 0.0) + self.ss.get((p, t), 0.0) + (0.0 if self.inst.is_frozen(p, t) else self.late[(p, t)])

    def short(self, p: str, t: int) -> bool:
        """p's stock for period t falls short of its demand and safety stock, and it can still be ordered."""
        avail = self.stock[p] + self.arrivals[(p, t)]
        return avail < self.target(p, t) - 1e-9 and bool(self.slots_by_arrival.get((p, t)))

    def cover(self, p: str, t: int) -> float:
        """Order what p lacks in period t, earlier (and carried) what cannot arrive then; return
        how much more to order for the periods after t (the Silver-Meal lot)."""
        for _ in range(4):  # each order adds its own late share to what must be covered
            gap = self.target(p, t) - self.stock[p] - self.arrivals[(p, t)]
            got = self.place(p, t, gap) if gap > 1e-9 else 0.0
            self.arrivals[(p, t)] += got
            if got <= 1e-9:
                break
        avail = self.stock[p] + self.arrivals[(p, t)]
        target = self.target(p, t)
        # short (capacity taken in the period the order had to be placed): order earlier
        # and carry the stock, latest first
        a = t - 1
        while avail < target - 1e-9 and a >= 0:
            if self.slots_by_arrival.get((p, a)):
                got = self.place(p, a, target - avail)
                if got > 0:
                    self.arrivals[(p, a)] += got
                    for u in range(a, t):
                        self.inventory[(p, u)] += got
                    self.stock[p] += got
                    avail += got
            a -= 1
        return self.lot(p, t)

    def lot(self, p: str, t: int) -> float:
        """Silver-Meal: extend the lot arriving in t over the next periods while the cost per period falls."""
        oc = min(self.terms[(k, p)]["order_cost"] for k in self.slots_by_arrival[(p, t)])
        best_avg, h, carry, more = oc, 0, 0.0, 0.0
        while t + h + 1 < self.inst.horizon and h < 8:
            nxt = self.need_t.get((p, t + h + 1), 0.0)
            carry_next = carry + self.hold[p] * (h + 1) * nxt
            avg = (oc + carry_next) / (h + 2)
            if avg > best_avg or nxt <= 0:
                break
            best_avg, carry, h = avg, carry_next, h + 1
            more += nxt
        return more

    def serve(self, p: str, t: int) -> None:
        """Serve period t's demand of p from stock, segments by margin, keeping the safety stock
        outside the frozen zone; note when a fill-rate floor or the safety stock is not met."""
        frozen = self.inst.is_frozen(p, t)
        avail = self.stock[p] + self.arrivals[(p, t)]
        keep = self.ss.get((p, t), 0.0) + self.late[(p, t)] if not frozen else 0.0
        sellable = max(0.0, avail - keep)
        floor_needed = 0.0
        for _, s, q in sorted(self.cells.get((p, t), []), reverse=True):
            give = min(q, sellable)
            self.served[(s, p, t)] = give
            sellable -= give
            if not frozen:
                floor_needed += max(0.0, self.fr.get(s, 0.0) * q - give)
        if floor_needed > 1e-6 or avail + 1e-9 < keep:
            self.ok = False
        self.stock[p] = avail - sum(self.served.get((s, p, t), 0.0) for _, s, _ in self.cells.get((p, t), []))
        self.inventory[(p, t)] = self.stock[p]

    def write(self) -> None:
        """The plan into the model's variables, through ``.items()`` (no index look-up per
        variable: this runs for every variant)."""
        m, x = self.m, self.x
        for (s, j), v in m.tier_chosen.items():
            v.set_value(1 if self.chosen.get(s) == j else 0, skip_validation=True)
        for i, v in m.order_qty.items():
            v.set_value(x.get(i, 0.0), skip_validation=True)
        for i, v in m.order_placed.items():
            v.set_value(1 if x.get(i, 0.0) > 0 else 0, skip_validation=True)
        for k, v in m.supplier_used.items():
            v.set_value(1 if k in self.used else 0, skip_validation=True)
        for i, v in m.inventory.items():
            v.set_value(max(0.0, self.inventory.get(i, 0.0)), skip_validation=True)
        for i, v in m.served.items():
            v.set_value(self.served.get(i, 0.0), skip_validation=True)
