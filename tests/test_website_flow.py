"""The hotel website's exchange with LPS end to end over HTTP, as docs/website.md tells the website
team to run it, with one website key: export the members, import an edited file whose preview
shows a change with its diff, a new member and a conflict (a phone number another member holds),
resolve the conflict, confirm and apply; the same file again changes nothing. Then a sign-up from
the website is approved at LPS and the approval reaches the website as a signed webhook, which a
receiver on loopback verifies. Both databases."""
import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from lps_core.members.models import Member
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.messages.worker import Worker
from lps_core.settings import Settings
from lps_core.testing import TEST_SETTINGS
from lps_core.webhooks import services as webhooks
from lps_core.webhooks.subscriptions import forget


def a_member(db, name, phone, email=None) -> int:
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone, email=email))
    approve_member(db, member_id)
    db.commit()
    return member_id


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def member_row(db, member_id) -> Member:
    db.rollback()  # a new snapshot: what the app committed
    return db.get(Member, member_id)


def test_export_import_with_a_conflict_resolved_then_a_signed_webhook(testapp, seed, engine, webhook_receiver):
    db = seed.db
    website = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['website'])}"}
    approver = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['members.approve'])}"}  # LPS's staff
    li = a_member(db, "Li Wei", "+8613800000001", "li@example.com")
    wang = a_member(db, "Wang Fang", "+8613800000002")
    forget()  # the webhook subscriptions are cached per process: start from the table
    endpoint, webhook_receiver.secret = webhooks.create_endpoint(
        db, webhooks.EndpointValues("Hotel website", webhook_receiver.url, (webhooks.MEMBER_APPROVED,)))
    db.commit()

    # 1. Export: the website gets every member with their phone numbers (a website key may).
    exported = testapp.get("/api/v1/exports/members", {"format": "csv"}, headers=website, status=200)
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))}
    # A cell starting with + is guarded with ' so that a spreadsheet never runs it as a formula.
    assert rows["Li Wei"]["member_id"] == str(li) and rows["Li Wei"]["phone"] == "'+8613800000001"
    assert rows["Wang Fang"]["phone"] == "'+8613800000002"

    # 2. The website's file: Li's new e-mail address, Wang given Li's phone (a conflict), a new guest.
    edited = [{"member_id": str(li), "name": "Li Wei", "phone": "+8613800000001", "email": "li.wei@example.com"},
              {"member_id": str(wang), "name": "Wang Fang", "phone": "+8613800000001", "email": ""},
              {"member_id": "", "name": "Zhou Min", "phone": "+8613800000003", "email": "zhou@example.com"}]
    upload = {**website, "Content-Type": "text/csv"}
    preview = testapp.post("/api/v1/imports/members?file_name=website-members.csv", as_csv(edited),
                           headers=upload, status=201).json
    assert preview["status"] == "previewed" and preview["counts"] == {"change": 1, "conflict": 1, "add": 1}
    page = testapp.get(f"/api/v1/import-batches/{preview['id']}", {"per_page": 50}, headers=website).json
    by_row = {row["row_no"]: row for row in page["rows"]}
    assert by_row[2]["action"] == "change" and by_row[2]["diff"] == {"email": ["li@example.com", "li.wei@example.com"]}
    assert by_row[3]["action"] == "conflict" and by_row[3]["conflict"]["kind"] == "phone_taken"
    assert by_row[4]["action"] == "add" and by_row[4]["values"]["name"] == "Zhou Min"
    assert member_row(db, li).email == "li@example.com"  # nothing is written before the confirmation

    # 3. Confirming with the conflict open is refused; the website keeps Wang's phone (skip), then confirms.
    refused = testapp.post(f"/api/v1/import-batches/{preview['id']}/confirm", headers=website, status=409).json
    assert "conflicts" in refused["fields"]
    testapp.post_json(f"/api/v1/import-batches/{preview['id']}/resolutions", {"row_no": 3, "resolution": "skip"},
                      headers=website, status=200)
    batch = testapp.post(f"/api/v1/import-batches/{preview['id']}/confirm", headers=website, status=200).json
    while batch["status"] == "applying":
        batch = testapp.post(f"/api/v1/import-batches/{preview['id']}/apply", headers=website, status=200).json
    assert batch["status"] == "applied" and batch["applied_rows"] == 2
    assert member_row(db, li).email == "li.wei@example.com"
    assert member_row(db, wang).phone == "+8613800000002"
    zhou = db.scalar(select(Member).where(Member.name == "Zhou Min"))
    assert zhou.status == "active" and zhou.phone == "+8613800000003"

    # The same file again is recognised and changes nothing.
    again = testapp.post("/api/v1/imports/members?file_name=website-members.csv", as_csv(edited),
                         headers=upload, status=200).json
    assert again["id"] == preview["id"] and again["status"] == "applied"

    # 4. A guest signs up on the website; LPS's staff approve; the website hears of it, signed.
    signed_up = testapp.post_json("/api/v1/website/signups", {"reference": "web-0042", "name": "Zhao Lei",
                                                              "phone": "+8613800000042"}, headers=website, status=201).json
    assert signed_up["status"] == "pending"
    db.rollback()
    approved = testapp.post_json(f"/api/v1/members/{signed_up['member_id']}/approve", {}, headers=approver,
                                 status=200).json
    worker = Worker(lambda: Session(engine, expire_on_commit=False), seed.plugins,
                    Settings.from_mapping({**TEST_SETTINGS, "lps.messages.quiet_hours": ""}), name="website-flow")
    assert worker.cycle().webhooks_delivered == 1
    ((headers, body, valid),) = webhook_receiver.received
    assert valid and headers["LPS-Event-Type"] == "member.approved"
    (event,) = webhook_receiver.events()
    assert event["data"]["member_id"] == signed_up["member_id"] and event["data"]["card_no"] == approved["card_no"]
    status = testapp.get("/api/v1/website/signups/web-0042", headers=website, status=200).json
    assert status["status"] == "active"  # the member's status, as the website shows it
    forget()
