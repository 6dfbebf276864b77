"""Reading a solved model's values, for the families' ``extract`` (not a family itself)."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo


def values(component: Any) -> dict:
    """index -> value of an indexed variable or expression, in one pass over its items
    (indexing a Pyomo component key by key hashes every key again: slow on large models).
    A value that is not set reads as 0."""
    out = {}
    for i, v in component.items():
        x = v.value if v.is_variable_type() else pyo.value(v, exception=False)
        out[i] = 0.0 if x is None else float(x)
    return out
