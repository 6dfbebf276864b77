"""The derivation report of a prepared instance: how the CRM history became segments, tiers and
demand (one self-contained HTML page, and every table in one workbook)."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from planner.contract.results import write_workbook
from planner.report import figures
from planner.report.html import STYLE, html_table

DERIVED = ("customer_profitability", "whale_curve", "customer_segments", "segment_summary", "demand_forecasts", "tier_values")


def accuracy_by_class(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per demand class: series, the methods kept, MASE against the benchmark's, bias, and how
    often the back-test's errors over the protection interval fell within +-z std."""
    g = forecasts.groupby("demand_class")
    return pd.DataFrame({
        "series": g.size(),
        "methods kept": g["method"].agg(lambda m: ", ".join(f"{k} ({v})" for k, v in m.value_counts().items())),
        "MASE": g["mase"].mean(), "benchmark MASE": g["benchmark_mase"].mean(), "bias (units / week)": g["bias"].mean(),
        "within ±1.28 std (nominal 80 %)": g["coverage_80"].mean(), "within ±1.96 std (nominal 95 %)": g["coverage_95"].mean(),
    }).reset_index()


def derivation_html(tables: dict[str, pd.DataFrame]) -> str:
    whale = base64.b64encode(figures.png(figures.whale(tables["whale_curve"]))).decode()
    profits = tables["customer_profitability"]
    losing = profits[profits["profit"] < 0]
    sections = [
        f"<h2>Customers ranked by profit</h2><p>{len(profits)} customers, total profit {profits['profit'].sum():,.2f}; "
        f"{len(losing)} lose money ({losing['profit'].sum():,.2f} in all).</p>"
        f'<img alt="whale curve" src="data:image/png;base64,{whale}">',
        "<h2>Segments</h2>" + html_table(tables["segment_summary"]),
        "<h2>Tiers and what they are worth</h2>" + html_table(tables["tier_values"]),
        "<h2>Demand: classes and forecast accuracy</h2>" + html_table(accuracy_by_class(tables["demand_forecasts"])),
        "<h2>Most and least profitable customers</h2>" + html_table(pd.concat([profits.head(15), profits.tail(15)])),
    ]
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>How the instance was prepared</title><style>{STYLE}</style>"
            f"<h1>How the instance was prepared from the CRM history</h1>{''.join(sections)}</html>")


def write_derivation(out: str | Path, tables: dict[str, pd.DataFrame]) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in DERIVED:
        tables[name].to_csv(out / f"{name}.csv", index=False)
    write_workbook(out / "derivation.xlsx", {**{name: tables[name] for name in DERIVED}, "accuracy_by_class": accuracy_by_class(tables["demand_forecasts"])})
    (out / "report.html").write_text(derivation_html(tables), encoding="utf-8")
    return out

