r"""Service level floor: an overall fill rate across all segments, products and periods.

Used for trade-off curves (profit against service): sweep the floor and
watch what each point of service costs.

Constraint
    service_level_floor:   sum_{(s,p,t) in D} q[s,p,t] >= fill_rate * sum_{(s,p,t) in D} d[s,p,t]

Counted over the whole horizon, frozen periods included: a floor that the
frozen zone's stock cannot reach makes the run infeasible, which is the
honest answer.

==========  ==============  ======================================
symbol      Pyomo           input
==========  ==============  ======================================
q           ``m.served``    (decision, ``sales.py``)
fill_rate   parameter       options: ...service_level_floor.fill_rate
==========  ==============  ======================================
"""

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "service_level_floor"
SUMMARY = "Total served at least a given share of total demand (overall fill rate)."
KEEPS_ORDER_BOUND = True  # sales are not changed by the cut


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fill_rate: float = Field(description="Overall fill rate to reach.", ge=0, le=1, json_schema_extra={"unit": "fraction 0..1"})


def build(m, inst, params):
    total = sum(m.demand_qty.values())
    if not m.DEMAND:  # nothing demanded: nothing to serve, the floor holds
        return
    m.service_level_floor = pyo.Constraint(expr=sum(m.served[i] for i in m.DEMAND) >= params.fill_rate * total)


def verify(inst, tables, params):
    check = FamilyCheck()
    s = tables["service"]
    demand, served = float(s["demand"].sum()), float(s["served"].sum())
    if served < params.fill_rate * demand - 1e-6 * max(1.0, demand) - 1e-4:
        check.violation(NAME, "all", params.fill_rate * demand - served, f"overall fill rate {served / demand:.4%} below {params.fill_rate:.2%}")
    return check
