"""The outbox: messages written in the business transaction, one per channel, never twice."""
import pytest
from sqlalchemy import select

from lps_core.members.models import Member
from lps_core.members.services import Enrolment, enrol_member
from lps_core.messages.consent import consents_of, has_consent, set_consent
from lps_core.messages.models import OutboxMessage
from lps_core.messages.outbox import enqueue
from lps_core.messages.templates import as_html, check_template, fill, render, save_template


def member(db, *, name="Li Wei", email="li@example.test", phone="+8613800000001"):
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone, email=email),
                             force_duplicate_phone=True)
    db.flush()
    return member_id


def rows(db):
    return db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_one_row_per_channel_the_member_can_be_reached_on(db, seed):
    member_id = member(db)
    ids = enqueue(db, "tier_changed", member_id=member_id, context={"old_tier": "Silver", "new_tier": "Gold"},
                  key="t1", language="en")
    db.commit()
    messages = rows(db)
    assert [m.id for m in messages] == ids
    assert {m.channel for m in messages} == {"inbox", "email", "sms"}
    email = next(m for m in messages if m.channel == "email")
    assert email.recipient == "li@example.test" and email.status == "queued" and email.kind == "service"
    assert email.subject == "Your tier is now Gold"
    assert "from Silver to Gold" in email.body and email.html.startswith("<p>")
    sms = next(m for m in messages if m.channel == "sms")
    assert sms.recipient == "+8613800000001" and sms.html is None
    assert next(m for m in messages if m.channel == "inbox").recipient == str(member_id)


def test_the_same_business_event_never_queues_twice(db, seed):
    member_id = member(db, email=None)
    first = enqueue(db, "redemption_ready", member_id=member_id, context={"reward": "Tea"}, key="r1")
    again = enqueue(db, "redemption_ready", member_id=member_id, context={"reward": "Tea"}, key="r1")
    db.commit()
    assert len(first) == 2 and again == []
    assert len(rows(db)) == 2


def test_a_rolled_back_transaction_queues_nothing(db, seed):
    member_id = member(db)
    db.commit()
    enqueue(db, "birthday", member_id=member_id, context={}, marketing=False, key="2026")
    db.rollback()
    assert rows(db) == []


def test_marketing_goes_only_where_the_member_agreed(db, seed):
    member_id = member(db)
    assert enqueue(db, "birthday", member_id=member_id, context={}, key="2025") == []
    assert set_consent(db, member_id, "email", True, source="staff") is None
    assert has_consent(db, member_id, "email") and consents_of(db, member_id) == {"email": True}
    ids = enqueue(db, "birthday", member_id=member_id, context={}, key="2026")
    assert [m.channel for m in rows(db)] == ["email"] and len(ids) == 1
    assert rows(db)[0].kind == "marketing"
    set_consent(db, member_id, "email", False, source="unsubscribe")
    db.commit()
    assert rows(db)[0].status == "cancelled"


def test_a_secret_is_marked_and_a_service_message_needs_no_consent(db, seed):
    member_id = member(db)
    enqueue(db, "sign_in_code", member_id=member_id, context={"code": "123456", "minutes": 10},
            channels=["email"], language="zh_CN")
    [message] = rows(db)
    assert message.secret and "123456" in message.body and message.language == "zh_CN"


def test_templates_are_plain_text_with_named_placeholders(db, seed):
    assert fill("{member_name} {x.__class__} {{", {"member_name": "A"}) == "A {x.__class__} {{"
    assert check_template("tier_changed", "Hi {member_name}", "{nope} body")["body"].startswith("has placeholders")
    assert "brace" in check_template("tier_changed", "Hi {", "body")["subject"]
    assert check_template("tier_changed", "Hi {member_name}", "Now {new_tier}") == {}
    save_template(db, "tier_changed", "en", "*", "Hello {member_name}", "<b>{new_tier}</b> & more", by="admin")
    rendered = render(db, "tier_changed", "en", "email", {"member_name": "<Li>", "new_tier": "Gold"})
    assert rendered.subject == "Hello <Li>" and rendered.body == "<b>Gold</b> & more"
    assert as_html(rendered.body) == "<p>&lt;b&gt;Gold&lt;/b&gt; &amp; more</p>\n"


def test_an_unknown_member_queues_nothing(db, seed):
    assert enqueue(db, "tier_changed", member_id=987654, context={}) == []
    with pytest.raises(Exception):
        enqueue(db, "no_such_event", member_id=1, context={})
    assert db.scalar(select(Member.id).where(Member.id == 987654)) is None
