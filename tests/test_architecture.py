"""The house by role: no loose module at the top of the package, every package in the layers
contract, no module outside the composition root reading the wall clock, and modules small
enough to read whole."""

from __future__ import annotations

import ast
import statistics
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lifecycle"
PYPROJECT = PACKAGE.parent / "pyproject.toml"
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "bootstrap.py", "logs.py"}
MAX_MODULE_LINES = 400
MEDIAN_MODULE_LINES = 120  # the median module stays under this
# Being split on a branch of its own (issue 15): remove it from here when that merges.
SPLIT_PENDING = {"app/ledger.py"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def test_the_top_of_the_package_holds_only_the_composition_root_and_the_log_set_up():
    loose = {path.name for path in PACKAGE.glob("*.py")} - TOP_LEVEL_MODULES
    assert not loose, f"put these in the package of their role: {sorted(loose)}"


def test_every_package_is_in_the_layers_contract():
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [contract["layers"] for contract in contracts if contract["type"] == "layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {f"lifecycle.{path.parent.name}" for path in PACKAGE.glob("*/__init__.py")}
    modules = {f"lifecycle.{path.stem}" for path in PACKAGE.glob("*.py")} - {
        "lifecycle.__init__",
        "lifecycle.__main__",
    }
    assert packages | modules <= layered, sorted((packages | modules) - layered)


def _clock_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in CLOCK_CALLS
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_composition_root_reads_the_wall_clock():
    readers = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := _clock_reads(path))
    }
    assert set(readers) <= ALLOWED_CLOCK_READERS, readers


ALLOWED_CLOCK_READERS = {"bootstrap.py"}


def _lines(path: Path) -> int:
    """Lines as `wc -l` counts them: newline characters."""
    return path.read_bytes().count(b"\n")


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(PACKAGE)): _lines(path) for path in PACKAGE.rglob("*.py")}
    too_long = {
        name: lines
        for name, lines in sizes.items()
        if lines > MAX_MODULE_LINES and name not in SPLIT_PENDING
    }
    assert not too_long, f"split these along their jobs: {too_long}"


def test_the_median_module_is_under_120_lines():
    median = statistics.median(_lines(path) for path in PACKAGE.rglob("*.py"))
    assert median < MEDIAN_MODULE_LINES, f"the median module has {median} lines"
