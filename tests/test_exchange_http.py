"""Point exchanges over HTTP, end to end: LPS's API, the lps-exchange-http adapter and a real partner
on 127.0.0.1 (lps_exchange_http.simulator), which books what it is asked and can fail on purpose.
A resend, a 500 followed by a retry, a lost answer, a refusal, a reversal and a statement that does
not match: each leaves the ledger right, with one posting per transfer, and the mismatches are
resolved with linked adjustments."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from lps_core.audit.models import AuditEntry
from lps_core.components import IPlugins
from lps_core.exchange import services
from lps_core.exchange.models import ExchangeMismatch, PointTransfer
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account, LedgerEntry
from lps_core.outlets.models import Outlet
from lps_core.plugins.switches import set_switch
from lps_core.testing import TEST_SETTINGS, audited, sign_in_as
from lps_core.timeutil import utcnow

lps_exchange_http = pytest.importorskip("lps_exchange_http", reason="plugins/lps-exchange-http is not installed")
from lps_exchange_http.simulator import PartnerSimulator  # noqa: E402

PARTNER = "SKYMILES"
URL = f"/api/v1/exchanges/{PARTNER}"


@pytest.fixture(scope="module")
def partner():
    simulator = PartnerSimulator(secret="s3cret", rate=2, members={"PM1001", "PM1002"}).start()
    simulator.slow_seconds = 1.5
    yield simulator
    simulator.close()


@pytest.fixture(scope="module")
def http_app(database_url, partner):
    from lps_core import main

    return main({}, **{**TEST_SETTINGS, "sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                       "lps.rules.cache_seconds": "0", "lps.exchange_http.partner": PARTNER,
                       "lps.exchange_http.label": "Sky Miles", "lps.exchange_http.base_url": partner.url,
                       "lps.exchange_http.secret": "s3cret", "lps.exchange_http.read_timeout": "0.5"})


@pytest.fixture
def http_plugins(http_app):
    return http_app.registry.getUtility(IPlugins)


@pytest.fixture
def on_at_rest(seed, http_plugins, partner):
    partner.bookings.clear()
    partner.faults.clear()
    partner.requests.clear()
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    set_switch(seed.db, http_plugins, kind="exchange", name=PARTNER, scope="outlet", scope_id=rest, enabled=True,
               settings={"minimum": 10})
    seed.db.commit()
    return rest


@pytest.fixture
def member(seed):
    card_no = seed.member_card("Lin Fei")
    ledger.credit(seed.db, seed.points_account(card_no), 1000, kind=ledger.EARN, business_key=f"gift:{card_no}",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=365))
    seed.db.commit()
    return card_no


def key(http_app, seed, scopes):
    return TestApp(http_app, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {seed.api_key('REST', scopes=scopes)}"})


@pytest.fixture
def api(http_app, seed, on_at_rest):
    return key(http_app, seed, ["exchange"])


@pytest.fixture
def back_office(http_app, seed, on_at_rest):
    return key(http_app, seed, ["exchange.reconcile"])


def body(card_no, reference, direction="out", points=100, member_no="PM1001"):
    return {"direction": direction, "card_no": card_no, "points": points, "reference": reference,
            "partner_member_no": member_no}


def balance(seed, card_no):
    seed.db.commit()
    return seed.db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no)))


def postings(seed, reference):
    seed.db.commit()
    return [(entry.kind, entry.amount) for entry in seed.db.scalars(
        select(LedgerEntry).where(LedgerEntry.business_key.like(f"exchange:{PARTNER}:%:{reference}%"))
        .order_by(LedgerEntry.id))]


def clean(seed):
    seed.db.commit()
    assert find_drift(seed.db) == []


def test_points_go_out_and_come_in_and_a_resend_posts_once(api, seed, member, partner):
    quote = api.post_json(f"{URL}/quotes", {"direction": "out", "points": 100}).json
    assert (quote["points"], quote["partner_points"], quote["rate"]) == (100, 200, "1:2")
    first = api.post_json(f"{URL}/transfers", body(member, "H-1"), status=201).json
    assert (first["status"], first["partner_points"], first["partner_reference"]) == ("done", 200, "P-1")
    again = api.post_json(f"{URL}/transfers", body(member, "H-1"), status=200).json
    assert again["replayed"] and again["partner_reference"] == "P-1"
    assert partner.booked_points("out", "H-1") == 200 and len(partner.bookings) == 1
    came_in = api.post_json(f"{URL}/transfers", body(member, "H-2", "in", 300), status=201).json
    assert (came_in["status"], came_in["points"]) == ("done", 150)
    assert postings(seed, "H-1") == [("exchange_out", -100)] and postings(seed, "H-2") == [("exchange_in", 150)]
    assert balance(seed, member) == 1050
    clean(seed)


def test_a_server_error_leaves_it_pending_and_the_retry_posts_once(api, seed, http_plugins, member, partner):
    partner.faults = ["error"]
    pending = api.post_json(f"{URL}/transfers", body(member, "H-500"), status=202).json
    assert pending["status"] == "pending" and "500" in pending["last_error"]
    assert balance(seed, member) == 900 and partner.bookings == {}  # held, not yet at the partner
    partner.faults = ["error"]
    api.post_json(f"{URL}/transfers", body(member, "H-500"), status=202)  # a resend meets the error again
    seed.db.commit()  # a new snapshot: the app wrote meanwhile
    done = services.retry_open_transfers(seed.db, http_plugins, seed_programme(), PARTNER)
    seed.db.commit()
    assert [(transfer.reference, transfer.status, transfer.attempts) for transfer in done] == [("H-500", "done", 3)]
    assert api.get(f"{URL}/transfers/H-500").json["partner_reference"] == "P-1"
    assert postings(seed, "H-500") == [("exchange_out", -100)] and balance(seed, member) == 900
    assert len(partner.bookings) == 1
    clean(seed)


def seed_programme():
    from lps_core.earning.programme import Programme

    return Programme.from_settings({})


@pytest.mark.parametrize("fault", ["slow", "broken", "hangup"])
def test_a_lost_answer_is_unknown_and_the_resend_finishes_it_with_the_same_reference(api, seed, member, partner,
                                                                                    fault):
    partner.faults = [fault]
    unknown = api.post_json(f"{URL}/transfers", body(member, "H-LOST"), status=202).json
    assert unknown["status"] == "unknown" and balance(seed, member) == 900
    assert partner.booked_points("out", "H-LOST") == 200  # the partner did act: LPS must not guess it did not
    done = api.post_json(f"{URL}/transfers", body(member, "H-LOST"), status=200).json
    assert (done["status"], done["attempts"], done["partner_reference"]) == ("done", 2, "P-1")
    assert [request[1] for request in partner.requests if request[0] == "PUT"] == [
        "/lps/v1/transfers/out/H-LOST", "/lps/v1/transfers/out/H-LOST"]
    assert len(partner.bookings) == 1 and postings(seed, "H-LOST") == [("exchange_out", -100)]
    clean(seed)


def test_a_refusal_gives_the_points_back_and_names_the_field(api, seed, member, partner):
    refused = api.post_json(f"{URL}/transfers", body(member, "H-NO", member_no="NOBODY"), status=422).json
    assert refused["fields"] == {"partner_member_no": "the partner refused (422): no such member"}
    assert refused["transfer"]["status"] == "failed"
    assert postings(seed, "H-NO") == [("exchange_out", -100), ("reversal", 100)]
    assert balance(seed, member) == 1000
    clean(seed)


def test_a_reversal_undoes_it_at_the_partner_and_in_the_ledger(api, seed, member, partner):
    api.post_json(f"{URL}/transfers", body(member, "H-R"), status=201)
    reversed_ = api.post(f"{URL}/transfers/H-R/reversal", status=200).json
    assert reversed_["status"] == "reversed" and reversed_["reversal_entry_id"]
    assert partner.booked_points("out", "H-R") is None
    assert api.post(f"{URL}/transfers/H-R/reversal", status=200).json["replayed"]
    assert postings(seed, "H-R") == [("exchange_out", -100), ("reversal", 100)] and balance(seed, member) == 1000
    clean(seed)


def reconcile(back_office, **extra):
    today = date.today().isoformat()
    return back_office.post_json(f"{URL}/reconciliations", {"first_day": today, "last_day": today, **extra}).json


def test_statement_mismatches_are_kept_and_resolved_with_linked_adjustments(api, back_office, seed, member,
                                                                           partner):
    for reference in ("S-OK", "S-LOST", "S-SHORT"):
        api.post_json(f"{URL}/transfers", body(member, reference), status=201)
    del partner.bookings["out", "S-LOST"]  # the partner lost it: LPS took 100 points for nothing
    partner.bookings["out", "S-SHORT"]["partner_points"] = 150  # it booked 150 miles, not 200
    partner.bookings["in", "S-STRAY"] = {"member_no": "PM1002", "lps_points": 40, "partner_points": 80,
                                         "booked_at": utcnow(), "reversed": False, "partner_reference": "P-9"}
    assert balance(seed, member) == 700
    found = {m["reference"]: m for m in reconcile(back_office)["mismatches"]}
    assert {(ref, m["problem"], m["lps_partner_points"], m["statement_partner_points"], m["suggested_points"])
            for ref, m in found.items()} == {("S-LOST", "missing_at_partner", 200, None, 100),
                                             ("S-SHORT", "amount_differs", 200, 150, 25),
                                             ("S-STRAY", "missing_at_lps", None, 80, 0)}
    resolution = f"{URL}/mismatches/{found['S-LOST']['id']}/resolution"
    lost = back_office.post_json(resolution, {"points": 100, "reason": "Sky Miles lost it: ticket SM-7"}).json
    assert (lost["status"], lost["resolution"], lost["adjustment_points"]) == ("resolved", "adjusted", 100)
    assert back_office.post_json(resolution, {"points": 100, "reason": "Sky Miles lost it: ticket SM-7"}).json[
        "replayed"]
    refused = back_office.post_json(resolution, {"points": 50, "reason": "other"}, status=409).json
    assert refused["fields"] == {"id": "already resolved"}
    seed.db.commit()  # a new snapshot: the app wrote meanwhile
    adjustment = seed.db.get(LedgerEntry, lost["ledger_entry_id"])
    assert (adjustment.kind, adjustment.amount, adjustment.business_key) == (
        "exchange_adjustment", 100, f"exchange:{PARTNER}:out:S-LOST:missing_at_partner:adjustment")
    assert "Sky Miles lost it" in adjustment.note and balance(seed, member) == 800

    stray = f"{URL}/mismatches/{found['S-STRAY']['id']}/resolution"
    needs_card = back_office.post_json(stray, {"points": 40, "reason": "booked at the partner"}, status=422).json
    assert needs_card["fields"] == {"card_no": "is required: LPS has no transfer naming the member"}
    back_office.post_json(stray, {"points": 40, "reason": "booked at the partner", "card_no": member})
    back_office.post_json(f"{URL}/mismatches/{found['S-SHORT']['id']}/resolution",
                          {"points": 25, "reason": "150 miles booked for 200"})
    assert balance(seed, member) == 865

    again = reconcile(back_office)["mismatches"]  # the same differences, found again: the same rows, still resolved
    assert {(m["id"], m["status"]) for m in again} == {(m["id"], "resolved") for m in found.values()}
    listed = back_office.get(f"{URL}/mismatches", {"status": "resolved"}).json["mismatches"]
    assert len(listed) == 3
    seed.db.commit()
    audits = seed.db.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.mismatch.resolve")).all()
    assert len(audits) == 3 and {entry.actor_kind for entry in audits} == {"api_key"}
    back_office.post_json(f"{URL}/mismatches/{found['S-SHORT']['id']}/resolution", {"points": 0}, status=400)
    api.get(f"{URL}/mismatches", status=403)  # the till's `exchange` scope does not reach reconciliation
    clean(seed)


def test_an_unknown_transfer_is_settled_by_resolving_its_mismatch(api, back_office, seed, member, partner):
    partner.faults = ["hangup"]
    api.post_json(f"{URL}/transfers", body(member, "U-1", "in", 200), status=202)
    assert balance(seed, member) == 1000  # nothing credited on an unknown outcome
    [mismatch] = reconcile(back_office)["mismatches"]
    assert (mismatch["problem"], mismatch["transfer_status"], mismatch["suggested_points"]) == (
        "open_at_lps", "unknown", 0)
    settled = back_office.post_json(f"{URL}/mismatches/{mismatch['id']}/resolution",
                                    {"points": 0, "reason": "on Sky Miles' statement of today"}).json
    assert (settled["resolution"], settled["adjustment_points"]) == ("settled", 0)
    assert api.get(f"{URL}/transfers/U-1").json["status"] == "done"
    assert postings(seed, "U-1") == [("exchange_in", 100)] and balance(seed, member) == 1100
    assert reconcile(back_office)["mismatches"] == []
    seed.db.commit()
    assert seed.db.scalar(select(ExchangeMismatch.status).where(ExchangeMismatch.id == mismatch["id"])) == "resolved"
    clean(seed)


def test_a_transfer_the_partner_never_booked_is_cancelled_and_a_retry_clears_its_mismatch(
        api, back_office, seed, http_plugins, member, partner):
    partner.faults = ["error"]
    api.post_json(f"{URL}/transfers", body(member, "C-1"), status=202)
    partner.faults = ["error"]
    api.post_json(f"{URL}/transfers", body(member, "C-2"), status=202)
    found = {m["reference"]: m for m in reconcile(back_office)["mismatches"]}
    assert {m["problem"] for m in found.values()} == {"missing_at_partner"}
    assert found["C-1"]["suggested_points"] == 0  # open: finished, not adjusted
    cancelled = back_office.post_json(f"{URL}/mismatches/{found['C-1']['id']}/resolution",
                                      {"points": 0, "reason": "the partner was down all day"}).json
    assert cancelled["resolution"] == "cancelled"
    assert api.get(f"{URL}/transfers/C-1").json["status"] == "failed"
    assert postings(seed, "C-1") == [("exchange_out", -100), ("reversal", 100)]
    seed.db.commit()  # a new snapshot: the app wrote meanwhile
    services.retry_open_transfers(seed.db, http_plugins, seed_programme(), PARTNER)  # C-2 goes through now
    seed.db.commit()
    assert reconcile(back_office)["mismatches"] == []
    seed.db.commit()
    assert seed.db.scalar(select(ExchangeMismatch.status).where(ExchangeMismatch.id == found["C-2"]["id"])) == \
        "cleared"
    back_office.post_json(f"{URL}/mismatches/{found['C-2']['id']}/resolution", {"points": 0, "reason": "x"},
                          status=409)
    assert balance(seed, member) == 900
    assert seed.db.scalar(select(func.count()).select_from(PointTransfer)) == 2
    clean(seed)


# -- the staff screens ----------------------------------------------------------------------------

def staff(http_app, seed, name, roles, outlets=("all",)):
    browser = TestApp(http_app)
    token = sign_in_as(browser, seed, name, "a-long-password-1", list(roles), list(outlets))
    return browser, token


def test_staff_find_transfers_and_open_one_within_their_outlets(http_app, api, seed, member, partner):
    api.post_json(f"{URL}/transfers", body(member, "V-1"), status=201)
    api.post_json(f"{URL}/transfers", body(member, "V-2", "in", 400), status=201)
    admin, _ = staff(http_app, seed, "ada", ["administrator"])
    page = admin.get("/exchange", {"partner": PARTNER, "direction": "in"})
    assert "V-2" in page.text and "V-1" not in page.text
    assert "Exchanges" in admin.get("/").text  # in the navigation
    seed.db.commit()
    transfer_id = seed.db.scalar(select(PointTransfer.id).where(PointTransfer.reference == "V-1"))
    detail = admin.get(f"/exchange/transfers/{transfer_id}")
    assert "exchange_out" in detail.text and "P-1" in detail.text
    refused = admin.get("/exchange", {"first_day": "2026-02-31"}, status=400)
    assert 'id="search-first_day"' in refused.text and "real calendar date" in refused.text
    spa, _ = staff(http_app, seed, "spa-boss", ["outlet_manager"], ["SPA"])
    assert "V-1" not in spa.get("/exchange").text
    spa.get(f"/exchange/transfers/{transfer_id}", status=403)
    cashier, _ = staff(http_app, seed, "cashier", ["cashier"])
    cashier.get("/exchange", status=403)


def test_staff_reconcile_a_period_and_resolve_a_mismatch_on_the_screens(http_app, api, seed, member, partner):
    api.post_json(f"{URL}/transfers", body(member, "W-1"), status=201)
    del partner.bookings["out", "W-1"]
    today = date.today().isoformat()
    rest_manager, token = staff(http_app, seed, "rest-boss", ["outlet_manager"], ["REST"])
    rest_manager.post("/exchange/reconciliation/run", {"csrf_token": token, "partner": PARTNER, "first_day": today,
                                                       "last_day": today}, status=403)  # covers every outlet
    admin, token = staff(http_app, seed, "ada", ["administrator"])
    refused = admin.post("/exchange/reconciliation/run", {"csrf_token": token, "partner": PARTNER,
                                                          "first_day": today, "last_day": "2000-01-01"}, status=422)
    assert "must be on or after the first day" in refused.text
    ran = admin.post("/exchange/reconciliation/run", {"csrf_token": token, "partner": PARTNER, "first_day": today,
                                                      "last_day": today}, status=303)
    report = admin.get(ran.location)
    assert "Reconciled: 1 mismatches found." in report.text and "missing_at_partner" in report.text
    seed.db.commit()
    mismatch = seed.db.scalar(select(ExchangeMismatch).where(ExchangeMismatch.reference == "W-1"))
    page = admin.get(f"/exchange/mismatches/{mismatch.id}")
    assert 'name="points" id="points" value="100"' in page.text  # the suggestion: give the 100 points back
    without_reason = admin.post(f"/exchange/mismatches/{mismatch.id}/resolve",
                                {"csrf_token": token, "points": "+100", "reason": ""}, status=400)
    assert 'aria-invalid="true"' in without_reason.text and balance(seed, member) == 900
    auditor, auditor_token = staff(http_app, seed, "fin", ["finance_auditor"])
    assert "M-%d" % mismatch.id in auditor.get("/exchange/reconciliation").text
    auditor.post(f"/exchange/mismatches/{mismatch.id}/resolve",
                 {"csrf_token": auditor_token, "points": "100", "reason": "x"}, status=403)
    admin.post(f"/exchange/mismatches/{mismatch.id}/resolve",
               {"csrf_token": token, "points": "+100", "reason": "Sky Miles never booked W-1"}, status=303)
    resolved = admin.get(f"/exchange/mismatches/{mismatch.id}")
    assert "The mismatch is resolved." in resolved.text and "Sky Miles never booked W-1" in resolved.text
    assert balance(seed, member) == 1000
    [entry] = audited(seed.db, "exchange.mismatch.resolve")
    assert entry.actor_name == "ada" and entry.after["points"] == 100
    assert len(audited(seed.db, "exchange.reconcile")) == 1
    clean(seed)


def test_a_switchs_own_secret_is_used_and_never_shown(http_app, api, seed, http_plugins, on_at_rest, member,
                                                     partner):
    set_switch(seed.db, http_plugins, kind="exchange", name=PARTNER, scope="outlet", scope_id=on_at_rest,
               enabled=True, settings={"minimum": 10, "secret": "not-the-partners-secret"})
    seed.db.commit()
    refused = api.post_json(f"{URL}/transfers", body(member, "K-1"), status=422).json
    assert refused["fields"] == {"partner": "the partner refused LPS's credentials (401): the signature or token is "
                                            "not valid"}
    assert balance(seed, member) == 1000 and partner.bookings == {}
    manager = key(http_app, seed, ["plugins.manage"])
    shown = manager.get(f"/api/v1/plugins/exchange/{PARTNER}/switches").json
    assert "not-the-partners-secret" not in str(shown)
    set_switch(seed.db, http_plugins, kind="exchange", name=PARTNER, scope="outlet", scope_id=on_at_rest,
               enabled=True, settings={"minimum": 10})  # a secret left out is kept...
    seed.db.commit()
    api.post_json(f"{URL}/transfers", body(member, "K-2"), status=422)
    set_switch(seed.db, http_plugins, kind="exchange", name=PARTNER, scope="outlet", scope_id=on_at_rest,
               enabled=True, settings={"minimum": 10, "secret": None})  # ...null removes it: the ini file's again
    seed.db.commit()
    assert api.post_json(f"{URL}/transfers", body(member, "K-3"), status=201).json["status"] == "done"
    clean(seed)


def test_staff_ask_the_partner_again_about_an_open_transfer(http_app, api, seed, member, partner):
    partner.faults = ["error"]
    api.post_json(f"{URL}/transfers", body(member, "Y-1"), status=202)
    seed.db.commit()
    transfer_id = seed.db.scalar(select(PointTransfer.id).where(PointTransfer.reference == "Y-1"))
    auditor, auditor_token = staff(http_app, seed, "fin", ["finance_auditor"])
    assert 'id="retry-form"' not in auditor.get(f"/exchange/transfers/{transfer_id}").text
    auditor.post(f"/exchange/transfers/{transfer_id}/retry", {"csrf_token": auditor_token}, status=403)
    admin, token = staff(http_app, seed, "ada", ["administrator"])
    assert 'id="retry-form"' in admin.get(f"/exchange/transfers/{transfer_id}").text
    admin.post(f"/exchange/transfers/{transfer_id}/retry", {"csrf_token": token}, status=303)
    page = admin.get(f"/exchange/transfers/{transfer_id}")
    assert "The partner was asked again: the transfer is done." in page.text and 'id="retry-form"' not in page.text
    admin.post(f"/exchange/transfers/{transfer_id}/retry", {"csrf_token": token}, status=303)
    assert "is done: there is nothing to ask the partner" in admin.get(f"/exchange/transfers/{transfer_id}").text
    assert postings(seed, "Y-1") == [("exchange_out", -100)] and len(partner.bookings) == 1
    [entry] = audited(seed.db, "exchange.transfer.retry")
    assert (entry.actor_name, entry.before["status"], entry.after["status"]) == ("ada", "pending", "done")
    clean(seed)
