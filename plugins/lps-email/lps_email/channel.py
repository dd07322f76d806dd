"""The "email" notification channel: each message a plain-text e-mail (with an HTML alternative
when the message has one) over one SMTP connection, and what the server answered classified as a
DeliveryResult the outbox can act on."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from zope.interface import implementer

from lps_core.contract import DeliveryResult, INotificationChannel

from lps_email.settings import EmailOutletSettings, EmailSettings

# Faults of the server or of how LPS is set up to use it, not of the message: once IT fixes them,
# the same message goes through, so they are temporary however permanent the server's code.
SET_UP_FAULTS = (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPConnectError,
                 smtplib.SMTPServerDisconnected)


@implementer(INotificationChannel)
class EmailChannel:
    name = "email"
    label = "E-mail"
    settings_schema = EmailOutletSettings

    def __init__(self, options: EmailSettings):
        self.options = options

    def compose(self, message, sender) -> EmailMessage:
        """The e-mail of a Message; ValueError when a header cannot be written (a line break in it)."""
        domain = sender.rpartition("@")[2]
        email = EmailMessage()
        email["From"] = sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = message_id_header(message.message_id, domain)
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message, settings: EmailOutletSettings | None) -> DeliveryResult:
        options = self.options
        sender = (settings and settings.sender) or options.sender
        try:
            email = self.compose(message, sender)
        except ValueError as exc:
            return DeliveryResult.permanent(f"the message cannot be written as an e-mail: {exc}")
        try:
            with smtplib.SMTP(options.host, options.port, timeout=options.timeout) as smtp:
                if options.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if options.username:
                    smtp.login(options.username, options.password)
                smtp.send_message(email, to_addrs=[message.recipient])  # one recipient, whatever the headers say
        except (smtplib.SMTPException, OSError) as exc:
            return outcome_of(exc)
        return DeliveryResult.ok(f"accepted by {options.host}:{options.port}", gateway_id=email["Message-ID"])


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
