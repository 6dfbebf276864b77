"""Demand per segment x product x week from order history, with the error of its forecast.

Each weekly series (zero-filled) is classified by Syntetos and Boylan's cut-offs on the average
inter-demand interval (ADI) and the squared coefficient of variation of the non-zero sizes
(CV2): smooth (ADI < 1.32, CV2 < 0.49), erratic (ADI < 1.32), intermittent (CV2 < 0.49) or
lumpy. Candidate methods per class — simple exponential smoothing for smooth and erratic
series; Croston with the Syntetos-Boylan correction (SBA) and Teunter-Syntetos-Babai (TSB) for
intermittent and lumpy ones; the naive forecast for every class — are compared by a
rolling-origin back-test: from every week after a warm-up, each method forecasts the next week
from the weeks before; the one with the lowest mean absolute error is kept. Its MASE (mean
absolute error over the in-sample naive error) is reported beside the benchmark's: the
seasonal naive forecast (same week last year) when the history holds two years, else naive.

The error the planner needs is over the protection interval, h weeks (the product's shortest
supplier lead time plus one review week): from every origin, the chosen method's forecast
for the next h weeks is compared with what came, and the standard deviation is the root mean
square of those cumulative errors (bias included). It is measured, not derived from a normal
model of one-week errors.

numpy and pandas only. With the optional extra (``pip install 'planner[forecast]'``), the
``statsforecast`` engine puts Nixtla's statsforecast models in the same back-test instead:
optimised simple exponential smoothing, Holt and AutoETS for smooth and erratic series; SBA,
TSB, ADIDA and IMAPA for intermittent and lumpy ones; the naive forecast for
every class. Everything else — classes, selection, the protection-interval std — is the same
code. Their figures side by side: benchmarks/FORECAST.md.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

ADI_CUT, CV2_CUT = 1.32, 0.49
WARM_UP = 8  # weeks of history before the first back-test origin
REVIEW_WEEKS = 1  # the plan is made weekly: the protection interval is the lead time plus one week
SEASON = 52


def classify(y: np.ndarray) -> str:
    """smooth, erratic, intermittent or lumpy (a series with no demand is intermittent)."""
    nonzero = np.flatnonzero(y > 0)
    if len(nonzero) == 0:
        return "intermittent"
    adi = len(y) / len(nonzero)
    sizes = y[nonzero]
    cv2 = float(np.var(sizes) / np.mean(sizes) ** 2) if len(sizes) > 1 else 0.0
    if adi < ADI_CUT:
        return "smooth" if cv2 < CV2_CUT else "erratic"
    return "intermittent" if cv2 < CV2_CUT else "lumpy"


# Each method: y (history) -> f, where f[t] is the forecast for week t made after week t-1
# (f[0] = the first demand), and f[len(y)] the forecast for every week after the history.

def naive(y: np.ndarray) -> np.ndarray:
    return np.concatenate([[y[0]], y])


def ses(alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(y: np.ndarray) -> np.ndarray:
        out = np.empty(len(y) + 1)
        level = y[: min(len(y), WARM_UP)].mean()
        for t, v in enumerate(y):
            out[t] = level
            level += alpha * (v - level)
        out[len(y)] = level
        return out
    f.__name__ = f"ses({alpha:g})"
    return f


def sba(alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    """Croston's method with the Syntetos-Boylan bias correction (1 - alpha / 2)."""
    def f(y: np.ndarray) -> np.ndarray:
        out = np.empty(len(y) + 1)
        start = y[:WARM_UP]  # initial estimates from the warm-up weeks only: no look-ahead
        nz = start[start > 0]
        size = nz.mean() if len(nz) else 0.0
        interval = len(start) / max(len(nz), 1)
        since = 1
        for t, v in enumerate(y):
            out[t] = (1 - alpha / 2) * size / interval
            if v > 0:
                size += alpha * (v - size)
                interval += alpha * (since - interval)
                since = 1
            else:
                since += 1
        out[len(y)] = (1 - alpha / 2) * size / interval
        return out
    f.__name__ = f"sba({alpha:g})"
    return f


def tsb(alpha: float, beta: float) -> Callable[[np.ndarray], np.ndarray]:
    """Teunter-Syntetos-Babai: demand probability updated every week, size when demand occurs."""
    def f(y: np.ndarray) -> np.ndarray:
        out = np.empty(len(y) + 1)
        start = y[:WARM_UP]
        nz = start[start > 0]
        prob, size = len(nz) / len(start), (nz.mean() if len(nz) else 0.0)
        for t, v in enumerate(y):
            out[t] = prob * size
            prob += beta * ((v > 0) - prob)
            if v > 0:
                size += alpha * (v - size)
        out[len(y)] = prob * size
        return out
    f.__name__ = f"tsb({alpha:g},{beta:g})"
    return f


CANDIDATES: dict[str, list[Callable[[np.ndarray], np.ndarray]]] = {
    "smooth": [ses(0.1), ses(0.2), ses(0.4), naive],
    "erratic": [ses(0.05), ses(0.1), ses(0.2), naive],
    "intermittent": [sba(0.05), sba(0.1), tsb(0.1, 0.05), naive],
    "lumpy": [sba(0.05), sba(0.1), tsb(0.1, 0.05), naive],
}


ENGINES = ("core", "statsforecast")


def engine_problem(engine: str) -> str | None:
    """Why ``engine`` cannot be used here (None when it can)."""
    if engine not in ENGINES:
        return f"core or statsforecast (got {engine!r})"
    if engine == "statsforecast" and importlib.util.find_spec("statsforecast") is None:
        return "statsforecast is not installed here: pip install 'planner[forecast]'"
    return None


def _statsforecast(model: Callable[[], object], name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A statsforecast model as a method of this module: its one-step-ahead fitted values, then
    its forecast; the first weeks it leaves blank get the warm-up mean."""
    def f(y: np.ndarray) -> np.ndarray:
        out = model().forecast(y=y, h=1, fitted=True)
        fitted = np.asarray(out["fitted"], dtype=float)
        fitted = np.where(np.isfinite(fitted), fitted, y[: min(len(y), WARM_UP)].mean())
        return np.concatenate([fitted, np.asarray(out["mean"], dtype=float)[:1]])
    f.__name__ = name
    return f


def statsforecast_candidates() -> dict[str, list[Callable[[np.ndarray], np.ndarray]]]:
    """The statsforecast engine's methods per class. Imported only when asked for: the extra
    (numba-compiled) takes seconds to import, which no other run should pay."""
    sf = importlib.import_module("statsforecast.models")
    smooth = [_statsforecast(sf.SimpleExponentialSmoothingOptimized, "sf.ses_opt"), _statsforecast(sf.Holt, "sf.holt"),
              _statsforecast(sf.AutoETS, "sf.auto_ets"), naive]
    sparse = [_statsforecast(sf.CrostonSBA, "sf.sba"), _statsforecast(lambda: sf.TSB(alpha_d=0.1, alpha_p=0.05), "sf.tsb"),
              _statsforecast(sf.ADIDA, "sf.adida"),
              _statsforecast(sf.IMAPA, "sf.imapa"), naive]
    return {"smooth": smooth, "erratic": smooth, "intermittent": sparse, "lumpy": sparse}


def _benchmark(y: np.ndarray) -> np.ndarray:
    """Seasonal naive (the same week a year before) where two years are held, else naive."""
    f = naive(y)
    if len(y) >= 2 * SEASON:
        f[SEASON:len(y)] = y[: len(y) - SEASON]
        f[len(y)] = y[len(y) - SEASON]
    return f


@dataclass
class SeriesForecast:
    demand_class: str
    method: str
    forecast: float  # units per week, for every week ahead
    std: float  # of the cumulative error over the protection interval (units)
    protection_weeks: int
    mase: float | None
    benchmark_mase: float | None
    bias: float  # mean one-week error (actual - forecast), units
    coverage_80: float | None = None  # share of the back-test's cumulative errors within +-1.2816 std
    coverage_95: float | None = None  # ... within +-1.96 std


def _mae(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(np.abs(y[WARM_UP:] - f[WARM_UP:len(y)])))


def forecast_series(y: np.ndarray, protection_weeks: int, candidates: dict[str, list[Callable]] | None = None) -> SeriesForecast:
    """Class, chosen method, forecast and protection-interval std of one weekly series
    (``candidates``: the methods per class; the core's by default)."""
    y = np.asarray(y, dtype=float)
    cls = classify(y)
    if len(y) <= WARM_UP + 1:
        level = float(y.mean()) if len(y) else 0.0
        return SeriesForecast(cls, "mean (short history)", level, float(y.std() * np.sqrt(protection_weeks)) if len(y) else 0.0,
                              protection_weeks, None, None, 0.0)
    fits = {m.__name__: m(y) for m in (candidates or CANDIDATES)[cls]}
    errors = {name: _mae(y, f) for name, f in fits.items()}
    method = min(errors, key=lambda n: (errors[n], n))  # a method's forecasts for week t use weeks before t only
    f = fits[method]
    scale = float(np.mean(np.abs(np.diff(y)))) or None
    mase = errors[method] / scale if scale else None
    bench = _mae(y, _benchmark(y)) / scale if scale else None
    # protection interval: from each origin o, the forecast made after week o-1 for weeks o..o+h-1
    h = max(1, protection_weeks)
    origins = range(WARM_UP, len(y) - h + 1)
    cumulative = np.array([y[o:o + h].sum() - h * f[o] for o in origins])
    std = float(np.sqrt(np.mean(cumulative ** 2))) if len(cumulative) else float(y.std() * np.sqrt(h))
    bias = float(np.mean(y[WARM_UP:] - f[WARM_UP:len(y)]))
    cover = [float(np.mean(np.abs(cumulative) <= z * std)) if len(cumulative) and std > 0 else None for z in (1.2816, 1.96)]
    return SeriesForecast(cls, method, float(f[len(y)]), std, h, mase, bench, bias, *cover)


def weekly(order_lines: pd.DataFrame, segment_of: pd.Series) -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    """Units per segment, product and week (weeks start on Monday; every week of the history,
    zero where nothing was ordered); returns are netted off the week they were booked in."""
    df = order_lines.assign(segment=order_lines["customer"].map(segment_of),
                            week=pd.to_datetime(order_lines["order_date"]).dt.to_period("W-SUN").dt.start_time)
    weeks = list(pd.date_range(df["week"].min(), df["week"].max(), freq="7D"))
    units = df.groupby(["segment", "product", "week"])["quantity"].sum().clip(lower=0)
    full = units.unstack("week").reindex(columns=weeks).fillna(0.0)
    return full, weeks


def forecast_demand(order_lines: pd.DataFrame, segment_of: pd.Series, protection_weeks: dict[str, int],
                    trailing_weeks: int = 13, engine: str = "core") -> pd.DataFrame:
    """One row per segment and product: class, method, forecast per week, protection-interval std,
    MASE against the benchmark's, and the price (trailing net price over ``trailing_weeks``);
    ``engine``: core or statsforecast (see the module)."""
    candidates = statsforecast_candidates() if engine == "statsforecast" else CANDIDATES
    series, weeks = weekly(order_lines, segment_of)
    lines = order_lines.assign(segment=order_lines["customer"].map(segment_of), day=pd.to_datetime(order_lines["order_date"]))
    recent = lines[(lines["day"] >= weeks[-1] - pd.Timedelta(weeks=trailing_weeks - 1)) & (lines["quantity"] > 0)]
    sold = lines[lines["quantity"] > 0]
    price = _net_price(recent).combine_first(_net_price(sold))
    rows = []
    for (segment, product), y in series.iterrows():
        fc = forecast_series(y.to_numpy(), protection_weeks.get(product, 1), candidates)
        rows.append({"segment": segment, "product": product, "demand_class": fc.demand_class, "method": fc.method,
                     "forecast": fc.forecast, "std": fc.std, "protection_weeks": fc.protection_weeks, "mase": fc.mase,
                     "benchmark_mase": fc.benchmark_mase, "bias": fc.bias, "coverage_80": fc.coverage_80, "coverage_95": fc.coverage_95,
                     "price": float(price.get((segment, product), 0.0)),
                     "weeks": len(y)})
    return pd.DataFrame(rows)


def _net_price(lines: pd.DataFrame) -> pd.Series:
    value = (lines["quantity"] * lines["net_unit_price"]).groupby([lines["segment"], lines["product"]]).sum()
    units = lines.groupby(["segment", "product"])["quantity"].sum()
    return value / units
