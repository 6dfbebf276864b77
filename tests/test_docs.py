"""The README stays true: its two opening commands, its data contract and its benchmark tables."""

from benchmarks.run import readme_block
from planner.contract.docs import inputs_markdown, outputs_markdown
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_contract_is_the_schema():
    section = README.split("## The data contract", 1)[1]
    assert inputs_markdown().strip() in section


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
