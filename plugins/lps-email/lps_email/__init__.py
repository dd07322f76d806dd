"""The "email" notification channel: messages as e-mail over SMTP, with optional STARTTLS and login.

Programme-wide settings are the keys `lps.email.*` of the ini file (lps_email.settings.EmailSettings:
host, port, sender, starttls, username, password, timeout); a bad one stops start-up with one line
naming the key. An outlet or property may set its own From address (EmailOutletSettings.sender).

`send()` opens one connection per message and never raises: it answers delivered, temporary (the
server deferred it with a 4xx, could not be reached, or is set up wrongly: try again later) or
permanent (a 5xx for the message or its recipient: trying again cannot help).
"""
from lps_core.contract import SettingsDeclaration, hookimpl

from lps_email.channel import EmailChannel
from lps_email.settings import PREFIX, EmailSettings


@hookimpl
def lps_settings():
    return SettingsDeclaration(PREFIX, EmailSettings)


@hookimpl
def lps_notification_channels(options):
    return [EmailChannel(options)]
