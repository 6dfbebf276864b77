r"""Fixed tiers: the service tier of some or all segments is decided outside the model.

Used to compare planning in silos with planning jointly: *CRM-led* fixes every
segment at its highest tier (service promised by the customer side alone),
*SCM-led* at its lowest allowed tier (service chosen by the supply side alone,
to minimise cost); the integrated model chooses freely.

Constraint, for every segment s with a fixed tier j*
    fixed_tier[s]:   z[s,j*] = 1

========  ===================  ============================================
symbol    Pyomo                input
========  ===================  ============================================
z         ``m.tier_chosen``    (decision, ``service_tiers.py``)
j*        parameter            options: ...tiers {segment: tier}, or policy
========  ===================  ============================================
"""

from typing import Literal

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from planner.contract.checks import FamilyCheck

NAME = "fixed_tiers"
SUMMARY = "Fix the service tier of segments: by name, or every segment at its highest or lowest allowed tier."
KEEPS_ORDER_BOUND = True  # no order in its rows


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: Literal["highest", "lowest"] | None = Field(None, description="Every segment at its highest (CRM-led) or lowest allowed (SCM-led) tier.")
    tiers: dict[str, str] = Field(default_factory=dict, description="Segment -> tier; overrides the policy for those segments.")


def targets(inst, params) -> dict[str, str]:
    t = inst.tiers[inst.tiers["allowed"]]
    out: dict[str, str] = {}
    if params.policy is not None:
        for s, part in t.groupby("segment", sort=False):
            out[s] = part.sort_values("rank")["tier"].iloc[-1 if params.policy == "highest" else 0]
    allowed = set(zip(t["segment"], t["tier"]))
    for s, j in params.tiers.items():
        if s not in set(inst.segment_ids):
            raise ValueError(f"unknown segment {s!r}")
        if (s, j) not in allowed:
            raise ValueError(f"tier {j!r} is not an allowed tier of segment {s!r}")
        out[s] = j
    return out


def build(m, inst, params):
    fixed = targets(inst, params)
    m.fixed_tier = pyo.Constraint(list(fixed), rule=lambda m, s: m.tier_chosen[s, fixed[s]] == 1)


def verify(inst, tables, params):
    check = FamilyCheck()
    got = dict(zip(tables["segments"]["segment"], tables["segments"]["tier"]))
    for s, j in targets(inst, params).items():
        if got.get(s) != j:
            check.violation(NAME, s, 1, f"segment {s} has tier {got.get(s)!r}, fixed at {j!r}")
    return check
