"""Plugins import only the contract: every distribution under plugins/ and drivers/ reaches LPS
through lps_core.contract alone (its tests may also load the fixtures of lps_core.testing), so
anything else in lps_core can change without breaking a plugin.

Imports are read with `ast` from every .py file of a distribution, its tests included: `import`
and `from ... import` statements anywhere in a module, `importlib.import_module("...")` and
`__import__("...")` with a literal name, and the names listed in `pytest_plugins`.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = "lps_core.contract"
TESTING = "lps_core.testing"
NOT_SOURCE = ("build", "dist", "__pycache__")


def distributions() -> list[Path]:
    return sorted(path.parent for folder in ("plugins", "drivers") for path in (ROOT / folder).glob("*/setup.cfg"))


def source_files(distribution: Path) -> list[Path]:
    return sorted(path for path in distribution.rglob("*.py")
                  if not any(part in NOT_SOURCE or part.endswith(".egg-info")
                             for part in path.relative_to(distribution).parts[:-1]))


def is_test_file(path: Path, distribution: Path) -> bool:
    relative = path.relative_to(distribution)
    return "tests" in relative.parts[:-1] or path.name.startswith("test_") or path.name == "conftest.py"


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of everything a module imports, wherever the import is written."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from lps_core import contract` imports the module lps_core.contract; `from lps_core
            # import hookimpl` takes a name of lps_core itself, which is not the contract.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and _calls_an_importer(node.func) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytest_plugins"
                                                  for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            found += [(node.lineno, value.value) for value in values
                      if isinstance(value, ast.Constant) and isinstance(value.value, str)]
    return found


def _calls_an_importer(func) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in ("import_module", "__import__")


def allowed(name: str, *, in_tests: bool) -> bool:
    if name != "lps_core" and not name.startswith("lps_core."):
        return True
    within = (lambda module: name == module or name.startswith(module + "."))
    return within(CONTRACT) or (in_tests and within(TESTING))


def forbidden_imports(path: Path, distribution: Path) -> list[str]:
    in_tests = is_test_file(path, distribution)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for line, name in imported_names(tree) if not allowed(name, in_tests=in_tests)]


def test_the_scan_finds_the_distributions_and_their_files():
    names = {path.name for path in distributions()}
    assert {"lps-base-rate", "lps-rooms", "lps-posting-log", "lps-receipt-classic"} <= names
    assert any(path.parent.name == "drivers" for path in distributions())
    rooms = ROOT / "plugins" / "lps-rooms"
    assert rooms / "lps_rooms" / "__init__.py" in source_files(rooms)


@pytest.mark.parametrize("distribution", distributions(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_a_distribution_imports_only_the_contract_from_lps_core(distribution):
    problems = [problem for path in source_files(distribution) for problem in forbidden_imports(path, distribution)]
    assert not problems, ("a plugin may import only lps_core.contract (and its tests lps_core.testing):\n"
                          + "\n".join(problems))


# The checker itself, on modules written for the purpose.

FORBIDDEN_FORMS = [
    "import lps_core",
    "import lps_core.money",
    "import lps_core.contract, lps_core.money",
    "from lps_core import hookimpl",
    "from lps_core import money",
    "from lps_core.money import format_cents",
    "from lps_core.contracts import hookimpl",
    "def later():\n    from lps_core.earning.models import Bill",
    "import importlib\nimportlib.import_module('lps_core.timeutil')",
    "from importlib import import_module\nimport_module('lps_core.plugins')",
    "__import__('lps_core.cards.luhn')",
    "pytest_plugins = ['lps_core.testing']",
    "from lps_core.testing import TEST_SETTINGS",
]
ALLOWED_FORMS = [
    "import lps_core.contract",
    "from lps_core import contract",
    "from lps_core.contract import hookimpl, IEarningFormula",
    "from lps_core.contract.tenders import TenderLine",
    "from . import templates",
    "import lps_corefake, pluggy",
]


@pytest.mark.parametrize("source", FORBIDDEN_FORMS)
def test_the_checker_refuses_every_way_of_reaching_past_the_contract(source):
    names = [name for _, name in imported_names(ast.parse(source))]
    assert not all(allowed(name, in_tests=False) for name in names), source


@pytest.mark.parametrize("source", ALLOWED_FORMS)
def test_the_checker_lets_the_contract_and_other_packages_through(source):
    assert all(allowed(name, in_tests=False) for _, name in imported_names(ast.parse(source))), source


def test_tests_may_also_load_the_testing_fixtures_but_nothing_else():
    fixtures = ast.parse("pytest_plugins = ['lps_core.testing']\nfrom lps_core.testing import TEST_SETTINGS")
    assert all(allowed(name, in_tests=True) for _, name in imported_names(fixtures))
    assert not allowed("lps_core.plugins", in_tests=True)
    assert not allowed("lps_core.testing_helpers", in_tests=True)


def test_only_files_of_a_tests_folder_or_named_as_tests_count_as_tests(tmp_path):
    assert is_test_file(tmp_path / "tests" / "helpers.py", tmp_path)
    assert is_test_file(tmp_path / "test_x.py", tmp_path)
    assert not is_test_file(tmp_path / "lps_x" / "__init__.py", tmp_path)
    assert not is_test_file(tmp_path / "lps_x" / "testing.py", tmp_path)
