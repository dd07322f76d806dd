"""`lps plugin new NAME --kind ...`: each kind's distribution is written into a temporary folder,
installed with pip into a folder of its own (as tests/test_plugin_distribution.py installs one),
and its own generated tests run against the installed copy and pass; they fail once the component
breaks its contract. Every file imports nothing of LPS but lps_core.contract
(tests/test_plugin_boundary.py's rules), and the templates ship in LPS's wheel as package data."""
import configparser
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from lps_core.cli import main
from lps_core.plugins.scaffold import KINDS, TEMPLATES, PluginNames, create_distribution

ROOT = Path(__file__).resolve().parent.parent


def boundary():
    """tests/test_plugin_boundary.py, loaded by path: its import reader and its rule."""
    spec = importlib.util.spec_from_file_location("plugin_boundary_rules", ROOT / "tests" / "test_plugin_boundary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pip_install(source: Path, target: Path):
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)]
    if importlib.util.find_spec("wheel") is not None:
        command.insert(-1, "--no-build-isolation")  # setuptools and wheel are at hand: build offline
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def run_tests(distribution: Path, target: Path) -> subprocess.CompletedProcess:
    """The distribution's own tests, run from outside it so the installed copy is the one imported."""
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(target), "HOME": str(target)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(distribution / "tests")],
                          capture_output=True, text=True, timeout=300, cwd=distribution.parent, env=env)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_a_working_distribution_whose_tests_pass_once_installed(tmp_path, kind):
    names, distribution, written = create_distribution(f"grand-{kind}", kind, tmp_path / "src")
    assert distribution == tmp_path / "src" / f"lps-grand-{kind}"
    assert {path.relative_to(distribution).as_posix() for path in written} >= {
        "setup.cfg", "pyproject.toml", "README.md", f"lps_grand_{kind}/__init__.py", f"tests/test_lps_grand_{kind}.py"}
    setup = configparser.ConfigParser()
    setup.read(distribution / "setup.cfg")
    assert setup["metadata"]["name"] == f"lps-grand-{kind}"
    assert setup["options.entry_points"]["lps"].strip() == f"grand_{kind} = lps_grand_{kind}"

    rules = boundary()
    for path in distribution.rglob("*.py"):
        names_imported = [name for _, name in rules.imported_names(rules.ast.parse(path.read_text()))]
        in_tests = rules.is_test_file(path, distribution)
        assert all(rules.allowed(name, in_tests=in_tests) for name in names_imported), (path, names_imported)
        assert any(name.startswith("lps_core.contract") for name in names_imported) or path.name == "book.py"

    target = tmp_path / "site"
    pip_install(distribution, target)
    result = run_tests(distribution, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert f"{names.plugin}" in (distribution / "README.md").read_text()


def test_the_generated_tests_fail_when_the_component_breaks_its_contract(tmp_path):
    _, distribution, _ = create_distribution("broken-rate", "formula", tmp_path / "src")
    target = tmp_path / "site"
    pip_install(distribution, target)
    installed = target / "lps_broken_rate" / "__init__.py"
    installed.write_text(installed.read_text().replace("ROUND_FLOOR))", "ROUND_FLOOR)) + 1"))
    result = run_tests(distribution, target)
    assert result.returncode == 1 and "test_points_per_unit_rounded_down" in result.stdout


def test_the_command_writes_the_distribution_and_refuses_a_bad_name_or_an_existing_folder(tmp_path, capsys):
    assert main(["plugin", "new", "sky-miles", "--kind", "exchange", "--dir", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert str(tmp_path / "lps-sky-miles" / "lps_sky_miles" / "__init__.py") in printed.out
    assert "pip install -e" in printed.err
    assert main(["plugin", "new", "lps-sky-miles", "--kind", "tender", "--dir", str(tmp_path)]) == 1
    assert "exists already" in capsys.readouterr().err
    for bad in ("Sky Miles", "9lives", "sky_miles", "x" * 41):
        assert main(["plugin", "new", bad, "--kind", "tender", "--dir", str(tmp_path)]) == 1
        assert "NAME must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["plugin", "new", "sky-miles", "--kind", "voucher", "--dir", str(tmp_path)])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lps-sky-miles"]


def test_names_follow_the_plugin_name():
    names = PluginNames.of("lps-grand-miles", "exchange")
    assert (names.distribution, names.package, names.plugin, names.class_name, names.prefix) == (
        "lps-grand-miles", "lps_grand_miles", "grand_miles", "GrandMiles", "lps.grand_miles.")


def test_the_templates_are_package_data_of_the_wheel():
    """setup.cfg makes every folder under lps_core a package and every file package data; the
    templates are not Python modules (so nothing compiles or collects them) and sit in that tree."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["options"]["packages"].strip() == "find_namespace:"
    assert setup["options.package_data"]["*"].strip() == "*"
    templates = list(TEMPLATES.rglob("*.tmpl"))
    assert {path.relative_to(TEMPLATES).parts[0] for path in templates} == {"common", *KINDS}
    assert not list(TEMPLATES.rglob("*.py"))
