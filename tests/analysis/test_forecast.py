"""Demand with the error of its forecast, from order history (issue 16, part 4): classes, methods
chosen by a rolling-origin back-test, and a protection-interval std that is calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from planner.analysis import forecast
from planner.analysis.forecast import (
    CANDIDATES,
    WARM_UP,
    classify,
    engine_problem,
    forecast_demand,
    forecast_series,
    statsforecast_candidates,
    weekly,
)


def test_syntetos_boylan_classes():
    assert classify(np.array([10, 11, 9, 10, 12, 10.0])) == "smooth"
    assert classify(np.array([1, 30, 2, 40, 1, 25.0])) == "erratic"
    assert classify(np.array([0, 5, 0, 0, 6, 0, 5, 0.0])) == "intermittent"
    assert classify(np.array([0, 1, 0, 0, 40, 0, 2, 0.0])) == "lumpy"


def test_no_method_looks_ahead():
    """The forecast for week t is the same whatever comes from week t on."""
    rng = np.random.default_rng(7)
    y = rng.poisson(4, 60).astype(float) * (rng.random(60) < 0.6)
    for methods in CANDIDATES.values():
        for method in methods:
            for t in (WARM_UP, 20, 59):
                other = y.copy()
                other[t:] = rng.poisson(30, 60 - t)
                assert np.allclose(method(y)[: t + 1], method(other)[: t + 1]), (method.__name__, t)


def draw(kind: str, rng, n: int) -> np.ndarray:
    if kind == "smooth":
        return rng.poisson(rng.uniform(5, 50), n).astype(float)
    if kind == "intermittent":
        return ((rng.random(n) < rng.uniform(0.2, 0.5)) * rng.poisson(rng.uniform(3, 10), n)).astype(float)
    if kind == "lumpy":
        return (rng.random(n) < rng.uniform(0.2, 0.5)) * rng.gamma(0.7, rng.uniform(5, 20), n).round()
    return rng.poisson(20 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 52))).astype(float)  # seasonal


@pytest.mark.parametrize("kind, levels", [("smooth", (0.8, 0.95)), ("intermittent", (0.8, 0.95)), ("lumpy", (0.95,))])
def test_the_protection_interval_std_is_calibrated(kind, levels):
    """400 series of a known process, 78 weeks of history, 3 weeks of protection: the realised total
    of the next 3 weeks falls inside forecast +- z std as often as the level says, within 5 points.
    (Lumpy demand is skewed: at 80 % a symmetric interval covers about 90 %; at 95 % it holds.)"""
    rng = np.random.default_rng(2026)
    n, h = 78, 3
    inside = {p: 0 for p in levels}
    for _ in range(400):
        y = draw(kind, rng, n + h)
        fc = forecast_series(y[:n], h)
        for p in levels:
            inside[p] += abs(y[n:].sum() - h * fc.forecast) <= norm.ppf(0.5 + p / 2) * fc.std
    for p in levels:
        assert abs(inside[p] / 400 - p) <= 0.05, (kind, p, inside[p] / 400)


@pytest.mark.parametrize("kind, n", [("smooth", 78), ("intermittent", 78), ("seasonal", 104)])
def test_the_chosen_methods_beat_the_benchmark(kind, n):
    """MASE of the chosen method below the benchmark's (seasonal naive with two years, else naive)."""
    rng = np.random.default_rng(11)
    fits = [forecast_series(draw(kind, rng, n), 2) for _ in range(150)]
    assert np.mean([f.mase for f in fits]) < 0.95 * np.mean([f.benchmark_mase for f in fits])


def test_weekly_buckets_are_zero_filled_net_of_returns_and_priced_from_recent_sales():
    lines = pd.DataFrame({
        "customer": ["a", "a", "b", "a"], "product": ["P", "P", "P", "P"],
        "order_date": ["2026-01-05", "2026-01-07", "2026-01-26", "2026-01-27"],  # Mondays 5, 26 Jan; nothing in the two weeks between
        "quantity": [10, 5, 4, -3], "net_unit_price": [2.0, 2.0, 3.0, 3.0]})
    segment = pd.Series({"a": "A", "b": "B"})
    series, weeks = weekly(lines, segment)
    assert [str(w.date()) for w in weeks] == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    assert series.loc[("A", "P")].tolist() == [15, 0, 0, 0]  # the return (-3) is netted, never below 0
    assert series.loc[("B", "P")].tolist() == [0, 0, 0, 4]
    out = forecast_demand(lines, segment, {"P": 2}, trailing_weeks=2).set_index("segment")
    assert out.at["A", "price"] == 2.0 and out.at["B", "price"] == 3.0  # A bought nothing in the last 2 weeks: its whole history
    assert out.at["A", "protection_weeks"] == 2


# the statsforecast engine (the optional extra; the test extra installs it)
SF = statsforecast_candidates()


@pytest.mark.parametrize("kind", ["smooth", "intermittent"])
def test_the_statsforecast_engine_beats_the_benchmark_and_is_calibrated_at_95(kind):
    """Its models in the same back-test: MASE below the benchmark's, and the protection-interval
    std covers about 95 % (within 5 points) of what came next, as the core's does."""
    rng = np.random.default_rng(5)
    n, h, inside, fits = 78, 3, 0, []
    for _ in range(150):
        y = draw(kind, rng, n + h)
        fc = forecast_series(y[:n], h, SF)
        fits.append(fc)
        inside += abs(y[n:].sum() - h * fc.forecast) <= 1.96 * fc.std
    assert np.mean([f.mase for f in fits]) < 0.95 * np.mean([f.benchmark_mase for f in fits])
    assert abs(inside / 150 - 0.95) <= 0.05, inside / 150
    assert {f.method.split(".")[0] for f in fits} <= {"sf", "naive"}


def test_an_engine_that_is_not_there_is_a_located_problem(monkeypatch):
    assert engine_problem("core") is None and engine_problem("statsforecast") is None
    assert "core or statsforecast" in engine_problem("prophet")
    monkeypatch.setattr(forecast.importlib.util, "find_spec", lambda name: None)
    assert "pip install 'planner[forecast]'" in engine_problem("statsforecast")
