"""The house by role: no loose module at the top of the package, every package in the layers
contract, no module outside the composition root reading the wall clock, and modules small
enough to read whole."""

from __future__ import annotations

import ast
import inspect
import statistics
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lifecycle"
PYPROJECT = PACKAGE.parent / "pyproject.toml"
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "bootstrap.py", "logs.py"}
MAX_MODULE_LINES = 400
MEDIAN_MODULE_LINES = 120  # the median module stays under this
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


# What builds the service's infrastructure, and the one module allowed to call each.
BUILDERS = {
    "LeadLedger": {"bootstrap.py"},
    "ProjectionRunner": {"bootstrap.py"},
    "GroupWriter": {"bootstrap.py"},
    "read_model_engine": {"bootstrap.py"},
    "persistence_env": {"bootstrap.py"},
    "create_engine": {"storage/db.py"},  # inside `read_model_engine`, which bootstrap calls
}


def _calls(path: Path) -> set[str]:
    called = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in BUILDERS:
                called.add(name)
    return called


def test_only_the_composition_root_builds_infrastructure():
    misplaced = {
        (str(path.relative_to(PACKAGE)), name)
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in _calls(path)
        if str(path.relative_to(PACKAGE)) not in BUILDERS[name]
    }
    assert not misplaced, sorted(misplaced)


def test_every_command_takes_named_parts_not_the_whole_service():
    """Each `lifecycle` command's handler names what it takes (`bootstrap.main` gives it)."""
    from lifecycle.bootstrap import PARTS
    from lifecycle.cli import build_parser

    handlers = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        if handler := parser.get_default("handler"):
            handlers.add(handler)
        for action in parser._actions:
            if action.choices and isinstance(action.choices, dict):
                parsers.extend(action.choices.values())
    assert len(handlers) >= 15
    for handler in handlers:
        names = list(inspect.signature(handler).parameters)
        assert names[0] == "args", handler
        assert set(names[1:]) <= PARTS, (handler.__qualname__, names)


def _lines(path: Path) -> int:
    """Lines as `wc -l` counts them: newline characters."""
    return path.read_bytes().count(b"\n")


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(PACKAGE)): _lines(path) for path in PACKAGE.rglob("*.py")}
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not too_long, f"split these along their jobs: {too_long}"


def test_the_median_module_is_under_120_lines():
    median = statistics.median(_lines(path) for path in PACKAGE.rglob("*.py"))
    assert median < MEDIAN_MODULE_LINES, f"the median module has {median} lines"
