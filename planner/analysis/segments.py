"""Segments from profitability: the customers ranked by the profit they bring, cut into classes.

ABC by cumulative profit contribution: customers ranked most profitable first; a customer
belongs to the first class whose cut-off its cumulative share of the positive profit has not
yet passed when it is reached (with cut-offs 0.8 and 0.95: A earns the first 80 %, B the next
15 %, C the rest). Customers who earn nothing or lose money go to the last class: they bring
no contribution to rank. Or the class the CRM already keeps (``customer_class``) is used.

The segments become tables of the planning contract: ``segments`` (one per class, with its
cost to serve per unit from its customers' own activity costs) and ``customers`` (customer,
segment, share of the segment's units), and ``customer_segments``, the assignment with the
figures behind it, which a planner may edit and give back (``planner customers --segments FILE``, read by
:func:`planner.contract.crm.read_assignment`).
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from planner.contract.crm import CrmData
from planner.contract.problems import LoadError, Problem

DEFAULT_CUTOFFS = (0.8, 0.95)


def abc_classes(profits: pd.DataFrame, cutoffs: tuple[float, ...] = DEFAULT_CUTOFFS) -> pd.Series:
    """customer -> class label (A, B, C... one more than there are cut-offs)."""
    if not cutoffs or any(not 0 < c < 1 for c in cutoffs) or list(cutoffs) != sorted(set(cutoffs)):
        raise ValueError(f"cut-offs must rise strictly between 0 and 1, e.g. 0.8,0.95 (got {list(cutoffs)})")
    labels = string.ascii_uppercase[: len(cutoffs) + 1]
    ranked = profits.sort_values("rank")
    positive = ranked["profit"].clip(lower=0)
    total = float(positive.sum())
    before = (positive.cumsum() - positive) / total if total > 0 else positive * 0  # share earned before this customer
    classes = []
    for earned_before, profit in zip(before, ranked["profit"]):
        if profit <= 0:
            classes.append(labels[-1])
        else:
            classes.append(next((labels[i] for i, c in enumerate(cutoffs) if earned_before < c - 1e-12), labels[-1]))
    return pd.Series(classes, index=ranked["customer"].to_numpy(), name="segment")


def kept_classes(crm: CrmData) -> pd.Series:
    """The class the customer master already keeps, as the segment (a blank one is an error)."""
    master = crm.customers
    blank = master.index[master["customer_class"].isna()]
    if len(blank):
        raise LoadError([Problem("error", "customers", int(i), "customer_class", "no class to keep for this customer") for i in blank[:50]])
    return pd.Series(master["customer_class"].to_numpy(), index=master["customer"].to_numpy(), name="segment")


def customer_products(crm: CrmData, segment_of: pd.Series) -> pd.DataFrame:
    """The planning contract's ``customer_products``: what each customer bought of each product
    (net of returns) as a share of its segment's units of it, and its own net price (net revenue
    over net units). Pairs without net units are left out (a share must be above 0)."""
    lines = crm.order_lines
    back = (-lines["quantity"]).clip(lower=0) + lines["returned_quantity"].fillna(0.0)
    net = lines["quantity"].clip(lower=0) - back
    df = pd.DataFrame({"customer": lines["customer"], "product": lines["product"], "units": net,
                       "revenue": net * lines["net_unit_price"]})
    pair = df.groupby(["customer", "product"], sort=True)[["units", "revenue"]].sum().reset_index()
    pair = pair[pair["units"] > 0]
    pair["segment"] = pair["customer"].map(segment_of)
    total = pair.groupby(["segment", "product"])["units"].transform("sum")
    share = np.floor(pair["units"] / total * 1e10) / 1e10  # rounded down, as the customers' shares are
    out = pd.DataFrame({"customer": pair["customer"], "product": pair["product"], "share": share, "price": (pair["revenue"] / pair["units"]).round(6)})
    return out[out["share"] > 0].reset_index(drop=True)


def segment_tables(profits: pd.DataFrame, segment_of: pd.Series) -> dict[str, pd.DataFrame]:
    """The planning contract's ``segments`` and ``customers`` tables, and ``customer_segments``.

    A segment's cost_to_serve is its customers' activity costs over their net units (money per
    unit); its lost_sale_penalty is left at 0 for the planner to set (goodwill is not in an order
    history). A customer's share is its net units over its segment's; customers without net
    units are in customer_segments but not in customers (a share must be above 0)."""
    df = profits.assign(segment=profits["customer"].map(segment_of))
    seg = df.groupby("segment", sort=True).agg(customers=("customer", "size"), units=("units", "sum"), profit=("profit", "sum"),
                                               cost_to_serve_total=("cost_to_serve", "sum"))
    seg["cost_to_serve"] = (seg["cost_to_serve_total"] / seg["units"].where(seg["units"] > 0)).fillna(0.0).round(6)
    segments = pd.DataFrame({"segment": seg.index, "lost_sale_penalty": 0.0, "cost_to_serve": seg["cost_to_serve"].to_numpy(), "min_tier": None})
    with_units = df[df["units"] > 0]
    share = with_units["units"] / with_units["segment"].map(with_units.groupby("segment")["units"].sum())
    # rounded down to 1e-10: thousands of shares written and read back still add up to at most 1
    # (the contract refuses more), and lose at most 1e-10 each
    share = np.floor(share * 1e10) / 1e10
    own_cost = (with_units["cost_to_serve"] / with_units["units"]).round(6)
    customers = pd.DataFrame({"customer": with_units["customer"], "segment": with_units["segment"], "share": share, "cost_to_serve": own_cost})
    assignment = df[["customer", "segment", "profit", "rank", "units", "cost_to_serve"]].sort_values("rank")
    return {"segments": segments, "customers": customers.reset_index(drop=True), "customer_segments": assignment.reset_index(drop=True),
            "segment_summary": seg.reset_index()[["segment", "customers", "units", "profit", "cost_to_serve"]]}
