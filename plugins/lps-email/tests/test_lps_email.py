"""The e-mail channel, delivering for real to an aiosmtpd server on 127.0.0.1 (lps_core.testing's
smtp_server), and what each answer of the server becomes."""
import socket

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import DELIVERED, PERMANENT, TEMPORARY, INotificationChannel, Message
from lps_core.testing import start_up_error
from lps_email import EmailChannel
from lps_email.settings import EmailOutletSettings, EmailSettings

pytest_plugins = ["lps_core.testing"]

MESSAGE = Message(recipient="guest@example.test", subject="Welcome to Gold", body="Dear guest,\nyou are Gold now.\n")


def channel_for(inbox, **settings) -> EmailChannel:
    return EmailChannel(EmailSettings.model_validate({
        "host": "127.0.0.1", "port": str(inbox.port), "sender": "loyalty@hotel.example.test", **settings}))


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_channel_is_registered_from_its_entry_point_with_its_settings(plugins):
    component = plugins.component("channel", "email")
    assert verifyObject(INotificationChannel, component.obj)
    assert (component.plugin, component.distribution) == ("email", "lps-email")
    assert component.obj.options == EmailSettings()
    assert plugins.options["email"] is component.obj.options


def test_a_message_is_delivered_over_smtp(smtp_server):
    result = channel_for(smtp_server).send(MESSAGE, None)
    assert result.outcome == DELIVERED and result.delivered and not result.retry
    (envelope,) = smtp_server.envelopes
    (sent,) = smtp_server.messages()
    assert envelope.mail_from == "loyalty@hotel.example.test"
    assert envelope.rcpt_tos == ["guest@example.test"]
    assert sent["From"] == "loyalty@hotel.example.test"
    assert sent["To"] == "guest@example.test"
    assert sent["Subject"] == "Welcome to Gold"
    assert sent["Message-ID"].endswith("@hotel.example.test>")
    assert result.gateway_id == sent["Message-ID"]
    assert sent["Date"]
    assert sent.get_content().rstrip("\n") == "Dear guest,\nyou are Gold now."


@pytest.mark.parametrize(("message_id", "header"), [
    ("outbox-42", "<outbox-42@hotel.example.test>"),
    ("<outbox-42@lps.example.test>", "<outbox-42@lps.example.test>"),
])
def test_the_message_id_is_the_messages_own_so_a_resend_is_recognisable(smtp_server, message_id, header):
    channel = channel_for(smtp_server)
    for _ in range(2):
        channel.send(Message("guest@example.test", "Hello", "Hi", message_id=message_id), None)
    assert [sent["Message-ID"] for sent in smtp_server.messages()] == [header, header]


def test_an_outlets_own_sender_is_the_from_address(smtp_server):
    result = channel_for(smtp_server).send(MESSAGE, EmailOutletSettings(sender="spa@hotel.example.test"))
    assert result.delivered
    (sent,) = smtp_server.messages()
    assert sent["From"] == "spa@hotel.example.test"
    assert sent["Message-ID"].endswith("@hotel.example.test>")


def test_html_and_extra_headers_go_with_the_text(smtp_server):
    message = Message("guest@example.test", "News", "Plain news\n", html="<p>Rich news</p>",
                      headers={"List-Unsubscribe": "<https://hotel.example.test/unsubscribe/x>"})
    assert channel_for(smtp_server).send(message, None).delivered
    (sent,) = smtp_server.messages()
    assert sent["List-Unsubscribe"] == "<https://hotel.example.test/unsubscribe/x>"
    assert sent.get_body(("plain",)).get_content().rstrip("\n") == "Plain news"
    assert sent.get_body(("html",)).get_content().rstrip("\n") == "<p>Rich news</p>"


def test_a_message_goes_to_its_recipient_only_whatever_its_headers_say(smtp_server):
    message = Message("guest@example.test", "Hello", "Hi", headers={"Cc": "everyone@example.test"})
    assert channel_for(smtp_server).send(message, None).delivered
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["guest@example.test"]]


def test_non_ascii_subject_and_body_survive(smtp_server):
    message = Message(recipient="guest@example.test", subject="欢迎加入金卡会员", body="尊敬的会员：您已升级为金卡。\n")
    assert channel_for(smtp_server).send(message, None).delivered
    (sent,) = smtp_server.messages()
    assert sent["Subject"] == "欢迎加入金卡会员"
    assert sent.get_content().rstrip("\n") == "尊敬的会员：您已升级为金卡。"


def test_logs_in_with_the_configured_username_and_password(smtp_server):
    smtp_server.accounts = {"lps": "s3cret"}
    assert channel_for(smtp_server, username="lps", password="s3cret").send(MESSAGE, None).delivered
    assert len(smtp_server.envelopes) == 1


@pytest.mark.parametrize(("reply", "outcome"), [
    ("550 5.1.1 no such user", PERMANENT),
    ("553 5.1.3 bad address", PERMANENT),
    ("450 4.2.0 mailbox busy", TEMPORARY),
    ("451 4.7.1 greylisted, try again later", TEMPORARY),
])
def test_a_refused_recipient_is_permanent_and_a_deferred_one_temporary(smtp_server, reply, outcome):
    smtp_server.replies["guest@example.test"] = reply
    result = channel_for(smtp_server).send(MESSAGE, None)
    assert result.outcome == outcome
    assert reply.split()[0] in result.detail and "guest@example.test" in result.detail
    assert smtp_server.envelopes == []


@pytest.mark.parametrize(("reply", "outcome"), [
    ("554 5.7.1 message refused as spam", PERMANENT),
    ("452 4.3.1 insufficient system storage", TEMPORARY),
    ("421 4.3.2 shutting down", TEMPORARY),
])
def test_a_reply_to_the_message_is_classified_by_its_code(smtp_server, reply, outcome):
    smtp_server.data_reply = reply
    result = channel_for(smtp_server).send(MESSAGE, None)
    assert result.outcome == outcome
    assert reply.split()[0] in result.detail


def test_an_unreachable_server_is_temporary():
    channel = EmailChannel(EmailSettings(host="127.0.0.1", port=free_port(), timeout=2))
    result = channel.send(MESSAGE, None)
    assert result.outcome == TEMPORARY
    assert "ConnectionRefusedError" in result.detail


def test_a_wrong_password_is_temporary_and_nothing_is_sent(smtp_server):
    """A fault of the set-up, not of the message: once IT fixes it, the message can still go."""
    smtp_server.accounts = {"lps": "s3cret"}
    result = channel_for(smtp_server, username="lps", password="wrong").send(MESSAGE, None)
    assert result.outcome == TEMPORARY and "SMTPAuthenticationError" in result.detail
    assert smtp_server.envelopes == []


def test_starttls_that_the_server_does_not_offer_is_temporary_not_a_downgrade(smtp_server):
    result = channel_for(smtp_server, starttls="true").send(MESSAGE, None)
    assert result.outcome == TEMPORARY and "STARTTLS" in result.detail
    assert smtp_server.envelopes == []


def test_a_recipient_that_cannot_be_a_header_is_permanent(smtp_server):
    result = channel_for(smtp_server).send(Message("guest@example.test\nBcc: all@example.test", "Hi", "Hi"), None)
    assert result.outcome == PERMANENT
    assert smtp_server.envelopes == []


@pytest.mark.parametrize(("settings", "error"), [
    ({"lps.email.port": "smtp"}, "plugin 'email': lps.email.port: Input should be a valid integer"),
    ({"lps.email.port": "0"}, "plugin 'email': lps.email.port: Input should be greater than or equal to 1"),
    ({"lps.email.timeout": "-1"}, "plugin 'email': lps.email.timeout: Input should be greater than 0"),
    ({"lps.email.starttls": "maybe"}, "plugin 'email': lps.email.starttls: Input should be a valid boolean"),
    ({"lps.email.username": "lps"}, "plugin 'email': lps.email.password: is required when lps.email.username"),
    ({"lps.email.password": "s3cret"}, "plugin 'email': lps.email.password: is given without lps.email.username"),
    ({"lps.email.sender": "loyalty"}, "plugin 'email': lps.email.sender: must be an e-mail address"),
    ({"lps.email.sendr": "a@b.test"}, "plugin 'email': lps.email.sendr is not a setting of this plugin"),
])
def test_a_bad_setting_stops_start_up_with_one_line_naming_the_plugin_and_key(settings, error):
    message = start_up_error(settings)
    assert message.startswith(error)
    assert "\n" not in message


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("Yes", True), ("on", True), ("1", True),
                                                 ("false", False), ("no", False), ("0", False), ("", False)])
def test_starttls_setting_words(value, expected):
    assert EmailSettings.model_validate({"starttls": value}).starttls is expected


def test_an_outlets_sender_must_be_an_address():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="must be an e-mail address"):
        EmailOutletSettings.model_validate({"sender": "spa desk"})
