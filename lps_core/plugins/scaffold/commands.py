"""`lps plugin new`: the command line of the plugin template (needs no config file or database)."""
import sys

from lps_core.plugins.scaffold import KINDS, create_distribution


def add_scaffold_commands(commands):
    """Add `plugin new` to the `lps` command's subparsers."""
    plugin = commands.add_parser("plugin", help="write a new plugin distribution from a template").add_subparsers(
        title="plugin commands")
    new = plugin.add_parser("new", help="create a working plugin distribution: setup.cfg with its entry point, "
                                        "a package importing only lps_core.contract, a README and tests "
                                        "(docs/partners.md)")
    new.add_argument("name", metavar="NAME", help="the plugin's name, e.g. grand-miles (the distribution is "
                                                  "lps-grand-miles, its package lps_grand_miles)")
    new.add_argument("--kind", required=True, choices=KINDS, help="the component it provides")
    new.add_argument("--dir", default=".", help="the folder to create the distribution in (default: the current "
                                                "folder)")
    new.set_defaults(run=cmd_plugin_new)


def cmd_plugin_new(args):
    names, target, written = create_distribution(args.name, args.kind, args.dir)
    for path in written:
        print(path)
    print(f"{names.distribution}: a {names.kind} plugin in {target}. Next:\n"
          f"  pip install -e {target}\n  pytest {target}\n  lps plugins   # lists {names.plugin}", file=sys.stderr)
