"""LPS's own settings: read from the ini file, overridden by the environment, checked at start-up.

Secrets and the database URL come from the environment in production, so ini files can be
committed: LPS_DATABASE_URL sets sqlalchemy.url, LPS_SESSION_SECRET sets lps.session.secret, and
LPS_PII_KEYS and LPS_PII_INDEX_KEY set the keys of personal data (lps.pii.keys, lps.pii.index_key)."""
import os

from lps_core.cards.services import ISSUANCE_METHODS
from lps_core.errors import ConfigurationError
from lps_core.pii import PiiKeys


def app_factory(global_config, **settings):
    """The PasteDeploy entry point (`use = egg:lps`): the app of lps_core.main(), or, when the
    configuration is wrong, an exit with one line that names the setting instead of a traceback."""
    from lps_core import main

    try:
        return main(global_config, **settings)
    except ConfigurationError as exc:
        raise SystemExit(f"lps: configuration error: {exc}") from None


FROM_ENVIRONMENT = {"LPS_DATABASE_URL": "sqlalchemy.url", "LPS_SESSION_SECRET": "lps.session.secret",
                    "LPS_PII_KEYS": "lps.pii.keys", "LPS_PII_INDEX_KEY": "lps.pii.index_key"}


def apply_environment(settings) -> dict:
    """Settings with the environment's overrides applied and LPS's own settings checked."""
    settings = dict(settings)
    for variable, key in FROM_ENVIRONMENT.items():
        if os.environ.get(variable):
            settings[key] = os.environ[variable]
    if not settings.get("sqlalchemy.url"):
        raise ConfigurationError("no database: set sqlalchemy.url in the ini file or LPS_DATABASE_URL")
    if PiiKeys.from_settings(settings) is None:
        raise ConfigurationError("no keys for personal data: set lps.pii.keys and lps.pii.index_key "
                                 "(or LPS_PII_KEYS and LPS_PII_INDEX_KEY); see docs/security.md")
    issuance = settings.setdefault("lps.cards.issuance", "pool_then_generate")
    if issuance not in ISSUANCE_METHODS:
        raise ConfigurationError(f"lps.cards.issuance must be one of {', '.join(ISSUANCE_METHODS)}, not {issuance!r}")
    _positive_int(settings, "lps.session.idle_timeout", 1800)
    _positive_int(settings, "lps.api.key_cache_seconds", 5, minimum=0)
    return settings


def _positive_int(settings, key, default, minimum=1, maximum=None):
    value = settings.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bound = f"at least {minimum}" + (f" and at most {maximum}" if maximum is not None else "")
        raise ConfigurationError(f"{key} must be a whole number {bound}, not {value!r}")
    settings[key] = number
