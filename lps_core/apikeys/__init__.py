"""API keys per outlet: creating, revoking and checking them (services), and the process's cache of
verified keys, registered as IApiKeys."""


def includeme(config):
    """Register the ApiKeyChecker, which caches verified keys for lps.api.key_cache_seconds."""
    from lps_core.apikeys.services import ApiKeyChecker
    from lps_core.components import IApiKeys, ISettings, require

    settings = require(config.registry, ISettings, "lps_core.apikeys")
    config.registry.registerUtility(ApiKeyChecker(settings.api_key_cache_seconds), IApiKeys)
