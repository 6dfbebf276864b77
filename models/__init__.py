"""The joint CRM/SCM planning model, one constraint family per file.

Each family module declares:

- ``NAME``: the family's name (used in options, logs and reports);
- ``SUMMARY``: one line saying what it does;
- ``build(m, inst)``: adds its variables, constraints and profit terms to the
  Pyomo model ``m`` for the validated :class:`planner.instance.Instance` ``inst``;
- optionally ``tidy(m)``: after a solve, removes what a time-limited incumbent
  may carry without reason (an order indicator on with nothing ordered) without
  changing feasibility, so the plan tables and the profit say the same thing.

Its docstring gives the algebra with a table from symbol to Pyomo component and
input column. :data:`FAMILIES` is the one registry that decides what is built
and in what order; :func:`build_model` runs it.

Notation used throughout (sets in capitals):

=========  ==================================================================
symbol     meaning
=========  ==================================================================
P, S, K    products, segments, suppliers
T          periods 0..|T|-1 of the horizon (``inst.periods`` gives the labels)
J_s        allowed tiers of segment s (at or above its min_tier)
O          order slots (k, p, t): supplier k may ship p ordered in t, arriving
           t + L_k inside the horizon (``inst.order_slots``)
D          demand cells (s, p, t) with positive forecast quantity
e_p        first period an order can reach (min lead time of p's suppliers);
           periods t < e_p are p's *frozen zone*
=========  ==================================================================
"""

from __future__ import annotations

from types import ModuleType

import pyomo.environ as pyo

from models import (
    budget,
    fill_rate,
    inventory_balance,
    objective,
    orders,
    safety_stock,
    sales,
    service_tiers,
    sets,
    supplier_capacity,
    warehouse_capacity,
)

#: Quantities below this are solver noise: reported as 0.
ZERO = 1e-6

#: Build order: sets first, then decisions with their linking rows, then the
#: limits that read them, and the objective last.
FAMILIES: list[ModuleType] = [
    sets,
    orders,
    sales,
    service_tiers,
    inventory_balance,
    supplier_capacity,
    warehouse_capacity,
    budget,
    fill_rate,
    safety_stock,
    objective,
]


def build_model(inst) -> pyo.ConcreteModel:
    """Build the joint planning model for a validated instance (no solve)."""
    m = pyo.ConcreteModel(name="planner")
    m.profit_terms = {}  # name -> (sign, Expression); filled by the families
    for family in FAMILIES:
        family.build(m, inst)
    return m


def tidy_solution(m: pyo.ConcreteModel) -> None:
    """Run every family's ``tidy`` on a solved model (see the module docstring)."""
    for family in FAMILIES:
        if hasattr(family, "tidy"):
            family.tidy(m)
