"""The README stays true: its two opening commands, its data contract and its benchmark tables."""

import ast
import re
from pathlib import Path

from benchmarks.run import readme_block
from planner.contract.docs import crm_markdown, inputs_markdown, outputs_markdown
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_contract_is_the_schema():
    section = README.split("## The data contract", 1)[1]
    assert inputs_markdown().strip() in section


def test_readme_crm_tables_are_the_declarations():
    assert crm_markdown().strip() in README


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    blocks = [b.split("```", 1)[0].strip() for b in README.split("```bash\n")[1:3]]
    assert "planner solve instances/demo --out out/demo" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1] in ci


def test_readme_plan_section_is_the_output_contract():
    section = README.split("## How to read the plan", 1)[1].split("\n## ", 1)[0]
    assert outputs_markdown().strip() in section


def test_readme_benchmark_tables_are_the_latest_results():
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    assert readme_block(results) in README


def claims():
    """(quote, [test ids]) of every row of docs/claims.md."""
    rows = []
    for line in (ROOT / "docs" / "claims.md").read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| the README says"):
            quote, tests = line[2:-2].rsplit(" | ", 1)
            rows.append((quote, re.findall(r"`([^`]+::[^`]+)`", tests)))
    return rows


def defined_tests(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_claim_in_the_register_is_in_the_readme_and_names_tests_that_exist():
    rows = claims()
    assert len(rows) >= 60
    readme = " ".join(README.split())
    for quote, tests in rows:
        assert " ".join(quote.split()) in readme, f"not in the README any more: {quote!r}"
        assert tests, f"no test named for {quote!r}"
        for test in tests:
            path, name = test.split("::")
            assert name in defined_tests(ROOT / path), f"{test} (for {quote!r}) does not exist"
