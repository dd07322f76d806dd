"""The "email" notification channel: sends each message as a plain-text e-mail over SMTP.

Settings (from the app's ini file; all optional, bad values stop start-up):
- lps.email.host: the SMTP server (default "localhost");
- lps.email.port: its port (default 25; usually 587 with STARTTLS);
- lps.email.sender: the From address (default "lps@localhost"; set it in production);
- lps.email.starttls: true to upgrade the connection with STARTTLS, verifying the server's
  certificate, before logging in; a server that does not offer STARTTLS is an error, never a
  silent fall-back to plain text (default false);
- lps.email.username and lps.email.password: log in with these (both or neither);
- lps.email.timeout: seconds to wait for the server (default 30).

A message is any object with `recipient`, `subject` and `body` attributes: lps_core.notifications.Message.
`send()` opens one connection per message and raises (smtplib.SMTPException or OSError) if the
server did not accept it, so the outbox can try again later.
"""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from zope.interface import implementer

from lps_core.contract import DeliveryResult, INotificationChannel, hookimpl

PREFIX = "lps.email."
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}


def _flag(settings, key) -> bool:
    value = settings.get(PREFIX + key, False)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ValueError(f"{PREFIX}{key} must be true or false, not {value!r}")
    return word in TRUE_WORDS


def _number(settings, key, default, kind):
    value = settings.get(PREFIX + key, default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValueError(f"{PREFIX}{key} must be a positive number, not {value!r}")
    return number


@implementer(INotificationChannel)
class EmailChannel:
    name = "email"
    label = "E-mail"
    settings_schema = None

    def __init__(self, host="localhost", port=25, sender="lps@localhost", starttls=False,
                 username=None, password=None, timeout=30.0):
        if bool(username) != bool(password):
            raise ValueError(f"{PREFIX}username and {PREFIX}password must be set together")
        if "@" not in sender:
            raise ValueError(f"{PREFIX}sender must be an e-mail address, not {sender!r}")
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout

    @classmethod
    def from_settings(cls, settings):
        return cls(
            host=settings.get(PREFIX + "host") or "localhost",
            port=_number(settings, "port", 25, int),
            sender=settings.get(PREFIX + "sender") or "lps@localhost",
            starttls=_flag(settings, "starttls"),
            username=settings.get(PREFIX + "username") or None,
            password=settings.get(PREFIX + "password") or None,
            timeout=_number(settings, "timeout", 30, float),
        )

    def compose(self, message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        email.set_content(message.body)
        return email

    def send(self, message, settings=None):
        email = self.compose(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult.permanent(f"the server refused the recipient: {exc.recipients}")
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                return DeliveryResult.permanent(f"{exc.smtp_code} {exc.smtp_error!r}")
            return DeliveryResult.temporary(f"{exc.smtp_code} {exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult.temporary(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.ok(gateway_id=email["Message-ID"])


@hookimpl
def lps_notification_channels(settings):
    return [EmailChannel.from_settings(settings)]
