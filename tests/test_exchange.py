"""Point exchanges: transfers out and in through an adapter, keyed by the partner's reference,
posted in the ledger, held while the partner's answer is open, reversed, and reconciled with the
partner's statement. FAKEAIR is a scripted adapter registered as an extra plugin; the app under
test gets the same plugin registry, so the test and the app share the adapter's bookings."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from webtest import TestApp
from zope.interface import implementer

from lps_core.contract import (
    IN,
    OUT,
    ExchangeSettings,
    IPointExchange,
    PermanentFailure,
    Quote,
    StatementLine,
    TemporaryFailure,
    TransferReceipt,
    UnknownOutcome,
    hookimpl,
)
from lps_core.earning.programme import Programme
from lps_core.exchange import services
from lps_core.exchange.models import PointTransfer
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account, LedgerEntry, PointLot
from lps_core.outlets.models import Outlet
from lps_core.plugins.switches import set_switch
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import utcnow
from lps_core.validation import Int

PARTNER = "FAKEAIR"


class FakeAirSettings(ExchangeSettings):
    miles_per_point: Int(1, 100) = 2


@implementer(IPointExchange)
class FakeAir:
    """An airline whose answers a test scripts per reference: "refuse", "down", "timeout" (booked,
    but the answer is lost), "later" (a pending receipt); anything else books the transfer."""

    name = PARTNER
    label = "Fake Air"
    settings_schema = FakeAirSettings

    def __init__(self):
        self.reset()

    def reset(self):
        self.booked = {}  # (direction, reference) -> miles
        self.script = {}  # reference -> outcomes still to play, in order
        self.calls = []

    def quote(self, direction, points, settings):
        rate = settings.miles_per_point
        if direction == OUT:
            return Quote(OUT, points, points * rate, f"1:{rate}")
        return Quote(IN, points // rate, points, f"{rate}:1")

    def transfer(self, transfer, settings):
        self.calls.append(("transfer", transfer.reference))
        outcomes = self.script.get(transfer.reference) or ["book"]
        outcome = outcomes.pop(0)
        if outcome == "refuse":
            raise PermanentFailure("no such frequent flyer", field="partner_member_no")
        if outcome == "down":
            raise TemporaryFailure("the airline is down")
        if outcome == "later":
            return TransferReceipt(pending=True, detail="in tonight's batch")
        self.booked[transfer.direction, transfer.reference] = transfer.partner_points
        if outcome == "timeout":
            raise UnknownOutcome("no answer within 10 s")
        return TransferReceipt(partner_reference=f"FA-{transfer.reference}")

    def reverse(self, transfer, settings):
        self.calls.append(("reverse", transfer.reference))
        self.booked.pop((transfer.direction, transfer.reference), None)
        return TransferReceipt()

    def statement(self, period_start, period_end, settings):
        return [StatementLine(reference, direction, miles) for (direction, reference), miles in self.booked.items()]


FAKE_AIR = FakeAir()


class FakeAirPlugin:
    @hookimpl
    def lps_point_exchanges(self):
        return [FAKE_AIR]


SETTINGS = {**TEST_SETTINGS, "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0"}


@pytest.fixture(scope="session")
def exchange_plugins():
    from lps_core.plugins import load_plugins

    return load_plugins(SETTINGS, extra_plugins=[("fakeair", FakeAirPlugin())])


@pytest.fixture(scope="session")
def exchange_wsgi(database_url, exchange_plugins):
    from lps_core import main
    from lps_core.components import IPlugins

    app = main({}, **{**SETTINGS, "sqlalchemy.url": database_url})
    app.registry.registerUtility(exchange_plugins, IPlugins)
    return app


@pytest.fixture
def fake_air():
    FAKE_AIR.reset()
    yield FAKE_AIR
    FAKE_AIR.reset()


@pytest.fixture
def on_at_rest(seed, exchange_plugins, fake_air):
    """FAKEAIR switched on at REST only (2 miles per point); returns a function to change its settings."""
    def switch(**settings):
        rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
        set_switch(seed.db, exchange_plugins, kind="exchange", name=PARTNER, scope="outlet", scope_id=rest,
                   enabled=True, settings=settings)
        seed.db.commit()
    switch()
    return switch


@pytest.fixture
def member(seed):
    """A member's card with 1,000 points."""
    card_no = seed.member_card("Lin Fei")
    ledger.credit(seed.db, seed.points_account(card_no), 1000, kind=ledger.EARN, business_key=f"gift:{card_no}",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=365))
    seed.db.commit()
    return card_no


@pytest.fixture
def api(exchange_wsgi, seed, on_at_rest):
    key = seed.api_key("REST", scopes=["exchange"])
    return TestApp(exchange_wsgi, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {key}"})


def transfer_body(card_no, reference, direction=OUT, points=100, partner_member_no="FA123"):
    return {"direction": direction, "card_no": card_no, "points": points, "reference": reference,
            "partner_member_no": partner_member_no}


def balance(seed, card_no):
    seed.db.commit()  # a new snapshot: the app committed meanwhile
    return seed.db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no)))


def entries_of(seed, reference):
    seed.db.commit()  # a new snapshot: the app committed meanwhile
    return list(seed.db.scalars(select(LedgerEntry).where(LedgerEntry.business_key.like(f"exchange:%:{reference}%"))
                                .order_by(LedgerEntry.id)))


def transfers_url(partner=PARTNER):
    return f"/api/v1/exchanges/{partner}/transfers"


# -- out and in -----------------------------------------------------------------------------------

def test_an_out_transfer_debits_the_points_once_however_often_it_is_sent(api, seed, member, fake_air):
    first = api.post_json(transfers_url(), transfer_body(member, "OUT-1"), status=201).json
    assert (first["status"], first["points"], first["partner_points"]) == ("done", 100, 200)
    assert first["partner_reference"] == "FA-OUT-1" and first["outlet"] == "REST" and not first["replayed"]
    again = api.post_json(transfers_url(), transfer_body(member, "OUT-1"), status=200).json
    assert again["replayed"] and again["status"] == "done"
    assert fake_air.calls == [("transfer", "OUT-1")]
    assert balance(seed, member) == 900
    [entry] = entries_of(seed, "OUT-1")
    assert (entry.kind, entry.amount, entry.business_key) == ("exchange_out", -100, "exchange:FAKEAIR:out:OUT-1")
    assert PARTNER in entry.note and entry.id == first["ledger_entry_id"]
    assert find_drift(seed.db) == []
    assert api.get(transfers_url() + "/OUT-1").json["status"] == "done"


def test_the_same_reference_with_other_content_is_a_conflict(api, member):
    api.post_json(transfers_url(), transfer_body(member, "OUT-2"), status=201)
    refused = api.post_json(transfers_url(), transfer_body(member, "OUT-2", points=200), status=409).json
    assert "reference" in refused["fields"]


def test_an_in_transfer_credits_a_lot_that_expires_by_the_programme_policy(api, seed, member, fake_air):
    done = api.post_json(transfers_url(), transfer_body(member, "IN-1", direction=IN, points=500), status=201).json
    assert (done["status"], done["points"], done["partner_points"]) == ("done", 250, 500)
    assert balance(seed, member) == 1250
    [entry] = entries_of(seed, "IN-1")
    assert (entry.kind, entry.amount) == ("exchange_in", 250)
    lot = seed.db.scalar(select(PointLot).where(PointLot.entry_id == entry.id))
    expected = Programme.from_settings({}).expiry.lot_expires_at(entry.occurred_at)
    assert lot.remaining == 250 and abs(lot.expires_at.replace(tzinfo=None) - expected.replace(tzinfo=None)) \
        < timedelta(seconds=1)
    assert fake_air.booked == {(IN, "IN-1"): 500}
    assert find_drift(seed.db) == []


def test_a_transfer_needs_the_points(api, seed, member):
    refused = api.post_json(transfers_url(), transfer_body(member, "OUT-BIG", points=5000), status=409).json
    assert "points" in refused["fields"]
    assert seed.db.scalar(select(PointTransfer.id).where(PointTransfer.reference == "OUT-BIG")) is None


def test_simultaneous_sends_of_one_transfer_post_it_once(engine, seed, exchange_plugins, on_at_rest, member, fake_air):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.orm import Session

    programme = Programme.from_settings({})
    request = services.TransferRequest(PARTNER, OUT, member, 100, "OUT-RACE", "FA123")
    rest = seed.db.scalar(select(Outlet).where(Outlet.code == "REST"))
    seed.db.commit()
    ready = threading.Barrier(4)

    def send(_):
        ready.wait()  # before any statement: on SQLite the first one takes the write lock
        with Session(engine) as db:
            result = services.request_transfer(db, exchange_plugins, programme, rest, request)
            db.commit()
            return result.replayed

    with ThreadPoolExecutor(4) as pool:
        replayed = sorted(pool.map(send, range(4)))
    assert replayed == [False, True, True, True]
    assert balance(seed, member) == 900 and len(entries_of(seed, "OUT-RACE")) == 1
    assert fake_air.calls == [("transfer", "OUT-RACE")]


# -- failures ---------------------------------------------------------------------------------------

def test_a_permanent_failure_gives_the_points_back_in_the_same_request(api, seed, member, fake_air):
    fake_air.script["OUT-3"] = ["refuse"]
    refused = api.post_json(transfers_url(), transfer_body(member, "OUT-3"), status=422).json
    assert refused["fields"] == {"partner_member_no": "no such frequent flyer"}
    assert refused["transfer"]["status"] == "failed"
    assert balance(seed, member) == 1000
    debit, reversal = entries_of(seed, "OUT-3")
    assert (debit.amount, reversal.amount, reversal.reverses_id) == (-100, 100, debit.id)
    assert find_drift(seed.db) == []
    api.post_json(transfers_url(), transfer_body(member, "OUT-3"), status=422)  # a resend answers the same
    assert fake_air.calls == [("transfer", "OUT-3")]


def test_an_unknown_outcome_holds_the_points_until_a_resend_completes_it(api, seed, member, fake_air):
    fake_air.script["OUT-4"] = ["timeout"]
    held = api.post_json(transfers_url(), transfer_body(member, "OUT-4"), status=202).json
    assert (held["status"], held["last_error"]) == ("unknown", "no answer within 10 s")
    assert balance(seed, member) == 900
    done = api.post_json(transfers_url(), transfer_body(member, "OUT-4"), status=200).json
    assert (done["status"], done["attempts"], done["replayed"]) == ("done", 2, True)
    assert balance(seed, member) == 900 and len(entries_of(seed, "OUT-4")) == 1
    assert find_drift(seed.db) == []


def test_a_pending_in_transfer_credits_nothing_until_the_partner_confirms(api, seed, member, fake_air):
    fake_air.script["IN-2"] = ["later"]
    pending = api.post_json(transfers_url(), transfer_body(member, "IN-2", direction=IN, points=200), status=202).json
    assert pending["status"] == "pending" and pending["ledger_entry_id"] is None
    assert balance(seed, member) == 1000
    api.post_json(transfers_url(), transfer_body(member, "IN-2", direction=IN, points=200), status=200)
    assert balance(seed, member) == 1100


def test_the_retry_job_finishes_open_transfers(seed, exchange_plugins, on_at_rest, member, fake_air):
    fake_air.script["OUT-5"] = ["down"]
    programme = Programme.from_settings({})
    rest = seed.db.scalar(select(Outlet).where(Outlet.code == "REST"))
    request = services.TransferRequest(PARTNER, OUT, member, 300, "OUT-5", "FA123")
    result = services.request_transfer(seed.db, exchange_plugins, programme, rest, request)
    assert (result.transfer.status, result.transfer.last_error) == ("pending", "the airline is down")
    seed.db.commit()
    [retried] = services.retry_open_transfers(seed.db, exchange_plugins, programme)
    seed.db.commit()
    assert (retried.reference, retried.status, retried.attempts) == ("OUT-5", "done", 2)
    assert balance(seed, member) == 700
    assert services.retry_open_transfers(seed.db, exchange_plugins, programme) == []


# -- reversal ---------------------------------------------------------------------------------------

def test_a_reversal_undoes_the_transfer_at_the_partner_and_in_the_ledger(api, seed, member, fake_air):
    api.post_json(transfers_url(), transfer_body(member, "OUT-6"), status=201)
    reversed_ = api.post(transfers_url() + "/OUT-6/reversal", status=200).json
    assert reversed_["status"] == "reversed" and reversed_["reversal_entry_id"]
    assert balance(seed, member) == 1000 and fake_air.booked == {}
    again = api.post_json(transfers_url() + "/OUT-6/reversal", {}, status=200).json
    assert again["replayed"] and fake_air.calls.count(("reverse", "OUT-6")) == 1
    api.post_json(transfers_url(), transfer_body(member, "IN-3", direction=IN, points=200), status=201)
    api.post_json(transfers_url() + "/IN-3/reversal", {"direction": "in"}, status=200)
    assert balance(seed, member) == 1000
    assert find_drift(seed.db) == []


def test_an_in_transfer_whose_points_are_spent_is_not_reversed(api, seed, member, fake_air):
    api.post_json(transfers_url(), transfer_body(member, "IN-4", direction=IN, points=400), status=201)
    api.post_json(transfers_url(), transfer_body(member, "OUT-7", points=1150), status=201)
    api.post(transfers_url() + "/IN-4/reversal", status=409)
    assert ("reverse", "IN-4") not in fake_air.calls


def test_a_failed_transfer_has_nothing_to_reverse(api, member, fake_air):
    fake_air.script["OUT-8"] = ["refuse"]
    api.post_json(transfers_url(), transfer_body(member, "OUT-8"), status=422)
    api.post(transfers_url() + "/OUT-8/reversal", status=409)


# -- switches, partners and limits -------------------------------------------------------------------

def test_an_exchange_switched_off_at_the_outlet_is_refused(exchange_wsgi, seed, on_at_rest, member):
    spa_key = seed.api_key("SPA", scopes=["exchange"])
    spa = TestApp(exchange_wsgi, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {spa_key}"})
    refused = spa.post_json(transfers_url(), transfer_body(member, "SPA-1"), status=422).json
    assert "partner" in refused["fields"]
    spa.post_json(f"/api/v1/exchanges/{PARTNER}/quotes", {"direction": "out", "points": 100}, status=422)
    assert balance(seed, member) == 1000


def test_another_outlets_transfer_is_not_found(api, exchange_wsgi, seed, member):
    api.post_json(transfers_url(), transfer_body(member, "OUT-9"), status=201)
    spa_key = seed.api_key("SPA", scopes=["exchange"])
    spa = TestApp(exchange_wsgi, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {spa_key}"})
    spa.get(transfers_url() + "/OUT-9", status=404)
    api.get(transfers_url() + "/OUT-9", status=200)


def test_an_unknown_partner_is_not_found_and_the_scope_is_needed(api, exchange_wsgi, seed, member):
    api.post_json(transfers_url("NOAIR"), transfer_body(member, "X-1"), status=404)
    other = seed.api_key("REST", scopes=["cashier"])
    TestApp(exchange_wsgi).post_json(transfers_url(), transfer_body(member, "X-2"),
                                     headers={"Authorization": f"Bearer {other}"}, status=403)


def test_quotes_and_the_limits_of_the_partner_settings(api, on_at_rest, member):
    quoted = api.post_json(f"/api/v1/exchanges/{PARTNER}/quotes", {"direction": "in", "points": 1000}).json
    assert quoted == {"partner": PARTNER, "direction": "in", "points": 500, "partner_points": 1000, "rate": "2:1"}
    on_at_rest(miles_per_point=2, minimum=100, step=50, daily_limit=300)
    for points, message in ((50, "must be at least 100"), (120, "must be a multiple of 50")):
        refused = api.post_json(transfers_url(), transfer_body(member, f"L-{points}", points=points), status=422).json
        assert refused["fields"] == {"points": message}
    api.post_json(transfers_url(), transfer_body(member, "L-1", points=200), status=201)
    refused = api.post_json(transfers_url(), transfer_body(member, "L-2", points=150), status=422).json
    assert refused["fields"] == {"points": "at most 100 more LPS points this day"}
    api.post_json(transfers_url(), transfer_body(member, "L-3", points=100), status=201)


def test_each_direction_may_have_its_own_minimum_step_and_limits(api, seed, on_at_rest, member, fake_air):
    """Out counts LPS points, in the partner's: a shared minimum of 100 with an in minimum of 400
    miles; the monthly limit counts LPS points per direction, so points out leave points in alone."""
    on_at_rest(miles_per_point=2, minimum=100, in_minimum=400, in_step=200, monthly_limit=500,
               in_monthly_limit=300)
    refused = api.post_json(transfers_url(), transfer_body(member, "D-1", IN, points=200), status=422).json
    assert refused["fields"] == {"points": "must be at least 400"}
    refused = api.post_json(transfers_url(), transfer_body(member, "D-2", IN, points=500), status=422).json
    assert refused["fields"] == {"points": "must be a multiple of 200"}
    api.post_json(transfers_url(), transfer_body(member, "D-3", OUT, points=100), status=201)  # out: 100 is enough
    api.post_json(transfers_url(), transfer_body(member, "D-4", IN, points=400), status=201)  # 200 LPS points in
    refused = api.post_json(transfers_url(), transfer_body(member, "D-5", IN, points=400), status=422).json
    assert refused["fields"] == {"points": "at most 100 more LPS points this month"}
    api.post_json(transfers_url(), transfer_body(member, "D-6", OUT, points=400), status=201)  # 500 out this month
    refused = api.post_json(transfers_url(), transfer_body(member, "D-7", OUT, points=100), status=422).json
    assert refused["fields"] == {"points": "at most 0 more LPS points this month"}
    seed.db.commit()
    assert seed.db.scalar(select(func.count()).select_from(PointTransfer)) == 3  # refused ones are not recorded
    assert find_drift(seed.db) == []


# -- reconciliation -------------------------------------------------------------------------------

def test_reconciliation_reports_each_planted_mismatch(api, seed, exchange_plugins, member, fake_air):
    for reference in ("R-OK", "R-LOST", "R-SHORT"):
        api.post_json(transfers_url(), transfer_body(member, reference), status=201)
    fake_air.script["R-OPEN"] = ["timeout"]
    api.post_json(transfers_url(), transfer_body(member, "R-OPEN"), status=202)
    del fake_air.booked[OUT, "R-LOST"]
    fake_air.booked[OUT, "R-SHORT"] = 150
    fake_air.booked[OUT, "R-STRAY"] = 80
    now = utcnow()
    mismatches = services.reconcile(seed.db, exchange_plugins, PARTNER, now - timedelta(days=1),
                                    now + timedelta(days=1))
    found = {(m.reference, m.problem, m.lps_partner_points, m.statement_partner_points) for m in mismatches}
    assert found == {("R-LOST", "missing_at_partner", 200, None), ("R-SHORT", "amount_differs", 200, 150),
                     ("R-OPEN", "open_at_lps", 200, 200), ("R-STRAY", "missing_at_lps", None, 80)}
    settled = services.reconcile(seed.db, exchange_plugins, PARTNER, now - timedelta(days=1),
                                 now + timedelta(days=1), programme=Programme.from_settings({}), settle_open=True)
    seed.db.commit()
    assert "R-OPEN" not in {m.reference for m in settled}
    assert seed.db.scalar(select(PointTransfer.status).where(PointTransfer.reference == "R-OPEN")) == "done"
    assert find_drift(seed.db) == []


# -- the airline's file batch, end to end (lps-airline-miles, the command line) -------------------------

def airline_writes(inbox, name, text):
    """A file the airline leaves in the inbox, listed with its SHA-256 in its manifest."""
    import hashlib

    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text)
    with open(inbox / "MANIFEST.sha256", "a") as manifest:
        manifest.write(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}\n")


def test_miles_through_the_airline_file_batch_with_retry_and_reconciliation(seed, database_url, tmp_path, member):
    import subprocess
    import sys
    from datetime import date
    from pathlib import Path

    from lps_core import main
    from lps_core.testing import TEST_INI_LINES

    folders = {"lps.airline_miles.outbox": str(tmp_path / "outbox"), "lps.airline_miles.inbox": str(tmp_path / "inbox")}
    app = TestApp(main({}, **{**SETTINGS, "sqlalchemy.url": database_url, **folders}))
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    set_switch(seed.db, seed.plugins, kind="exchange", name="airline_miles", scope="outlet", scope_id=rest,
               enabled=True, settings={"miles_per_point": 2, "minimum": 100, "step": 100})
    seed.db.commit()
    key = seed.api_key("REST", scopes=["exchange"])
    app.extra_environ = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = "/api/v1/exchanges/airline_miles/transfers"

    sent = app.post_json(url, transfer_body(member, "AM-1", points=600, partner_member_no="AM1234567"), status=202).json
    assert (sent["status"], sent["partner_points"]) == ("pending", 1200)
    assert (tmp_path / "outbox" / "LPS-AM-1-credit.csv").exists() and balance(seed, member) == 400
    airline_writes(tmp_path / "inbox", "CONF-1.csv", "action,reference,status,miles,airline_reference,reason\n"
                                                     "credit,AM-1,accepted,1200,AX-1,\n")
    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                   + "".join(f"{name} = {value}\n" for name, value in folders.items()))
    lps = str(Path(sys.executable).with_name("lps"))
    retried = subprocess.run([lps, "-c", str(ini), "exchange", "retry"], capture_output=True, text=True, timeout=120)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout == "airline_miles out AM-1: done\n"
    assert app.get(url + "/AM-1").json["partner_reference"] == "AX-1"

    assert app.post(url + "/AM-1/reversal", status=202).json["reversal_pending"]
    airline_writes(tmp_path / "inbox", "CONF-2.csv", "action,reference,status,miles,airline_reference,reason\n"
                                                     "reverse_credit,AM-1,accepted,1200,AX-1R,\n")
    assert app.post(url + "/AM-1/reversal", status=200).json["status"] == "reversed"
    assert balance(seed, member) == 1000

    app.post_json(url, transfer_body(member, "AM-2", points=200, partner_member_no="AM1234567"), status=202)
    today = date.today().isoformat()
    airline_writes(tmp_path / "inbox", "STMT-1.csv", "action,reference,miles,member_no,booked_at\n"
                                                     f"credit,AM-2,400,AM1234567,{utcnow().isoformat()}\n")
    reconciled = subprocess.run([lps, "-c", str(ini), "exchange", "reconcile", "airline_miles", "--from", today,
                                 "--to", today], capture_output=True, text=True, timeout=120)
    assert reconciled.returncode == 1 and reconciled.stdout == "open_at_lps out AM-2: LPS 400, statement 400\n"
    settled = subprocess.run([lps, "-c", str(ini), "exchange", "reconcile", "airline_miles", "--from", today,
                              "--to", today, "--settle"], capture_output=True, text=True, timeout=120)
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert app.get(url + "/AM-2").json["status"] == "done"
    assert balance(seed, member) == 800
    assert find_drift(seed.db) == []
