"""lps.webhooks.*: how the worker delivers webhooks and how long a process trusts its cached list of
subscriptions. Declared by the plugin `lps_webhooks` (lps_core.webhooks.listeners), so start-up
checks them like any plugin's; docs/configuration.md describes each."""
from pydantic import Field, model_validator

from lps_core.contract.settings import ProgrammeSettings

PLUGIN = "lps_webhooks"
PREFIX = "lps.webhooks."


class WebhookSettings(ProgrammeSettings):
    """timeout_seconds: how long a receiver has to answer one POST; max_tries: tries before a
    delivery is dead; backoff_seconds: the wait after the first failed try, doubled after each, at
    most backoff_max_seconds; lease_seconds: how long a worker holds a delivery it is sending
    before another may take it (more than the timeout); batch_size: deliveries claimed at once;
    cache_seconds: how long a process keeps its list of which endpoint wants which event (a change
    made in the same process applies at once); allow_http: accept http:// URLs other than the
    loopback (development only; production receivers use https)."""

    timeout_seconds: float = Field(10.0, ge=1, le=60)
    max_tries: int = Field(10, ge=1, le=100)
    backoff_seconds: int = Field(30, ge=1, le=86400)
    backoff_max_seconds: int = Field(6 * 3600, ge=1, le=7 * 86400)
    lease_seconds: int = Field(120, ge=5, le=86400)
    batch_size: int = Field(20, ge=1, le=1000)
    cache_seconds: float = Field(5.0, ge=0, le=3600)
    allow_http: bool = False

    @model_validator(mode="after")
    def lease_outlasts_a_send(self):
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("lease_seconds must be longer than timeout_seconds")
        if self.backoff_max_seconds < self.backoff_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_seconds")
        return self


def webhook_settings(plugins) -> WebhookSettings:
    """The validated lps.webhooks.* of a plugin registry, or the defaults (no registry, or the
    plugin blocked)."""
    options = getattr(plugins, "options", None) or {}
    return options.get(PLUGIN) or WebhookSettings()
