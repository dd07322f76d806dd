"""The e-mail channel, delivering for real to an aiosmtpd server on 127.0.0.1."""
import asyncio
import email
import smtplib
import threading
from email import policy

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from zope.interface.verify import verifyObject

from lps_core.contract import INotificationChannel
from lps_core.contract import Message
from lps_email import EmailChannel

MESSAGE = Message(recipient="guest@example.test", subject="Welcome to Gold", body="Dear guest,\nyou are Gold now.\n")


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses one address."""

    refused = "nobody@example.test"

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data):
    valid = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"lps", b"s3cret")
    return AuthResult(success=valid, handled=False)


@pytest.fixture
def smtp_server():
    """(inbox, port) of an SMTP server on an ephemeral port of 127.0.0.1 that offers AUTH."""
    inbox = Inbox()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def smtp():
        return SMTP(inbox, hostname="mail.example.test", authenticator=check_login, auth_require_tls=False)

    server = asyncio.run_coroutine_threadsafe(loop.create_server(smtp, "127.0.0.1", 0), loop).result(5)
    yield inbox, server.sockets[0].getsockname()[1]

    async def shut_down():  # on the loop's own thread: asyncio servers are not thread-safe
        server.close()
        await server.wait_closed()

    asyncio.run_coroutine_threadsafe(shut_down(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def received(inbox):
    """The one envelope received, and its message with SMTP's CR LF line ends made plain."""
    (envelope,) = inbox.envelopes
    return envelope, email.message_from_bytes(envelope.original_content.replace(b"\r\n", b"\n"),
                                              policy=policy.default)


def settings_for(port, **more):
    return {"lps.email.host": "127.0.0.1", "lps.email.port": str(port),
            "lps.email.sender": "loyalty@hotel.example.test", **more}


def test_the_channel_is_registered_from_its_entry_point(plugins):
    channel = plugins.channels["email"]
    assert verifyObject(INotificationChannel, channel)
    assert (channel.host, channel.port, channel.starttls) == ("localhost", 25, False)
    assert "email" in plugins.plugin_names()


def test_a_message_is_delivered_over_smtp(smtp_server):
    inbox, port = smtp_server
    EmailChannel.from_settings(settings_for(port)).send(MESSAGE)
    envelope, sent = received(inbox)
    assert envelope.mail_from == "loyalty@hotel.example.test"
    assert envelope.rcpt_tos == ["guest@example.test"]
    assert sent["From"] == "loyalty@hotel.example.test"
    assert sent["To"] == "guest@example.test"
    assert sent["Subject"] == "Welcome to Gold"
    assert sent["Message-ID"].endswith("@hotel.example.test>")
    assert sent["Date"]
    assert sent.get_content() == "Dear guest,\nyou are Gold now.\n"


def test_non_ascii_subject_and_body_survive(smtp_server):
    inbox, port = smtp_server
    message = Message(recipient="guest@example.test", subject="欢迎加入金卡会员", body="尊敬的会员：您已升级为金卡。\n")
    EmailChannel.from_settings(settings_for(port)).send(message)
    _, sent = received(inbox)
    assert sent["Subject"] == "欢迎加入金卡会员"
    assert sent.get_content() == "尊敬的会员：您已升级为金卡。\n"


def test_logs_in_with_the_configured_username_and_password(smtp_server):
    inbox, port = smtp_server
    EmailChannel.from_settings(settings_for(port, **{"lps.email.username": "lps",
                                                     "lps.email.password": "s3cret"})).send(MESSAGE)
    assert len(inbox.envelopes) == 1


def test_a_wrong_password_raises_and_nothing_is_sent(smtp_server):
    inbox, port = smtp_server
    channel = EmailChannel.from_settings(settings_for(port, **{"lps.email.username": "lps",
                                                               "lps.email.password": "wrong"}))
    with pytest.raises(smtplib.SMTPAuthenticationError):
        channel.send(MESSAGE)
    assert inbox.envelopes == []


def test_starttls_that_the_server_does_not_offer_is_an_error_not_a_downgrade(smtp_server):
    inbox, port = smtp_server
    channel = EmailChannel.from_settings(settings_for(port, **{"lps.email.starttls": "true"}))
    with pytest.raises(smtplib.SMTPNotSupportedError):
        channel.send(MESSAGE)
    assert inbox.envelopes == []


def test_a_refused_recipient_raises(smtp_server):
    inbox, port = smtp_server
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        EmailChannel.from_settings(settings_for(port)).send(Message(Inbox.refused, "Hello", "Hi"))
    assert inbox.envelopes == []


def test_an_unreachable_server_raises(smtp_server):
    _, port = smtp_server
    channel = EmailChannel.from_settings(settings_for(port, **{"lps.email.port": "1", "lps.email.timeout": "2"}))
    with pytest.raises(OSError):
        channel.send(MESSAGE)


@pytest.mark.parametrize(("settings", "message"), [
    ({"lps.email.port": "smtp"}, "port must be a positive number"),
    ({"lps.email.port": "0"}, "port must be a positive number"),
    ({"lps.email.timeout": "-1"}, "timeout must be a positive number"),
    ({"lps.email.starttls": "maybe"}, "starttls must be true or false"),
    ({"lps.email.username": "lps"}, "username and lps.email.password must be set together"),
    ({"lps.email.password": "s3cret"}, "username and lps.email.password must be set together"),
    ({"lps.email.sender": "loyalty"}, "sender must be an e-mail address"),
])
def test_bad_settings_are_rejected_at_start_up(settings, message):
    with pytest.raises(ValueError, match=message):
        EmailChannel.from_settings(settings)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("Yes", True), ("on", True), ("1", True),
                                                 ("false", False), ("no", False), ("0", False), ("", False)])
def test_starttls_setting_words(value, expected):
    assert EmailChannel.from_settings({"lps.email.starttls": value}).starttls is expected


def test_a_bad_setting_fails_plugin_loading_with_the_plugin_name():
    from lps_core.plugins import PluginError, load_plugins

    with pytest.raises(PluginError, match="plugin 'email' failed in lps_notification_channels.*port"):
        load_plugins({"lps.email.port": "smtp"})
