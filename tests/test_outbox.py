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


def test_approval_and_rejection_queue_their_messages(db, seed):
    from lps_core.members.services import reject_member

    card_no = seed.member_card("Wang Fang")  # approve_member, committed
    approved = {m.channel: m for m in rows(db) if m.event == "enrolment_approved"}
    assert set(approved) == {"inbox", "sms"} and card_no in approved["inbox"].body
    assert "Wang Fang" in approved["sms"].body
    pending = member(db, name="Zhao Lei")
    reject_member(db, pending, "The ID number could not be verified")
    db.commit()
    rejected = [m for m in rows(db) if m.event == "enrolment_rejected"]
    assert {m.channel for m in rejected} == {"inbox", "email", "sms"}
    assert all("The ID number could not be verified" in m.body for m in rejected)


def test_a_reward_to_pick_up_later_queues_its_message_and_one_taken_now_does_not(db, seed):
    from datetime import timedelta
    from decimal import Decimal

    from lps_core.ledger import services as ledger
    from lps_core.outlets.models import Outlet
    from lps_core.rewards import services as rewards
    from lps_core.rewards.models import Reward
    from lps_core.timeutil import utcnow

    card_no = seed.member_card()
    ledger.credit(db, seed.points_account(card_no), 5000, kind=ledger.EARN, business_key="gift", fingerprint="g",
                  expires_at=utcnow() + timedelta(days=30))
    db.add(Reward(code="TEA", name="Afternoon tea", category="item", cost_cents=500, stock=5, active=True))
    outlet = db.scalar(select(Outlet).where(Outlet.code == "REST"))
    db.flush()
    later = rewards.redeem(db, outlet, rewards.RedeemRequest(card_no, "TEA", 1, "R-1", False), Decimal("1"))
    rewards.redeem(db, outlet, rewards.RedeemRequest(card_no, "TEA", 1, "R-2", True), Decimal("1"))
    db.commit()
    ready = [m for m in rows(db) if m.event == "redemption_ready"]
    assert {m.channel for m in ready} == {"inbox", "sms"}
    assert all(later.number in m.body and "Afternoon tea" in m.body and "Restaurant" in m.body for m in ready)
    assert {m.outlet_id for m in ready} == {outlet.id}


def test_lps_own_listeners_queue_tier_changes_expiry_warnings_and_on_request_points_earned(db, seed, plugins):
    from datetime import date
    from types import SimpleNamespace

    from pyramid.registry import Registry

    from lps_core.builtin.message_listeners import lps_on_points_posted as points_posted
    from lps_core.components import ISettings
    from lps_core.settings import Settings
    from lps_core.testing import TEST_SETTINGS

    member_id = member(db)
    plugins.hook.lps_on_tier_changed(dbsession=db, member_id=member_id, old_tier="classic", new_tier="gold")
    plugins.hook.lps_on_points_expiring(dbsession=db, member_id=member_id, account_id=1, points=2000,
                                        expires_on=date(2026, 12, 31))
    bill = SimpleNamespace(id=7, outlet_id=None, bill_no="B-7", member_id=member_id, points=120, points_balance=900,
                           replayed=False)
    points_posted(dbsession=db, posting=None, bill=bill)  # off by default
    registry = Registry()
    registry.registerUtility(Settings.from_mapping({**TEST_SETTINGS, "lps.messages.points_earned": "true",
                                                    "lps.messages.default_language": "en"}), ISettings)
    db.info["registry"] = registry
    try:
        points_posted(dbsession=db, posting=None, bill=bill)
    finally:
        del db.info["registry"]
    db.commit()
    by_event = {}
    for message in rows(db):
        by_event.setdefault(message.event, []).append(message)
    assert set(by_event) == {"tier_changed", "points_expiring", "points_earned"}
    assert all("Classic" in m.body and "Gold" in m.body for m in by_event["tier_changed"])
    assert all("2,000" in m.body and "2026-12-31" in m.body for m in by_event["points_expiring"])
    assert len(by_event["points_earned"]) == 3
    assert all(m.language == "en" and "120 points" in m.body for m in by_event["points_earned"])


def test_the_unsubscribe_link_withdraws_consent_with_one_post(testapp, db, seed, wsgi_app):
    from lps_core.components import ISettings
    from lps_core.messages.unsubscribe import make_token

    member_id = member(db)
    set_consent(db, member_id, "email", True, source="portal")
    enqueue(db, "birthday", member_id=member_id, context={}, key="2026")
    db.commit()
    token = make_token(wsgi_app.registry.getUtility(ISettings), member_id, "email")
    page = testapp.get(f"/unsubscribe/{token}")
    assert "Unsubscribe" in page.text and has_consent(db, member_id, "email")  # a GET changes nothing
    done = testapp.post(f"/unsubscribe/{token}", "List-Unsubscribe=One-Click")
    assert "Unsubscribed" in done.text
    db.rollback()
    assert consents_of(db, member_id) == {"email": False}
    assert [m.status for m in rows(db)] == ["cancelled"]
    testapp.get(f"/unsubscribe/{token[:-2]}xx", status=404)
    testapp.post(f"/unsubscribe/{make_token(wsgi_app.registry.getUtility(ISettings), 999999, 'email')}", status=404)


def test_the_portal_inbox_lists_delivered_messages_and_marks_them_read(db, seed):
    from lps_core.messages.inbox import inbox_of, mark_read, unread_count

    member_id = member(db)
    [inbox_id] = enqueue(db, "tier_changed", member_id=member_id, context={"new_tier": "Gold"}, channels=["inbox"])
    db.commit()
    assert inbox_of(db, member_id) == (0, [])  # queued, not delivered yet
    db.execute(OutboxMessage.__table__.update().values(status="sent", sent_at=OutboxMessage.created_at))
    total, messages = inbox_of(db, member_id)
    assert total == 1 and messages[0].id == inbox_id and unread_count(db, member_id) == 1
    assert mark_read(db, member_id) == 1 and unread_count(db, member_id) == 0
