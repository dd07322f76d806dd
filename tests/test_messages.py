"""Delivering a message through a channel (lps_core.messages.delivery), with the real e-mail
channel and a real SMTP server on 127.0.0.1: the result the caller acts on, and the per-outlet
switch and settings that decide whether and how it is sent."""
import pytest
from sqlalchemy import select
from zope.interface import implementer

from lps_core.contract import DELIVERED, PERMANENT, TEMPORARY, DeliveryResult, INotificationChannel, Message, hookimpl
from lps_core.errors import Unprocessable
from lps_core.messages.delivery import deliver
from lps_core.outlets.models import Outlet
from lps_core.plugins import load_plugins
from lps_core.plugins.switches import set_switch

MESSAGE = Message("guest@example.test", "Your points", "You earned 120 points.\n", message_id="outbox-7")


@pytest.fixture
def mail_plugins(smtp_server):
    """The installed plugins, the e-mail channel set up for the loopback server."""
    return load_plugins({"lps.email.host": "127.0.0.1", "lps.email.port": str(smtp_server.port),
                         "lps.email.sender": "loyalty@hotel.example.test"})


def outlet_id(db, code) -> int:
    return db.scalar(select(Outlet.id).where(Outlet.code == code))


def switch_on(db, plugins, channel="email", *, at="REST", settings=None):
    set_switch(db, plugins, kind="channel", name=channel, scope="outlet", scope_id=outlet_id(db, at),
               enabled=True, settings=settings)
    db.commit()


def test_a_message_is_delivered_where_the_channel_is_switched_on(seed, smtp_server, mail_plugins):
    switch_on(seed.db, mail_plugins)
    result = deliver(seed.db, mail_plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "REST"))
    assert result.outcome == DELIVERED
    (sent,) = smtp_server.messages()
    assert (sent["To"], sent["Subject"], sent["Message-ID"]) == (
        "guest@example.test", "Your points", "<outbox-7@hotel.example.test>")
    assert result.gateway_id == sent["Message-ID"]


def test_the_outlets_settings_are_those_in_force(seed, smtp_server, mail_plugins):
    switch_on(seed.db, mail_plugins, settings={"sender": "restaurant@hotel.example.test"})
    assert deliver(seed.db, mail_plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "REST")).delivered
    assert [sent["From"] for sent in smtp_server.messages()] == ["restaurant@hotel.example.test"]


def test_a_channel_off_at_an_outlet_is_refused_there_and_sends_nothing(seed, smtp_server, mail_plugins):
    switch_on(seed.db, mail_plugins, at="REST")
    with pytest.raises(Unprocessable) as refused:
        deliver(seed.db, mail_plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "SPA"), outlet_code="SPA")
    assert refused.value.status == 422
    assert refused.value.fields == {"channel": "not available at outlet SPA"}
    with pytest.raises(Unprocessable, match="switched off in this programme"):
        deliver(seed.db, mail_plugins, MESSAGE, channel="email")
    assert smtp_server.envelopes == []


def test_an_unknown_channel_is_refused(seed, mail_plugins):
    with pytest.raises(Unprocessable) as refused:
        deliver(seed.db, mail_plugins, MESSAGE, channel="pigeon", outlet_id=outlet_id(seed.db, "REST"))
    assert refused.value.fields == {"channel": "no such channel"}


@pytest.mark.parametrize(("reply", "outcome"), [("550 5.1.1 no such user", PERMANENT),
                                                ("450 4.2.1 mailbox busy", TEMPORARY)])
def test_a_refused_recipient_comes_back_as_the_servers_verdict(seed, smtp_server, mail_plugins, reply, outcome):
    switch_on(seed.db, mail_plugins)
    smtp_server.replies["guest@example.test"] = reply
    result = deliver(seed.db, mail_plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "REST"))
    assert (result.outcome, result.retry) == (outcome, outcome == TEMPORARY)
    assert reply.split()[0] in result.detail


def test_a_deferred_message_is_temporary(seed, smtp_server, mail_plugins):
    switch_on(seed.db, mail_plugins)
    smtp_server.data_reply = "451 4.3.0 try again later"
    result = deliver(seed.db, mail_plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "REST"))
    assert result.outcome == TEMPORARY and result.retry


def test_a_server_that_is_down_is_temporary(seed):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    plugins = load_plugins({"lps.email.host": "127.0.0.1", "lps.email.port": str(port), "lps.email.timeout": "2"})
    switch_on(seed.db, plugins)
    result = deliver(seed.db, plugins, MESSAGE, channel="email", outlet_id=outlet_id(seed.db, "REST"))
    assert result.outcome == TEMPORARY


@implementer(INotificationChannel)
class FaultyChannel:
    label = "Faulty"
    settings_schema = None

    def __init__(self, name, answer):
        self.name, self.answer = name, answer

    def send(self, message, settings):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FaultyPlugin:
    @hookimpl
    def lps_notification_channels(self):
        return [FaultyChannel("raises", RuntimeError("gateway library bug")), FaultyChannel("mumbles", "sent, I think")]


@pytest.mark.parametrize(("channel", "detail"), [("raises", "RuntimeError: gateway library bug"),
                                                 ("mumbles", "answered str, not a DeliveryResult")])
def test_a_channel_that_raises_or_answers_nonsense_is_a_temporary_failure(seed, channel, detail):
    plugins = load_plugins({}, extra_plugins=[("faulty", FaultyPlugin())])
    switch_on(seed.db, plugins, channel)
    result = deliver(seed.db, plugins, MESSAGE, channel=channel, outlet_id=outlet_id(seed.db, "REST"))
    assert result.outcome == TEMPORARY
    assert detail in result.detail


def test_a_delivery_result_has_one_of_three_outcomes():
    assert DeliveryResult.ok().delivered and DeliveryResult.temporary("later").retry
    assert not DeliveryResult.permanent("never").retry
    with pytest.raises(ValueError, match="one of delivered, temporary, permanent"):
        DeliveryResult("sent")
