"""The forecasting engines of planner prepare side by side: core (numpy and pandas) against
statsforecast (the optional extra), on the same series.

    python -m benchmarks.forecast_engines [--write]

Series: 600 of each Syntetos-Boylan class drawn from known processes (smooth: gamma sizes every
week; erratic: every week, sizes with CV 1.2; intermittent: demand in 30 % of weeks, sizes with
CV 0.5; lumpy: 30 % of weeks, CV 1.2), 104 weeks each, and the weekly series of a generated
two-year order history (the demo's products by region). Each engine sees the first 91 weeks and
forecasts the last 13: the figures are out of sample.

- MASE: mean absolute error over the 13 weeks / the in-sample naive error; beside it the
  benchmark's (naive; seasonal naive needs two years before the hold-out).
- within 80 % / 95 %: share of series whose first protection interval (3 weeks) after the
  hold-out's start falls within forecast x 3 +- 1.2816 / 1.96 x the std the engine reported.
- seconds: the engine's time for all series of the row (one process, after a warm-up series so
  that numba's compilation is not counted; it is reported apart).

Writes benchmarks/FORECAST.md with --write.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.machine import machine
from instances.order_history import generate_for_instance
from planner.analysis.forecast import CANDIDATES, WARM_UP, classify, forecast_series, naive, statsforecast_candidates, weekly

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "instances" / "demo"
WEEKS, HOLD, H = 104, 13, 3
PROCESSES = {"smooth": (1.0, 0.3), "erratic": (1.0, 1.2), "intermittent": (0.3, 0.5), "lumpy": (0.3, 1.2)}


def drawn(n: int, seed: int = 7) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = {}
    for cls, (p, cv) in PROCESSES.items():
        shape = 1 / cv**2
        out[cls] = [np.where(rng.random(WEEKS) < p, rng.gamma(shape, rng.uniform(5, 50) / shape, WEEKS), 0.0).round() for _ in range(n)]
    return out


def history_series() -> list[np.ndarray]:
    history = generate_for_instance(DEMO, customers=500, weeks=WEEKS, seed=11)
    lines = history["order_lines"]
    region = history["customers"].set_index("customer")["region"]
    series, _ = weekly(lines.assign(quantity=lines["quantity"].astype(float)), region)
    return [row.to_numpy() for _, row in series.iterrows() if len(row) >= WEEKS - 1]


def score(series: list[np.ndarray], candidates) -> dict[str, float]:
    mase, bench, in80, in95 = [], [], [], []
    t = time.perf_counter()
    for y in series:
        past, future = y[:-HOLD], y[-HOLD:]
        fc = forecast_series(past, H, candidates)
        scale = float(np.mean(np.abs(np.diff(past)))) or None
        if scale:
            mase.append(float(np.mean(np.abs(future - fc.forecast))) / scale)
            bench.append(float(np.mean(np.abs(future - naive(past)[len(past)]))) / scale)
        if fc.std > 0:
            err = abs(future[:H].sum() - H * fc.forecast)
            in80.append(err <= 1.2816 * fc.std)
            in95.append(err <= 1.96 * fc.std)
    seconds = time.perf_counter() - t
    return {"MASE": float(np.mean(mase)), "naive MASE": float(np.mean(bench)), "within 80 %": float(np.mean(in80)),
            "within 95 %": float(np.mean(in95)), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=600)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    groups = drawn(args.series)
    real = history_series()
    groups["order history (demo, by region)"] = real
    t = time.perf_counter()
    sf = statsforecast_candidates()
    forecast_series(groups["smooth"][0][:-HOLD], H, sf)  # numba compiles each model on first use
    forecast_series(groups["lumpy"][0][:-HOLD], H, sf)
    compile_seconds = time.perf_counter() - t
    rows = []
    for name, series in groups.items():
        classes = pd.Series([classify(y[:-HOLD]) for y in series]).value_counts().to_dict()
        for engine, candidates in (("core", CANDIDATES), ("statsforecast", sf)):
            r = score(series, candidates)
            rows.append({"series": name, "n": len(series), "classes seen": ", ".join(f"{k} {v}" for k, v in sorted(classes.items())),
                         "engine": engine, **r})
    df = pd.DataFrame(rows)
    table = ["| series | n | engine | MASE | naive MASE | within 80 % | within 95 % | seconds |", "|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        table.append(f"| {r.series} | {r.n} | {r.engine} | {r.MASE:.3f} | {r._6:.3f} | {r._7:.0%} | {r._8:.0%} | {r.seconds:.2f} |")
    md = "\n".join([
        "# Forecasting engines side by side",
        "",
        f"Latest run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m benchmarks.forecast_engines`; machine: {machine()}.",
        f"Out of sample: each engine sees {WEEKS - HOLD} weeks and forecasts the last {HOLD}; coverage over the first {H}-week "
        f"protection interval (see the module's docstring). statsforecast's numba compilation, once per process: {compile_seconds:.1f} s (not in the seconds below). "
        f"Warm-up weeks before the back-test: {WARM_UP}.",
        "",
        *table,
        "",
    ])
    print(md)
    if args.write:
        (HERE / "FORECAST.md").write_text(md)


if __name__ == "__main__":
    main()
