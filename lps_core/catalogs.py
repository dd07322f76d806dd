"""The message catalogs of the staff screens: extract, merge, compile and check them.

    python -m lps_core.catalogs update [DOMAIN...]  # after changing texts: new messages into the .po files, .mo compiled
    python -m lps_core.catalogs check     # exit 1 if a text lacks a translation or a .mo is stale

Texts are found by lingua (i18n:translate in templates, `_()` in Python), one domain at a time;
Babel merges and compiles. The translator edits lps_core/locale/<locale>/LC_MESSAGES/<domain>.po
and runs `update` again (docs/translating.md). `make catalogs` runs `update`."""
import ast
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE / "locale"
LOCALES = ("zh_CN",)


def domains() -> list[str]:
    """Every domain named by a template (i18n:domain="..."), `lps` first."""
    found = {"lps"}
    for template in PACKAGE.rglob("*.pt"):
        text = template.read_text(encoding="utf-8")
        for part in text.split('i18n:domain="')[1:]:
            found.add(part.split('"', 1)[0])
    return sorted(found, key=lambda name: (name != "lps", name))


def extract(domain):
    """The domain's messages, as a Babel catalog, straight from the sources.

    lingua puts a Python message that names no domain (`_()` of lps_core.i18n) into every domain;
    those belong to `lps` only, so the other domains take from Python only what a call names them
    for (`dgettext("lps_members", ...)`), and from templates everything marked in their domain. A
    text may be both: "Members" is `_()` in the menu and `dgettext("lps_analytics", ...)` in a
    table, and then it is a message of both domains."""
    sources = sorted(str(path.relative_to(PACKAGE.parent)) for pattern in ("*.pt", "*.py")
                     for path in PACKAGE.rglob(pattern) if "migrations" not in path.parts)
    templates = [source for source in sources if source.endswith(".pt")]
    python = [source for source in sources if source.endswith(".py")]
    catalog = _run_lingua(domain, templates)
    from_python = _run_lingua(domain, python)
    if domain != "lps":
        named = _named_in_python(domain, python)
        from_python = [message for message in from_python if message.context is None and message.id in named]
    for message in from_python:
        if message.id and catalog.get(message.id, message.context) is None:
            catalog[message.id] = message
    return catalog


def _named_in_python(domain, sources) -> set[str]:
    """The texts of every `dgettext(domain, "text", ...)` call in the Python sources."""
    named = set()
    for source in sources:
        tree = ast.parse((PACKAGE.parent / source).read_text(encoding="utf-8"), source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "dgettext" \
                    and len(node.args) >= 2 and all(isinstance(arg, ast.Constant) for arg in node.args[:2]) \
                    and node.args[0].value == domain:
                named.add(node.args[1].value)
    return named


def _key(message):
    """A message's identity: its text and its context (msgctxt), so that "active" of a card and
    "active" of a promotion are two messages with two translations."""
    return message.id, message.context


def _run_lingua(domain, sources):
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        subprocess.run([str(Path(sys.executable).with_name("pot-create")), "--no-location", "-d", domain,
                        "-o", str(pot), *sources], check=True, cwd=PACKAGE.parent, capture_output=True)
        with pot.open("rb") as handle:
            return read_po(handle, domain=domain)


def po_path(locale, domain) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(locale, domain):
    path = po_path(locale, domain)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain)


def _read_mo(path):
    with path.open("rb") as handle:
        return read_mo(handle)


def _translations(catalog) -> dict:
    """What a catalog translates, compared by content: Babel releases lay out a compiled catalog's
    bytes differently, so bytes would flag a catalog compiled by another release as stale."""
    return {(message.id, _text(message.context)): message.string for message in catalog
            if message.id and message.string and not message.fuzzy}


def _text(context):
    return context.decode() if isinstance(context, bytes) else context  # Babel 2.18's read_mo gives bytes


def compiled(catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def update(only=()):
    for domain in domains():
        if only and domain not in only:
            continue
        template = extract(domain)
        for locale in LOCALES:
            catalog = read_catalog(locale, domain)
            if catalog is None:
                from babel.messages.catalog import Catalog

                catalog = Catalog(locale=locale, domain=domain)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.creation_date = created  # no churn in the header when only texts change
            catalog.project, catalog.version, catalog.copyright_holder = "LPS", "1", "the LPS authors"
            catalog.fuzzy = False
            path = po_path(locale, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True)
            path.with_suffix(".mo").write_bytes(compiled(read_catalog(locale, domain)))
            print(f"{path.relative_to(PACKAGE.parent)}: {len(catalog)} messages")


def problems() -> list[str]:
    """Texts without a translation, and compiled catalogs that differ from their .po."""
    found = []
    for domain in domains():
        wanted = {_key(message) for message in extract(domain) if message.id}
        for locale in LOCALES:
            catalog = read_catalog(locale, domain)
            if catalog is None:
                found.append(f"{locale}/{domain}.po is missing: run `make catalogs`")
                continue
            translated = {_key(message) for message in catalog if message.id and message.string and not message.fuzzy}
            found.extend(f"{locale}/{domain}.po has no translation of {message_id!r}"
                         + (f" (context {context!r})" if context else "")
                         for message_id, context in sorted(wanted - translated, key=str))
            mo = po_path(locale, domain).with_suffix(".mo")
            if not mo.exists() or _translations(_read_mo(mo)) != _translations(catalog):
                found.append(f"{locale}/{domain}.mo is not compiled from its .po: run `make catalogs`")
    return found


def main(argv=None):
    command = (argv or sys.argv[1:] or ["check"])[0]
    if command == "update":
        update((argv or sys.argv[1:])[1:])
        return 0
    issues = problems()
    for issue in issues:
        print(issue)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
