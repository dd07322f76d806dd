"""The staff screens of messages: templates with a live preview (escaped, no template code), dead
letters with an audited retry, the delivery log on the member page; permission-guarded."""
from sqlalchemy import select

from lps_core.members.services import Enrolment, enrol_member
from lps_core.messages.models import OutboxMessage
from lps_core.messages.outbox import enqueue
from lps_core.testing import audited, sign_in_as

PASSWORD = "correct-horse-battery-9"


def admin(testapp, seed):
    return sign_in_as(testapp, seed, "admin1", PASSWORD, ["administrator"], ["all"])


def test_staff_edit_a_template_with_placeholders_and_a_preview(testapp, seed, db):
    csrf = admin(testapp, seed)
    overview = testapp.get("/config/messages")
    assert "edit-tier_changed-en" in overview.text
    page = testapp.get("/config/messages/templates/tier_changed/en")
    assert "{new_tier}" in page.text and "template_preview.js" in page.text
    preview = testapp.post("/config/messages/preview", {"csrf_token": csrf, "event": "tier_changed",
                                                         "subject": "Hi {member_name}",
                                                         "body": "<b>{new_tier}</b> {nope}"}).json
    assert preview["subject"] == "Hi Li Wei" and preview["html"].startswith("<p>&lt;b&gt;Gold&lt;/b&gt;")
    assert "{nope}" in preview["errors"]["body"]
    assert testapp.post("/config/messages/preview", {"csrf_token": csrf, "event": "x"}, status=400).json == {
        "errors": {"event": "no such event"}}
    refused = testapp.post("/config/messages/templates/tier_changed/en",
                           {"csrf_token": csrf, "subject": "Hi", "body": "${__import__('os')} {oops}"}, status=400)
    assert "placeholders this message does not have" in refused.text
    testapp.post("/config/messages/templates/tier_changed/en", {"subject": "Hi", "body": "x"}, status=400)  # no CSRF
    testapp.post("/config/messages/templates/tier_changed/en",
                 {"csrf_token": csrf, "subject": "Now {new_tier}", "body": "Dear {member_name}: <{new_tier}>"}, status=303)
    [entry] = audited(db, "message_template.edit")
    assert entry.after == {"subject": "Now {new_tier}", "body": "Dear {member_name}: <{new_tier}>"}
    member_id = enrol_member(db, Enrolment(name="Li", channel="desk", email="li@example.test"))
    enqueue(db, "tier_changed", member_id=member_id, context={"new_tier": "Gold"}, language="en", channels=["email"])
    db.commit()
    message = db.scalars(select(OutboxMessage)).one()
    assert message.body == "Dear Li: <Gold>" and "&lt;Gold&gt;" in message.html
    testapp.post("/config/messages/templates/tier_changed/en", {"csrf_token": csrf, "reset": "1"}, status=303)
    assert audited(db, "message_template.reset")
    assert "The shipped text applies" in testapp.get("/config/messages/templates/tier_changed/en").text


def test_dead_letters_are_listed_and_retried_with_an_audit_entry(testapp, seed, db):
    csrf = admin(testapp, seed)
    member_id = enrol_member(db, Enrolment(name="Li", channel="desk", email="li@example.test"))
    [message_id] = enqueue(db, "tier_changed", member_id=member_id, context={}, channels=["email"])
    db.execute(OutboxMessage.__table__.update().values(status="dead", tries=8, last_error="550 no such user"))
    db.commit()
    page = testapp.get("/config/messages/dead")
    assert "550 no such user" in page.text and f"retry-{message_id}" in page.text
    testapp.post(f"/config/messages/{message_id}/retry", {"csrf_token": csrf}, status=303)
    db.rollback()
    assert db.scalar(select(OutboxMessage.status)) == "queued"
    [entry] = audited(db, "message.retry")
    assert entry.before["status"] == "dead"
    assert "No dead letters" in testapp.get("/config/messages/dead").text


def test_a_cashier_sees_no_message_screens(testapp, seed):
    sign_in_as(testapp, seed, "cashier1", PASSWORD, ["cashier"], ["REST"])
    testapp.get("/config/messages", status=403)
    testapp.get("/config/messages/dead", status=403)


def test_the_member_page_shows_the_delivery_log(testapp, seed, db):
    admin(testapp, seed)
    card_no = seed.member_card("Zhou Min")
    member_id = db.scalar(select(OutboxMessage.member_id).limit(1))
    page = testapp.get(f"/members/{member_id}")
    log = page.html.find(id="delivery-log")
    assert log.text.count("Enrolment approved") == 2  # the inbox and SMS, waiting for the worker
    assert "portal inbox" in log.text and "SMS" in log.text and "waiting" in log.text and card_no
