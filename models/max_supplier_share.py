r"""Max supplier share: no supplier takes more than a share of the horizon's spend or volume.

Supply-risk diversification: a company that depends on one supplier for most
of its purchases is exposed to that supplier's failure.

Constraint, for every supplier k in K
    max_supplier_share[k]:   B[k] <= share * sum_{k'} B[k']

with the basis B[k] = sum_{p,t} unit_cost[k,p] * x[k,p,t]  (basis "spend", purchase cost)
                or  B[k] = sum_{p,t} x[k,p,t]              (basis "volume", units)

Orders already in transit (open_orders) are not counted: they are not decisions.
With share < 1/|K used| no plan can order anything; keep share above 1/(number
of suppliers you expect to use).

=========  ==================  ===========================================
symbol     Pyomo               input
=========  ==================  ===========================================
x          ``m.order_qty``     (decision, ``orders.py``)
unit_cost  coefficient         supplier_products.unit_cost
share      parameter           options: constraints.max_supplier_share.share
=========  ==================  ===========================================
"""

from typing import Literal

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "max_supplier_share"
SUMMARY = "No supplier takes more than a share of total spend or volume over the horizon."
KEEPS_ORDER_BOUND = False  # cutting one supplier's order lowers the total the other suppliers' shares are measured against


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    share: float = Field(0.5, gt=0, le=1, description="Largest share one supplier may take.", json_schema_extra={"unit": "fraction 0..1"})
    basis: Literal["spend", "volume"] = Field("spend", description="What the share is measured on: purchase spend or units ordered.")


def _basis(inst, params):
    uc = inst.terms["unit_cost"].to_dict()
    return (lambda k, p: uc[k, p]) if params.basis == "spend" else (lambda k, p: 1.0)


def build(m, inst, params):
    w = _basis(inst, params)
    total = sum(w(k, p) * m.order_qty[k, p, t] for k, p, t in m.ORDER_SLOTS)
    by_k = {k: [(kk, p, t) for kk, p, t in m.ORDER_SLOTS if kk == k] for k in m.K}
    m.max_supplier_share = pyo.Constraint(
        [k for k in m.K if by_k[k]],
        rule=lambda m, k: sum(w(k, p) * m.order_qty[k, p, t] for _, p, t in by_k[k]) <= params.share * total,
    )


def verify(inst, tables, params):
    o = tables["orders"].merge(inst.supplier_products, on=["supplier", "product"], how="left")
    o["b"] = o["quantity"] * (o["unit_cost"] if params.basis == "spend" else 1.0)
    total = float(o["b"].sum())
    check = FamilyCheck()
    for k, b in o.groupby("supplier")["b"].sum().items():
        if b > params.share * total + 1e-6 * max(1.0, total) + 1e-4:
            check.violation(NAME, k, b - params.share * total, f"{k} takes {b / total:.2%} of {params.basis}, above {params.share:.0%}")
    return check
