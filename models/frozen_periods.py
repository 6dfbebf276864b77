r"""Frozen periods and plan stability: keep last week's orders near, penalise changes further out.

Weekly replanning without nervousness: suppliers have already started on the
orders of the next few weeks, and a plan that reshuffles every order every
week costs money and trust. Last week's plan is given as ``previous_orders``.

Constraints, for every order slot (k,p,t) in the first N periods (t < N)
    frozen_order[k,p,t]:    x[k,p,t] = prev[k,p,t]          (0 where nothing was ordered)

and for the slots from N on, with change_penalty > 0,
    plan_change[k,p,t]:     x[k,p,t] - prev[k,p,t] = up[k,p,t] - down[k,p,t],   up, down >= 0

Profit term
    plan_change_penalty = change_penalty * ( sum_{t >= N} (up + down) + sum of previous orders
                          from N on that this run has no slot for (they are dropped) )

prev[k,p,t] are the previous plan's orders for periods of this horizon (orders
for periods no longer in the horizon are history and ignored). A previous
order in a frozen period that this run's data cannot hold (no such supplier
or product, arrival after the horizon, above the supplier's capacity or below
the MOQ) is an error before the solve, naming the order.

=================  ==========================  =============================================
symbol             Pyomo                        input
=================  ==========================  =============================================
prev               constant                     options: ...previous_orders (rows; see Params)
N                  parameter                    options: ...periods
change_penalty     parameter                    options: ...change_penalty (money / unit)
up, down           ``m.plan_change_up/down``
=================  ==========================  =============================================
"""

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "frozen_periods"
SUMMARY = "The first N periods keep the previous plan's orders; later changes cost a penalty per unit."
KEEPS_ORDER_BOUND = True  # the quantities it fixes or measures changes from are order floors below


class PreviousOrder(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    supplier: str
    product: str
    period: str
    quantity: float = Field(ge=0)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    periods: int = Field(1, ge=0, description="Number of leading periods whose orders are frozen.", json_schema_extra={"unit": "period"})
    previous_orders: list[PreviousOrder] = Field(
        description="Last plan's orders: rows (supplier, product, period, quantity). The command line also takes the path of an orders.csv "
        "or plan folder; the service takes previous_run, a run of yours whose plan it reads from its database (it reads no files)."
    )
    change_penalty: float = Field(0.0, ge=0, description="Cost per unit changed against the previous plan after the frozen periods.", json_schema_extra={"unit": "money / unit"})


def _previous(inst, params) -> dict[tuple[str, str, int], float]:
    prev: dict[tuple[str, str, int], float] = {}
    for o in params.previous_orders:
        if o.period in inst.period_index and o.quantity > 0:
            key = (o.supplier, o.product, inst.period_index[o.period])
            prev[key] = prev.get(key, 0.0) + o.quantity
    return prev


def precheck(inst, params):
    """A previous order in a frozen period must name a supplier, a product and a pair this
    run's data knows, and arrive within the horizon: it is fixed, so an order the data cannot
    hold cannot be planned at all. (What else the built model cannot hold, above a capacity
    or below a MOQ, ``build`` reports.)"""
    offered = set(zip(inst.supplier_products["supplier"], inst.supplier_products["product"]))
    suppliers, products = set(inst.suppliers["supplier"]), set(inst.products["product"])
    problems = []
    for i, o in enumerate(params.previous_orders):
        t = inst.period_index.get(o.period)
        if t is None or t >= params.periods or o.quantity <= 0:
            continue
        where = f"previous_orders.{i}"
        if o.supplier not in suppliers:
            problems.append((f"{where}.supplier", f"unknown supplier {o.supplier!r} in a frozen period (not in suppliers)"))
        elif o.product not in products:
            problems.append((f"{where}.product", f"unknown product {o.product!r} in a frozen period (not in products)"))
        elif (o.supplier, o.product) not in offered:
            problems.append((f"{where}.product", f"supplier {o.supplier!r} does not deliver {o.product!r} (not in supplier_products)"))
        elif t + inst.lead_time[o.supplier] >= inst.horizon:
            problems.append((f"{where}.period", f"placed in {o.period} with {o.supplier!r}'s lead time of {inst.lead_time[o.supplier]} "
                                                "period(s) it would arrive after the horizon"))
    return problems


def order_floor(inst, params):
    """Every previous order's quantity: frozen orders are fixed at it, later ones pay for moving away."""
    return _previous(inst, params)


def build(m, inst, params):
    prev = _previous(inst, params)
    N = params.periods
    m.frozen_periods = N  # the plan's order cycle time counts them (planner.solve.extract)
    slots = set(m.ORDER_SLOTS)
    moq = inst.terms["moq"].to_dict()
    problems = []
    for (k, p, t), q in prev.items():
        if t >= N:
            continue
        where = f"previous order {k}/{p}/{inst.periods[t]} of {q:g}"
        if (k, p, t) not in slots:
            problems.append(f"{where}: no such order is possible in this run (supplier, product, lead time or capacity)")
        elif q > m.order_max_qty[k, p, t] + 1e-9:
            problems.append(f"{where}: above the most this run allows ({m.order_max_qty[k, p, t]:g})")
        elif q < moq[k, p] - 1e-9:
            problems.append(f"{where}: below the moq {moq[k, p]:g}")
    if problems:
        raise ValueError("; ".join(problems[:10]))
    frozen = [s for s in m.ORDER_SLOTS if s[2] < N]
    m.frozen_order = pyo.Constraint(frozen, rule=lambda m, k, p, t: m.order_qty[k, p, t] == prev.get((k, p, t), 0.0))
    if params.change_penalty > 0:
        later = [s for s in m.ORDER_SLOTS if s[2] >= N]
        m.plan_change_up = pyo.Var(later, domain=pyo.NonNegativeReals)
        m.plan_change_down = pyo.Var(later, domain=pyo.NonNegativeReals)
        m.plan_change = pyo.Constraint(
            later,
            rule=lambda m, k, p, t: m.order_qty[k, p, t] - prev.get((k, p, t), 0.0) == m.plan_change_up[k, p, t] - m.plan_change_down[k, p, t],
        )
        dropped = sum(q for s, q in prev.items() if s[2] >= N and s not in slots)
        m.plan_change_penalty = pyo.Expression(
            expr=params.change_penalty * (sum(m.plan_change_up[s] + m.plan_change_down[s] for s in later) + dropped)
        )
        m.profit_terms["plan_change_penalty"] = (-1, m.plan_change_penalty)


def verify(inst, tables, params):
    check = FamilyCheck()
    prev = _previous(inst, params)
    got: dict[tuple[str, str, int], float] = {}
    for k, p, per, q in tables["orders"][["supplier", "product", "period", "quantity"]].itertuples(index=False):
        got[(k, p, inst.period_index[str(per)])] = float(q)
    changed = 0.0
    for key in set(prev) | set(got):
        diff = abs(got.get(key, 0.0) - prev.get(key, 0.0))
        if key[2] < params.periods:
            if diff > 1e-5 * max(1.0, prev.get(key, 0.0)):
                k, p, t = key
                check.violation(NAME, f"{k}/{p}/{inst.periods[t]}", diff, f"frozen order changed from {prev.get(key, 0.0):g} to {got.get(key, 0.0):g}")
        else:
            changed += diff
    if params.change_penalty > 0:
        check.term("plan_change_penalty", -1, params.change_penalty * changed)
    return check
