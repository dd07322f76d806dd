"""Settings come from the ini file, the environment overrides them, and bad values stop start-up
with one line naming the setting. The typed settings are built once and registered as ISettings."""
from decimal import Decimal

import pytest

from lps_core.errors import ConfigurationError
from lps_core.settings import Settings, apply_environment, read_settings, settings_of, with_environment
from lps_core.testing import PII_SETTINGS

URL = {"sqlalchemy.url": "sqlite://", **PII_SETTINGS}


def test_the_environment_supplies_the_database_and_the_session_secret(monkeypatch):
    monkeypatch.setenv("LPS_DATABASE_URL", "postgresql+psycopg://lps@db/lps")
    monkeypatch.setenv("LPS_SESSION_SECRET", "s3cret")
    settings = apply_environment(PII_SETTINGS)
    assert (settings["sqlalchemy.url"], settings["lps.session.secret"]) == ("postgresql+psycopg://lps@db/lps", "s3cret")
    typed = read_settings(with_environment(PII_SETTINGS))
    assert (typed.database.url, typed.session.secret) == ("postgresql+psycopg://lps@db/lps", "s3cret")


def test_defaults_are_filled_in_and_values_typed():
    settings = read_settings({**URL, "lps.api.key_cache_seconds": "9", "lps.timezone": "Asia/Shanghai",
                              "lps.session.secure": "false", "lps.rewards.points_per_currency_unit": "2.5",
                              "lps.earning.max_bill_amount.SPA": "200.00"})
    assert (settings.api_key_cache_seconds, settings.card_issuance) == (9, "pool_then_generate")
    assert str(settings.timezone) == "Asia/Shanghai" and settings.session.secure is False
    assert settings.reward_points_per_currency_unit == Decimal("2.5")
    assert settings.limits.bill_cents_by_outlet == {"SPA": 20000} and settings.limits.max_backdate_days == 30
    assert (settings.tiers.window, settings.expiry.months, settings.pii.phone_region) == ("rolling_12_months", 24, "CN")
    assert settings.database.pipelined_begin is None  # auto: lps_core.db.begin decides per connection
    assert read_settings({**URL, "lps.db.pipelined_begin": "false"}).database.pipelined_begin is False
    assert read_settings({**URL, "lps.db.pipelined_begin": "true"}).database.pipelined_begin is True
    assert read_settings({**URL, "lps.db.pipelined_begin": " Auto "}).database.pipelined_begin is None
    assert str(Settings.from_mapping({}).timezone) == "UTC" == str(Settings().timezone)


def test_the_settings_are_frozen_and_a_typed_object_passes_through():
    settings = Settings.from_mapping(URL)
    with pytest.raises(AttributeError):
        settings.card_issuance = "pool"
    assert settings_of(settings) is settings


@pytest.mark.parametrize("override, message", [
    ({"lps.points.expiry_months": "0"}, "lps.points.expiry_months must be a whole number of at least 1"),
    ({"lps.points.expiry_months": "two"}, "lps.points.expiry_months must be a whole number"),
    ({"lps.points.expiry_policy": "never"}, "lps.points.expiry_policy must be one of months_after_earn, end_of_year"),
    ({"lps.timezone": "Mars/Olympus"}, "lps.timezone 'Mars/Olympus' is not a known time zone"),
])
def test_bad_programme_settings_stop_start_up(override, message):
    from lps_core.earning.programme import Programme

    with pytest.raises(ConfigurationError, match=message):
        Programme.from_settings(override)


@pytest.mark.parametrize("override, message", [
    ({"sqlalchemy.url": ""}, "LPS_DATABASE_URL"),
    ({"lps.cards.issuance": "random"}, "lps.cards.issuance must be one of pool, generate, pool_then_generate"),
    ({"lps.api.key_cache_seconds": "-1"}, "lps.api.key_cache_seconds must be a whole number of at least 0"),
    ({"lps.session.idle_timeout": "soon"}, "lps.session.idle_timeout must be a whole number of at least 1"),
    ({"lps.session.secure": "maybe"}, "lps.session.secure must be true or false, not 'maybe'"),
    ({"lps.rules.cache_seconds": "-5"}, "lps.rules.cache_seconds must be a number of seconds"),
    ({"lps.db.connect_timeout": "0"}, "lps.db.connect_timeout must be a whole number of at least 1, not '0'"),
    ({"lps.check_outlets_on_start": "perhaps"}, "lps.check_outlets_on_start must be true or false"),
    ({"lps.db.pipelined_begin": "remote"}, "lps.db.pipelined_begin must be auto, true or false, not 'remote'"),
    ({"lps.session.secure": "true"}, "lps.session.secret is required with secure sessions"),
    ({"lps.pii.keys": "", "lps.pii.index_key": ""}, "no keys for personal data"),
])
def test_bad_settings_stop_start_up_with_their_name(monkeypatch, override, message):
    for variable in ("LPS_DATABASE_URL", "LPS_SESSION_SECRET", "LPS_PII_KEYS", "LPS_PII_INDEX_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError, match=message) as refused:
        apply_environment({**URL, **override})
    assert "\n" not in str(refused.value)


def test_the_settings_module_imports_no_feature():
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, lps_core.settings; "
                             "print(' '.join(m for m in sys.modules if m.startswith('lps_core')))"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert set(loaded) <= {"lps_core", "lps_core.settings", "lps_core.errors", "lps_core.money"}


def test_secure_sessions_need_a_secret(database_url, monkeypatch):
    from lps_core import main

    monkeypatch.delenv("LPS_SESSION_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="LPS_SESSION_SECRET"):
        main({}, **{**PII_SETTINGS, "sqlalchemy.url": database_url, "lps.session.secure": "true"})


def test_the_app_registers_the_typed_settings(wsgi_app):
    from lps_core.components import ISettings

    settings = wsgi_app.registry.getUtility(ISettings)
    assert isinstance(settings, Settings) and settings.api_key_cache_seconds == 0


def test_the_served_app_freezes_what_start_up_built_and_main_does_not(database_url):
    """The PasteDeploy entry point (what pserve and waitress load) moves the objects start-up built
    out of the garbage collector's full collections; main(), which tests call again and again, does
    not. In a child process, so that this one's collector is left as it is."""
    import json
    import subprocess
    import sys

    settings = {**PII_SETTINGS, "sqlalchemy.url": database_url, "lps.check_outlets_on_start": "false"}
    script = ("import gc, json, sys; from lps_core import main; from lps_core.settings import app_factory; "
              "settings = json.loads(sys.argv[1]); main({}, **settings); plain = gc.get_freeze_count(); "
              "app_factory({}, **settings); print(plain, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", script, json.dumps(settings)], capture_output=True, text=True,
                         check=True).stdout.split()
    plain, served = int(out[0]), int(out[1])
    assert plain == 0 and served > 50_000
