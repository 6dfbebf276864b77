"""The layers hold: imports flow one way (import-linter's contracts in pyproject.toml), no module
hides an import inside a function, and none reaches for another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

from importlinter.application.use_cases import SUCCESS, lint_imports
from importlinter.configuration import configure

from tests.conftest import ROOT

PACKAGES = ["planner", "models", "api", "instances", "benchmarks"]
SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _lint(config: Path) -> bool:
    configure()
    return lint_imports(config_filename=str(config), cache_dir=None, no_logo=True, is_debug_mode=True) == SUCCESS


def test_import_contracts_are_kept():
    assert _lint(ROOT / "pyproject.toml")


def test_a_broken_layer_is_caught(tmp_path):
    """Turned upside down (the contract above the solve layer), the same code breaks the contract."""
    config = tmp_path / "upside_down.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["planner", "models"]\n\n[[tool.importlinter.contracts]]\nname = "upside down"\n'
        'type = "layers"\nlayers = ["planner.contract", "planner.solve"]\n'
    )
    assert not _lint(config)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def hidden_imports(path: Path) -> list[str]:
    """Imports inside a function body."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [f"{path.name}:{n.lineno}" for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def _project(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in PACKAGES + ["tests"]


def private_names(path: Path) -> list[str]:
    """Private names (``_x``) of other project modules: imported, or reached as ``module._x``."""
    tree = _tree(path)
    found = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _project(node.module):
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if alias.name.startswith("_"):
                    found.append(f"{path.name}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _project(alias.name):
                    imported.add(alias.asname or alias.name.split(".")[0])
                    if any(part.startswith("_") and not part.startswith("__") for part in alias.name.split(".")):
                        found.append(f"{path.name}: import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_import_inside_a_function():
    """Every import at the top of its module, where a reader sees what the module depends on."""
    assert [f for p in SOURCES for f in hidden_imports(p)] == []


def test_no_private_name_of_another_module():
    assert [f for p in SOURCES for f in private_names(p)] == []


def test_the_scans_find_what_they_look_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from planner.contract import _hidden\nimport planner.report as report\n\ndef f():\n    import os\n    return report._png\n")
    assert hidden_imports(bad) == ["bad.py:5"]
    assert private_names(bad) == ["bad.py: from planner.contract import _hidden", "bad.py:6: report._png"]
    assert len(SOURCES) > 60  # the scans read the whole product
