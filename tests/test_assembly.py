"""How the application is assembled: components are found by interface, never by string keys in
the registry, and the features may be included in any order after the platform."""
import random
import re
from pathlib import Path

import pytest

import lps_core
from lps_core.testing import TEST_SETTINGS

SOURCE = Path(lps_core.__file__).parent
STRING_KEY = re.compile(r"""registry\s*(?:\[|\.get\(|\.setdefault\()\s*(?:f?["'])lps\.""")


def test_no_component_is_looked_up_by_a_string_key():
    found = [f"{path.relative_to(SOURCE.parent)}:{number}: {line.strip()}"
             for path in sorted(SOURCE.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if STRING_KEY.search(line)]
    assert not found, "look components up by interface (lps_core/components.py):\n" + "\n".join(found)


def test_the_string_key_check_finds_one():
    assert STRING_KEY.search('templates = request.registry["lps.receipt_templates"]')
    assert STRING_KEY.search("plugins = config.registry.get('lps.plugins')")
    assert not STRING_KEY.search("request.registry.getUtility(IReceiptTemplates)")


def _app(database_url, features):
    from lps_core import make_app

    return make_app({"sqlalchemy.url": database_url, "lps.check_outlets_on_start": "false", **TEST_SETTINGS},
                    features)


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_the_features_may_be_included_in_any_order(database_url, seed):
    from pyramid.interfaces import IRoutesMapper

    from lps_core import FEATURES
    from lps_core.components import IApiKeys, ILabels, IProgramme, IReceiptTemplates, ISettings

    features = list(reversed(FEATURES)) if seed is None else random.Random(seed).sample(FEATURES, len(FEATURES))
    app = _app(database_url, features)
    for interface in (ISettings, IProgramme, IApiKeys, ILabels, IReceiptTemplates):
        assert app.registry.queryUtility(interface) is not None, interface.__name__
    routes = {route.name for route in app.registry.getUtility(IRoutesMapper).get_routes()}
    assert {"api.tiers", "api.rewards", "api.settlement_receipt", "home", "config"} <= routes


def test_a_platform_package_out_of_order_stops_start_up_with_its_name(database_url):
    from pyramid.config import Configurator

    with pytest.raises(AssertionError, match="lps_core.outlets needs IPlugins: include the package"):
        with Configurator(settings={"sqlalchemy.url": database_url, **TEST_SETTINGS}) as config:
            config.include("lps_core.settings")
            config.include("lps_core.outlets")
    with pytest.raises(AssertionError, match="lps_core.db needs ISettings"):
        with Configurator(settings={"sqlalchemy.url": database_url, **TEST_SETTINGS}) as config:
            config.include("lps_core.db")
