"""Plugin loading: entry points, start-up verification and errors that name the plugin."""
import sys
import textwrap

import pytest
from zope.interface import implementer

from lps_core import main
from lps_core.contract import hookimpl
from lps_core.errors import ConfigurationError
from lps_core.contract import IEarningFormula
from lps_core.plugins import PluginError, load_plugins
from lps_core.testing import TEST_SETTINGS


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Install a real distribution (a dist-info with an entry point in group "lps") on sys.path."""
    def install(dist, entry_name, module_name, source):
        (tmp_path / f"{module_name}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[lps]\n{entry_name} = {module_name}\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, module_name, raising=False)
    return install


@implementer(IEarningFormula)
class FlatFormula:
    name = "flat"
    description = "ten points a bill"

    def validate_params(self, params):
        return params

    def compute(self, bill, params):
        from lps_core.contract import EarningResult
        return EarningResult(10, [{"step": "formula", "rule": "flat", "description": "", "points": 10}])


class FlatPlugin:
    @hookimpl
    def lps_earning_formulas(self):
        return [FlatFormula()]


def test_the_installed_base_rate_plugin_is_found_through_its_entry_point():
    registry = load_plugins({})
    assert "base_rate" in registry.plugin_names()
    assert IEarningFormula.providedBy(registry.formula("base_rate"))


def test_an_entry_point_that_fails_to_import_names_the_plugin(install_plugin):
    install_plugin("broken-dist", "broken", "lps_broken_plugin", "raise RuntimeError('boom')")
    with pytest.raises(PluginError, match=r"plugin 'broken' \(lps_broken_plugin, from broken-dist\) "
                                          r"could not be loaded: RuntimeError: boom"):
        load_plugins({})


def test_a_disabled_plugin_is_not_even_imported(install_plugin):
    install_plugin("broken-dist", "broken", "lps_broken_plugin", "raise RuntimeError('boom')")
    registry = load_plugins({"lps.plugins.disabled": "broken"})
    assert "broken" not in registry.plugin_names()


def test_an_object_missing_its_interface_names_the_plugin(install_plugin):
    install_plugin("half-dist", "half", "lps_half_plugin", """
        from lps_core.contract import hookimpl

        class NoCompute:
            name = "half"

        @hookimpl
        def lps_earning_formulas():
            return [NoCompute()]
    """)
    with pytest.raises(PluginError, match="plugin 'half' returned from lps_earning_formulas an object that "
                                          "does not provide IEarningFormula"):
        load_plugins({})


def test_an_unknown_hook_names_the_plugin(install_plugin):
    install_plugin("typo-dist", "typo", "lps_typo_plugin", """
        from lps_core.contract import hookimpl

        @hookimpl
        def lps_earning_formula():
            return []
    """)
    with pytest.raises(PluginError, match="plugin 'typo'.*unknown hook"):
        load_plugins({})


def test_two_plugins_providing_one_name_are_refused():
    with pytest.raises(PluginError, match="IEarningFormula 'flat' is provided by both 'one' and 'two'"):
        load_plugins({}, extra_plugins=[("one", FlatPlugin()), ("two", FlatPlugin())])


def test_a_required_plugin_that_is_missing_stops_start_up():
    with pytest.raises(PluginError, match="required plugin\\(s\\) not installed or disabled: lps_sms"):
        load_plugins({"lps.plugins.required": "base_rate lps_sms"})
    with pytest.raises(PluginError, match="base_rate"):
        load_plugins({"lps.plugins.required": "base_rate", "lps.plugins.disabled": "base_rate"})


def test_an_outlet_whose_formula_is_missing_stops_the_app_with_its_name(seed, database_url):
    with pytest.raises(ConfigurationError, match=r"outlet 'REST' \(rule version 1\): no plugin provides the "
                                                 "earning formula 'base_rate'"):
        main({}, **{**TEST_SETTINGS, "sqlalchemy.url": database_url, "lps.plugins.disabled": "base_rate"})


def test_an_outlet_with_bad_parameters_stops_the_app(seed, database_url):
    from sqlalchemy import select, update

    from lps_core.earning.models import EarningRule
    from lps_core.outlets.models import Outlet

    spa = seed.db.scalar(select(Outlet.id).where(Outlet.code == "SPA"))
    seed.db.execute(update(EarningRule).where(EarningRule.outlet_id == spa)
                    .values(formula_params={"points_per_unit": "-1"}))
    seed.db.commit()
    with pytest.raises(ConfigurationError, match=r"outlet 'SPA' \(rule version 1\): parameters of formula "
                                                 "'base_rate' are invalid: points_per_unit must be greater than 0"):
        main({}, **{**TEST_SETTINGS, "sqlalchemy.url": database_url})


def test_an_unmigrated_database_is_reported(tmp_path):
    with pytest.raises(ConfigurationError, match="run `lps db upgrade`"):
        main({}, **{**TEST_SETTINGS, "sqlalchemy.url": f"sqlite:///{tmp_path}/empty.sqlite"})


def test_event_hooks_see_each_posting(seed):
    from lps_core.earning.programme import Programme
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill, reverse_bill

    seen = []

    class Listener:
        @hookimpl
        def lps_on_points_posted(self, posting, bill):
            seen.append(("posted", bill.bill_no, posting.amount))

        @hookimpl
        def lps_on_points_reversed(self, posting):
            seen.append(("reversed", posting.amount))

    registry = load_plugins({}, extra_plugins=[("listener", Listener())])
    outlet = OutletContext(1, "REST")
    card_no = seed.member_card()
    programme = Programme.from_settings({"lps.rules.cache_seconds": "0"})
    earned = earn_points_for_bill(seed.db, registry, programme, outlet, EarnRequest(card_no, "B1", 5000, None, ()))
    reverse_bill(seed.db, registry, outlet, earned.id, amount_cents=1000)
    assert seen == [("posted", "B1", 50), ("reversed", -10)]
