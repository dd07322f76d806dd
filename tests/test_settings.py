"""Settings come from the ini file, the environment overrides them, and bad values stop start-up."""
import pytest

from lps_core.errors import ConfigurationError
from lps_core.settings import apply_environment
from lps_core.testing import PII_SETTINGS

URL = {"sqlalchemy.url": "sqlite://", **PII_SETTINGS}


def test_the_environment_supplies_the_database_and_the_session_secret(monkeypatch):
    monkeypatch.setenv("LPS_DATABASE_URL", "postgresql+psycopg://lps@db/lps")
    monkeypatch.setenv("LPS_SESSION_SECRET", "s3cret")
    settings = apply_environment(PII_SETTINGS)
    assert (settings["sqlalchemy.url"], settings["lps.session.secret"]) == ("postgresql+psycopg://lps@db/lps", "s3cret")


def test_defaults_are_filled_in_and_numbers_parsed():
    settings = apply_environment({**URL, "lps.api.key_cache_seconds": "9"})
    assert (settings["lps.api.key_cache_seconds"], settings["lps.cards.issuance"]) == (9, "pool_then_generate")


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
    ({"lps.api.key_cache_seconds": "-1"}, "lps.api.key_cache_seconds must be a whole number at least 0"),
])
def test_bad_settings_stop_start_up_with_their_name(monkeypatch, override, message):
    monkeypatch.delenv("LPS_DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match=message):
        apply_environment({**URL, **override})


def test_secure_sessions_need_a_secret(database_url, monkeypatch):
    from lps_core import main

    monkeypatch.delenv("LPS_SESSION_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="LPS_SESSION_SECRET"):
        main({}, **{**PII_SETTINGS, "sqlalchemy.url": database_url, "lps.session.secure": "true"})
