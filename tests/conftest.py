from __future__ import annotations

import copy
from pathlib import Path

import pytest

from planner.contract.loading import read_tables
from planner.jobs.pipeline import plan_instance
from planner.solve.highs import SolveOptions
from planner.contract.validation import validate

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TINY = ROOT / "instances" / "tiny"
DEMO = ROOT / "instances" / "demo"


def instance_of(raw):
    report = validate(raw)
    assert report.ok, [str(p) for p in report.errors]
    return report.instance


def solve_raw(raw, mip_gap: float = 0.0, **kw):
    return plan_instance(instance_of(raw), SolveOptions(mip_gap=mip_gap, **kw))


@pytest.fixture
def tiny_raw():
    return copy.deepcopy(read_tables(TINY))


def minimal_raw(**over):
    """One product, one supplier, one segment, two periods: a base to vary in small tests."""
    raw = {
        "products": [{"product": "P", "holding_cost": 1, "initial_inventory": 0, "unit_volume": 1}],
        "segments": [{"segment": "A", "lost_sale_penalty": 0, "cost_to_serve": 0}],
        "service_tiers": [{"segment": "A", "tier": "base", "fill_rate": 0, "cycle_service_level": 0.5}],
        "demand": [
            {"segment": "A", "product": "P", "period": "1", "quantity": 10, "std": 0, "price": 20},
            {"segment": "A", "product": "P", "period": "2", "quantity": 10, "std": 0, "price": 20},
        ],
        "suppliers": [{"supplier": "K", "lead_time": 0, "fixed_cost": 0, "capacity": 100}],
        "supplier_products": [{"supplier": "K", "product": "P", "unit_cost": 5}],
    }
    raw.update(copy.deepcopy(over))
    return raw


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the long property tests (marked slow)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long run of a property test; runs with --slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long property run: pytest --slow runs it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
