"""The airline-miles adapter on its batch folders: quotes at the rate, requests written once with
their checksums, the airline's answers read only when its manifest vouches for them."""
import csv
import hashlib
from datetime import datetime, timezone

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import IN, OUT, IPointExchange, PermanentFailure, TemporaryFailure, Transfer, UnknownOutcome
from lps_airline_miles import AirlineMilesExchange
from lps_airline_miles.settings import AirlineMilesSettings, FolderSettings

pytest_plugins = ["lps_core.testing"]

SETTINGS = AirlineMilesSettings.model_validate({"miles_per_point": 2, "minimum": 500, "step": 100})
REQUESTED = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def exchange(tmp_path):
    return AirlineMilesExchange(FolderSettings.model_validate({"outbox": str(tmp_path / "out"),
                                                               "inbox": str(tmp_path / "in")}))


def transfer(reference="T-1", direction=OUT, lps_points=1000, miles=2000):
    return Transfer(direction, reference, "AM1234567", lps_points, miles, 1, REQUESTED)


def airline_writes(folder, name, text):
    """A file the airline leaves in the inbox, listed with its checksum in its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    (folder / name).write_bytes(data)
    with open(folder / "MANIFEST.sha256", "a") as manifest:
        manifest.write(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def test_the_exchange_is_registered_from_its_entry_point(plugins):
    component = plugins.component("exchange", "airline_miles")
    assert component.distribution == "lps-airline-miles" and not component.from_core
    assert verifyObject(IPointExchange, component.obj)
    assert component.obj.settings_schema is AirlineMilesSettings


def test_quotes_at_the_rate_within_the_minimum_and_step(exchange):
    out = exchange.quote(OUT, 1000, SETTINGS)
    assert (out.lps_points, out.partner_points, out.rate) == (1000, 2000, "1 point = 2 miles")
    incoming = exchange.quote(IN, 600, SETTINGS)
    assert (incoming.lps_points, incoming.partner_points) == (300, 600)
    for points in (400, 550):
        with pytest.raises(PermanentFailure) as refused:
            exchange.quote(OUT, points, SETTINGS)
        assert refused.value.field == "points"
    odd_rate = AirlineMilesSettings.model_validate({"miles_per_point": 3, "minimum": None, "step": None})
    with pytest.raises(PermanentFailure):
        exchange.quote(IN, 100, odd_rate)


def test_a_transfer_is_written_once_with_its_checksum_and_stays_pending(exchange, tmp_path):
    receipt = exchange.transfer(transfer(), SETTINGS)
    assert receipt.pending and "LPS-T-1-credit.csv" in receipt.detail
    again = exchange.transfer(transfer(), SETTINGS)
    assert again.pending
    outbox = tmp_path / "out"
    data = (outbox / "LPS-T-1-credit.csv").read_bytes()
    assert (outbox / "MANIFEST.sha256").read_text() == f"{hashlib.sha256(data).hexdigest()}  LPS-T-1-credit.csv\n"
    [row] = csv.DictReader(data.decode().splitlines())
    assert row == {"action": "credit", "reference": "T-1", "member_no": "AM1234567", "miles": "2000",
                   "lps_points": "1000", "requested_at": "2026-11-02T09:30:00+00:00"}
    exchange.transfer(transfer("T-2", IN, 300, 600), SETTINGS)
    assert sorted(path.name for path in outbox.iterdir() if not path.name.startswith(".")) == [
        "LPS-T-1-credit.csv", "LPS-T-2-debit.csv", "MANIFEST.sha256"]


def test_the_airline_confirmation_finishes_or_refuses_the_transfer(exchange, tmp_path):
    exchange.transfer(transfer("T-1"), SETTINGS)
    exchange.transfer(transfer("T-2"), SETTINGS)
    airline_writes(tmp_path / "in", "CONF-20261102.csv",
                   "action,reference,status,miles,airline_reference,reason\n"
                   "credit,T-1,accepted,2000,AX-77,\n"
                   "credit,T-2,rejected,2000,,unknown_member\n")
    receipt = exchange.transfer(transfer("T-1"), SETTINGS)
    assert (receipt.pending, receipt.partner_reference) == (False, "AX-77")
    with pytest.raises(PermanentFailure) as refused:
        exchange.transfer(transfer("T-2"), SETTINGS)
    assert refused.value.field == "partner_member_no"
    with pytest.raises(UnknownOutcome):  # the airline confirmed other miles than were asked
        exchange.transfer(transfer("T-1", miles=1000, lps_points=500), SETTINGS)


def test_an_answer_is_read_only_when_the_manifest_vouches_for_it(exchange, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "CONF-0.csv").write_text("action,reference,status,miles,airline_reference,reason\n"
                                      "credit,T-1,accepted,2000,AX-1,\n")  # not in the manifest: not read
    assert exchange.transfer(transfer("T-1"), SETTINGS).pending
    airline_writes(inbox, "CONF-1.csv", "action,reference,status,miles,airline_reference,reason\n"
                                        "credit,T-1,accepted,2000,AX-1,\n")
    (inbox / "CONF-1.csv").write_text("action,reference,status,miles,airline_reference,reason\n")  # still copying
    with pytest.raises(TemporaryFailure):
        exchange.transfer(transfer("T-1"), SETTINGS)


def test_a_reversal_is_its_own_request(exchange, tmp_path):
    assert exchange.reverse(transfer("T-1"), SETTINGS).pending
    assert (tmp_path / "out" / "LPS-T-1-reverse_credit.csv").exists()
    airline_writes(tmp_path / "in", "CONF-R.csv", "action,reference,status,miles,airline_reference,reason\n"
                                                  "reverse_credit,T-1,accepted,2000,AX-R1,\n")
    assert not exchange.reverse(transfer("T-1"), SETTINGS).pending


def test_the_statement_lists_the_bookings_of_the_period(exchange, tmp_path):
    airline_writes(tmp_path / "in", "STMT-202611.csv",
                   "action,reference,miles,member_no,booked_at\n"
                   "credit,T-1,2000,AM1234567,2026-11-02T10:00:00+00:00\n"
                   "debit,T-2,600,AM1234567,2026-11-03T08:00:00\n"
                   "credit,T-3,400,AM7654321,2026-12-01T00:00:00+00:00\n")
    lines = exchange.statement(datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc),
                               SETTINGS)
    assert [(line.reference, line.direction, line.partner_points) for line in lines] == [
        ("T-1", OUT, 2000), ("T-2", IN, 600)]
