"""The receipt templates, by name: LPS's own two and those of plugins (hook lps_receipt_templates).

Each template is found and compiled at start-up, so a plugin with a missing or broken template
stops the server with its name instead of failing at the till.
"""
import sys
from pathlib import Path

from chameleon import PageTemplateFile
from pyramid.path import AssetResolver

from lps_core.contract import hookimpl
from lps_core.plugins import PluginError

CORE_PLUGIN_NAME = "lps_receipts"
# The template each paper uses when the layout's own template is for the other paper.
CORE_TEMPLATES = {"80mm": "lps-80mm", "a4": "lps-a4"}
MACROS_SPEC = "lps_core.receipts:templates/receipt_macros.pt"


@hookimpl
def lps_receipt_templates():
    return {"lps-80mm": "lps_core.receipts:templates/receipt_80mm.pt",
            "lps-a4": "lps_core.receipts:templates/receipt_a4.pt"}


def load_template(spec) -> PageTemplateFile:
    """Compile the template at `spec` ("package:path.pt"); ValueError names what is wrong."""
    if not isinstance(spec, str) or ":" not in spec or not spec.endswith(".pt"):
        raise ValueError(f"{spec!r} is not an asset spec such as 'package:templates/receipt.pt'")
    path = Path(AssetResolver().resolve(spec).abspath())
    if not path.is_file():
        raise ValueError(f"{spec!r}: no file {path}")
    template = PageTemplateFile(str(path))
    template.cook_check()
    return template


def load_receipt_templates(plugins, settings) -> dict[str, PageTemplateFile]:
    """{name: compiled template} from every plugin implementing lps_receipt_templates, the core first."""
    if not plugins.pm.has_plugin(CORE_PLUGIN_NAME):
        plugins.pm.register(sys.modules[__name__], name=CORE_PLUGIN_NAME)
    templates, owners = {}, {}
    for impl in reversed(plugins.hook.lps_receipt_templates.get_hookimpls()):
        plugin_name = impl.plugin_name
        try:
            provided = impl.function(*[{"settings": settings}[arg] for arg in impl.argnames]) or {}
            for name, spec in provided.items():
                if name in templates:
                    raise PluginError(f"receipt template {name!r} is provided by both {owners[name]!r} "
                                      f"and {plugin_name!r}")
                templates[name], owners[name] = load_template(spec), plugin_name
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {plugin_name!r} failed in lps_receipt_templates: "
                              f"{type(exc).__name__}: {exc}") from exc
    return templates
