"""`lps plugin new NAME --kind exchange|tender|formula|promotion`: a new plugin distribution for a
partner's or a hotel's developer, written from the templates of this package (package data, so they
come with the wheel).

What it writes works as it stands: a setup.cfg with the entry point in the group "lps", a package
that imports nothing of LPS but lps_core.contract and provides one component of the kind, a README
that says what to change, and tests that pass once the distribution is installed (`pip install -e`)
and fail when the component breaks its contract. docs/partners.md walks through it."""
import re
import string
from dataclasses import dataclass
from pathlib import Path

from lps_core.errors import Conflict, ValidationFailed

TEMPLATES = Path(__file__).resolve().parent / "templates"
KINDS = ("exchange", "tender", "formula", "promotion")
SUFFIX = ".tmpl"
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_NAME = 40


@dataclass(frozen=True)
class PluginNames:
    """Every name the distribution uses, from the one the developer gave (`grand-miles`)."""

    distribution: str  # lps-grand-miles
    package: str  # lps_grand_miles
    plugin: str  # grand_miles: the entry point's name, and the component's
    class_name: str  # GrandMiles
    label: str  # Grand Miles
    prefix: str  # lps.grand_miles.: the ini keys of its programme-wide settings
    kind: str

    @classmethod
    def of(cls, name, kind) -> "PluginNames":
        if kind not in KINDS:
            raise ValidationFailed(f"--kind must be one of {', '.join(KINDS)}", {"--kind": "unknown kind"})
        name = (name or "").strip().lower()
        bare = name.removeprefix("lps-")
        if not NAME.match(bare) or len(bare) > MAX_NAME:
            raise ValidationFailed(f"NAME must be lower-case letters and digits in words joined by '-', such as "
                                   f"grand-miles (at most {MAX_NAME} characters)", {"NAME": "not a plugin name"})
        words = bare.split("-")
        plugin = "_".join(words)
        return cls(f"lps-{bare}", f"lps_{plugin}", plugin, "".join(word.capitalize() for word in words),
                   " ".join(word.capitalize() for word in words), f"lps.{plugin}.", kind)

    def values(self) -> dict:
        return {"distribution": self.distribution, "package": self.package, "plugin": self.plugin,
                "class_name": self.class_name, "label": self.label, "prefix": self.prefix, "kind": self.kind}


def template_files(kind) -> list[tuple[Path, Path]]:
    """(template, path in the distribution) of every file the kind writes; PACKAGE in a template's
    path is the package's name."""
    found = []
    for folder in (TEMPLATES / "common", TEMPLATES / kind):
        for template in sorted(folder.rglob(f"*{SUFFIX}")):
            found.append((template, template.relative_to(folder).with_name(template.name.removesuffix(SUFFIX))))
    return found


def create_distribution(name, kind, directory) -> tuple[PluginNames, Path, list[Path]]:
    """Write the distribution into `directory`/<distribution>; returns its names, its folder and
    the files written. A folder that exists already is left alone (Conflict)."""
    names = PluginNames.of(name, kind)
    target = Path(directory) / names.distribution
    if target.exists():
        raise Conflict(f"{target} exists already: choose another NAME or --dir", {"NAME": "exists already"})
    values = names.values()
    written = []
    for template, relative in template_files(kind):
        path = target / Path(str(relative).replace("PACKAGE", names.package))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(string.Template(template.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(path)
    return names, target, written
