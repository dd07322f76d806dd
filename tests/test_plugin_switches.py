"""Per-outlet plugin switches: the narrowest switch wins (outlet, property, programme, default), LPS's
own components are on by default and a third party's off; the plugins API lists the components and
sets a switch with its settings (bad input named, another outlet fenced off like an unknown one);
the configuration screen shows and saves them; every change is audited; and a plugin's ini settings
are checked at start-up."""
import re

import pytest
from pydantic import Field
from sqlalchemy import select
from zope.interface import implementer

from lps_core.contract import (
    DeliveryResult, INotificationChannel, OutletSettings, ProgrammeSettings, SettingsDeclaration, hookimpl,
)
from lps_core.errors import ConfigurationError, Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.plugins import PluginError, load_plugins
from lps_core.plugins.models import PluginSwitch
from lps_core.plugins.switches import set_switch, switches_of
from lps_core.testing import TEST_SETTINGS, audited, sign_in_as
from lps_core.timeutil import utcnow

PASSWORD = "switch-pass-123"


class PigeonSettings(OutletSettings):
    sender: str = "LPS"
    daily_limit: int = Field(100, ge=1)
    combination: str | None = Field(None, json_schema_extra={"writeOnly": True})  # the loft's lock


@implementer(INotificationChannel)
class PigeonChannel:
    """A notification channel of a third party, for these tests only."""

    name = "pigeon"
    label = "Carrier pigeon"
    settings_schema = PigeonSettings

    def send(self, message, settings):
        return DeliveryResult.ok()


class PigeonPost:
    """A throwaway plugin: one channel, with per-outlet settings (one of them secret)."""

    @hookimpl
    def lps_notification_channels(self):
        return [PigeonChannel()]


EXTRA = [("pigeon_post", PigeonPost())]


@pytest.fixture(scope="module")
def pigeon_app(database_url):
    from webtest import TestApp

    from lps_core import main

    return TestApp(main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                               "lps.rules.cache_seconds": "0", "lps.plugins.extra": EXTRA, **TEST_SETTINGS}))


@pytest.fixture
def app(pigeon_app, seed):
    pigeon_app.reset()
    return pigeon_app


@pytest.fixture
def plugins_with_pigeon():
    return load_plugins({"lps.rules.cache_seconds": "0"}, extra_plugins=EXTRA)


def _ids(db):
    outlets = dict(db.execute(select(Outlet.code, Outlet.id)).all())
    return outlets["REST"], outlets["SPA"], db.scalar(select(Property.id).where(Property.code == "T"))


def _switch(db, plugins, scope, scope_id, enabled, **kw):
    change = set_switch(db, plugins, kind="channel", name="pigeon", scope=scope, scope_id=scope_id,
                        enabled=enabled, **kw)
    db.commit()
    return change


# --- Resolution ------------------------------------------------------------------------------------------

def test_the_narrowest_switch_wins_outlet_then_property_then_programme_then_default(seed, plugins_with_pigeon):
    db, plugins = seed.db, plugins_with_pigeon
    rest, spa, hotel = _ids(db)

    def at(outlet_id):
        state = plugins.switches.state(db, "channel", "pigeon", outlet_id)
        return state.enabled, state.source, state.settings.sender

    assert at(rest) == (False, "default", "LPS")
    _switch(db, plugins, "programme", 0, True, settings={"sender": "HQ"})
    assert at(rest) == at(spa) == (True, "programme", "HQ")
    _switch(db, plugins, "property", hotel, False)
    assert at(rest) == at(spa) == (False, "property", "HQ")
    _switch(db, plugins, "outlet", rest, True, settings={"sender": "Restaurant"})
    assert at(rest) == (True, "outlet", "Restaurant")
    assert at(spa) == (False, "property", "HQ")
    assert plugins.switches.state(db, "channel", "pigeon", None).enabled is True  # the programme as a whole

    # Inherit with no settings of its own: the outlet's row goes, the property decides again.
    _switch(db, plugins, "outlet", rest, None, settings=None)
    assert at(rest) == (False, "property", "HQ")
    assert [(row.scope, row.scope_id) for row in switches_of(db, "channel", "pigeon")] == \
        [("programme", 0), ("property", hotel)]
    # Settings left out stay as they are; only the switch changes.
    _switch(db, plugins, "programme", 0, False)
    assert plugins.switches.state(db, "channel", "pigeon", None).settings.sender == "HQ"


def test_lps_components_are_on_by_default_and_a_third_partys_off(seed, plugins_with_pigeon):
    db, plugins = seed.db, plugins_with_pigeon
    rest, _, _ = _ids(db)
    assert plugins.switches.state(db, "tender", "cash", rest).enabled is True
    assert plugins.switches.state(db, "promotion_kind", "multiplier", rest).enabled is True
    assert plugins.switches.state(db, "channel", "pigeon", rest).enabled is False
    with pytest.raises(Unprocessable) as refused:
        plugins.switches.require(db, "channel", "pigeon", rest, field="channel", outlet_code="REST")
    assert refused.value.fields == {"channel": "not available at outlet REST"}
    _switch(db, plugins, "outlet", rest, True)
    assert plugins.switches.require(db, "channel", "pigeon", rest, field="channel").enabled


def test_settings_are_checked_against_the_components_schema_and_secrets_are_masked(seed, plugins_with_pigeon):
    db, plugins = seed.db, plugins_with_pigeon
    with pytest.raises(Unprocessable) as refused:
        _switch(db, plugins, "programme", 0, True, settings={"daily_limit": "many", "colour": "grey"})
    assert set(refused.value.fields) == {"settings.daily_limit", "settings.colour"}
    change = _switch(db, plugins, "programme", 0, True, settings={"combination": "s3cr3t-value"})
    assert change.after == {"enabled": True, "settings": {"sender": "LPS", "daily_limit": 100,
                                                          "combination": "*** (changed)"}}
    # A change that leaves the secret out keeps it, and says it did not change.
    change = _switch(db, plugins, "programme", 0, True, settings={"sender": "HQ"})
    assert change.after["settings"]["combination"] == "***"
    assert plugins.switches.state(db, "channel", "pigeon", None).settings.combination == "s3cr3t-value"


# --- The API ---------------------------------------------------------------------------------------------

def _key(seed, outlet, *scopes):
    return {"Authorization": f"Bearer {seed.api_key(outlet, scopes=list(scopes))}"}


def test_the_api_lists_every_component_by_kind_with_its_origin_default_and_schema(app, seed):
    kinds = app.get("/api/v1/plugins", headers=_key(seed, "REST", "plugins.manage")).json["kinds"]
    pigeon = {c["name"]: c for c in kinds["channel"]}["pigeon"]
    assert pigeon["origin"] == "third_party" and pigeon["enabled_by_default"] is False and pigeon["switched"]
    assert pigeon["plugin"] == "pigeon_post" and pigeon["label"] == "Carrier pigeon"
    assert set(pigeon["settings_schema"]["properties"]) == {"sender", "daily_limit", "combination"}
    assert pigeon["secret_settings"] == ["combination"]
    cash = {c["name"]: c for c in kinds["tender"]}["cash"]
    assert (cash["origin"], cash["enabled_by_default"], cash["distribution"]) == ("core", True, "lps")
    assert kinds["formula"][0]["switched"] is False and kinds["formula"][0]["enabled_by_default"] is None
    app.get("/api/v1/plugins", headers=_key(seed, "REST", "rules.manage"), status=403)
    app.get("/api/v1/plugins", status=401)


def test_the_api_sets_a_switch_at_each_scope_and_audits_it(app, seed):
    hq = _key(seed, "REST", "plugins.programme")
    url = "/api/v1/plugins/channel/pigeon/switches"
    answer = app.put_json(f"{url}/programme", {"enabled": True, "settings": {"sender": "HQ", "combination": "t0ken-9"}},
                          headers=hq).json
    assert answer["switches"][0] == {**answer["switches"][0], "scope": "programme", "enabled": True,
                                     "settings": {"sender": "HQ", "daily_limit": 100}}
    assert {o["outlet"]: (o["enabled"], o["source"]) for o in answer["outlets"]} == \
        {"REST": (True, "programme"), "SPA": (True, "programme")}
    app.put_json(f"{url}/property", {"property": "T", "enabled": False}, headers=hq)
    answer = app.put_json(f"{url}/outlet", {"outlet": "SPA", "enabled": True, "settings": {"sender": "Spa"}},
                          headers=hq).json
    assert {o["outlet"]: (o["enabled"], o["source"], o["settings"]["sender"]) for o in answer["outlets"]} == \
        {"REST": (False, "property", "HQ"), "SPA": (True, "outlet", "Spa")}
    rows = {(row["scope"], row["code"]): row["enabled"] for row in app.get(url, headers=hq).json["switches"]}
    assert rows == {("programme", None): True, ("property", "T"): False, ("outlet", "REST"): None,
                    ("outlet", "SPA"): True}
    assert "t0ken-9" not in app.get(url, headers=hq).text

    entries = audited(seed.db, "plugin.switch")
    assert [entry.target_id for entry in entries] == ["channel/pigeon@programme", "channel/pigeon@property:T",
                                                      "channel/pigeon@outlet:SPA"]
    first = entries[0]
    assert first.actor_kind == "api_key" and first.before is None
    assert first.after == {"enabled": True,
                           "settings": {"sender": "HQ", "daily_limit": 100, "combination": "*** (changed)"}}
    assert entries[1].after == {"enabled": False}
    assert "t0ken-9" not in str([entry.after for entry in entries])


@pytest.mark.parametrize("scope, body, status, field", [
    ("programme", {"enabled": "yes"}, 400, "enabled"),
    ("programme", {}, 400, "enabled"),
    ("programme", {"enabled": True, "colour": "grey"}, 400, "colour"),
    ("programme", {"enabled": True, "settings": "sender=HQ"}, 400, "settings"),
    ("outlet", {"enabled": True, "outlet": "R E S T"}, 400, "outlet"),
    ("programme", {"enabled": True, "settings": {"daily_limit": 0}}, 422, "settings.daily_limit"),
    ("programme", {"enabled": True, "settings": {"daily_limit": "ten"}}, 422, "settings.daily_limit"),
    ("programme", {"enabled": True, "settings": {"colour": "grey"}}, 422, "settings.colour"),
    ("programme", {"enabled": True, "outlet": "REST"}, 422, "outlet"),
    ("property", {"enabled": True, "outlet": "REST"}, 422, "outlet"),
    ("outlet", {"enabled": True}, 422, "outlet"),
    ("outlet", {"enabled": True, "outlet": "REST", "scope_id": 1}, 422, "scope_id"),
    ("outlet", {"enabled": True, "outlet": "NOWHERE"}, 404, "outlet"),
    ("property", {"enabled": True, "scope_id": 99999}, 404, "scope_id"),
])
def test_bad_input_is_refused_naming_the_field(app, seed, scope, body, status, field):
    answer = app.put_json(f"/api/v1/plugins/channel/pigeon/switches/{scope}", body,
                          headers=_key(seed, "REST", "plugins.programme"), status=status).json
    assert field in answer["fields"], answer
    assert switches_of(seed.db) == []


def test_unknown_components_kinds_and_scopes_are_not_found(app, seed):
    hq = _key(seed, "REST", "plugins.programme")
    app.get("/api/v1/plugins/channel/owl/switches", headers=hq, status=404)
    app.get("/api/v1/plugins/formula/base_rate/switches", headers=hq, status=404)  # not switched per outlet
    app.put_json("/api/v1/plugins/channel/pigeon/switches/galaxy", {"enabled": True}, headers=hq, status=404)
    app.put_json("/api/v1/plugins/tender/cash/switches/programme", {"enabled": True, "settings": {"x": 1}},
                 headers=hq, status=422)


def test_a_key_of_one_outlet_changes_only_its_outlets_switch(app, seed):
    spa = _key(seed, "SPA", "plugins.manage")
    url = "/api/v1/plugins/channel/pigeon/switches"
    answer = app.put_json(f"{url}/outlet", {"outlet": "SPA", "enabled": True}, headers=spa).json
    assert [o["outlet"] for o in answer["outlets"]] == ["SPA"]
    assert [(row["scope"], row["code"]) for row in answer["switches"]] == \
        [("programme", None), ("property", "T"), ("outlet", "SPA")]

    def refused(code):
        response = app.put_json(f"{url}/outlet", {"outlet": code, "enabled": True}, headers=spa, status=404)
        return response.text.replace(code, "#")
    assert refused("REST") == refused("NOWHERE")  # another outlet is not found, exactly like an unknown one
    rest_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    app.put_json(f"{url}/outlet", {"scope_id": rest_id, "enabled": True}, headers=spa, status=404)
    app.put_json(f"{url}/programme", {"enabled": True}, headers=spa, status=403)
    app.put_json(f"{url}/property", {"property": "T", "enabled": True}, headers=spa, status=403)
    assert [(row.scope, row.enabled) for row in switches_of(seed.db, "channel", "pigeon")] == [("outlet", True)]


def test_the_openapi_document_describes_the_plugin_operations(app):
    paths = app.get("/api/v1/openapi.json").json["paths"]
    put = paths["/api/v1/plugins/{kind}/{name}/switches/{scope}"]["put"]
    assert "plugins.manage" in put["summary"] and set(put["responses"]) >= {"200", "400", "403", "404", "422"}
    assert "get" in paths["/api/v1/plugins"] and "get" in paths["/api/v1/plugins/{kind}/{name}/switches"]


# --- The configuration screen ----------------------------------------------------------------------------

def test_the_plugins_screen_lists_components_and_saves_a_switch_with_its_settings(app, seed):
    token = sign_in_as(app, seed, "admin.plugins", PASSWORD, ["administrator"], ["all"])
    assert "/config/plugins" in app.get("/config").text
    listing = app.get("/config/plugins")
    assert "Carrier pigeon" in listing.text and "pigeon_post" in listing.text and "off by default" in listing.text
    detail = app.get("/config/plugins/channel/pigeon")
    assert "switch-outlet-REST" in detail.text and "switch-property-T" in detail.text

    page = app.get("/config/plugins/channel/pigeon/outlet?code=REST")
    assert 'name="setting.daily_limit"' in page.text and 'name="setting.combination"' in page.text
    refused = app.post("/config/plugins/channel/pigeon/outlet?code=REST",
                       {"csrf_token": token, "enabled": "on", "setting.daily_limit": "lots",
                        "setting.sender": "Restaurant"}, status=400)
    error = re.search(r'name="setting.daily_limit".*?<p class="error" role="alert">([^<]+)</p>', refused.text, re.S)
    assert error and "whole number" in error.group(1)
    assert 'value="Restaurant"' in refused.text  # the form comes back filled in
    app.post("/config/plugins/channel/pigeon/outlet?code=REST",
             {"csrf_token": token, "enabled": "on", "setting.daily_limit": "5", "setting.sender": "Restaurant",
              "setting.combination": "pigeon-secret"}, status=303)
    rest, _, _ = _ids(seed.db)
    row, = switches_of(seed.db, "channel", "pigeon")
    assert (row.scope, row.scope_id, row.enabled, row.updated_by) == ("outlet", rest, True, "admin.plugins")
    assert row.settings == {"sender": "Restaurant", "daily_limit": 5, "combination": "pigeon-secret"}
    shown = app.get("/config/plugins/channel/pigeon/outlet?code=REST").text
    assert 'value="5"' in shown and "pigeon-secret" not in shown
    entry, = audited(seed.db, "plugin.switch")
    assert entry.actor_name == "admin.plugins" and entry.target_id == "channel/pigeon@outlet:REST"
    assert entry.outlet_id == rest and entry.after["settings"]["combination"] == "*** (changed)"

    # The programme's switch: off everywhere but REST, whose own switch wins.
    app.post("/config/plugins/channel/pigeon/programme", {"csrf_token": token, "enabled": "off",
                                                          "inherit_settings": "1"}, status=303)
    detail = app.get("/config/plugins/channel/pigeon").text
    assert re.search(r'id="switch-outlet-REST".*?<strong>on</strong>', detail, re.S)
    assert re.search(r'id="switch-outlet-SPA".*?<strong>off</strong>', detail, re.S)


def test_an_operator_of_one_outlet_changes_only_its_switch(app, seed):
    token = sign_in_as(app, seed, "manager.rest", PASSWORD, ["outlet_manager"], ["REST"])
    detail = app.get("/config/plugins/channel/pigeon").text
    assert "switch-outlet-REST" in detail and "switch-outlet-SPA" not in detail
    app.get("/config/plugins/channel/pigeon/programme", status=403)
    app.get("/config/plugins/channel/pigeon/outlet?code=SPA", status=404)
    app.get("/config/plugins/channel/pigeon/outlet?code=NOWHERE", status=404)
    app.post("/config/plugins/channel/pigeon/outlet?code=SPA", {"csrf_token": token, "enabled": "on"}, status=404)
    app.post("/config/plugins/channel/pigeon/outlet?code=REST", {"csrf_token": token, "enabled": "on"}, status=303)
    app.get("/config/plugins/formula/base_rate", status=404)


# --- Start-up --------------------------------------------------------------------------------------------

class CourierSettings(ProgrammeSettings):
    depot: str = "main"
    retries: int = 3


class CourierPlugin:
    @hookimpl
    def lps_settings(self):
        return SettingsDeclaration("lps.courier.", CourierSettings)


@pytest.mark.parametrize("settings, message", [
    ({"lps.courier.depots": "north"}, "plugin 'courier': lps.courier.depots is not a setting of this plugin"),
    ({"lps.courier.retries": "often"}, "plugin 'courier': lps.courier.retries: "),
])
def test_a_wrong_plugin_setting_stops_start_up_on_one_line_naming_the_plugin_and_the_key(settings, message):
    with pytest.raises(PluginError) as stopped:
        load_plugins(settings, extra_plugins=[("courier", CourierPlugin())])
    text = str(stopped.value)
    assert text.startswith(message) and "\n" not in text


def test_a_plugins_good_settings_reach_its_provider_hooks():
    registry = load_plugins({"lps.courier.retries": "5"}, extra_plugins=[("courier", CourierPlugin())])
    assert registry.options["courier"] == CourierSettings(depot="main", retries=5)


def test_extra_plugins_are_given_by_code_not_by_an_ini_file(database_url):
    from lps_core import main

    with pytest.raises(PluginError, match="lps.plugins.extra"):
        main({}, **{"sqlalchemy.url": database_url, "lps.plugins.extra": "pigeon_post", **TEST_SETTINGS})


def test_stored_settings_that_no_longer_fit_stop_start_up_naming_the_component_and_field(database_url, seed):
    from lps_core import main

    rest, _, _ = _ids(seed.db)
    # As if an older release of the plugin had stored them: a daily limit its schema now refuses.
    seed.db.add(PluginSwitch(component_kind="channel", component_name="pigeon", scope="outlet", scope_id=rest,
                             enabled=True, settings={"daily_limit": 0}, updated_at=utcnow()))
    seed.db.commit()
    with pytest.raises(ConfigurationError) as stopped:
        main({}, **{"sqlalchemy.url": database_url, "lps.plugins.extra": EXTRA, **TEST_SETTINGS})
    text = str(stopped.value)
    assert text.startswith(f"plugin 'pigeon_post': channel 'pigeon' at outlet {rest}: settings.daily_limit: ")
    assert "\n" not in text and "lps.check_outlets_on_start = false" in text
    main({}, **{"sqlalchemy.url": database_url, "lps.plugins.extra": EXTRA, "lps.check_outlets_on_start": "false",
                **TEST_SETTINGS})  # so that staff can start it and correct them
