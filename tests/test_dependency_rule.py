"""The domain is pure: it imports the standard library, eventsourcing's domain module,
python-statemachine, holidays and phonenumbers (rules as data) — nothing of infrastructure
and nothing else of ours."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "lifecycle" / "domain"
ALLOWED_THIRD_PARTY = {"eventsourcing.domain", "statemachine", "holidays", "phonenumbers"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def is_allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(module == allowed or module.startswith(f"{allowed}.") for allowed in
               ALLOWED_THIRD_PARTY)  # fmt: skip


def test_the_domain_imports_no_infrastructure():
    offenders = {
        f"{path.name}: {module}"
        for path in DOMAIN.glob("*.py")
        for module in imported_modules(path)
        if not is_allowed(module)
    }
    assert not offenders, f"the domain must stay pure, but imports {sorted(offenders)}"


def test_the_domain_reaches_nothing_of_ours_outside_the_domain():
    outside = {
        f"{path.name}: {'.' * node.level}{node.module}"
        for path in DOMAIN.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level > 1
    }
    assert not outside
