"""The least Pyomo takes to build and compile a model the size of the benchmark's L instance.

121,764 variables and 152,069 rows, as at L, but every row the simplest there is
(two terms, ``x[i] - 3 x[j] <= 0``), built with the garbage collector paused and
compiled by the same ``LinearStandardFormCompiler`` the planner uses. The
planning model's rows have more terms (4.5 on average at L), so building and
handing it over through Pyomo row by row takes at least this long: it is the
floor under the "build" and "hand-off" columns of ``RESULTS.md``.

    python -m benchmarks.pyomo_floor [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import pyomo.environ as pyo
from pyomo.version import version as pyomo_version
from pyomo.common.gc_manager import PauseGC
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

COLUMNS, ROWS = 121_764, 152_069  # the L instance's size (benchmarks/RESULTS.md)


def once() -> tuple[float, float]:
    m = pyo.ConcreteModel()
    t0 = time.perf_counter()
    with PauseGC():
        m.I = pyo.RangeSet(0, COLUMNS - 1)
        m.x = pyo.Var(m.I, bounds=(0, 10))
        m.R = pyo.RangeSet(0, ROWS - 1)
        m.c = pyo.Constraint(m.R, rule=lambda m, r: m.x[r % COLUMNS] - 3.0 * m.x[(7 * r + 1) % COLUMNS] <= 0)
        m.o = pyo.Objective(expr=sum(m.x[i] for i in m.I))
    t1 = time.perf_counter()
    LinearStandardFormCompiler().write(m, mixed_form=True)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{COLUMNS:,} variables, {ROWS:,} two-term rows; Pyomo {pyomo_version}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores")
    for i in range(args.repeat):
        build, compile_ = once()
        print(f"run {i + 1}: build {build:.2f} s, compile {compile_:.2f} s, together {build + compile_:.2f} s")


if __name__ == "__main__":
    main()
