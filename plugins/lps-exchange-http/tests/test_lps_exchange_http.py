"""The HTTP exchange against a real partner on 127.0.0.1 (lps_exchange_http.simulator, started by
each test): what each request carries, and what each of the partner's outcomes becomes under the
exchange contract."""
import socket
from datetime import datetime, timedelta, timezone

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import IN, OUT, IPointExchange, PermanentFailure, TemporaryFailure, Transfer, UnknownOutcome
from lps_exchange_http import HttpExchange, PartnerEndpoint
from lps_exchange_http.client import signature
from lps_exchange_http.settings import HttpExchangeSettings
from lps_exchange_http.simulator import PartnerSimulator

pytest_plugins = ["lps_core.testing"]

SETTINGS = HttpExchangeSettings.model_validate({})


@pytest.fixture
def partner():
    simulator = PartnerSimulator(secret="s3cret").start()
    yield simulator
    simulator.close()


def endpoint(url, **given):
    return PartnerEndpoint.model_validate({"partner": "SKYMILES", "base_url": url, "secret": "s3cret",
                                           "read_timeout": "0.5", **given})


@pytest.fixture
def exchange(partner):
    return HttpExchange(endpoint(partner.url))


def transfer(reference="T-1", direction=OUT, lps_points=100, partner_points=200, member_no="PM1001"):
    return Transfer(direction, reference, member_no, lps_points, partner_points, 7,
                    datetime.now(timezone.utc))


def test_the_exchange_is_registered_from_its_entry_point(plugins):
    component = plugins.component("exchange", "http_partner")
    assert component.distribution == "lps-exchange-http" and not component.from_core
    assert verifyObject(IPointExchange, component.obj)
    assert component.obj.settings_schema is HttpExchangeSettings


def test_the_secret_is_never_shown_and_a_switch_may_have_its_own():
    configured = endpoint("http://127.0.0.1:1/x")
    assert "s3cret" not in repr(configured) and "s3cret" not in str(configured.model_dump())
    own = HttpExchangeSettings.model_validate({"secret": "outlet-secret"})
    assert "outlet-secret" not in repr(own)
    assert HttpExchangeSettings.model_json_schema()["properties"]["secret"]["writeOnly"] is True
    for bad in ({"base_url": "ftp://x"}, {"auth": "basic"}, {"partner": "no spaces"}):
        with pytest.raises(ValueError):
            PartnerEndpoint.model_validate(bad)


def test_the_switchs_secret_wins_and_no_secret_at_all_sends_nothing():
    simulator = PartnerSimulator(secret="outlet-secret").start()
    try:
        exchange = HttpExchange(endpoint(simulator.url, secret="ini-secret"))
        with pytest.raises(PermanentFailure, match="401"):
            exchange.transfer(transfer(), SETTINGS)
        own = HttpExchangeSettings.model_validate({"secret": "outlet-secret"})
        assert exchange.transfer(transfer(), own).partner_reference == "P-1"
        unsigned = HttpExchange(PartnerEndpoint.model_validate({"base_url": simulator.url}))
        with pytest.raises(TemporaryFailure, match="no secret"):
            unsigned.transfer(transfer("T-2"), SETTINGS)
        assert len(simulator.requests) == 2
    finally:
        simulator.close()


def test_every_request_carries_a_signature_the_partner_verifies(exchange, partner):
    receipt = exchange.transfer(transfer(), SETTINGS)
    assert (receipt.pending, receipt.partner_reference) == (False, "P-1")
    method, path, headers, body = partner.requests[-1]
    assert (method, path) == ("PUT", "/lps/v1/transfers/out/T-1")
    assert headers["Idempotency-Key"] == "out:T-1"
    assert headers["X-LPS-Signature"] == "sha256=" + signature("s3cret", headers["X-LPS-Timestamp"], "PUT", path,
                                                               body)
    assert partner.booked_points(OUT, "T-1") == 200
    forged = HttpExchange(endpoint(partner.url, secret="guessed"))
    with pytest.raises(PermanentFailure, match="401"):
        forged.transfer(transfer("T-2"), SETTINGS)
    assert partner.booked_points(OUT, "T-2") is None


def test_a_bearer_token_instead_of_a_signature():
    simulator = PartnerSimulator(secret="tok-1", auth="bearer").start()
    try:
        exchange = HttpExchange(endpoint(simulator.url, auth="bearer", secret="tok-1"))
        assert not exchange.transfer(transfer(), SETTINGS).pending
        assert simulator.requests[-1][2]["Authorization"] == "Bearer tok-1"
        with pytest.raises(PermanentFailure):
            HttpExchange(endpoint(simulator.url, auth="bearer", secret="tok-2")).transfer(transfer("T-2"), SETTINGS)
    finally:
        simulator.close()


def test_quotes_are_the_partners(exchange):
    out = exchange.quote(OUT, 150, SETTINGS)
    assert (out.lps_points, out.partner_points, out.rate) == (150, 300, "1:2")
    incoming = exchange.quote(IN, 300, SETTINGS)
    assert (incoming.lps_points, incoming.partner_points) == (150, 300)
    with pytest.raises(PermanentFailure) as refused:
        exchange.quote(IN, 301, SETTINGS)
    assert refused.value.field == "points"


def test_a_resend_books_once_and_other_content_is_refused(exchange, partner):
    first = exchange.transfer(transfer(), SETTINGS)
    again = exchange.transfer(transfer(), SETTINGS)
    assert first.partner_reference == again.partner_reference == "P-1" and len(partner.bookings) == 1
    with pytest.raises(PermanentFailure) as refused:
        exchange.transfer(transfer(lps_points=50, partner_points=100), SETTINGS)
    assert refused.value.field == "reference"


def test_a_refusal_names_the_field(exchange, partner):
    with pytest.raises(PermanentFailure) as refused:
        exchange.transfer(transfer(member_no="NOBODY"), SETTINGS)
    assert refused.value.field == "partner_member_no" and "no such member" in refused.value.message
    assert partner.bookings == {}


def test_a_server_error_is_temporary_and_books_nothing(exchange, partner):
    partner.faults = ["error"]
    with pytest.raises(TemporaryFailure, match="500"):
        exchange.transfer(transfer(), SETTINGS)
    assert partner.bookings == {}
    assert not exchange.transfer(transfer(), SETTINGS).pending


def test_a_partner_that_is_not_listening_is_temporary():
    with socket.socket() as probe:  # a port that was free a moment ago, and nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exchange = HttpExchange(endpoint(f"http://127.0.0.1:{port}/lps/v1"))
    with pytest.raises(TemporaryFailure, match="could not be reached"):
        exchange.transfer(transfer(), SETTINGS)


@pytest.mark.parametrize("fault", ["slow", "broken", "hangup"])
def test_an_answer_lost_after_the_request_was_sent_is_an_unknown_outcome(exchange, partner, fault):
    partner.faults = [fault]
    with pytest.raises(UnknownOutcome):
        exchange.transfer(transfer(), SETTINGS)
    assert partner.booked_points(OUT, "T-1") == 200  # the partner did act
    assert exchange.transfer(transfer(), SETTINGS).partner_reference == "P-1"  # asked again: the booking
    assert len(partner.bookings) == 1


def test_a_reversal_and_the_statement(exchange, partner):
    exchange.transfer(transfer("T-1"), SETTINGS)
    exchange.transfer(transfer("T-2", IN, 50, 100), SETTINGS)
    exchange.transfer(transfer("T-3"), SETTINGS)
    assert exchange.reverse(transfer("T-3"), SETTINGS).partner_reference == "P-3-R"
    assert exchange.reverse(transfer("T-3"), SETTINGS).partner_reference == "P-3-R"  # idempotent
    now = datetime.now(timezone.utc)
    lines = exchange.statement(now - timedelta(hours=1), now + timedelta(hours=1), SETTINGS)
    assert {(line.direction, line.reference, line.partner_points, line.partner_member_no) for line in lines} == {
        (OUT, "T-1", 200, "PM1001"), (IN, "T-2", 100, "PM1001")}
    assert exchange.statement(now + timedelta(hours=1), now + timedelta(hours=2), SETTINGS) == []


def test_a_receipt_for_other_points_is_not_a_receipt(exchange, partner):
    exchange.transfer(transfer(), SETTINGS)
    partner.bookings[OUT, "T-1"]["partner_points"] = 150  # what the partner really booked
    partner.bookings[OUT, "T-1"]["lps_points"] = 100

    def booked_as_asked(_):
        return 200, {"status": "done", "partner_points": 150, "partner_reference": "P-1"}

    partner.book = lambda direction, reference, body: booked_as_asked(body)
    with pytest.raises(UnknownOutcome, match="booked 150"):
        exchange.transfer(transfer(), SETTINGS)


def test_no_address_is_temporary_not_a_crash():
    exchange = HttpExchange(PartnerEndpoint.model_validate({}))
    with pytest.raises(TemporaryFailure, match="base_url"):
        exchange.transfer(transfer(), SETTINGS)
