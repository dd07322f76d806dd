"""An exchange adapter for a partner programme that has an HTTP API: LPS points go out to the
partner and the partner's points come in, each transfer a JSON request signed with HMAC-SHA256 (or
carrying a bearer token), keyed by its reference so that a resend books nothing twice.

The partner's address and credentials are the keys `lps.exchange_http.*` of the ini file
(lps_exchange_http.settings.PartnerEndpoint); the amounts a member may move are per-outlet
settings. README.md describes the partner's side of the protocol."""
from lps_core.contract import SettingsDeclaration, hookimpl

from lps_exchange_http.adapter import HttpExchange
from lps_exchange_http.settings import PREFIX, PartnerEndpoint

__all__ = ["HttpExchange", "PartnerEndpoint"]


@hookimpl
def lps_settings():
    return SettingsDeclaration(PREFIX, PartnerEndpoint)


@hookimpl
def lps_point_exchanges(options):
    return [HttpExchange(options)]
