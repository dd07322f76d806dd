"""The layers of lps_core, read from the source: the staff screens sit on top (nothing outside
lps_core.screens imports them), and views are declared only by the JSON API (lps_core.http), the
staff screens and the members' portal, so a service never turns into a view by accident."""
import ast
from pathlib import Path

import lps_core

PACKAGE = Path(lps_core.__file__).resolve().parent
VIEW_LAYERS = ("http", "screens", "portal")


def modules():
    """(path inside lps_core, imported module names) of every module, imports inside functions too."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if "migrations" in relative.parts:
            continue
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        yield relative, imported


def within(name, package) -> bool:
    return name == package or name.startswith(package + ".")


def test_nothing_outside_the_screens_imports_them():
    offenders = {str(path): sorted(name for name in imported if within(name, "lps_core.screens"))
                 for path, imported in modules() if path.parts[0] != "screens"}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_views_are_declared_only_by_the_api_and_the_screens():
    offenders = {str(path): sorted(name for name in imported
                                   if within(name, "pyramid.view") or name.endswith(".view_config"))
                 for path, imported in modules() if path.parts[0] not in VIEW_LAYERS}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_layer_check_sees_a_screen_import():
    """The walk above would notice an offender: a screen module imports both kinds of names."""
    imported = dict(modules())[Path("screens/desk/views.py")]
    assert any(within(name, "lps_core.screens") for name in imported)
    assert any(within(name, "pyramid.view") for name in imported)
