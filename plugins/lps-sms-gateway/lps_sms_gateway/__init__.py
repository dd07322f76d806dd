"""The "sms" notification channel: messages to members as SMS through an HTTP gateway.

The request (URL, method, a JSON, form or query body with placeholders), its signature (HMAC-SHA256,
HMAC-SHA1 or MD5 over a configurable canonical string with a timestamp and a nonce, or Tencent Cloud's
TC3-HMAC-SHA256, in a header or a parameter) and the test of success are the keys `lps.sms_gateway.*` of the ini file
(lps_sms_gateway.settings.SmsGatewaySettings), with presets shaped after common gateways in China.
An outlet or property may set its own sign name and template (SmsOutletSettings).

`send()` never raises: it answers delivered, temporary (no answer, 5xx, throttling) or permanent
(4xx, a refused number)."""
from lps_core.contract import SettingsDeclaration, hookimpl

from lps_sms_gateway.channel import SmsGatewayChannel
from lps_sms_gateway.settings import PREFIX, SmsGatewaySettings

__all__ = ["SmsGatewayChannel", "SmsGatewaySettings"]


@hookimpl
def lps_settings():
    return SettingsDeclaration(PREFIX, SmsGatewaySettings)


@hookimpl
def lps_notification_channels(options):
    return [SmsGatewayChannel(options)]
