"""The "email" notification channel: each message a plain-text e-mail (with an HTML alternative
when the message has one), sent with pyramid_mailer over one SMTP connection, and what the server
answered classified as a DeliveryResult the outbox can act on.

pyramid_mailer (through repoze.sendmail) upgrades to STARTTLS whenever a server offers it, without
checking the certificate. This channel keeps the plugin's stricter rule: with `starttls` false the
connection stays plain; with it true STARTTLS is required (a server that does not offer it is a
temporary failure, never a downgrade) and the server's certificate is verified."""
import re
import smtplib
import ssl
from email.utils import formatdate, make_msgid

from pyramid_mailer.mailer import Mailer
from pyramid_mailer.message import Message as MailMessage
from repoze.sendmail.mailer import SMTPMailer, TLS_NotAvailable
from zope.interface import implementer

from lps_core.contract import DeliveryResult, INotificationChannel

from lps_email.settings import EmailOutletSettings, EmailSettings

BARE_LF = re.compile(rb"(?<!\r)\n")
# Faults of the server or of how LPS is set up to use it, not of the message: once IT fixes them,
# the same message goes through, so they are temporary however permanent the server's code.
SET_UP_FAULTS = (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPConnectError,
                 smtplib.SMTPServerDisconnected)


class VerifiedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose STARTTLS verifies the server's certificate (repoze.sendmail's does not),
    and that sends the message with CR LF line ends: repoze.sendmail hands smtplib bytes with bare
    LFs, which smtplib sends as they are, and servers refuse (aiosmtpd reads a message of more than
    1,000 bytes as one line too long; others reject bare LF outright)."""

    def starttls(self, *args, **kwargs):
        return super().starttls(context=ssl.create_default_context())

    def sendmail(self, from_addr, to_addrs, msg, *args, **kwargs):
        if isinstance(msg, bytes):
            msg = BARE_LF.sub(b"\r\n", msg)
        return super().sendmail(from_addr, to_addrs, msg, *args, **kwargs)


def _connector(timeout):
    """The connection factory repoze.sendmail calls, with the configured timeout instead of its 10 s."""
    return lambda host, port, **ignored: VerifiedSMTP(host, int(port), timeout=timeout)


@implementer(INotificationChannel)
class EmailChannel:
    name = "email"
    label = "E-mail"
    settings_schema = EmailOutletSettings

    def __init__(self, options: EmailSettings):
        self.options = options

    def mailer(self) -> Mailer:
        options = self.options
        smtp = SMTPMailer(hostname=options.host, port=options.port, username=options.username,
                          password=options.password, no_tls=not options.starttls, force_tls=options.starttls)
        smtp.smtp = _connector(options.timeout)
        return Mailer(smtp_mailer=smtp)

    def compose(self, message, sender) -> MailMessage:
        """The e-mail of a Message; ValueError when a header cannot be written (a line break in it)."""
        domain = sender.rpartition("@")[2]
        headers = {"Date": formatdate(localtime=True), "Message-ID": message_id_header(message.message_id, domain),
                   **message.headers}
        for name, value in [("To", message.recipient), ("Subject", message.subject), *headers.items()]:
            if "\n" in str(value) or "\r" in str(value):
                raise ValueError(f"the header {name} has a line break")
        return MailMessage(subject=message.subject, sender=sender, recipients=[message.recipient],
                           body=message.body, html=message.html or None, extra_headers=headers)

    def send(self, message, settings: EmailOutletSettings | None) -> DeliveryResult:
        options = self.options
        sender = (settings and settings.sender) or options.sender
        try:
            email = self.compose(message, sender)
            mime = email.to_message()
        except ValueError as exc:
            return DeliveryResult.permanent(f"the message cannot be written as an e-mail: {exc}")
        try:
            # One recipient, whatever the headers say.
            self.mailer().smtp_mailer.send(sender, [message.recipient], mime)
        except (smtplib.SMTPException, OSError) as exc:
            return outcome_of(exc)
        except TLS_NotAvailable:
            return DeliveryResult.temporary(f"the server {options.host}:{options.port} does not offer STARTTLS, "
                                            "which lps.email.starttls requires")
        except RuntimeError as exc:  # repoze.sendmail: no ESMTP for the login, EHLO refused
            return DeliveryResult.temporary(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.ok(f"accepted by {options.host}:{options.port}",
                                 gateway_id=email.extra_headers["Message-ID"])


def message_id_header(message_id, domain) -> str:
    """The Message-ID: the message's own id (its idempotency key) where it has one, so a message
    sent twice after a crash can be recognised as one; else a new one."""
    if message_id is None:
        return make_msgid(domain=domain)
    bare = message_id.strip("<>")
    return f"<{bare}>" if "@" in bare else f"<{bare}@{domain}>"


def outcome_of(exc) -> DeliveryResult:
    """SMTP's answer as a result: a 5xx reply to the message permanent, a 4xx or no answer temporary."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in exc.recipients.items())
        if any(code >= 500 for code, _ in exc.recipients.values()):
            return DeliveryResult.permanent(f"the server refused the recipient: {replies}")
        return DeliveryResult.temporary(f"the server deferred the recipient: {replies}")
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, SET_UP_FAULTS):
        reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            return DeliveryResult.permanent(f"the server refused the message: {reply}")
        return DeliveryResult.temporary(f"the server deferred the message: {reply}")
    return DeliveryResult.temporary(f"{type(exc).__name__}: {exc}")


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
