r"""Max orders per period: the purchasing team can place at most N orders a week.

An example of a constraint family written outside the package (see
docs/model-guide.md). Put this file in a folder, point ``PLANNER_MODELS_PATH``
(or ``--models``) at the folder, and switch it on in the run options:

    {"constraints": {"max_orders_per_period": {"max_orders": 12}}}

Constraint, for every period t with at least one order slot
    max_orders_per_period[t]:   sum_{(k,p,t) in O} y[k,p,t] <= max_orders

=============  ===================  =====================================
symbol         Pyomo                input
=============  ===================  =====================================
y              ``m.order_placed``   (decision of the core ``orders`` family)
max_orders     parameter            options: ...max_orders
=============  ===================  =====================================
"""

from collections import defaultdict

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from models import FamilyCheck

NAME = "max_orders_per_period"
SUMMARY = "At most N orders placed per period (purchasing workload)."


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_orders: int = Field(10, ge=0, description="Orders the team can place per period.", json_schema_extra={"unit": "orders / period"})


def build(m, inst, params):
    by_t = defaultdict(list)
    for k, p, t in m.ORDER_SLOTS:
        by_t[t].append((k, p, t))
    m.max_orders_per_period = pyo.Constraint(
        sorted(by_t), rule=lambda m, t: sum(m.order_placed[s] for s in by_t[t]) <= params.max_orders
    )


def verify(inst, tables, params):
    """Count the order rows of each period in orders.csv (pandas only)."""
    check = FamilyCheck()
    for period, n in tables["orders"].groupby("period").size().items():
        if n > params.max_orders:
            check.violation(NAME, str(period), n - params.max_orders, f"{n} orders placed, at most {params.max_orders} allowed")
    return check
