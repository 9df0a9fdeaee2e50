"""Who may import whom, read from the source with `ast` (function-level imports included):

- the shipped packages import neither the harness (`dropship_testkit`, `tests`) nor, for the pipelines and
  the dashboard, the simulated world (`dropship_sandbox`): only the harness starts a sandbox;
- the harness and the benchmarks import nothing from `tests/`: what they share lives in `dropship_testkit`.
"""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "dropship_pipelines": {"dropship_sandbox", "dropship_testkit", "tests"},
    "dashboard": {"dropship_sandbox", "dropship_testkit", "tests"},
    "dropship_sandbox": {"dropship_testkit", "tests"},
    "dropship_testkit": {"tests"},
    "benchmarks": {"tests"},
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the module."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    modules = [p for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts]
    assert modules, f"{package}/ holds no Python module"
    breaches = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in modules
        for line, imported in sorted(imported_packages(path))
        if imported in FORBIDDEN[package]
    ]
    assert not breaches, "\n".join(breaches)


def test_the_wheel_leaves_the_harness_out() -> None:
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "dropship_testkit" not in wheel["packages"] and "tests" not in wheel["packages"]
