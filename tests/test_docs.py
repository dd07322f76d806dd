"""The documentation keeps up with the code: every hook, CLI command and API path is documented.

These tests read files only; they need no database.
"""
import argparse
import inspect
import re
from pathlib import Path

import pytest

from lps_core import hookspecs
from lps_core.api.openapi import DOCUMENT
from lps_core.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


def read(name):
    return (DOCS / name).read_text(encoding="utf-8")


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
    assert len(DOCUMENT["paths"]) >= 8


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_heading_in_plugins_md(hook):
    heading = re.compile(rf"^#+ `?{re.escape(hook)}\(", re.MULTILINE)
    assert heading.search(read("plugins.md")), f"docs/plugins.md needs a heading `{hook}(...)`"


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_in_install_md(command):
    assert f"lps {command}" in read("install.md"), f"docs/install.md does not describe `lps {command}`"


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
def test_every_api_path_is_in_api_md(path):
    assert path in read("api.md"), f"docs/api.md does not describe {path}"
