"""Reading a solved model's values, for the families' ``extract`` (not a family itself)."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.expr.numeric_expr import MonomialTermExpression, NegationExpression, ProductExpression, SumExpression


class _Unset(Exception):
    """A variable in the expression has no value."""


def _value(e: Any) -> float:
    """The value of an expression made of sums, products, negations, variables, parameters and
    numbers, by a plain recursion: Pyomo's general evaluator visits each node through a stack
    machine, many times slower on the large linear sums the families declare (README, "How a run
    is solved", item 7). Any other node is evaluated by Pyomo."""
    if e.__class__ in native_numeric_types:
        return e
    if isinstance(e, SumExpression):
        return sum(_value(a) for a in e.args)
    if isinstance(e, MonomialTermExpression):
        c, v = e.args
        x = v.value
        if x is None:
            raise _Unset
        return _value(c) * x
    if e.is_variable_type():
        if e.value is None:
            raise _Unset
        return e.value
    if e.is_named_expression_type():
        return _value(e.expr)
    if isinstance(e, ProductExpression):
        a, b = e.args
        return _value(a) * _value(b)
    if isinstance(e, NegationExpression):
        return -_value(e.args[0])
    x = pyo.value(e, exception=False)
    if x is None:
        raise _Unset
    return x


def value(e: Any) -> float | None:
    """The value of ``e`` (None when a variable in it has none), as ``pyo.value`` gives it."""
    try:
        return float(_value(e))
    except _Unset:
        return None


def values(component: Any) -> dict:
    """index -> value of an indexed variable or expression, in one pass over its items
    (indexing a Pyomo component key by key hashes every key again: slow on large models).
    A value that is not set reads as 0."""
    out = {}
    for i, v in component.items():
        x = v.value if v.is_variable_type() else value(v)
        out[i] = 0.0 if x is None else float(x)
    return out
