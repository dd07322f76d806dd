"""Points appeals (积分申诉): filing, the queue's search, approving (the bill posted once whoever
comes first, the till or the appeal; a wrong amount as a linked correction), rejecting, the
member's message, outlet scope, permissions and the audit log, through the API and the staff
screens, on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lps_core.appeals.models import Appeal
from lps_core.audit.models import AuditEntry
from lps_core.cards.models import Card
from lps_core.earning.models import Bill
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.messages.models import OutboxMessage
from lps_core.testing import audited, csrf_of, sign_in_as

TODAY = datetime.now(timezone.utc).date()
YESTERDAY = TODAY - timedelta(days=1)
NOON_YESTERDAY = datetime.combine(YESTERDAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=12)


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def member(seed):
    card_no = seed.member_card("Li Wei")
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    seed.db.rollback()  # hold no snapshot while the app writes
    return member_id, card_no


def file(testapp, auth, member_id, bill_no="B1", amount="100.00", status=201, **extra):
    body = {"member_id": member_id, "bill_no": bill_no, "bill_date": YESTERDAY.isoformat(), "amount": amount, **extra}
    return testapp.post_json("/api/v1/appeals", body, headers=auth, status=status).json


def till_posts(testapp, auth, card_no, bill_no="B1", amount="100.00", status=201):
    body = {"card_no": card_no, "bill_no": bill_no, "amount": amount, "occurred_at": NOON_YESTERDAY.isoformat()}
    return testapp.post_json("/api/v1/transactions", body, headers=auth, status=status).json


def points_of(testapp, auth, card_no) -> int:
    return testapp.get(f"/api/v1/cards/{card_no}", headers=auth).json["points_balance"]


def bills(db, bill_no="B1") -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Bill).where(Bill.bill_no == bill_no))


def messages(db, member_id) -> list:
    db.rollback()
    return db.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member_id,
                                                  OutboxMessage.event == "appeal_resolved")).all()


# --- Approving posts a bill once, whoever comes first --------------------------------------------

def test_approving_posts_the_missing_bill_and_the_till_cannot_post_it_again(testapp, seed, auth, member):
    member_id, card_no = member
    appeal = file(testapp, auth, member_id)
    assert appeal["status"] == "open" and appeal["opened_by"] == "api" and not appeal["overdue"]
    approved = testapp.post_json(f"/api/v1/appeals/{appeal['id']}/approve",
                                 {"occurred_at": NOON_YESTERDAY.isoformat()}, headers=auth).json
    assert (approved["status"], approved["resolution"], approved["points"]) == ("approved", "posted", 100)
    assert approved["bill_id"] and approved["entry_id"]
    assert points_of(testapp, auth, card_no) == 100
    # The till sends the same bill later: the same content replays the posting, other content is refused.
    assert till_posts(testapp, auth, card_no, status=200)["replayed"] is True
    assert till_posts(testapp, auth, card_no, amount="120.00", status=409)["fields"] == {
        "bill_no": "already posted with other content"}
    assert bills(seed.db) == 1 and points_of(testapp, auth, card_no) == 100
    # Approving again replays; the member is told once, on every channel they have.
    again = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth).json
    assert again["replayed"] is True and points_of(testapp, auth, card_no) == 100
    sent = messages(seed.db, member_id)
    assert sent and len({message.channel for message in sent}) == len(sent)
    assert "B1" in sent[0].body and "100" in sent[0].body
    assert find_drift(seed.db) == []


def test_a_bill_the_till_posted_first_is_linked_not_posted_again(testapp, seed, auth, member):
    member_id, card_no = member
    till_posts(testapp, auth, card_no)
    appeal = file(testapp, auth, member_id)
    approved = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth).json
    assert (approved["resolution"], approved["points"]) == ("linked", 0)
    assert bills(seed.db) == 1 and points_of(testapp, auth, card_no) == 100
    seed.db.rollback()
    assert approved["bill_id"] == seed.db.scalar(select(Bill.id).where(Bill.bill_no == "B1"))


def test_a_bill_posted_for_less_is_corrected_by_a_linked_entry(testapp, seed, auth, member):
    member_id, card_no = member
    till_posts(testapp, auth, card_no, amount="60.00")
    appeal = file(testapp, auth, member_id, amount="100.00")
    approved = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth).json
    assert (approved["resolution"], approved["points"]) == ("corrected", 40)
    assert points_of(testapp, auth, card_no) == 100
    seed.db.rollback()
    correction = seed.db.get(LedgerEntry, approved["correction_entry_id"])
    assert correction.bill_id == approved["bill_id"] and correction.amount == 40
    assert correction.business_key == f"appeal:{appeal['id']}:correction"
    # A second appeal about the same bill and amount finds nothing more missing.
    second = file(testapp, auth, member_id, amount="100.00")
    assert testapp.post(f"/api/v1/appeals/{second['id']}/approve", headers=auth).json["resolution"] == "linked"
    assert points_of(testapp, auth, card_no) == 100
    assert find_drift(seed.db) == []


def test_the_till_posting_while_the_appeal_waits_wins_and_the_appeal_links(testapp, seed, auth, member):
    member_id, card_no = member
    appeal = file(testapp, auth, member_id)
    till_posts(testapp, auth, card_no)
    approved = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth).json
    assert approved["resolution"] == "linked" and bills(seed.db) == 1
    assert points_of(testapp, auth, card_no) == 100


def test_a_bill_posted_to_another_member_is_not_approved(testapp, seed, auth, member):
    member_id, _ = member
    other = seed.member_card("Zhang San")
    till_posts(testapp, auth, other)
    appeal = file(testapp, auth, member_id)
    answer = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth, status=409).json
    assert answer["fields"] == {"bill_no": "was posted to another member's card"}


# --- Rejecting ------------------------------------------------------------------------------------

def test_rejecting_needs_a_reason_and_tells_the_member(testapp, seed, auth, member):
    member_id, card_no = member
    appeal = file(testapp, auth, member_id)
    assert testapp.post_json(f"/api/v1/appeals/{appeal['id']}/reject", {}, headers=auth, status=400).json[
        "fields"] == {"reason": "is required"}
    rejected = testapp.post_json(f"/api/v1/appeals/{appeal['id']}/reject", {"reason": "no such bill at the outlet"},
                                 headers=auth).json
    assert (rejected["status"], rejected["reason"]) == ("rejected", "no such bill at the outlet")
    assert points_of(testapp, auth, card_no) == 0
    assert "no such bill at the outlet" in messages(seed.db, member_id)[0].body
    answer = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth, status=409).json
    assert answer["fields"] == {"status": "the appeal was already rejected"}


# --- Filing: bad input names the field ------------------------------------------------------------

@pytest.mark.parametrize("change, status, fields", [
    ({"amount": "0.00"}, 422, "amount"),
    ({"amount": "12.345"}, 400, "amount"),
    ({"bill_date": "2026-13-01"}, 400, "bill_date"),
    ({"bill_date": (TODAY + timedelta(days=2)).isoformat()}, 422, "bill_date"),
    ({"bill_date": "2001-01-01"}, 422, "bill_date"),
    ({"bill_no": ""}, 400, "bill_no"),
    ({"bill_no": "x" * 65}, 400, "bill_no"),
    ({"member_id": 999999}, 404, "member"),
    ({"member_id": "1"}, 400, "member_id"),
    ({"card_no": "12"}, 400, "card_no"),
    ({"vip": True}, 400, "vip"),
])
def test_bad_filings_name_the_field(testapp, auth, member, change, status, fields):
    member_id, _ = member
    body = {"member_id": member_id, "bill_no": "B1", "bill_date": YESTERDAY.isoformat(), "amount": "10.00", **change}
    answer = testapp.post_json("/api/v1/appeals", body, headers=auth, status=status).json
    assert list(answer["fields"]) == [fields]


def test_one_open_appeal_per_bill_and_a_retry_returns_the_first(testapp, auth, member):
    member_id, _ = member
    first = file(testapp, auth, member_id, request_key="k-1")
    assert file(testapp, auth, member_id, request_key="k-1", status=200)["id"] == first["id"]
    assert file(testapp, auth, member_id, status=409)["fields"] == {"bill_no": "an appeal about this bill is already open"}


# --- Outlet scope and search ------------------------------------------------------------------------

def test_a_key_sees_and_settles_its_own_outlets_appeals_only(testapp, seed, auth, member):
    member_id, _ = member
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    appeal = file(testapp, auth, member_id)
    testapp.get(f"/api/v1/appeals/{appeal['id']}", headers=spa, status=404)
    testapp.post_json(f"/api/v1/appeals/{appeal['id']}/reject", {"reason": "x"}, headers=spa, status=404)
    assert testapp.get("/api/v1/appeals", headers=spa).json["total"] == 0
    no_scope = {"Authorization": f"Bearer {seed.api_key('REST', ['members'])}"}
    assert testapp.get("/api/v1/appeals", headers=no_scope, status=403).json["fields"] == {
        "Authorization": "lacks scope appeals"}


def test_search_by_bill_date_member_and_status(testapp, seed, auth, member):
    member_id, card_no = member
    file(testapp, auth, member_id, bill_no="B1")
    two = file(testapp, auth, member_id, bill_no="B2", bill_date=(TODAY - timedelta(days=5)).isoformat())
    testapp.post_json(f"/api/v1/appeals/{two['id']}/reject", {"reason": "duplicate"}, headers=auth)

    def found(**query):
        return [a["bill_no"] for a in testapp.get("/api/v1/appeals", query, headers=auth).json["appeals"]]

    assert sorted(found()) == ["B1", "B2"]
    assert found(bill_no="B2") == ["B2"]
    assert found(status="open") == ["B1"]
    assert found(date_to=(TODAY - timedelta(days=3)).isoformat()) == ["B2"]
    assert sorted(found(member=card_no)) == ["B1", "B2"] and sorted(found(member=str(member_id))) == ["B1", "B2"]
    assert found(member="8800000000000") == []
    assert list(testapp.get("/api/v1/appeals", {"status": "lost"}, headers=auth, status=400).json["fields"]) == [
        "status"]


# --- The staff screens ------------------------------------------------------------------------------

def staff(testapp, seed, roles=("outlet_manager",), outlets=("REST",), name="manager"):
    seed.db.rollback()
    return sign_in_as(testapp, seed, name, "a-long-password-1", list(roles), list(outlets))


def test_staff_open_an_appeal_from_the_member_page_and_approve_it(testapp, seed, member):
    member_id, card_no = member
    token = staff(testapp, seed)
    form = testapp.get(f"/appeals/new?member={member_id}")
    page = testapp.post(f"/appeals/new?member={member_id}", {
        "csrf_token": token, "outlet": "REST", "bill_no": "R-9", "bill_date": YESTERDAY.isoformat(), "amount": "88.00",
        "request_key": form.html.select_one("input[name=request_key]")["value"], "note": "guest forgot the card",
    }, upload_files=[("receipt", "receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)], status=303).follow()
    assert "A-" in page.text and page.html.select_one("#receipt")
    seed.db.rollback()
    appeal = seed.db.scalar(select(Appeal).where(Appeal.bill_no == "R-9"))
    assert (appeal.opened_by, appeal.receipt_type) == ("staff", "image/png")
    photo = testapp.get(f"/appeals/{appeal.id}/receipt")
    assert photo.content_type == "image/png" and photo.headers["X-Content-Type-Options"] == "nosniff"
    queue = testapp.get("/appeals")
    assert queue.html.select_one(f"#appeal-{appeal.id}") is not None
    testapp.post(f"/appeals/{appeal.id}/approve", {"csrf_token": token, "occurred_at": "19:30"}, status=303)
    seed.db.rollback()
    assert seed.db.get(Appeal, appeal.id).resolution == "posted"
    bill = seed.db.scalar(select(Bill).where(Bill.bill_no == "R-9"))
    assert bill.points == 88
    assert [entry.action for entry in audited(seed.db, "appeal.file")] == ["appeal.file"]
    approvals = audited(seed.db, "appeal.approve")
    assert len(approvals) == 1 and approvals[0].actor_name == "manager"


def test_the_staff_form_puts_errors_beside_the_fields(testapp, seed, member):
    member_id, _ = member
    token = staff(testapp, seed)
    page = testapp.post(f"/appeals/new?member={member_id}", {
        "csrf_token": token, "outlet": "REST", "bill_no": "R-9", "bill_date": YESTERDAY.isoformat(), "amount": "abc",
    }, upload_files=[("receipt", "receipt.txt", b"not a photo")], status=400)
    assert page.html.select_one("#amount")["aria-invalid"] == "true"
    page = testapp.post(f"/appeals/new?member={member_id}", {
        "csrf_token": token, "outlet": "REST", "bill_no": "R-9", "bill_date": YESTERDAY.isoformat(), "amount": "5.00",
    }, upload_files=[("receipt", "receipt.txt", b"not a photo")], status=400)
    assert page.html.select_one("#receipt")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(Appeal)) == 0


def test_reject_on_the_screen(testapp, seed, auth, member):
    member_id, _ = member
    appeal = file(testapp, auth, member_id)
    token = staff(testapp, seed)
    page = testapp.post(f"/appeals/{appeal['id']}/reject", {"csrf_token": token, "reason": ""}, status=400)
    assert page.html.select_one("#reason")["aria-invalid"] == "true"
    testapp.post(f"/appeals/{appeal['id']}/reject", {"csrf_token": token, "reason": "not our bill"}, status=303)
    assert audited(seed.db, "appeal.reject")[0].after["reason"] == "not our bill"


def test_outlet_scope_and_permissions_on_the_screens(testapp, seed, auth, member):
    member_id, _ = member
    appeal = file(testapp, auth, member_id)
    token = staff(testapp, seed, outlets=("SPA",), name="spa-manager")
    assert testapp.get("/appeals").html.select_one(f"#appeal-{appeal['id']}") is None
    testapp.get(f"/appeals/{appeal['id']}", status=403)
    testapp.post(f"/appeals/{appeal['id']}/approve", {"csrf_token": token}, status=403)
    testapp.post(f"/appeals/new?member={member_id}", {
        "csrf_token": token, "outlet": "REST", "bill_no": "R-1", "bill_date": YESTERDAY.isoformat(), "amount": "5.00",
    }, status=403)


def test_a_cashier_sees_the_queue_but_cannot_settle_an_appeal(testapp, seed, auth, member):
    member_id, _ = member
    appeal = file(testapp, auth, member_id)
    token = staff(testapp, seed, roles=("front_desk",), name="desk")
    page = testapp.get(f"/appeals/{appeal['id']}")
    assert page.html.select_one("#approve-form") is None
    testapp.post(f"/appeals/{appeal['id']}/approve", {"csrf_token": token}, status=403)
    testapp.post(f"/appeals/{appeal['id']}/reject", {"csrf_token": token, "reason": "x"}, status=403)
    staff(testapp, seed, roles=("cashier",), name="cashier")
    testapp.get(f"/appeals/new?member={member_id}", status=403)


def test_the_sla_clock_marks_overdue_appeals(testapp, seed, auth, member):
    member_id, _ = member
    appeal = file(testapp, auth, member_id)
    seed.db.rollback()
    row = seed.db.get(Appeal, appeal["id"])
    row.due_at = datetime.now(timezone.utc) - timedelta(hours=1)
    seed.db.commit()
    assert testapp.get(f"/api/v1/appeals/{appeal['id']}", headers=auth).json["overdue"] is True
    staff(testapp, seed)
    queue = testapp.get("/appeals", {"overdue": "1"})
    assert "overdue" in queue.html.select_one(f"#appeal-{appeal['id']}")["class"]
    assert testapp.get("/appeals", {"status": "approved"}).html.select_one(f"#appeal-{appeal['id']}") is None


def test_every_action_is_audited_with_its_actor(testapp, seed, auth, member):
    member_id, _ = member
    appeal = file(testapp, auth, member_id)
    testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth)
    seed.db.rollback()
    entries = seed.db.scalars(select(AuditEntry).where(AuditEntry.target_type == "appeal")
                              .order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_kind) for e in entries] == [("appeal.file", "api_key"), ("appeal.approve", "api_key")]


def test_a_frozen_card_is_not_posted_to(testapp, seed, auth, member):
    member_id, card_no = member
    appeal = file(testapp, auth, member_id)
    seed.db.rollback()
    card = seed.db.scalar(select(Card).where(Card.card_no == card_no))
    card.status = "frozen"
    seed.db.commit()
    answer = testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth, status=422).json
    assert "card_no" in answer["fields"]
    assert testapp.get(f"/api/v1/appeals/{appeal['id']}", headers=auth).json["status"] == "open"


def test_the_member_page_and_the_menu_lead_to_appeals(testapp, seed, member):
    member_id, _ = member
    staff(testapp, seed)
    page = testapp.get(f"/members/{member_id}")
    link = page.html.select_one("#open-appeal")
    assert link["href"].endswith(f"/appeals/new?member={member_id}")
    assert page.html.select_one("header nav a[href$='/appeals']") is not None
    testapp.get("/appeals/new", status=303)


def test_the_portal_files_for_its_member_and_reads_only_their_appeals(seed, member):
    from lps_core.appeals import services
    from lps_core.earning.programme import Programme

    member_id, _ = member
    programme = Programme.from_settings({"lps.rules.cache_seconds": "0"})
    settings = services.AppealSettings(receipt_max_bytes=2048)
    photo = services.Receipt(b"\xff\xd8\xff\xe0" + b"0" * 100, "bon.jpg")
    appeal, replayed = services.file_by_member(seed.db, programme, settings, services.Filing(
        member_id, "SPA", "S-1", YESTERDAY, 5000, "massage", receipt=photo, request_key="portal-1"))
    seed.db.commit()
    assert (appeal.opened_by, appeal.receipt_type, replayed) == ("member", "image/jpeg", False)
    assert services.receipt_of(appeal, settings) == (photo.content, "image/jpeg")
    assert [row.Appeal.id for row in services.member_appeals(seed.db, member_id)] == [appeal.id]
    with pytest.raises(services.NotFound):
        services.get_appeal(seed.db, appeal.id, member_id=member_id + 1)
    with pytest.raises(services.ValidationFailed) as refused:
        services.receipt_type_of(b"GIF89a" + b"0" * 10, settings)
    assert list(refused.value.fields) == ["receipt"]
    with pytest.raises(services.ValidationFailed):
        services.receipt_type_of(b"\xff\xd8\xff" + b"0" * 4096, settings)
    assert audited(seed.db, "appeal.file")[0].actor_name == f"portal, member {member_id}"


def test_receipt_photos_can_be_kept_in_a_folder(seed, member, tmp_path):
    from lps_core.appeals import services
    from lps_core.earning.programme import Programme

    member_id, _ = member
    programme = Programme.from_settings({})
    settings = services.AppealSettings.from_mapping({"lps.appeals.receipt_dir": str(tmp_path)})
    photo = services.Receipt(b"\x89PNG\r\n\x1a\n" + b"1" * 50, "../../etc/passwd")
    appeal, _ = services.file_by_member(seed.db, programme, settings, services.Filing(
        member_id, "REST", "F-1", YESTERDAY, 1000, receipt=photo))
    assert appeal.receipt is None and (tmp_path / appeal.receipt_file).read_bytes() == photo.content
    assert services.receipt_of(appeal, settings) == (photo.content, "image/png")
    with pytest.raises(services.ConfigurationError):
        services.AppealSettings.from_mapping({"lps.appeals.sla_hours": "0"})


def test_refunding_a_corrected_bill_takes_the_correction_back_too(testapp, seed, auth, member):
    member_id, card_no = member
    bill = till_posts(testapp, auth, card_no, amount="60.00")
    appeal = file(testapp, auth, member_id, amount="100.00")
    testapp.post(f"/api/v1/appeals/{appeal['id']}/approve", headers=auth)
    assert points_of(testapp, auth, card_no) == 100
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"amount": "30.00", "refund_no": "r1"},
                      headers=auth)
    assert points_of(testapp, auth, card_no) == 50  # half of the bill's 60 and half of the correction's 40
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"refund_no": "r2"}, headers=auth)
    assert points_of(testapp, auth, card_no) == 0
    assert find_drift(seed.db) == []


def test_the_queue_shows_open_appeals_unless_asked_for_any(testapp, seed, auth, member):
    member_id, _ = member
    first = file(testapp, auth, member_id, bill_no="B1")
    second = file(testapp, auth, member_id, bill_no="B2")
    testapp.post_json(f"/api/v1/appeals/{second['id']}/reject", {"reason": "duplicate"}, headers=auth)
    staff(testapp, seed)

    def shown(**query):
        page = testapp.get("/appeals", query)
        return sorted(int(row["id"].split("-")[1]) for row in page.html.select("#appeals tbody tr"))

    assert shown() == [first["id"]]
    assert shown(status="any") == [first["id"], second["id"]]
    assert shown(status="rejected") == [second["id"]]
    assert shown(status="any", member="8800") == []
    assert testapp.get("/appeals", {"date_from": "2026-02-30"}, status=400).html.select_one(
        "#search-date_from")["aria-invalid"] == "true"


def test_the_till_and_an_approval_at_the_same_moment_post_the_bill_once(server, seed):
    import http.client
    import json
    import threading
    from concurrent.futures import ThreadPoolExecutor

    card_no = seed.member_card("Li Wei")
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    headers = {"Authorization": f"Bearer {seed.api_key('REST')}", "Content-Type": "application/json"}

    def post(path, body, barrier=None):
        connection = http.client.HTTPConnection("127.0.0.1", server, timeout=60)
        if barrier:
            barrier.wait()
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    for round_no in range(4):
        bill_no = f"RACE-{round_no}"
        _, appeal = post("/api/v1/appeals", {"member_id": member_id, "bill_no": bill_no,
                                             "bill_date": YESTERDAY.isoformat(), "amount": "100.00"})
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            till = pool.submit(post, "/api/v1/transactions", {
                "card_no": card_no, "bill_no": bill_no, "amount": "100.00",
                "occurred_at": NOON_YESTERDAY.isoformat()}, barrier)
            approval = pool.submit(post, f"/api/v1/appeals/{appeal['id']}/approve",
                                   {"occurred_at": NOON_YESTERDAY.isoformat()}, barrier)
            (till_status, _), (approval_status, approved) = till.result(), approval.result()
        assert till_status in (200, 201) and approval_status == 200, (till_status, approval_status, approved)
        assert approved["resolution"] in ("posted", "linked")
        assert bills(seed.db, bill_no) == 1
    seed.db.rollback()
    from lps_core.ledger.models import Account

    assert seed.db.get(Account, seed.points_account(card_no)).balance == 400  # 100 points a bill, once each
    assert find_drift(seed.db) == []


def test_the_dashboard_counts_the_open_appeals_and_the_overdue_ones(testapp, seed, auth, member):
    member_id, _ = member
    file(testapp, auth, member_id, bill_no="B1")
    late = file(testapp, auth, member_id, bill_no="B2")
    seed.db.rollback()
    seed.db.get(Appeal, late["id"]).due_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    seed.db.commit()
    staff(testapp, seed)
    panel = testapp.get("/").html.select_one("#appeals")
    assert panel.select_one(".figure").text == "2" and "1 overdue" in panel.text
    staff(testapp, seed, outlets=("SPA",), name="spa-manager")
    assert testapp.get("/").html.select_one("#appeals .figure").text == "0"
