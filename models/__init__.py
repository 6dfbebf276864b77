"""The joint CRM/SCM planning model, one constraint family per file.

Each family module owns its whole rule (``models/registry.py`` lists what a
file may define):

- ``NAME``, ``SUMMARY``: its name (used in options, logs and reports) and one line;
- ``build(m, inst, params)``: adds its variables, constraints and profit terms to
  the Pyomo model ``m`` for the validated
  :class:`~planner.contract.instance.Instance` ``inst``;
- ``verify(inst, plan, params)``: the same rule checked on a plan's tables with
  pandas alone, and the profit terms recomputed (the independent verifier runs it);
- ``extract(m, inst)``: what its variables contribute to the plan tables;
- optionally ``tidy(m)``: after a solve, removes what a time-limited incumbent
  may carry without reason (an order indicator on with nothing ordered) without
  changing feasibility, so the plan tables and the profit say the same thing.

Its docstring gives the algebra with a table from symbol to Pyomo component and
input column. :data:`CORE`, :data:`OPTIONAL` and the user folders make the one
registry that decides what is built and in what order; :func:`build_model`
runs it. This layer imports only the contract (``planner.contract``) and Pyomo.

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

import dataclasses
from types import ModuleType
from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.visitor import polynomial_degree

from models import (
    budget,
    fill_rate,
    fixed_tiers,
    frozen_periods,
    inventory_balance,
    inventory_cover,
    max_supplier_share,
    min_suppliers_per_product,
    objective,
    orders,
    punctuality,
    reliable_supply_for_tier,
    safety_stock,
    sales,
    service_level_floor,
    service_tiers,
    sets,
    single_sourcing,
    supplier_capacity,
    warehouse_capacity,
)
from models.registry import Family, load_registry, resolve
from planner.contract.checks import FamilyCheck
from planner.contract.instance import OrderBounds
from planner.contract.problems import OptionsError, Problem

__all__ = ["BUILTIN", "CORE", "OPTIONAL", "Family", "FamilyCheck", "OptionsError", "build_model", "order_bounds", "registry", "select", "tidy_solution"]

#: The core model, in build order: sets first, then decisions with their
#: linking rows, then the limits that read them. The objective is always built
#: last, after any optional or user family has registered its profit terms.
CORE: list[ModuleType] = [
    sets,
    orders,
    sales,
    service_tiers,
    inventory_balance,
    supplier_capacity,
    warehouse_capacity,
    budget,
    fill_rate,
    punctuality,
    safety_stock,
]

#: Families shipped with planner but off unless a run's options select them.
OPTIONAL: list[ModuleType] = [
    max_supplier_share,
    min_suppliers_per_product,
    single_sourcing,
    frozen_periods,
    reliable_supply_for_tier,
    service_level_floor,
    inventory_cover,
    fixed_tiers,
]

BUILTIN: list[ModuleType] = CORE + OPTIONAL + [objective]


def registry(models_dirs: list[Any] | None = None) -> dict[str, Family]:
    """Every family: built-in ones and those in the user model folders."""
    return load_registry(BUILTIN, models_dirs)


def select(options: dict | None = None, models_dirs: list[Any] | None = None) -> list[tuple[Family, Any]]:
    """The families a run builds (core, plus those its options select), with parameters, in
    build order: the order the verifier checks them in too."""
    return resolve(registry(models_dirs), options)


def _check_components(m: pyo.ConcreteModel, fam: Family, before: set[str], terms_before: set[str]) -> None:
    where = f"model file {fam.origin}"
    for comp in m.component_objects(descend_into=True):
        if comp.name in before:
            continue
        if isinstance(comp, pyo.Objective):
            raise OptionsError([Problem("error", where, None, None, f"family {fam.name!r} declares an Objective {comp.name!r}; register a profit term in m.profit_terms instead")])
        if isinstance(comp, pyo.Constraint):
            for idx, con in comp.items():
                deg = polynomial_degree(con.body)
                if deg is None or deg > 1:
                    raise OptionsError([Problem("error", where, None, None, f"family {fam.name!r}: constraint {con.name} is not linear")])
    for name, term in m.profit_terms.items():
        if name in terms_before:
            continue
        if not (isinstance(term, tuple) and len(term) == 2 and term[0] in (1, -1)):
            raise OptionsError([Problem("error", where, None, None, f"family {fam.name!r}: profit term {name!r} must be (+1 or -1, expression)")])
        deg = polynomial_degree(term[1])
        if deg is None or deg > 1:
            raise OptionsError([Problem("error", where, None, None, f"family {fam.name!r}: profit term {name!r} is not linear")])


LIMITS = ("supplier_capacity", "budget", "warehouse_capacity")


def order_bounds(inst, families: list[tuple[Family, Any]]) -> OrderBounds:
    """What the order big-Ms may rely on with these families built (see ``Instance.order_slots``):
    the rows of the built-in limit families, the stock the families can require when every one of
    them keeps the usable-quantity bound valid, and the quantities they fix orders at."""
    built = {fam.name: fam for fam, _ in families}
    ceiling: dict[str, float] | None = None
    if all(fam.keeps_order_bound for fam, _ in families):
        ceiling = {}
        for fam, params in families:
            for p, v in (fam.max_stock(inst, params) if fam.max_stock else {}).items():
                ceiling[p] = max(ceiling.get(p, 0.0), float(v))
    floors: dict[tuple[str, str, int], float] = {}
    for fam, params in families:
        for slot, q in (fam.order_floor(inst, params) if fam.order_floor else {}).items():
            floors[slot] = max(floors.get(slot, 0.0), float(q))
    return OrderBounds(
        limits=frozenset(name for name in LIMITS if name in built and built[name].builtin),
        stock_ceiling=ceiling,
        late_deliveries="punctuality" in built and built["punctuality"].builtin,
        floors=floors,
    )


def build_model(inst, families: list[tuple[Family, Any]] | None = None) -> pyo.ConcreteModel:
    """Build the planning model for a validated instance (no solve).

    ``families`` comes from :func:`select`; by default, the core model. The order big-Ms rely
    only on what these families make valid (:func:`order_bounds`), unless the instance asks for
    the naive build (tests). A family that fails to build is reported as an
    :class:`OptionsError` naming it and its file.
    """
    families = families if families is not None else select()
    if not inst.bounds.naive:
        inst = dataclasses.replace(inst, bounds=order_bounds(inst, families))
    # Python's cyclic garbage collector walks every object the build creates, again and
    # again, without finding garbage: paused, the build is faster (README, "How a run is solved").
    with PauseGC():
        return _build(inst, families)


def _build(inst, families: list[tuple[Family, Any]]) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="planner")
    m.profit_terms = {}  # name -> (sign, Expression); filled by the families
    m.stock_buffers = {}  # name -> Expression over (p, t): stock the safety stock row also requires
    for fam, params in families:
        before = {c.name for c in m.component_objects(descend_into=True)}
        terms_before = set(m.profit_terms)
        try:
            fam.build(m, inst, params)
        except OptionsError:
            raise
        except Exception as exc:  # a family's own error, or a user's bug: located, not a traceback
            raise OptionsError(
                [Problem("error", f"model file {fam.origin}", None, None, f"family {fam.name!r} failed to build: {type(exc).__name__}: {exc}")]
            ) from exc
        if not fam.builtin:
            _check_components(m, fam, before, terms_before)
    m.families = [fam.name for fam, _ in families]
    return m


def tidy_solution(m: pyo.ConcreteModel, families: list[tuple[Family, Any]] | None = None) -> None:
    """Run every built family's ``tidy`` on a solved model (see ``orders.tidy``)."""
    for fam, _ in families if families is not None else select():
        if fam.tidy is not None:
            fam.tidy(m)
