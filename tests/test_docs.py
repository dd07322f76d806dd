"""The documentation keeps up with the code: every hook, CLI command, API path and setting is
documented, the modules the plugin guide names exist, the demo's output is what the docs show,
links between the pages lead to files, and docs/index.md lists every page.
Every hook is also kept: it has an implementation (LPS's own, or a plugin's shipped in plugins/ or
drivers/) and LPS calls it.

They need no database, except the demo-output test, which runs `lps demo` on a new SQLite file.
"""
import argparse
import ast
import functools
import inspect
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from lps_core.contract import hookspecs
from lps_core.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


def read(name):
    return (DOCS / name).read_text(encoding="utf-8")


@functools.cache
def api_paths() -> list[str]:
    """The paths of the OpenAPI document, as the app builds it (no database is touched)."""
    from lps_core import main
    from lps_core.http.document import build_document
    from lps_core.testing import TEST_SETTINGS

    app = main({}, **{"sqlalchemy.url": "sqlite:///lps-docs-test-never-opened.sqlite",
                      "lps.check_outlets_on_start": "false", **TEST_SETTINGS})
    return sorted(build_document(app.registry)["paths"])


def hook_names():
    return sorted(name for name, value in vars(hookspecs).items()
                  if name.startswith("lps_") and inspect.isfunction(value))


def cli_commands(parser=None, prefix=()):
    """Every runnable command of `lps`, as word tuples such as ("apikey", "create")."""
    parser = parser or build_parser()
    commands = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                if subparser.get_default("run") is not None:
                    commands.append(" ".join(prefix + (name,)))
                commands.extend(cli_commands(subparser, prefix + (name,)))
    return commands


def test_the_lists_are_not_empty():
    assert len(hook_names()) >= 9
    assert {"db upgrade", "demo", "apikey create", "apikey revoke", "cards generate", "ledger check",
            "plugins"} <= set(cli_commands())
    assert len(api_paths()) >= 8


# --- Hooks: documented with their signature and an example, implemented, and called ---------------

HOOK_HEADING = re.compile(r"^(#+) `(lps_\w+)\(([^)]*)\)`$", re.MULTILINE)


def signature_of(hook) -> str:
    return ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)


def hook_sections() -> dict:
    """{hook: (the arguments its heading shows, the text of its section)} of docs/plugins.md."""
    text = read("plugins.md")
    headings = list(HOOK_HEADING.finditer(text))
    sections = {}
    for heading in headings:
        level = len(heading.group(1))
        following = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, heading.end())
        sections[heading.group(2)] = (heading.group(3), text[heading.end():following.start() if following else None])
    return sections


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented_with_its_signature(hook):
    sections = hook_sections()
    assert hook in sections, f"docs/plugins.md needs a heading `{hook}({signature_of(hook)})`"
    assert sections[hook][0] == signature_of(hook), \
        f"docs/plugins.md shows `{hook}({sections[hook][0]})`; the hook is `{hook}({signature_of(hook)})`"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_an_example_implementation_in_plugins_md(hook):
    section = hook_sections().get(hook, ("", ""))[1]
    assert "@hookimpl" in section and re.search(rf"def {hook}\(", section), \
        f"the section of {hook} in docs/plugins.md needs an example: @hookimpl def {hook}(...)"


def test_plugins_md_documents_no_hook_that_does_not_exist():
    assert not set(hook_sections()) - set(hook_names())


@functools.cache
def hook_uses() -> tuple[dict, dict]:
    """({hook: files implementing it}, {hook: files calling it}), read with ast from code_files():
    lps_core (its own hook implementations in lps_core/builtin among them) and the packages of the
    distributions under plugins/ and drivers/.

    An implementation is a function or method named after the hook and marked with hookimpl. A
    caller is code of lps_core outside the contract that names the hook: `pm.hook.lps_x(...)`,
    `hook.lps_x.get_hookimpls()`, or the hook's name as a string (the provider hooks are called
    through the table that maps each one to its interface)."""
    hooks = set(hook_names())
    implemented, called = {}, {}
    for path in code_files():
        where = str(path.relative_to(ROOT))
        in_core = where.startswith("lps_core/") and not where.startswith("lps_core/contract/")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for hook in implemented_hooks(node) & hooks:
                    implemented.setdefault(hook, set()).add(where)
            elif in_core and isinstance(node, ast.Attribute) and node.attr in hooks:
                called.setdefault(node.attr, set()).add(where)
            elif in_core and isinstance(node, ast.Constant) and node.value in hooks:
                called.setdefault(node.value, set()).add(where)
    return implemented, called


def implemented_hooks(function) -> set:
    """The hooks a function implements: its own name, or the specname its hookimpl names."""
    found = set()
    for decorator in function.decorator_list:
        if "hookimpl" not in ast.unparse(decorator):
            continue
        keywords = {k.arg: k.value for k in decorator.keywords} if isinstance(decorator, ast.Call) else {}
        specname = keywords.get("specname")
        found.add(specname.value if isinstance(specname, ast.Constant) else function.name)
    return found


def test_the_hook_scan_reads_specnames():
    module = ast.parse("@hookimpl\ndef lps_tenders(): ...\n"
                       "@hookimpl(specname='lps_on_bill_posted')\ndef grant_bonus(posted): ...\n"
                       "def lps_settings(): ...\n")
    assert [implemented_hooks(function) for function in module.body] == [
        {"lps_tenders"}, {"lps_on_bill_posted"}, set()]


def test_the_hook_scan_finds_implementations_and_callers():
    implemented, called = hook_uses()
    assert "plugins/lps-base-rate/lps_base_rate/__init__.py" in implemented["lps_earning_formulas"]
    assert any(path.startswith("lps_core/") for path in implemented["lps_receipt_templates"])
    assert "lps_core/earning/services.py" in called["lps_on_points_posted"]


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_an_implementation(hook):
    """A hook that nothing implements is a promise nobody keeps: LPS implements it itself, or an
    example plugin under plugins/ or drivers/ shows how."""
    assert hook_uses()[0].get(hook), f"nothing in lps_core, plugins/ or drivers/ implements {hook}"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_called_by_lps(hook):
    assert hook_uses()[1].get(hook), f"nothing in lps_core calls {hook}: a plugin implementing it would never run"


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_in_install_md(command):
    assert f"lps {command}" in read("install.md"), f"docs/install.md does not describe `lps {command}`"


@pytest.mark.parametrize("path", api_paths())
def test_every_api_path_is_in_api_md(path):
    assert path in read("api.md"), f"docs/api.md does not describe {path}"


# --- Settings: every lps.* setting the code reads is in docs/configuration.md ----------------------

ROOT = DOCS.parent
SETTING = re.compile(r"lps\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\.?")


def code_files():
    """LPS's own modules and those of the plugins and drivers shipped with it."""
    for folder in [ROOT / "lps_core", *ROOT.glob("plugins/*/lps_*"), *ROOT.glob("drivers/*/lps_*")]:
        yield from folder.rglob("*.py")


def _is_settings(node) -> bool:
    return "settings" in ast.unparse(node)


def settings_read_by_the_code() -> tuple[set, set]:
    """(settings, prefixes): the names read from the settings, and the prefixes of names that are
    composed at run time (f"lps.points.{key}", PREFIX + key, per-outlet keys).

    A name is read from the settings when it is the key of a subscript or of .get/.setdefault/.pop
    on an expression that names `settings`, or an argument of a call that is also given
    `settings` (helpers such as `_positive_int(settings, "lps.session.idle_timeout", 1800)`). The
    prefix of a plugin's declared settings (`SettingsDeclaration("lps.email.", EmailSettings)`) is a
    family of settings.
    Registry keys (registry["lps.programme"]) and logger names are not settings."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in code_files()]
    constants = {}
    for tree in trees:
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                    and SETTING.fullmatch(node.value.value)):
                constants[node.targets[0].id] = node.value.value

    def resolve(node):
        """("name", value) for a whole name, ("prefix", value) for a composed one, or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SETTING.fullmatch(node.value):
            return ("prefix" if node.value.endswith(".") else "name", node.value)
        if isinstance(node, ast.Name) and node.id in constants:
            return resolve(ast.Constant(constants[node.id]))
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], (ast.Constant, ast.FormattedValue)):
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) else None
            if isinstance(first, ast.FormattedValue):
                found = resolve(first.value)
                text = found[1] if found else None
            if text and SETTING.fullmatch(text) and len(node.values) > 1:
                return ("prefix", text if text.endswith(".") else text + ".")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            found = resolve(node.left)
            if found:
                return ("prefix", found[1] if found[1].endswith(".") else found[1] + ".")
        return None

    names, prefixes = set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            keys = []
            if isinstance(node, ast.Subscript) and _is_settings(node.value):
                keys = [node.slice]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                    and node.func.attr in ("get", "setdefault", "pop") and _is_settings(node.func.value):
                keys = [node.args[0]]
            elif isinstance(node, ast.Call) and any(_is_settings(arg) for arg in node.args):
                keys = [arg for arg in node.args if not _is_settings(arg)]
            elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("SettingsDeclaration") and node.args:
                keys = [node.args[0]]  # the prefix a plugin declares its keys under (lps_settings)
            for key in keys:
                found = resolve(key)
                if found:
                    (names if found[0] == "name" else prefixes).add(found[1])
    return names, prefixes


def documented_settings() -> set:
    return set(re.findall(r"`(lps\.[^`\s]+)`", read("configuration.md")))


def test_the_settings_scan_finds_settings_of_every_kind():
    names, prefixes = settings_read_by_the_code()
    # a literal key, a constant, a helper's argument, the plugins' own and composed names
    assert {"lps.timezone", "lps.currency", "lps.session.idle_timeout", "lps.members.dormant_after_months",
            "lps.pii.keys", "lps.postings.max_backdate_days"} <= names
    assert {"lps.points.", "lps.email."} <= prefixes
    assert not {"lps.programme", "lps.plugins", "lps.labels"} & names, "registry keys are not settings"


@pytest.mark.parametrize("setting", sorted(settings_read_by_the_code()[0]))
def test_every_setting_read_by_the_code_is_in_configuration_md(setting):
    assert setting in documented_settings(), f"docs/configuration.md does not describe the setting {setting}"


@pytest.mark.parametrize("prefix", sorted(settings_read_by_the_code()[1]))
def test_every_family_of_settings_is_in_configuration_md(prefix):
    assert any(name.startswith(prefix) for name in documented_settings()), \
        f"docs/configuration.md describes no setting {prefix}*"


# --- docs/plugins.md names only modules that exist ----------------------------------------------

# Names that look like modules but are not: the plugin names of LPS's own entry points
# (`lps_tenders`, `lps_listeners`...), and a parameter of an example.
NOT_MODULES = {ep.name for ep in entry_points(group="lps")} | {"lps_points"}


def module_names_in(text) -> set:
    """Dotted names of LPS's and the plugins' modules: `lps_core.x.y`, `lps_email`, `lps_rooms.X`...;
    hook names (`lps_earning_formulas`, `lps_on_<event>`) are not modules."""
    names = set(re.findall(r"\b(lps_core(?:\.[A-Za-z_]\w*)*)", text))
    names |= set(re.findall(r"\b(lps_[a-z0-9_]+(?:\.[A-Za-z_]\w*)+)", text))
    names |= set(re.findall(r"(?:`|import |from )(lps_[a-z0-9_]+)\b", text))
    hooks = set(hook_names())
    return {name for name in names
            if name.split(".")[0] not in hooks and not name.startswith("lps_on_") and name not in NOT_MODULES}


def importable(name) -> bool:
    """A module, or an attribute of a module (lps_core.contract.ITierModel)."""
    import importlib

    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        target = module
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_plugins_md_names_modules():
    assert {"lps_core.contract", "lps_core.testing"} <= module_names_in(read("plugins.md"))


@pytest.mark.parametrize("name", sorted(module_names_in(read("plugins.md"))))
def test_every_module_plugins_md_names_exists(name):
    assert importable(name), f"docs/plugins.md names {name}, which does not exist"


# --- The plugin docs' examples keep to the contract ------------------------------------------------

def python_examples() -> list[tuple[str, str]]:
    """(where, code) of every Python example written for plugin authors: the plugin pages, the tier
    model chapter and each shipped distribution's README (pshell sessions left out)."""
    pages = [DOCS / "plugins.md", DOCS / "writing-a-plugin.md", DOCS / "tiers.md",
             *ROOT.glob("plugins/*/README.md"), *ROOT.glob("drivers/*/README.md")]
    examples = []
    for page in pages:
        for number, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)):
            if not code.lstrip().startswith(">>>"):
                examples.append((f"{page.relative_to(ROOT)} example {number + 1}", code))
    return examples


@pytest.mark.parametrize(("where", "code"), python_examples(), ids=[where for where, _ in python_examples()])
def test_plugin_examples_are_python_that_imports_only_the_contract(where, code):
    tree = ast.parse(code, filename=where)
    imported = [node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else [None])]
    outside = [name for name in imported if name and name.startswith("lps_core")
               and name.split(".")[:2] not in (["lps_core", "contract"], ["lps_core", "testing"])]
    assert not outside, f"{where} imports {', '.join(outside)}: a plugin imports only lps_core.contract"


# --- The README's demo output is what `lps demo` prints ------------------------------------------

DEMO_OUTPUTS = {
    "README.md": r"Its output ends like this:\n\n```text\n(.*?)\n```",
    "docs/install.md": r"```console\n\$ lps demo\n(.*?)\n```",
}


def shown_demo_output(name) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    block = re.search(DEMO_OUTPUTS[name], text, re.DOTALL)
    assert block, f"{name} has no block of `lps demo` output"
    return block.group(1).split("\n")


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory) -> list[str]:
    """What `lps demo` prints on a fresh SQLite database, as `make run` runs it."""
    import subprocess
    import sys

    from lps_core.testing import TEST_INI_LINES

    folder = tmp_path_factory.mktemp("demo")
    ini = folder / "demo.ini"
    ini.write_text("[app:main]\nuse = egg:lps\nsqlalchemy.url = sqlite:///%(here)s/lps.sqlite\n"
                   f"lps.plugins.required = base_rate\n{TEST_INI_LINES}", encoding="utf-8")
    lps = Path(sys.executable).parent / "lps"
    subprocess.run([lps, "-c", ini, "db", "upgrade"], check=True, capture_output=True)
    return subprocess.run([lps, "-c", ini, "demo"], check=True, capture_output=True,
                          text=True).stdout.rstrip("\n").split("\n")


@pytest.mark.parametrize("name", sorted(DEMO_OUTPUTS))
def test_the_docs_show_what_lps_demo_prints(demo_output, name):
    """Line by line, the API key aside; a line "  ..." in the docs stands for lines left out."""
    shown = shown_demo_output(name)
    key = re.compile(r"lps_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
    printed = [key.sub("<key>", line) for line in demo_output]
    position, after_gap = 0, False
    for line in shown:
        if line.strip() == "...":
            after_gap = True
            continue
        expected = key.sub("<key>", line)
        assert expected in printed[position:], \
            f"{name} shows {line!r}, which `lps demo` no longer prints (after line {position})"
        skipped = printed[position:].index(expected)
        assert skipped == 0 or after_gap, f"`lps demo` prints {printed[position]!r} where {name} shows {line!r}"
        position, after_gap = position + skipped + 1, False
    assert position == len(printed), f"{name} leaves out the end of what `lps demo` prints"


# --- Links between the pages lead somewhere, and the index lists every page ------------------------

ROOT_PAGES = [DOCS.parent / "README.md", DOCS.parent / "CHANGELOG.md", DOCS.parent / "bench" / "README.md",
              *DOCS.rglob("*.md"), *DOCS.parent.glob("plugins/*/README.md"), *DOCS.parent.glob("drivers/*/README.md")]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    """The targets of a page's Markdown links to files of the checkout (no scheme, no bare anchor),
    without their #anchor; fenced code left out, as a `](` there is not a link."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    targets = (target.split("#")[0] for target in LINK.findall(text))
    return [target for target in targets if target and ":" not in target]


def test_the_link_scan_finds_links_and_leaves_out_addresses_and_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[a](docs/a.md#part) [b](https://example.com/b.md) [c](#here)\n"
                    "```text\n[d](not/a/link.md)\n```\n![e](images/e.png)\n", encoding="utf-8")
    assert relative_links(page) == ["docs/a.md", "images/e.png"]


@pytest.mark.parametrize("page", ROOT_PAGES, ids=lambda page: str(page.relative_to(DOCS.parent)))
def test_every_link_between_pages_leads_to_a_file(page):
    missing = [target for target in relative_links(page) if not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(DOCS.parent)} links to {', '.join(missing)}, which do not exist"


def test_the_index_lists_every_page_and_the_readme_leads_to_it():
    listed = set(relative_links(DOCS / "index.md"))
    pages = {path.name for path in DOCS.glob("*.md")} - {"index.md"}
    assert not pages - listed, f"docs/index.md does not list {', '.join(sorted(pages - listed))}"
    assert "docs/index.md" in relative_links(DOCS.parent / "README.md")
